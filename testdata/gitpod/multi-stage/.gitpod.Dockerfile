# syntax=docker/dockerfile:1.7
# (Saved by an editor that writes a byte-order mark.)
FROM 777788889999.dkr.ecr.us-west-2.amazonaws.com/platform/go-builder:1.22 AS builder
WORKDIR /src
RUN --mount=type=cache,target=/root/.cache/go-build \
    go install github.com/go-task/task/v3/cmd/task@latest

FROM 777788889999.dkr.ecr.us-west-2.amazonaws.com/platform/renderer:2 AS docs
RUN render --out /site

FROM gitpod/workspace-full:2024.05
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends graphviz \
    && rm -rf /var/lib/apt/lists/*
USER gitpod
COPY --from=builder /go/bin/task /usr/local/bin/task

FROM gitpod/workspace-base:2024.05
# Prebuilt toolchains from the platform registry, copied in.
COPY --chown=gitpod:gitpod --from=777788889999.dkr.ecr.us-west-2.amazonaws.com/platform/go-toolchain:1.22 /usr/local/go /usr/local/go

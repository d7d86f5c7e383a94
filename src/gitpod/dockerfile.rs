//! The images a Dockerfile build pulls, as BuildKit (Docker's builder) reads the file.
//!
//! Handled: a UTF-8 byte-order mark at the start (dropped, as BuildKit's parser does), the
//! `# escape=` and `# syntax=` parser directives (the `syntax` frontend image is pulled before
//! anything else), line continuations (comment and empty lines inside a continued instruction are
//! dropped), comments, case-insensitive instructions, flags such as `--platform=$BUILDPLATFORM`,
//! `AS <stage>`, a `FROM <stage>` that names an earlier stage (not an image), `FROM scratch` (no
//! image), `ARG`s substituted as BuildKit scopes them (those before the first `FROM` into `FROM`;
//! those declared in a stage, a bare `ARG X` taking the global default, into its `COPY --from` and
//! `RUN --mount`) with `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alt}`, `COPY --from=<image>`
//! and `RUN --mount=…,from=<image>` (which pull that image unless they name a stage by name or
//! index), and heredocs (`RUN <<EOF` … `EOF`: the body is data, never an instruction). A variable
//! with no value to substitute is reported, never guessed: a build could pass any `--build-arg`.
//!
//! BuildKit builds only what the target stage needs: the target (without `--target`, as Gitpod
//! builds, the last stage) and, transitively, the stages its `FROM`, `COPY --from` and
//! `RUN --mount from=` name. An image used only by another stage is not pulled (Docker's
//! documentation, "Multi-stage builds": "BuildKit only builds the stages that the target stage
//! depends on").
//!
//! Why a hand parser: the Dockerfile crates read the syntax but not this. `dockerfile-parser`
//! (HewlettPackard/dockerfile-parser-rs) states in its README that BuildKit parser directives are
//! not handled, and has no heredocs; `parse-dockerfile` (taiki-e) gives instructions and
//! directives but neither variable substitution nor which stages a target needs, which is the
//! part this module exists for.

use std::collections::HashMap;

/// Where in the build an image is used: the advice for a private ECR image differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The base of the stage the workspace image is (the target's `FROM`, through stages).
    Workspace,
    /// The `FROM` of another stage the target needs (a builder).
    Builder,
    /// `COPY --from=<image>` or `RUN --mount=…,from=<image>`.
    CopyFrom,
    /// The `# syntax=` frontend.
    Frontend,
}

/// One image a Dockerfile names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseImage {
    /// 1-based line where the instruction starts.
    pub line: usize,
    /// `FROM`, `COPY --from`, `RUN --mount` or `# syntax`.
    pub instruction: &'static str,
    /// The reference as written.
    pub written: String,
    /// After substituting the `ARG`s; `Err` lists the variables that have no value.
    pub resolved: Result<String, Vec<String>>,
    /// When `resolved` fails only in the `:tag` or `@digest`: the resolved name without it,
    /// and the tag or digest as written. The repository is then known; only the tag is not.
    pub name_only: Option<(String, String)>,
    pub role: Role,
    /// Whether building the target pulls it; `false` for an image of a stage the target does not
    /// need, with that stage's name or index in `stage`.
    pub pulled: bool,
    pub stage: String,
}

/// Why a Dockerfile cannot be read for its base images.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadDockerfile(pub String);

/// A build stage: what its `FROM` is, and which stages and images it uses.
#[derive(Default)]
struct Stage {
    name: Option<String>,
    /// The earlier stage its `FROM` names.
    from_stage: Option<usize>,
    /// The stages its `COPY --from`/`RUN --mount from=` name.
    deps: Vec<usize>,
}

/// The images `text` names, in file order (the `# syntax=` frontend first), each marked with
/// whether building the last stage pulls it.
pub fn base_images(text: &str) -> Result<Vec<BaseImage>, BadDockerfile> {
    // BuildKit drops a UTF-8 byte-order mark before parsing.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (syntax, instrs) = instructions(text);
    let mut args: HashMap<String, Option<String>> = HashMap::new();
    // The ARGs in scope in the current stage (for `COPY --from` and `RUN --mount`).
    let mut stage_args: HashMap<String, Option<String>> = HashMap::new();
    let mut stages: Vec<Stage> = Vec::new();
    // Each image with the stage it belongs to (`None`: the frontend).
    let mut images: Vec<(BaseImage, Option<usize>)> = Vec::new();
    if let Some((line, value)) = syntax {
        images.push((
            BaseImage {
                line,
                instruction: "# syntax",
                resolved: Ok(value.clone()),
                written: value,
                name_only: None,
                role: Role::Frontend,
                pulled: true,
                stage: String::new(),
            },
            None,
        ));
    }
    // A stage named by `name` (case-insensitive) or, where `by_index`, by its number.
    let stage_named = |stages: &[Stage], name: &str, by_index: bool| -> Option<usize> {
        let lc = name.to_ascii_lowercase();
        if by_index && !lc.is_empty() && lc.bytes().all(|b| b.is_ascii_digit()) {
            return lc.parse().ok().filter(|i| *i < stages.len());
        }
        stages
            .iter()
            .position(|s| s.name.as_deref() == Some(lc.as_str()))
    };
    for (line, instr) in instrs {
        let (keyword, rest) = match instr.split_once(char::is_whitespace) {
            Some((k, r)) => (k, r.trim()),
            None => (instr.as_str(), ""),
        };
        if keyword.eq_ignore_ascii_case("arg") {
            // ARGs before the first FROM are in scope for FROM lines. Inside a stage, an ARG is
            // in scope from its declaration to the end of the stage; declared without a value,
            // it takes the value of the global ARG of the same name (Dockerfile reference,
            // "Understand how ARG and FROM interact").
            let in_stage = !stages.is_empty();
            for decl in rest.split_whitespace() {
                let (name, value) = match decl.split_once('=') {
                    Some((n, v)) => (n, Some(unquote(v))),
                    None => (decl, None),
                };
                let scope = if in_stage { &stage_args } else { &args };
                let value = match value {
                    Some(v) => expand(&v, scope).ok(),
                    None if in_stage => args.get(name).cloned().flatten(),
                    None => None,
                };
                if in_stage {
                    stage_args.insert(name.to_owned(), value);
                } else {
                    args.insert(name.to_owned(), value);
                }
            }
        } else if (keyword.eq_ignore_ascii_case("copy") || keyword.eq_ignore_ascii_case("run"))
            && !stages.is_empty()
        {
            // `COPY --from=<image>` and `RUN --mount=…,from=<image>` pull that image;
            // `<stage name or index>` does not.
            let flags = rest.split_whitespace().take_while(|w| w.starts_with("--"));
            let (instruction, from) = if keyword.eq_ignore_ascii_case("copy") {
                let from = flags.clone().find_map(|w| w.strip_prefix("--from="));
                ("COPY --from", from)
            } else {
                let from = flags.clone().find_map(|w| {
                    w.strip_prefix("--mount=")?
                        .split(',')
                        .find_map(|kv| kv.strip_prefix("from="))
                });
                ("RUN --mount", from)
            };
            let Some(from) = from else {
                continue;
            };
            let current = stages.len() - 1;
            let resolved = expand(from, &stage_args);
            if let Ok(r) = &resolved {
                if let Some(dep) = stage_named(&stages, r, true) {
                    stages[current].deps.push(dep);
                    continue;
                }
            }
            images.push((
                BaseImage {
                    line,
                    instruction,
                    written: from.to_owned(),
                    name_only: name_only(from, &resolved, &stage_args),
                    resolved,
                    role: Role::CopyFrom,
                    pulled: true,
                    stage: String::new(),
                },
                Some(current),
            ));
        } else if keyword.eq_ignore_ascii_case("from") {
            let mut words = rest.split_whitespace().skip_while(|w| w.starts_with("--"));
            let Some(written) = words.next() else {
                return Err(BadDockerfile(format!("line {line}: FROM names no image")));
            };
            let new_stage = match (words.next(), words.next(), words.next()) {
                (Some(kw), Some(stage), None) if kw.eq_ignore_ascii_case("as") => {
                    Some(stage.to_ascii_lowercase())
                }
                (None, _, _) => None,
                _ => {
                    return Err(BadDockerfile(format!(
                        "line {line}: FROM takes an image and an optional `AS <name>`, not `{rest}`"
                    )));
                }
            };
            let resolved = expand(written, &args);
            // Only earlier stages count: `FROM node AS node` pulls node.
            let (from_stage, is_image) = match &resolved {
                Ok(r) => match stage_named(&stages, r, false) {
                    Some(s) => (Some(s), false),
                    None => (None, !r.eq_ignore_ascii_case("scratch")),
                },
                Err(_) => (None, true),
            };
            stage_args.clear();
            stages.push(Stage {
                name: new_stage,
                from_stage,
                deps: Vec::new(),
            });
            if is_image {
                images.push((
                    BaseImage {
                        line,
                        instruction: "FROM",
                        written: written.to_owned(),
                        name_only: name_only(written, &resolved, &args),
                        resolved,
                        role: Role::Builder,
                        pulled: true,
                        stage: String::new(),
                    },
                    Some(stages.len() - 1),
                ));
            }
        }
    }
    let Some(target) = stages.len().checked_sub(1) else {
        return Err(BadDockerfile("no FROM instruction".into()));
    };
    // The stages the target needs, and the stage whose FROM image the workspace is built on.
    let mut needed = vec![false; stages.len()];
    let mut todo = vec![target];
    while let Some(i) = todo.pop() {
        if std::mem::replace(&mut needed[i], true) {
            continue;
        }
        todo.extend(stages[i].from_stage);
        todo.extend(stages[i].deps.iter().copied());
    }
    let mut base = target;
    while let Some(s) = stages[base].from_stage {
        base = s;
    }
    Ok(images
        .into_iter()
        .map(|(mut img, stage)| {
            if let Some(s) = stage {
                img.pulled = needed[s];
                img.stage = stages[s].name.clone().unwrap_or_else(|| s.to_string());
                if img.instruction == "FROM" && s == base {
                    img.role = Role::Workspace;
                }
            }
            img
        })
        .collect())
}

/// For a reference that did not resolve: the resolved name and the written `:tag`/`@digest`, when
/// the unresolved variables are all in the tag or digest. Splits as `image::parse` does (a
/// digest at the first `@`, a tag at a colon after the last slash); anything unclear stays
/// unresolved.
fn name_only(
    written: &str,
    resolved: &Result<String, Vec<String>>,
    args: &HashMap<String, Option<String>>,
) -> Option<(String, String)> {
    if resolved.is_ok() {
        return None;
    }
    let (name_tag, digest) = match written.find('@') {
        Some(i) => (&written[..i], &written[i..]),
        None => (written, ""),
    };
    let last_slash = name_tag.rfind('/');
    let (name, tag) = match name_tag.rfind(':') {
        Some(c) if last_slash.is_none_or(|s| c > s) => (&name_tag[..c], &name_tag[c..]),
        _ => (name_tag, ""),
    };
    if tag.is_empty() && digest.is_empty() {
        return None;
    }
    let name = expand(name, args).ok()?;
    Some((name, format!("{tag}{digest}")))
}

/// A 1-based line number and the text that starts there.
type Line = (usize, String);

/// The `# syntax=` directive (line and value), and the logical instructions of a Dockerfile with
/// the line each starts on: comments, parser directives and blank lines dropped, continuations
/// joined.
fn instructions(text: &str) -> (Option<Line>, Vec<Line>) {
    let mut escape = '\\';
    let mut syntax = None;
    let mut directives = true;
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    // The heredocs of the last instruction, whose bodies come next: delimiter, and whether
    // leading tabs are stripped (`<<-`).
    let mut heredocs: std::collections::VecDeque<(String, bool)> = Default::default();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        if let Some((word, strip_tabs)) = heredocs.front() {
            // A heredoc's body is the instruction's data, never an instruction.
            let line = if *strip_tabs {
                raw.trim_start_matches('\t')
            } else {
                raw
            };
            if line == word {
                heredocs.pop_front();
            }
            continue;
        }
        let trimmed = raw.trim();
        if directives {
            if let Some((key, value)) = directive(trimmed) {
                if key == "escape" && matches!(value.as_str(), "`" | "\\") {
                    escape = if value == "`" { '`' } else { '\\' };
                }
                if key == "syntax" && syntax.is_none() && !value.is_empty() {
                    syntax = Some((n, value));
                }
                continue;
            }
            directives = false;
        }
        // Inside a continued instruction, comment and empty lines are removed (Docker's rule).
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (body, continues) = match trimmed.strip_suffix(escape) {
            Some(b) => (b, true),
            None => (trimmed, false),
        };
        let (start, mut text) = current.take().unwrap_or((n, String::new()));
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(body.trim());
        if continues {
            current = Some((start, text));
        } else {
            heredocs.extend(heredoc_words(&text));
            out.push((start, text));
        }
    }
    if let Some(last) = current {
        out.push(last);
    }
    (syntax, out)
}

/// The heredocs a `RUN`, `COPY` or `ADD` opens (BuildKit's Dockerfile syntax, Docker's default
/// builder): each word `<<WORD`, `<<-WORD`, `<<"WORD"` or `<<'WORD'` (after an optional file
/// descriptor number), in order. Only a delimiter of letters, digits and `_` counts, so text that
/// merely contains `<<` never swallows the lines after it.
fn heredoc_words(instruction: &str) -> Vec<(String, bool)> {
    let mut words = instruction.split_whitespace();
    let Some(keyword) = words.next() else {
        return Vec::new();
    };
    if !["run", "copy", "add"]
        .iter()
        .any(|k| keyword.eq_ignore_ascii_case(k))
    {
        return Vec::new();
    }
    words
        .filter_map(|w| {
            let rest = w.trim_start_matches(|c: char| c.is_ascii_digit());
            let rest = rest.strip_prefix("<<")?;
            let (rest, strip_tabs) = match rest.strip_prefix('-') {
                Some(r) => (r, true),
                None => (rest, false),
            };
            let word = ['"', '\'']
                .iter()
                .find_map(|q| rest.strip_prefix(*q)?.strip_suffix(*q))
                .unwrap_or(rest);
            (!word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
                .then(|| (word.to_owned(), strip_tabs))
        })
        .collect()
}

/// `# key=value` at the top of the file (a parser directive), lower-cased key.
fn directive(line: &str) -> Option<(String, String)> {
    let body = line.strip_prefix('#')?.trim();
    let (k, v) = body.split_once('=')?;
    let k = k.trim();
    (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphabetic()))
        .then(|| (k.to_ascii_lowercase(), v.trim().to_owned()))
}

fn unquote(v: &str) -> String {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner.to_owned();
        }
    }
    v.to_owned()
}

/// Substitutes `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alt}`; `Err` names every variable
/// without a value (an undeclared one, an `ARG` without default, an unsupported modifier).
fn expand(s: &str, args: &HashMap<String, Option<String>>) -> Result<String, Vec<String>> {
    let mut out = String::new();
    let mut missing = Vec::new();
    let mut rest = s;
    while let Some(pos) = rest.find(['$', '\\']) {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if rest[pos..].starts_with('\\') {
            // `\$` is a literal dollar.
            match after.strip_prefix('$') {
                Some(r) => {
                    out.push('$');
                    rest = r;
                }
                None => {
                    out.push('\\');
                    rest = after;
                }
            }
            continue;
        }
        let value = |name: &str| args.get(name).cloned().flatten();
        if let Some(braced) = after.strip_prefix('{') {
            let Some(end) = braced.find('}') else {
                missing.push(format!("${{{braced}"));
                rest = "";
                break;
            };
            let inner = &braced[..end];
            rest = &braced[end + 1..];
            let name_len = inner
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(inner.len());
            let (name, modifier) = inner.split_at(name_len);
            if let Some(default) = modifier.strip_prefix(":-") {
                match value(name) {
                    Some(v) if !v.is_empty() => out.push_str(&v),
                    _ => match expand(default, args) {
                        Ok(d) => out.push_str(&d),
                        Err(m) => missing.extend(m),
                    },
                }
            } else if let Some(alt) = modifier.strip_prefix(":+") {
                match value(name) {
                    Some(v) if !v.is_empty() => match expand(alt, args) {
                        Ok(a) => out.push_str(&a),
                        Err(m) => missing.extend(m),
                    },
                    Some(_) => {}
                    None => missing.push(name.to_owned()),
                }
            } else if modifier.is_empty() && !name.is_empty() {
                match value(name) {
                    Some(v) => out.push_str(&v),
                    None => missing.push(name.to_owned()),
                }
            } else {
                missing.push(format!("${{{inner}}}"));
            }
        } else {
            let name_len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if name_len == 0 {
                out.push('$');
                rest = after;
                continue;
            }
            let name = &after[..name_len];
            rest = &after[name_len..];
            match value(name) {
                Some(v) => out.push_str(&v),
                None => missing.push(name.to_owned()),
            }
        }
    }
    out.push_str(rest);
    if missing.is_empty() {
        Ok(out)
    } else {
        missing.dedup();
        Err(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(text: &str) -> Vec<(usize, Result<String, Vec<String>>)> {
        base_images(text)
            .expect("valid Dockerfile")
            .into_iter()
            .map(|b| (b.line, b.resolved))
            .collect()
    }

    fn ok(line: usize, s: &str) -> (usize, Result<String, Vec<String>>) {
        (line, Ok(s.to_owned()))
    }

    #[test]
    fn from_is_case_insensitive_and_comments_are_skipped() {
        let t = "# a comment\nfrom ubuntu:22.04\n  # FROM not-this\nRUN echo '# FROM nor-this'\n";
        assert_eq!(images(t), vec![ok(2, "ubuntu:22.04")]);
    }

    #[test]
    fn continuation_joins_lines_and_drops_comment_lines_inside() {
        let t = "FROM \\\n  # platform comes next\n  --platform=linux/amd64 \\\n\n  node:20 \\\n  AS build\nFROM build\n";
        assert_eq!(images(t), vec![ok(1, "node:20")]);
    }

    #[test]
    fn multi_stage_build_with_platform_flag_and_stage_references() {
        let t = "\
FROM --platform=$BUILDPLATFORM golang:1.22 AS Builder
RUN go build
FROM builder AS test
FROM 444455556666.dkr.ecr.us-east-1.amazonaws.com/gitpod/workspace-base:latest
COPY --from=builder /out /usr/local/bin
";
        assert_eq!(
            images(t),
            vec![
                ok(1, "golang:1.22"),
                ok(
                    4,
                    "444455556666.dkr.ecr.us-east-1.amazonaws.com/gitpod/workspace-base:latest"
                )
            ]
        );
    }

    #[test]
    fn scratch_is_no_image_and_a_stage_named_like_its_image_still_pulls() {
        assert_eq!(images("FROM scratch\n"), vec![]);
        assert_eq!(
            images("FROM node AS node\nFROM node\n"),
            vec![ok(1, "node")]
        );
    }

    #[test]
    fn args_before_the_first_from_are_substituted() {
        let t = "\
ARG REGISTRY=444455556666.dkr.ecr.eu-west-1.amazonaws.com
ARG NAME=\"platform/base-node\" TAG=20
ARG FULL=${REGISTRY}/${NAME}
FROM $REGISTRY/${NAME}:${TAG}
FROM ${FULL}:${MISSING:-lts}
FROM ${NAME:+x}${TAG:+y}
";
        assert_eq!(
            images(t),
            vec![
                ok(
                    4,
                    "444455556666.dkr.ecr.eu-west-1.amazonaws.com/platform/base-node:20"
                ),
                ok(
                    5,
                    "444455556666.dkr.ecr.eu-west-1.amazonaws.com/platform/base-node:lts"
                ),
                ok(6, "xy"),
            ]
        );
    }

    #[test]
    fn unresolved_variables_are_reported_not_guessed() {
        let t =
            "ARG BASE\nFROM ${BASE}:${TAG}\nFROM x\nARG LATE=1\nFROM y:$LATE\nFROM z:${V%%.*}\n";
        assert_eq!(
            images(t),
            vec![
                (2, Err(vec!["BASE".into(), "TAG".into()])),
                ok(3, "x"),
                (5, Err(vec!["LATE".into()])),
                (6, Err(vec!["${V%%.*}".into()])),
            ]
        );
    }

    #[test]
    fn copy_from_an_image_pulls_it_but_from_a_stage_or_index_does_not() {
        let t = "\
ARG REG=444455556666.dkr.ecr.us-east-1.amazonaws.com
FROM golang:1.22 AS build
FROM ubuntu
ARG REG
COPY --from=build /a /a
COPY --from=0 /b /b
COPY --chown=1:1 --from=${REG}/tools/renovate:1 /c /c
COPY /d /d
";
        let got = base_images(t).expect("valid");
        assert_eq!(got.len(), 3);
        assert_eq!(got[2].instruction, "COPY --from");
        assert_eq!(got[2].line, 7);
        assert_eq!(
            got[2].resolved,
            Ok("444455556666.dkr.ecr.us-east-1.amazonaws.com/tools/renovate:1".into())
        );
    }

    #[test]
    fn run_mount_from_an_image_pulls_it_but_from_a_stage_does_not() {
        let t = "\
FROM golang:1.22 AS build
FROM ubuntu
RUN --mount=type=bind,from=build,source=/a,target=/a true
RUN --mount=type=cache,target=/c --mount=type=bind,from=444455556666.dkr.ecr.eu-west-1.amazonaws.com/tools:1,target=/t ls /t
RUN --network=none echo from=not-a-mount
";
        let got = base_images(t).expect("valid");
        assert_eq!(got.len(), 3, "{got:#?}");
        assert_eq!(got[2].instruction, "RUN --mount");
        assert_eq!(got[2].line, 4);
        assert_eq!(
            got[2].resolved,
            Ok("444455556666.dkr.ecr.eu-west-1.amazonaws.com/tools:1".into())
        );
    }

    #[test]
    fn a_heredoc_body_is_data_not_instructions() {
        let t = "\
FROM ubuntu
RUN <<EOF
FROM not-an-image
echo hi
EOF
COPY <<-'CONF' 2<<\"MORE\" /etc/
\tFROM nor-this
\tCONF
FROM nor-that
MORE
RUN echo \"a << b\" && cat <<<here
FROM node:20
";
        assert_eq!(images(t), vec![ok(1, "ubuntu"), ok(12, "node:20")]);
    }

    #[test]
    fn a_variable_only_in_the_tag_or_digest_leaves_the_name_known() {
        let t = "\
ARG REG=444455556666.dkr.ecr.us-east-1.amazonaws.com
ARG TAG
FROM ${REG}/app:${TAG}
FROM ${REG}/app@sha256:${DIGEST}
FROM ${REPO}:1
FROM ${REG}/app:${T%/*}
";
        let got = base_images(t).expect("valid");
        let name = "444455556666.dkr.ecr.us-east-1.amazonaws.com/app".to_owned();
        assert_eq!(got[0].name_only, Some((name.clone(), ":${TAG}".into())));
        assert_eq!(got[1].name_only, Some((name, "@sha256:${DIGEST}".into())));
        assert_eq!(got[2].name_only, None, "the name itself is unknown");
        assert_eq!(
            got[3].name_only, None,
            "a slash in the tag: unclear, stays unresolved"
        );
        assert!(got.iter().all(|b| b.resolved.is_err()));
    }

    #[test]
    fn escape_directive_changes_the_continuation_character() {
        let t = "# escape=`\nFROM `\n  mcr.microsoft.com/windows/servercore:ltsc2022\n";
        assert_eq!(
            images(t),
            vec![ok(2, "mcr.microsoft.com/windows/servercore:ltsc2022")]
        );
    }

    #[test]
    fn escaped_dollar_is_literal() {
        assert_eq!(images("FROM a\\$b\n"), vec![ok(1, "a$b")]);
    }

    #[test]
    fn a_file_without_from_or_with_an_empty_from_is_invalid() {
        assert!(base_images("RUN true\n").is_err());
        assert!(base_images("").is_err());
        assert!(base_images("FROM --platform=linux/amd64\n").is_err());
        assert!(base_images("FROM a b c\n").is_err());
    }

    fn pulls(text: &str) -> Vec<(usize, bool, Role)> {
        base_images(text)
            .expect("valid Dockerfile")
            .into_iter()
            .map(|b| (b.line, b.pulled, b.role))
            .collect()
    }

    #[test]
    fn a_byte_order_mark_is_dropped() {
        assert_eq!(images("\u{feff}FROM ubuntu\n"), vec![ok(1, "ubuntu")]);
        assert_eq!(
            images("\u{feff}# syntax=docker/dockerfile:1\nFROM ubuntu\n"),
            vec![ok(1, "docker/dockerfile:1"), ok(2, "ubuntu")]
        );
    }

    #[test]
    fn the_syntax_frontend_is_pulled_but_only_as_a_leading_directive() {
        let got = base_images("#syntax = docker/dockerfile:1.7\nFROM ubuntu\n").expect("valid");
        assert_eq!(got[0].instruction, "# syntax");
        assert_eq!(got[0].role, Role::Frontend);
        assert_eq!(got[0].resolved, Ok("docker/dockerfile:1.7".into()));
        assert_eq!(
            images("FROM ubuntu\n# syntax=docker/dockerfile:1\n"),
            vec![ok(1, "ubuntu")],
            "after an instruction it is a comment"
        );
    }

    #[test]
    fn only_the_stages_the_last_stage_needs_are_pulled() {
        let t = "\
FROM golang:1.22 AS build
FROM node:20 AS unused
FROM alpine AS tools
FROM rust AS mounted
FROM ubuntu AS base
FROM base
COPY --from=build /a /a
RUN --mount=type=bind,from=mounted,target=/m true
COPY --from=ghcr.io/org/tool:1 /t /t
";
        assert_eq!(
            pulls(t),
            vec![
                (1, true, Role::Builder),
                (2, false, Role::Builder),
                (3, false, Role::Builder),
                (4, true, Role::Builder),
                (5, true, Role::Workspace),
                (9, true, Role::CopyFrom),
            ]
        );
        let got = base_images(t).expect("valid");
        assert_eq!(got[1].stage, "unused");
    }

    #[test]
    fn an_image_copied_from_in_an_unused_stage_is_not_pulled() {
        let t = "FROM a AS x\nCOPY --from=b:1 / /\nFROM c\n";
        let got = pulls(t);
        assert_eq!(got[0], (1, false, Role::Builder));
        assert_eq!(got[1], (2, false, Role::CopyFrom));
        assert_eq!(got[2], (3, true, Role::Workspace));
    }

    #[test]
    fn copy_from_sees_only_the_args_declared_in_its_stage() {
        let t = "\
ARG REG=444455556666.dkr.ecr.us-east-1.amazonaws.com
ARG TAG=1
FROM ubuntu AS one
COPY --from=${REG}/a:1 / /
FROM ubuntu AS two
ARG REG
ARG TOOL=${REG}/b
COPY --from=${TOOL}:${TAG} / /
FROM ubuntu
ARG REG=registry.local
COPY --from=${REG}/c:1 / /
";
        let got = base_images(t).expect("valid");
        let froms: Vec<_> = got
            .iter()
            .filter(|b| b.instruction == "COPY --from")
            .map(|b| b.resolved.clone())
            .collect();
        assert_eq!(
            froms,
            vec![
                Err(vec!["REG".into()]),
                Err(vec!["TAG".into()]),
                Ok("registry.local/c:1".into()),
            ]
        );
        let tool = got.iter().find(|b| b.line == 8).expect("line 8");
        assert_eq!(
            tool.name_only,
            Some((
                "444455556666.dkr.ecr.us-east-1.amazonaws.com/b".into(),
                ":${TAG}".into()
            ))
        );
    }

    proptest::proptest! {
        /// Whatever the lines, the parser answers without panicking, and every image it marks
        /// pulled or not names a line of the file.
        #[test]
        fn any_dockerfile_is_read_without_panicking(lines in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::string::string_regex("(FROM|from|COPY|RUN|ARG|# syntax=|# escape=) ?(--from=|--mount=type=bind,from=|--platform=)?[a-z0-9${}:/._@-]{0,20}( AS [a-z0-9]{1,4})?( <<-?EOF)?").expect("regex"),
                proptest::string::string_regex("(EOF|\\\\|\u{feff}|#.*|\\PC{0,20})").expect("regex"),
            ],
            0..12,
        )) {
            let text = lines.join("\n");
            let count = text.lines().count();
            if let Ok(images) = base_images(&text) {
                for b in images {
                    proptest::prop_assert!(b.line >= 1 && b.line <= count.max(1));
                }
            }
        }
    }
}

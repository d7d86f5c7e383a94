//! What an installed `ecr-audit` offers beyond its reports: shell completions, the man page and
//! the long `--version`; and the build script that records the commit.
//!
//! These tests need `bash`, `man` (man-db) and `groff`; `.ci/run` installs them where missing.
//! A missing tool fails the test: it is never a silent skip.

mod util;

use std::path::Path;
use std::process::{Command, Output};

use util::{ecr_audit, tool};

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

/// Completes `words` (the last one being completed) with the script `ecr-audit completions bash`
/// printed, loaded in a real bash, through the function it registered for `ecr-audit`.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("ecr-audit.bash");
    let out = ecr_audit()
        .args(["completions", "bash"])
        .output()
        .expect("run");
    std::fs::write(&script, stdout(&out)).expect("write script");
    let driver = r#"
set -u
source "$1"; shift
spec=$(complete -p ecr-audit) || { echo "nothing registered for ecr-audit" >&2; exit 3; }
fn=$(printf '%s\n' "$spec" | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
COMP_WORDS=("$@")
COMP_CWORD=$(( $# - 1 ))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
"$fn" ecr-audit "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let out = tool("bash")
        .arg("-c")
        .arg(driver)
        .arg("bash")
        .arg(&script)
        .args(words)
        .output()
        .expect("bash");
    stdout(&out)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completion_offers_the_subcommands() {
    let got = bash_complete(&["ecr-audit", ""]);
    for sub in [
        "scan",
        "gitpod",
        "explain",
        "fix",
        "rules",
        "completions",
        "man",
    ] {
        assert!(got.iter().any(|w| w == sub), "{sub} not offered: {got:?}");
    }
    assert_eq!(bash_complete(&["ecr-audit", "sc"]), ["scan"]);
}

#[test]
fn bash_completion_offers_the_format_values_after_a_subcommand() {
    assert_eq!(
        bash_complete(&["ecr-audit", "scan", "--format", ""]),
        ["table", "csv", "json", "markdown", "sarif", "html"]
    );
    assert_eq!(
        bash_complete(&["ecr-audit", "scan", "export/", "--format", "m"]),
        ["markdown"]
    );
    // The options of the subcommand, not of the top level.
    let opts = bash_complete(&["ecr-audit", "scan", "--"]);
    for opt in [
        "--account",
        "--format",
        "--fail-on",
        "--evidence",
        "--output",
    ] {
        assert!(opts.iter().any(|o| o == opt), "{opt} not offered: {opts:?}");
    }
    assert_eq!(
        bash_complete(&["ecr-audit", "completions", "z"]),
        ["zsh"],
        "the shells are completed too"
    );
}

#[test]
fn completions_exist_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef ecr-audit"),
        ("fish", "complete -c ecr-audit"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[ecr-audit]"),
    ] {
        let text = stdout(
            &ecr_audit()
                .args(["completions", shell])
                .output()
                .expect("run"),
        );
        assert!(text.contains(marker), "{shell}: no `{marker}`");
        assert!(
            text.contains("--fail-on"),
            "{shell}: scan's options missing"
        );
    }
    let out = ecr_audit()
        .args(["completions", "tcsh"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

/// `ecr-audit man`, rendered by man-db (groff) as a person would read it.
fn rendered_man_page() -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("ecr-audit.1");
    let roff = stdout(&ecr_audit().arg("man").output().expect("run"));
    std::fs::write(&page, &roff).expect("write page");
    let out = tool("man")
        // man-db turns groff's warnings on with --warnings; a warning is a defect of the page.
        .args(["--warnings", "-l"])
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .expect("man");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "man -l failed: {stderr}");
    assert!(
        stderr.trim().is_empty(),
        "groff warned about the page: {stderr}"
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The subcommands, as `ecr-audit --help` lists them.
fn subcommands() -> Vec<String> {
    let help = stdout(&ecr_audit().arg("--help").output().expect("run"));
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// The options and arguments of a subcommand, as its `--help` lists them: `--output <FILE>`,
/// `--evidence`, `<PATH>`.
fn options(sub: &str) -> Vec<String> {
    let help = stdout(&ecr_audit().args([sub, "--help"]).output().expect("run"));
    help.lines()
        .filter(|l| {
            let body = l.trim_start();
            l.len() - body.len() <= 6 && (body.starts_with('-') || body.starts_with('<'))
        })
        .map(|l| {
            let entry = l.trim().split("  ").next().unwrap_or_default();
            let entry = entry.rsplit(", ").next().unwrap_or(entry);
            entry.trim_end_matches("...").to_owned()
        })
        .collect()
}

#[test]
fn man_page_renders_and_lists_every_subcommand_and_option() {
    // `-T utf8` output may hyphenate or use U+2010 for hyphens; compare on a plain form.
    let text = rendered_man_page()
        .replace(['\u{2010}', '\u{2212}'], "-")
        .replace("-\n", "-");
    let words: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("NAME ecr-audit - Offline audit"), "{text}");
    let mut checked = 0;
    for sub in subcommands() {
        let heading = format!("ECR-AUDIT {}", sub.to_uppercase());
        let at = words
            .find(&heading)
            .unwrap_or_else(|| panic!("no section {heading}"));
        // The subcommand's options are listed in its own section, before the next one.
        let section = &words[at..];
        let end = section[heading.len()..]
            .find("ECR-AUDIT ")
            .map_or(section.len(), |e| e + heading.len());
        let section = &section[..end];
        for shown in options(&sub) {
            assert!(
                section.contains(&shown),
                "{heading}: `{shown}` not listed:\n{section}"
            );
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} options checked");
    assert!(words.contains("report schema version: 1"), "the version");
}

#[test]
fn long_version_names_commit_catalog_date_and_schema() {
    let text = stdout(&ecr_audit().arg("--version").output().expect("run"));
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(format!("ecr-audit {}", env!("CARGO_PKG_VERSION")).as_str())
    );
    let commit = lines.next().expect("commit line");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    if manifest.join(".git").exists() {
        let head = Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .current_dir(manifest)
            .output()
            .expect("git (the checkout has a .git)");
        let head = String::from_utf8(head.stdout).expect("utf-8");
        assert_eq!(commit, format!("commit: {}", head.trim()));
    } else {
        assert_eq!(commit, "commit: unknown (not built from a git checkout)");
    }
    assert_eq!(
        lines.next(),
        Some(format!("ECR action catalog: {}", ecr_audit::catalog::CATALOG_DATE).as_str())
    );
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "report schema version: {}",
                ecr_audit::report::json::SCHEMA_VERSION
            )
            .as_str()
        )
    );
    // The short form stays one line, for scripts.
    let short = stdout(&ecr_audit().arg("-V").output().expect("run"));
    assert_eq!(
        short.trim(),
        format!("ecr-audit {}", env!("CARGO_PKG_VERSION"))
    );
}

/// Compiles the build script on its own and runs it as cargo would, in `manifest_dir`.
fn run_build_script(manifest_dir: &Path, env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = dir.path().join("build-script");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .args(["--edition", "2024", "-o"])
        .arg(&exe)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("build.rs"))
        .output()
        .expect("rustc");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut cmd = Command::new(&exe);
    cmd.env("CARGO_MANIFEST_DIR", manifest_dir)
        .env_remove("ECR_AUDIT_GIT_COMMIT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    stdout(&cmd.output().expect("build script"))
}

#[test]
fn build_script_without_git_leaves_the_commit_out() {
    // A source tarball: no .git, so no commit, and nothing watched that does not exist (cargo
    // would rerun the script on every build).
    let tarball = tempfile::tempdir().expect("tempdir");
    let out = run_build_script(tarball.path(), &[]);
    assert!(
        out.contains("cargo:rustc-env=ECR_AUDIT_GIT_COMMIT=\n"),
        "{out}"
    );
    assert!(!out.contains("rerun-if-changed"), "{out}");
    // A packager may name the commit.
    let out = run_build_script(tarball.path(), &[("ECR_AUDIT_GIT_COMMIT", "abc123")]);
    assert!(
        out.contains("cargo:rustc-env=ECR_AUDIT_GIT_COMMIT=abc123\n"),
        "{out}"
    );
}

#[test]
fn build_script_in_a_checkout_records_head_and_watches_it() {
    let repo = tempfile::tempdir().expect("tempdir");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(repo.path())
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["commit", "-q", "--allow-empty", "-m", "one"]);
    let head = git(&["rev-parse", "--short=12", "HEAD"]);
    let out = run_build_script(repo.path(), &[]);
    assert!(
        out.contains(&format!(
            "cargo:rustc-env=ECR_AUDIT_GIT_COMMIT={}\n",
            head.trim()
        )),
        "{out}"
    );
    assert!(out.contains("/.git/HEAD\n"), "{out}");
    assert!(out.contains("/.git/refs/heads/main\n"), "{out}");
}

/// Rust files of the crate (sources, tests, benches, examples, build script).
fn rust_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn sources_keep_to_the_minimum_rust_version() {
    // The README promises Rust 1.85 (Cargo.toml's rust-version). Clippy's `incompatible_msrv`
    // lint catches library functions newer than that, but not language features; the one this
    // code base is likely to reach for is the `let` chain (a `let` after `&&` in an `if`), stable
    // only since 1.88. No 1.85 toolchain can be fetched here, so this looks for it in the text.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    assert!(manifest.contains("\nrust-version = \"1.85\"\n"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    assert!(
        readme.contains("Rust 1.85"),
        "the README names the minimum Rust"
    );
    let mut files = vec![root.join("build.rs")];
    for dir in ["src", "tests", "benches", "examples"] {
        if root.join(dir).is_dir() {
            rust_files(&root.join(dir), &mut files);
        }
    }
    // Spelled in two parts, so that this file does not match itself.
    let needle = ["&&", "let "].join(" ");
    let mut chains = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if flat.contains(&needle) {
            chains.push(file.display().to_string());
        }
    }
    assert!(chains.is_empty(), "`let` chains need Rust 1.88: {chains:?}");
}

#[test]
fn completions_and_man_end_quietly_on_a_closed_pipe() {
    // clap_complete panics on a write error; `| head` must not show a panic.
    for args in [&["completions", "bash"][..], &["man"]] {
        let child = ecr_audit()
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // Close the reading end at once, before anything is read.
        let mut child = child;
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

//! Every README example runs as written.
//!
//! The convention (README, "Development"): a code block fenced as ```` ```sh ```` is an example
//! that runs, from the repository's folder, on the sample export in `testdata/`; one that cannot
//! run here (it needs AWS credentials, a release build, your own files) is fenced
//! ```` ```sh no-test ````. Each command of a tested block is run by `sh` in a scratch folder
//! holding `testdata/`, with the built `ecr-audit` first on the PATH. An `ecr-audit` command must
//! exit 0 or 1 (a verdict; 2 is a usage error or a missing path) and say nothing of a panic;
//! any other command must exit 0.

mod util;

use std::path::Path;
use std::process::{Command, Stdio};

/// The README's tested blocks: (line of the fence, commands). A command is a logical line
/// (backslash continuations joined); comments and blank lines are left out.
fn tested_blocks(readme: &str) -> Vec<(usize, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut lines = readme.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let mut body = Vec::new();
        for (_, l) in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            body.push(l);
        }
        let mut words = info.split_whitespace();
        if words.next() != Some("sh") || words.any(|w| w == "no-test") {
            continue;
        }
        let mut commands = Vec::new();
        let mut pending = String::new();
        for l in body {
            if pending.is_empty() && (l.trim().is_empty() || l.trim_start().starts_with('#')) {
                continue;
            }
            match l.strip_suffix('\\') {
                Some(head) => pending.push_str(head),
                None => {
                    pending.push_str(l);
                    commands.push(std::mem::take(&mut pending).trim().to_owned());
                }
            }
        }
        assert!(
            pending.is_empty(),
            "README line {}: unfinished command",
            n + 1
        );
        blocks.push((n + 1, commands));
    }
    blocks
}

#[test]
fn the_convention_finds_tested_and_untested_blocks() {
    let md =
        "```sh\n# a\necho one \\\n  two\n\nls\n```\n```sh no-test\naws x\n```\n```json\n{}\n```\n";
    assert_eq!(
        tested_blocks(md),
        [(1, vec!["echo one   two".to_owned(), "ls".to_owned()])]
    );
}

#[test]
fn every_readme_example_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let blocks = tested_blocks(&readme);
    let commands: usize = blocks.iter().map(|(_, c)| c.len()).sum();
    assert!(
        blocks.len() >= 5 && commands >= 12,
        "the README's examples are tested: {blocks:?}"
    );

    // A scratch folder with the sample data, and `ecr-audit` on the PATH.
    let scratch = tempfile::tempdir().expect("tempdir");
    let bin = scratch.path().join(".bin");
    std::fs::create_dir(&bin).expect("bin");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_ecr-audit"), bin.join("ecr-audit"))
        .expect("link the binary");
    std::os::unix::fs::symlink(root.join("testdata"), scratch.path().join("testdata"))
        .expect("link testdata");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let mut failures = Vec::new();
    for (line, commands) in &blocks {
        for command in commands {
            let out = Command::new("sh")
                .args(["-c", command])
                .current_dir(scratch.path())
                .env("PATH", &path)
                .env("NO_COLOR", "1")
                .env_remove("ECR_AUDIT_ACCOUNT")
                .env_remove("CI")
                .stdin(Stdio::null())
                .output()
                .expect("sh");
            let code = out.status.code();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let runs_tool = command
                .split_whitespace()
                .find(|w| !w.contains('='))
                .is_some_and(|w| w == "ecr-audit");
            let ok = if runs_tool {
                matches!(code, Some(0 | 1)) && !stderr.contains("panicked")
            } else {
                code == Some(0)
            };
            if !ok {
                failures.push(format!(
                    "README block at line {line}: `{command}` exited {code:?}: {stderr}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // What the examples wrote is there.
    for file in ["verdicts.csv", "audit.md", "audit.sarif", "ecr-audit.1"] {
        let meta = std::fs::metadata(scratch.path().join(file));
        assert!(meta.is_ok_and(|m| m.len() > 0), "{file} written");
    }
}

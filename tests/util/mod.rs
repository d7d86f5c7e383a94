//! Test helpers: fixture trees built in code, and the real `ecr-audit` binary run on them with a
//! clean environment (no colour, no CI or account variables leaking in).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const ACCOUNT: &str = "111122223333";
pub const OTHER: &str = "999988887777";

/// The documented Gitpod statement, for `account`.
pub fn documented_policy(account: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Gitpod Access","Effect":"Allow",
"Principal":{{"AWS":["arn:aws:iam::{account}:root"]}},
"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}}]}}"#
    )
}

/// A folder of fixture files that disappears with the value.
pub struct Tree {
    pub dir: tempfile::TempDir,
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn file(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Tree {
        let p = self.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, contents).expect("write fixture");
        self
    }

    pub fn gz(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Tree {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(contents.as_ref()).expect("gzip");
        self.file(rel, enc.finish().expect("gzip"))
    }
}

/// The binary, with an environment that cannot change its output.
pub fn ecr_audit() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecr-audit"));
    for var in [
        "ECR_AUDIT_ACCOUNT",
        "ECR_AUDIT_CONFIG",
        "SOURCE_DATE_EPOCH",
        "NO_COLOR",
        "CI",
        "CLICOLOR",
        "CLICOLOR_FORCE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1");
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs `cmd` with `input` on its standard input, and waits for its output.
pub fn run_with_stdin(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// Runs `ecr-audit scan ARGS... --progress never` in `dir`.
pub fn scan_in(dir: &Path, args: &[&str]) -> Output {
    ecr_audit()
        .current_dir(dir)
        .arg("scan")
        .args(args)
        .args(["--progress", "never"])
        .output()
        .expect("run ecr-audit")
}

/// Runs `ecr-audit scan <tree> --account ACCOUNT --format csv` in the tree's folder, on `.`.
pub fn scan_csv(tree: &Tree, extra: &[&str]) -> (i32, Vec<HashMap<String, String>>, String) {
    let mut args = vec![".", "--account", ACCOUNT, "--format", "csv"];
    args.extend_from_slice(extra);
    let out = scan_in(tree.path(), &args);
    let rows = parse_csv(&out.stdout);
    (
        out.status.code().unwrap_or(-1),
        rows,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn parse_csv(bytes: &[u8]) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r
        .headers()
        .expect("csv header")
        .iter()
        .map(str::to_owned)
        .collect();
    r.records()
        .map(|rec| {
            let rec = rec.expect("csv record");
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// The one row whose `source` ends with `suffix` and whose record is `record`.
pub fn row<'a>(
    rows: &'a [HashMap<String, String>],
    suffix: &str,
    record: u64,
) -> &'a HashMap<String, String> {
    let found: Vec<_> = rows
        .iter()
        .filter(|r| r["source"].ends_with(suffix) && r["record"] == record.to_string())
        .collect();
    assert_eq!(found.len(), 1, "rows for {suffix}#{record}: {rows:#?}");
    found[0]
}

/// The project's folder (the sample export and the recipes are relative to it).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A command of a tool the tests drive (`man`, `dash`, `actionlint`, …). A missing tool fails the
/// test, never skips it: `.ci/run` installs what is missing.
pub fn tool(name: &str) -> Command {
    let probe = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .expect("sh");
    assert!(
        probe.status.success(),
        "`{name}` is not installed: .ci/run installs what these tests need"
    );
    Command::new(name)
}

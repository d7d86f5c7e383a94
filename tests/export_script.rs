//! `scripts/export-ecr.sh` against a fake `aws` (`tests/fake-aws/aws`) that serves canned
//! answers and errors (throttling, access denied, pagination); its output is then scanned with
//! the built binary. The script runs under `dash`, so that it stays POSIX sh.

mod util;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{Value, json};
use util::{ACCOUNT, OTHER, documented_policy, ecr_audit, parse_csv, root, tool};

const PROD: &str = "444455556666";
const DEV: &str = "777788889999";

fn policy(account: &str) -> Value {
    serde_json::from_str(&documented_policy(account)).expect("policy")
}

/// A run of the export script with the fake `aws` first on the PATH.
struct Export {
    dir: tempfile::TempDir,
}

impl Export {
    fn new(scenario: &Value) -> Export {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("scenario.json"), scenario.to_string()).expect("write");
        std::fs::create_dir(dir.path().join("state")).expect("state");
        // `aws` on the PATH runs the fake with the interpreter itself: a version manager's shim
        // for `python3` (pyenv) costs a third of a second a call.
        let python = tool("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3");
        let python = String::from_utf8(python.stdout).expect("utf-8");
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).expect("bin");
        let fake = root().join("tests/fake-aws/aws");
        std::fs::write(
            bin.join("aws"),
            format!(
                "#!/bin/sh\nexec '{}' '{}' \"$@\"\n",
                python.trim(),
                fake.display()
            ),
        )
        .expect("write aws");
        let chmod = Command::new("chmod")
            .arg("+x")
            .arg(bin.join("aws"))
            .status()
            .expect("chmod");
        assert!(chmod.success());
        Export { dir }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("export")
    }

    fn run(&self, args: &[&str]) -> Output {
        let path = format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        tool("dash")
            .arg(root().join("scripts/export-ecr.sh"))
            .arg("-o")
            .arg(self.out())
            .args(args)
            .env("PATH", path)
            .env_remove("AWS_PROFILE")
            .env("FAKE_AWS_SCENARIO", self.dir.path().join("scenario.json"))
            .env("FAKE_AWS_LOG", self.dir.path().join("calls.jsonl"))
            .env("FAKE_AWS_STATE", self.dir.path().join("state"))
            .env("ECR_EXPORT_BACKOFF", "0")
            .env("ECR_EXPORT_PAGE_SIZE", "2")
            .output()
            .expect("run the export script")
    }

    /// Every `aws` call the script made, as its arguments.
    fn calls(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(self.dir.path().join("calls.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("log line"))
            .collect()
    }

    fn peak_in_flight(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("state/peak"))
            .map(|s| s.trim().parse().expect("peak"))
            .unwrap_or(0)
    }

    /// manifest.tsv as (what, repository or region, status, detail) keyed rows.
    fn manifest(&self) -> Vec<HashMap<String, String>> {
        let text = std::fs::read_to_string(self.out().join("manifest.tsv")).expect("manifest");
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
        assert_eq!(
            header,
            [
                "account",
                "region",
                "what",
                "repository",
                "status",
                "detail"
            ]
        );
        lines
            .map(|l| {
                header
                    .iter()
                    .zip(l.split('\t'))
                    .map(|(k, v)| ((*k).to_owned(), v.to_owned()))
                    .collect()
            })
            .collect()
    }

    fn read(&self, rel: &str) -> Value {
        let text = std::fs::read_to_string(self.out().join(rel)).expect(rel);
        serde_json::from_str(&text).expect(rel)
    }

    /// `ecr-audit scan` of the export, as CSV rows. The registry-policy-scope.json files are
    /// registry settings (no row of their own): they decide how the registry policy is judged.
    fn scan(&self) -> Vec<HashMap<String, String>> {
        let out = ecr_audit()
            .arg("scan")
            .arg(self.out())
            .args([
                "--account",
                ACCOUNT,
                "--format",
                "csv",
                "--fail-on",
                "never",
            ])
            .args(["--progress", "never"])
            .output()
            .expect("scan");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        parse_csv(&out.stdout)
    }
}

fn scenario() -> Value {
    json!({
        "profiles": {"prod": PROD, "dev": DEV},
        "accounts": {
            PROD: {
                "us-east-1": {
                    "describe_throttle": 1,
                    "repositories": [
                        {"name": "gitpod/workspace-base", "policy": policy(ACCOUNT)},
                        {"name": "team/app", "policy": null},
                        {"name": "secret/vault", "error": "AccessDeniedException"},
                        {"name": "busy/ci", "policy": policy(ACCOUNT), "throttle": 2},
                        {"name": "later/page", "policy": policy(OTHER)}
                    ],
                    "registry_policy": null,
                    "scope": "V2"
                },
                "eu-west-1": {"describe_error": "AccessDeniedException"}
            },
            DEV: {
                "us-west-2": {
                    "repositories": [{"name": "tools/builder", "policy": policy(ACCOUNT)}],
                    "registry_policy": policy(ACCOUNT),
                    "scope": "V1"
                },
                // The same name in another region is another repository, without a policy;
                // us-west-2's registry policy is not its registry policy.
                "us-east-2": {
                    "repositories": [{"name": "tools/builder", "policy": null}],
                    "registry_policy": null
                }
            }
        }
    })
}

fn row<'a>(rows: &'a [HashMap<String, String>], repository: &str) -> &'a HashMap<String, String> {
    row_in(rows, repository, "")
}

/// The one row of `repository` (in `region`, unless empty).
fn row_in<'a>(
    rows: &'a [HashMap<String, String>],
    repository: &str,
    region: &str,
) -> &'a HashMap<String, String> {
    let found: Vec<_> = rows
        .iter()
        .filter(|r| r["repository"] == repository && (region.is_empty() || r["region"] == region))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one row for {repository} {region}: {rows:#?}"
    );
    found[0]
}

#[test]
fn exports_every_profile_and_enabled_region_and_the_scan_reads_it() {
    let e = Export::new(&scenario());
    let out = e.run(&["-p", "prod", "-p", "dev", "-j", "3"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failure makes exit 1: {stderr}"
    );

    // The layout the scan reads; names keep their folders.
    let policy_file = e.read(&format!(
        "{PROD}/us-east-1/repositories/gitpod/workspace-base.json"
    ));
    assert_eq!(policy_file["repositoryName"], "gitpod/workspace-base");
    assert_eq!(policy_file["registryId"], PROD);
    assert_eq!(policy_file["region"], "us-east-1");
    let no_policy = e.read(&format!("{PROD}/us-east-1/repositories/team/app.json"));
    assert_eq!(no_policy["__type"], "RepositoryPolicyNotFoundException");
    let denied = e.read(&format!("{PROD}/us-east-1/repositories/secret/vault.json"));
    assert_eq!(denied["__type"], "AccessDeniedException");
    assert_eq!(denied["repositoryName"], "secret/vault");
    // Pagination: 5 repositories, 2 a page.
    for page in [
        "describe-repositories.json",
        "describe-repositories.page-2.json",
        "describe-repositories.page-3.json",
    ] {
        let inv = e.read(&format!("{PROD}/us-east-1/{page}"));
        assert!(inv["repositories"].is_array(), "{page}");
    }
    let registry = e.read(&format!("{DEV}/us-west-2/registry-policy.json"));
    assert_eq!(registry["registryId"], DEV);
    assert_eq!(registry["region"], "us-west-2");
    assert!(registry["policyText"].is_string());
    assert!(
        !e.out()
            .join(format!("{PROD}/us-east-1/registry-policy.json"))
            .exists(),
        "no registry policy, no file"
    );
    let scope = e.read(&format!("{DEV}/us-west-2/registry-policy-scope.json"));
    assert_eq!(
        scope,
        json!({"registryId": DEV, "region": "us-west-2", "name": "REGISTRY_POLICY_SCOPE", "value": "V1"})
    );

    // The manifest says what was exported and what failed.
    let manifest = e.manifest();
    let entry = |what: &str, region: &str, repo: &str| {
        manifest
            .iter()
            .find(|m| m["what"] == what && m["region"] == region && m["repository"] == repo)
            .unwrap_or_else(|| panic!("no manifest entry {what} {region} {repo}: {manifest:#?}"))
    };
    assert_eq!(
        entry("repository-policy", "us-east-1", "gitpod/workspace-base")["status"],
        "exported"
    );
    assert_eq!(
        entry("repository-policy", "us-east-1", "busy/ci")["status"],
        "exported"
    );
    assert_eq!(
        entry("repository-policy", "us-east-1", "team/app")["status"],
        "no-policy"
    );
    let vault = entry("repository-policy", "us-east-1", "secret/vault");
    assert_eq!(vault["status"], "failed");
    assert!(
        vault["detail"].starts_with("AccessDeniedException: "),
        "{vault:?}"
    );
    assert_eq!(entry("repositories", "eu-west-1", "")["status"], "failed");
    assert_eq!(entry("registry-policy", "us-east-1", "")["status"], "none");
    assert_eq!(
        entry("registry-policy", "us-west-2", "")["status"],
        "exported"
    );
    let failed: Vec<_> = manifest
        .iter()
        .filter(|m| m["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 2, "{failed:#?}");

    // Read-only calls only; throttled calls retried; parallelism bounded by -j.
    let calls = e.calls();
    for call in &calls {
        let op = format!("{} {}", call[0], call[1]);
        assert!(
            [
                "sts get-caller-identity",
                "ec2 describe-regions",
                "ecr describe-repositories",
                "ecr get-repository-policy",
                "ecr get-registry-policy",
                "ecr get-account-setting",
            ]
            .contains(&op.as_str()),
            "not a read-only call: {call:?}"
        );
    }
    let policy_calls = |name: &str| {
        calls
            .iter()
            .filter(|c| c[1] == "get-repository-policy" && c.contains(&name.to_owned()))
            .count()
    };
    assert_eq!(
        policy_calls("busy/ci"),
        3,
        "two throttled answers, then the policy"
    );
    assert_eq!(policy_calls("gitpod/workspace-base"), 1);
    let pages = calls
        .iter()
        .filter(|c| c[1] == "describe-repositories" && c.contains(&"us-east-1".to_owned()))
        .count();
    assert_eq!(
        pages, 6,
        "each of the 3 pages throttled once and retried alone"
    );
    let peak = e.peak_in_flight();
    assert!((1..=3).contains(&peak), "{peak} calls in flight with -j 3");

    // The scan: one row per repository; denied is an error, never "no policy".
    let rows = e.scan();
    assert_eq!(row(&rows, "gitpod/workspace-base")["status"], "pass");
    assert_eq!(row(&rows, "gitpod/workspace-base")["region"], "us-east-1");
    assert_eq!(row(&rows, "busy/ci")["status"], "pass");
    assert_eq!(row(&rows, "later/page")["status"], "fail");
    assert_eq!(row(&rows, "later/page")["findings"], "action-not-granted");
    let app = row(&rows, "team/app");
    assert_eq!(
        (app["status"].as_str(), app["findings"].as_str()),
        ("fail", "no-policy")
    );
    let vault = row(&rows, "secret/vault");
    assert_eq!(vault["status"], "error", "{vault:?}");
    assert!(!vault["findings"].contains("no-policy"), "{vault:?}");
    assert!(
        vault["detail"].contains("AccessDeniedException"),
        "{vault:?}"
    );
    assert_eq!(vault["registry"], PROD);
    // Its own policy grants the pull; the registry policy, in the V1 scope the export says,
    // takes no part (the scope file the script wrote is read with it).
    let builder = row_in(&rows, "tools/builder", "us-west-2");
    assert_eq!(builder["status"], "pass");
    assert_eq!(builder["findings"], "registry-policy-v1", "{builder:?}");
    let other_region = row_in(&rows, "tools/builder", "us-east-2");
    assert_eq!(
        (
            other_region["status"].as_str(),
            other_region["findings"].as_str()
        ),
        ("fail", "no-policy"),
        "a name in two regions is two repositories"
    );
    // The region whose repositories could not be listed is an error row of its own.
    let listing: Vec<_> = rows
        .iter()
        .filter(|r| r["source"].ends_with("eu-west-1/describe-repositories.json"))
        .collect();
    assert_eq!(listing.len(), 1, "{rows:#?}");
    assert_eq!(listing[0]["status"], "error");
    assert!(listing[0]["detail"].contains("AccessDeniedException"));
    // It names the registry and region it is about.
    assert_eq!(
        (
            listing[0]["registry"].as_str(),
            listing[0]["region"].as_str()
        ),
        (PROD, "eu-west-1")
    );
    assert_eq!(rows.len(), 8, "{rows:#?}");
}

#[test]
fn named_regions_and_default_credentials_and_a_clean_run_exits_zero() {
    let mut s = scenario();
    s["profiles"] = json!({"default": DEV});
    let e = Export::new(&s);
    let out = e.run(&["-r", "us-west-2"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = e.calls();
    assert!(
        !calls.iter().any(|c| c[1] == "describe-regions"),
        "-r names the regions"
    );
    assert!(
        calls.iter().all(|c| !c.contains(&"--profile".to_owned())),
        "no -p: the current credentials"
    );
    let rows = e.scan();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(row(&rows, "tools/builder")["status"], "pass");
}

#[test]
fn usage_errors_exit_two() {
    let e = Export::new(&scenario());
    for args in [&["-j", "x"][..], &["-j", "0"], &["-q"], &["extra"]] {
        let out = e.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(e.calls().is_empty(), "{args:?}: no call made");
    }
    let help = e.run(&["-h"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stderr).contains("-j JOBS"));
}

#[test]
fn the_script_passes_shellcheck_as_posix_sh() {
    let out = tool("shellcheck")
        .args(["--shell=sh", "--severity=warning"])
        .arg(root().join("scripts/export-ecr.sh"))
        .output()
        .expect("shellcheck");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_repository_name_in_another_region_does_not_hide_an_inventory_entry() {
    // A policy for `app` in us-east-1, and an inventory of eu-west-1 that lists its own `app`,
    // which has no policy file: that one is a `no-policy` row, not lost.
    let t = util::Tree::new();
    t.file(
        "a/us-east-1/repositories/app.json",
        json!({"registryId": PROD, "repositoryName": "app", "region": "us-east-1",
               "policyText": documented_policy(ACCOUNT)})
        .to_string(),
    );
    t.file(
        "a/eu-west-1/describe-repositories.json",
        json!({"repositories": [{
            "repositoryArn": format!("arn:aws:ecr:eu-west-1:{PROD}:repository/app"),
            "registryId": PROD, "repositoryName": "app"}]})
        .to_string(),
    );
    // Listed again in us-east-1: named there by the policy, so no second row.
    t.file(
        "a/us-east-1/describe-repositories.json",
        json!({"repositories": [{
            "repositoryArn": format!("arn:aws:ecr:us-east-1:{PROD}:repository/app"),
            "registryId": PROD, "repositoryName": "app"}]})
        .to_string(),
    );
    let (_, rows, _) = util::scan_csv(&t, &[]);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert_eq!(row_in(&rows, "app", "us-east-1")["status"], "pass");
    assert_eq!(row_in(&rows, "app", "eu-west-1")["findings"], "no-policy");
}

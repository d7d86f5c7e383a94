//! End-to-end tests of `ecr-audit diff` and `scan --baseline` (issue 15) on two snapshots of the
//! sample export: the second has one repository fixed, one broken and one file renamed (same
//! repository), and exactly those changes are reported.

mod util;

use std::path::Path;

use util::*;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

fn grant(registry: &str, name: &str, account: &str) -> String {
    serde_json::json!({"registryId": registry, "repositoryName": name,
        "policyText": documented_policy(account)})
    .to_string()
}

/// Scans `dir` (under the tree) to `out` as JSON; the exit status.
fn snapshot(t: &Tree, dir: &str, out: &str) -> i32 {
    ecr_audit()
        .current_dir(t.path())
        .args([
            "scan",
            dir,
            "--account",
            ACCOUNT,
            "--format",
            "json",
            "-o",
            out,
        ])
        .args(["--fail-on", "never", "--progress", "never"])
        .output()
        .expect("scan")
        .status
        .code()
        .unwrap_or(-1)
}

/// The sample export as `old/`, and `new/` = old with one fixed, one broken, one renamed.
fn two_snapshots() -> Tree {
    let t = Tree::new();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/export");
    copy_dir(&sample, &t.join("old"));
    copy_dir(&sample, &t.join("new"));
    let g = "new/get-repository-policy";
    // Fixed: platform/ci-runner (777788889999) now grants the pull.
    t.file(
        &format!("{g}/platform-ci-runner.json"),
        grant("777788889999", "platform/ci-runner", ACCOUNT),
    );
    // Broken: gitpod/workspace-base now grants another account only.
    t.file(
        &format!("{g}/gitpod-workspace-base.json"),
        grant("444455556666", "gitpod/workspace-base", OTHER),
    );
    // Renamed file, same repository.
    std::fs::rename(
        t.join(&format!("{g}/platform-build-images.json")),
        t.join(&format!("{g}/build-images-2.json")),
    )
    .expect("rename");
    assert_eq!(snapshot(&t, "old", "old.json"), 0);
    assert_eq!(snapshot(&t, "new", "new.json"), 0);
    t
}

fn diff(t: &Tree, args: &[&str]) -> std::process::Output {
    ecr_audit()
        .current_dir(t.path())
        .args(["diff", "old.json", "new.json"])
        .args(args)
        .output()
        .expect("diff")
}

#[test]
fn diff_lists_exactly_the_fixed_and_the_broken_repository() {
    let t = two_snapshots();
    let out = diff(&t, &["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["summary"]["new"], 0);
    assert_eq!(doc["summary"]["fixed"], 1);
    assert_eq!(doc["summary"]["worsened"], 1);
    assert_eq!(doc["summary"]["improved"], 0);
    assert_eq!(doc["summary"]["removed"], 0);
    let changed: Vec<(String, String, String, String)> = doc["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["change"] != "unchanged")
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or("").to_owned();
            (
                s("change"),
                s("repository"),
                s("old_status"),
                s("new_status"),
            )
        })
        .collect();
    assert_eq!(
        changed,
        vec![
            (
                "worsened".into(),
                "gitpod/workspace-base".into(),
                "pass".into(),
                "fail".into()
            ),
            (
                "fixed".into(),
                "platform/ci-runner".into(),
                "fail".into(),
                "pass".into()
            ),
        ]
    );
    let unchanged = doc["summary"]["unchanged"].as_u64().expect("count");
    assert!(unchanged > 10, "{unchanged}");
    // The renamed file's repository is matched by identity.
    assert!(
        doc["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .any(|c| { c["repository"] == "platform/build-images" && c["change"] == "unchanged" })
    );

    // CSV and table say the same.
    let out = diff(&t, &["--format", "csv"]);
    let rows = parse_csv(&out.stdout);
    let mut changed: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r["change"] != "unchanged")
        .map(|r| (r["change"].as_str(), r["repository"].as_str()))
        .collect();
    changed.sort();
    assert_eq!(
        changed,
        vec![
            ("fixed", "platform/ci-runner"),
            ("worsened", "gitpod/workspace-base")
        ]
    );
    let out = diff(&t, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("1 fixed") && text.contains("1 worsened"),
        "{text}"
    );
    let out = diff(&t, &["--format", "markdown"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "| worsened | 444455556666/gitpod/workspace-base | 111122223333 | pass | fail |"
        ),
        "{text}"
    );
    assert_eq!(text.matches("| unchanged |").count(), 0, "{text}");
}

#[test]
fn fail_on_new_gates_on_the_broken_repository() {
    let t = two_snapshots();
    assert_eq!(diff(&t, &["--fail-on-new"]).status.code(), Some(1));
    assert_eq!(
        diff(&t, &[]).status.code(),
        Some(0),
        "no gate without --fail-on-new"
    );
    let out = ecr_audit()
        .current_dir(t.path())
        .args(["diff", "old.json", "old.json", "--fail-on-new"])
        .output()
        .expect("diff");
    assert_eq!(out.status.code(), Some(0), "no change, no gate");
}

#[test]
fn a_report_of_the_previous_schema_is_read() {
    let t = two_snapshots();
    // The previous version's report: no `inputs`, no `summary.duplicates`, no `suppressed`.
    let mut old: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.join("old.json")).expect("read")).expect("json");
    old.as_object_mut().expect("object").remove("inputs");
    old["summary"]
        .as_object_mut()
        .expect("summary")
        .remove("duplicates");
    old["summary"]
        .as_object_mut()
        .expect("summary")
        .remove("suppressed");
    for r in old["results"].as_array_mut().expect("results") {
        for f in r["findings"].as_array_mut().expect("findings") {
            f.as_object_mut().expect("finding").remove("suppressed");
        }
    }
    t.file("old.json", serde_json::to_vec(&old).expect("json"));
    let out = diff(&t, &["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["summary"]["fixed"], 1);
    assert_eq!(doc["summary"]["worsened"], 1);
}

#[test]
fn a_file_that_is_not_a_report_is_a_usage_error() {
    let t = Tree::new();
    t.file("old.json", "{\"results\": 3}");
    t.file("new.json", "{}");
    let out = diff(&t, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("old.json is not an ecr-audit JSON report")
    );
}

fn scan_new(t: &Tree, args: &[&str]) -> std::process::Output {
    ecr_audit()
        .current_dir(t.path())
        .args(["scan", "new", "--account", ACCOUNT, "--progress", "never"])
        .args(args)
        .output()
        .expect("scan")
}

#[test]
fn baseline_marks_each_row_and_fail_on_new_gates_only_on_new_or_worsened() {
    let t = two_snapshots();
    let out = scan_new(&t, &["--baseline", "old.json", "--format", "json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("baseline old.json: 0 new, 1 worsened, 1 fixed, 0 improved, 0 removed"),
        "{err}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let mark = |name: &str| {
        doc["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|r| r["repository"] == name)
            .map(|r| r["baseline"].clone())
    };
    assert_eq!(mark("gitpod/workspace-base"), Some("worsened".into()));
    assert_eq!(mark("platform/ci-runner"), Some("fixed".into()));
    assert_eq!(mark("platform/build-images"), Some("unchanged".into()));
    // The sample export has failing rows: without the gate the scan fails.
    assert_eq!(out.status.code(), Some(1));
    // With it, only the broken repository fails the run...
    let out = scan_new(
        &t,
        &["--baseline", "old.json", "--fail-on-new", "--format", "csv"],
    );
    assert_eq!(out.status.code(), Some(1));
    // ...and against its own snapshot nothing is new or worse.
    let out = scan_new(
        &t,
        &["--baseline", "new.json", "--fail-on-new", "--format", "csv"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Without --baseline the JSON report has no `baseline` field.
    let out = scan_new(&t, &["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(doc["results"][0].get("baseline").is_none());
    // The reports people read say what is new or worse since the baseline.
    let md = scan_new(&t, &["--baseline", "old.json", "--format", "markdown"]);
    let md = String::from_utf8_lossy(&md.stdout);
    let section = md.split("## Since the baseline").nth(1).expect("section");
    let section = section.split("\n## ").next().unwrap_or(section);
    assert!(section.contains("0 new, 1 worsened, 1 fixed"), "{section}");
    assert!(section.contains("| worsened | **"), "{section}");
    assert!(section.contains("gitpod/workspace-base"), "{section}");
    assert!(
        !section.contains("platform/ci-runner"),
        "a fixed row is not listed"
    );
    let html = scan_new(&t, &["--baseline", "old.json", "--format", "html"]);
    let html = String::from_utf8_lossy(&html.stdout);
    assert!(html.contains("<h2>Since the baseline</h2>"));
    let plain = scan_new(&t, &["--format", "markdown"]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("Since the baseline"));
}

#[test]
fn only_shows_some_statuses_but_the_summary_counts_every_row() {
    let t = two_snapshots();
    let all: serde_json::Value =
        serde_json::from_slice(&scan_new(&t, &["--format", "json"]).stdout).expect("json");
    let out = scan_new(&t, &["--only", "fail,error", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["summary"], all["summary"]);
    let results = doc["results"].as_array().expect("results");
    assert!(!results.is_empty());
    assert!(
        results
            .iter()
            .all(|r| r["status"] == "fail" || r["status"] == "error")
    );
    let want = all["summary"]["fail"].as_u64().unwrap_or(0)
        + all["summary"]["error"].as_u64().unwrap_or(0);
    assert_eq!(results.len() as u64, want);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn repository_globs_narrow_the_audit() {
    let t = two_snapshots();
    let out = scan_new(
        &t,
        &[
            "--repository",
            "444455556666/*gitpod/*",
            "--repository",
            "*/platform/ci-runner",
            "--format",
            "csv",
        ],
    );
    let rows = parse_csv(&out.stdout);
    let mut names: Vec<&str> = rows.iter().map(|r| r["repository"].as_str()).collect();
    names.sort();
    names.dedup();
    assert!(names.contains(&"platform/ci-runner"), "{names:?}");
    assert!(names.contains(&"gitpod/workspace-base"), "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("gitpod/") || *n == "platform/ci-runner"),
        "{names:?}"
    );
    // A filter that leaves no row is nothing audited: exit 2, no report, never a pass.
    let out = scan_new(&t, &["--repository", "nomatch*", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to audit"));
    // The JSON summary counts the audited records: rows = records × accounts.
    let out = scan_new(&t, &["--repository", "*gitpod/*", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        doc["summary"]["records"].as_u64(),
        doc["results"].as_array().map(|r| r.len() as u64)
    );
}

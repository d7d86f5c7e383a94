//! `ecr-audit gitpod` end to end: the real binary on the sample projects in `testdata/gitpod` and
//! on fixture trees built in code.

mod util;

use std::path::Path;
use std::process::Output;

use util::*;

fn gitpod_in(dir: &Path, args: &[&str]) -> Output {
    ecr_audit()
        .current_dir(dir)
        .arg("gitpod")
        .args(args)
        .args(["--progress", "never"])
        .output()
        .expect("run ecr-audit")
}

/// `ecr-audit gitpod PATHS... --export export --account ACCOUNT --format FORMAT EXTRA...` in the
/// tree's folder.
fn gitpod_tree(t: &Tree, paths: &[&str], format: &str, extra: &[&str]) -> Output {
    let common = [
        "--export",
        "export",
        "--account",
        ACCOUNT,
        "--format",
        format,
    ];
    gitpod_in(t.path(), &[paths, &common[..], extra].concat())
}

fn sample(format: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "testdata/gitpod",
        "--export",
        "testdata/export",
        "--account",
        ACCOUNT,
        "--format",
        format,
    ];
    args.extend_from_slice(extra);
    gitpod_in(Path::new(env!("CARGO_MANIFEST_DIR")), &args)
}

fn find<'a>(
    rows: &'a [std::collections::HashMap<String, String>],
    config: &str,
    image_part: &str,
) -> &'a std::collections::HashMap<String, String> {
    let found: Vec<_> = rows
        .iter()
        .filter(|r| r["config"].ends_with(config) && r["image"].contains(image_part))
        .collect();
    assert_eq!(found.len(), 1, "{config} {image_part}: {rows:#?}");
    found[0]
}

#[test]
fn the_sample_projects_give_the_documented_rows() {
    let out = sample("csv", &[]);
    assert_eq!(out.status.code(), Some(1), "the sample has failing rows");
    let rows = parse_csv(&out.stdout);
    assert_eq!(rows.len(), 12, "{rows:#?}");
    let expect = [
        ("web-app/.gitpod.yml", "gitpod/vscode-server", "pass", ""),
        (
            "workspace-base/.gitpod.yaml",
            "gitpod/workspace-base",
            "pass",
            "region-unknown",
        ),
        (
            "ci-runner/.gitpod.yml",
            "platform/ci-runner",
            "fail",
            "region-unknown",
        ),
        (
            "renovate-bot/.gitpod.yml",
            "tools/renovate@sha256:",
            "warn",
            "",
        ),
        (
            "missing-repo/.gitpod.yml",
            "platform/java-toolchain",
            "fail",
            "image-not-in-export",
        ),
        (
            "docs-site/.gitpod.yml",
            "gitpod/workspace-node",
            "not-applicable",
            "not-private-ecr",
        ),
        (
            "default-image/.gitpod.yml",
            "gitpod/workspace-full",
            "not-applicable",
            "not-private-ecr",
        ),
        (
            "custom-dockerfile/.gitpod.yml",
            "golang:1.22",
            "not-applicable",
            "not-private-ecr",
        ),
        (
            "custom-dockerfile/.gitpod.yml",
            "node:${NODE_VERSION}",
            "not-applicable",
            "unresolved-tag;not-private-ecr",
        ),
        (
            "custom-dockerfile/.gitpod.yml",
            "${LINTER_IMAGE}",
            "warn",
            "unresolved-variable",
        ),
        (
            "custom-dockerfile/.gitpod.yml",
            "gitpod/workspace-full:2024.05",
            "warn",
            "ecr-image-in-dockerfile",
        ),
    ];
    for (config, image, status, findings) in expect {
        let r = find(&rows, config, image);
        assert_eq!(r["status"], status, "{r:#?}");
        assert_eq!(r["findings"], findings, "{r:#?}");
    }
    let dual = find(&rows, "ci-runner/.gitpod.yml", "ci-runner");
    assert_eq!(dual["registry"], "777788889999");
    assert_eq!(dual["region"], "us-west-2");
    assert_eq!(dual["export_status"], "fail");
    assert!(
        dual["export_findings"].contains("action-not-granted"),
        "{dual:?}"
    );
    let from = find(
        &rows,
        "custom-dockerfile/.gitpod.yml",
        "workspace-full:2024.05",
    );
    assert_eq!(
        from["via"],
        "testdata/gitpod/custom-dockerfile/.gitpod/Dockerfile:13"
    );
    assert_eq!(from["export_status"], "pass");
    let broken: Vec<_> = rows
        .iter()
        .filter(|r| r["config"].contains("broken"))
        .collect();
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0]["status"], "error");
    assert_eq!(broken[0]["findings"], "invalid-gitpod-config");
    assert!(broken[0]["detail"].contains("line 4"), "{:?}", broken[0]);
}

#[test]
fn csv_header_is_the_contract() {
    let out = sample("csv", &[]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(
        text.lines().next(),
        Some(
            "config,image,via,registry,region,repository,account,status,export_status,\
export_source,export_findings,findings,detail"
        )
    );
}

#[test]
fn csv_report_of_the_sample_projects() {
    let out = sample("csv", &[]);
    insta::assert_snapshot!(String::from_utf8(out.stdout).expect("utf-8"));
}

#[test]
fn json_report_of_the_sample_projects() {
    let out = sample("json", &[]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["command"], "gitpod");
    assert_eq!(doc["summary"]["fail"], 2);
    insta::assert_json_snapshot!(doc, {".tool.version" => "[version]"});
}

#[test]
fn markdown_report_of_the_sample_projects() {
    let out = sample("markdown", &[]);
    insta::assert_snapshot!(String::from_utf8(out.stdout).expect("utf-8"));
}

#[test]
fn table_report_ends_with_the_counts() {
    let out = sample("table", &[]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let last = text.lines().last().expect("summary");
    assert!(
        last.starts_with(
            "9 configurations × 1 account = 12 rows (export: 49 records): \
4 not-applicable, 2 pass, 3 warn, 2 fail, 1 error"
        ),
        "{last}"
    );
}

#[test]
fn fail_on_decides_the_exit_status_and_not_applicable_never_trips_it() {
    assert_eq!(
        sample("csv", &["--fail-on", "never"]).status.code(),
        Some(0)
    );
    let t = Tree::new();
    t.file("export/p.json", "{}");
    t.file("proj/.gitpod.yml", "image: gitpod/workspace-full\n");
    let out = gitpod_tree(&t, &["proj"], "csv", &[]);
    assert_eq!(out.status.code(), Some(0));
    let out = gitpod_tree(&t, &["proj"], "csv", &["--fail-on", "warn"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_warn_row_trips_fail_on_warn_only() {
    let t = Tree::new();
    t.file(
        "export/app.json",
        serde_json::json!({"registryId": "444455556666", "repositoryName": "app",
            "policyText": documented_policy(ACCOUNT)})
        .to_string(),
    );
    t.file("proj/.gitpod.yml", "image: {file: Dockerfile}\n");
    t.file(
        "proj/Dockerfile",
        "FROM 444455556666.dkr.ecr.us-east-1.amazonaws.com/app:1\n",
    );
    let out = gitpod_tree(&t, &["proj"], "csv", &[]);
    assert_eq!(out.status.code(), Some(0));
    let rows = parse_csv(&out.stdout);
    assert_eq!(rows[0]["status"], "warn");
    assert_eq!(
        rows[0]["findings"],
        "ecr-image-in-dockerfile;region-unknown"
    );
    assert_eq!(rows[0]["via"], "proj/Dockerfile:1");
    let out = gitpod_tree(&t, &["proj"], "csv", &["--fail-on", "warn"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn missing_paths_are_usage_errors() {
    let t = Tree::new();
    t.file("proj/.gitpod.yml", "image: ubuntu\n");
    t.file("export/a.json", documented_policy(ACCOUNT));
    let out = gitpod_in(
        t.path(),
        &["nope", "--export", "export", "--account", ACCOUNT],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
    let out = gitpod_in(
        t.path(),
        &["proj", "--export", "nope", "--account", ACCOUNT],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = gitpod_in(t.path(), &["proj", "--account", ACCOUNT]);
    assert_eq!(out.status.code(), Some(2), "--export is required");
}

#[test]
fn an_unreadable_or_invalid_dockerfile_is_an_error_row_naming_the_file() {
    let t = Tree::new();
    t.file("export/a.json", documented_policy(ACCOUNT));
    t.file("a/.gitpod.yml", "image:\n  file: missing.Dockerfile\n");
    t.file(
        "b/.gitpod.yml",
        "image:\n  file: docker/Dockerfile\n  context: docker\n",
    );
    t.file("b/docker/Dockerfile", "# no base\nRUN true\n");
    t.file("c/.gitpod.yml", "image: 42\n");
    let out = gitpod_tree(&t, &["."], "csv", &[]);
    assert_eq!(out.status.code(), Some(1));
    let rows = parse_csv(&out.stdout);
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert_eq!(rows[0]["findings"], "unreadable");
    assert!(
        rows[0]["detail"].contains("./a/missing.Dockerfile"),
        "{:?}",
        rows[0]
    );
    assert_eq!(rows[1]["findings"], "invalid-dockerfile");
    assert!(
        rows[1]["detail"].contains("./b/docker/Dockerfile"),
        "{:?}",
        rows[1]
    );
    assert_eq!(rows[2]["findings"], "invalid-gitpod-config");
    for r in &rows {
        assert_eq!(r["status"], "error");
    }
}

#[test]
fn one_row_per_image_and_account() {
    let t = Tree::new();
    t.file("export/a.json", documented_policy(ACCOUNT));
    t.file(
        "p/.gitpod.yml",
        "image: 444455556666.dkr.ecr.us-east-1.amazonaws.com/x\n",
    );
    let out = gitpod_tree(&t, &["p"], "csv", &["--account", OTHER]);
    let rows = parse_csv(&out.stdout);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["account"], ACCOUNT);
    assert_eq!(rows[1]["account"], OTHER);
    assert!(rows.iter().all(|r| r["findings"] == "image-not-in-export"));
}

#[test]
fn markdown_escapes_input_text() {
    let t = Tree::new();
    t.file("export/a.json", documented_policy(ACCOUNT));
    t.file("a|<b>/.gitpod.yml", "image: \"x`y\"\n");
    let out = gitpod_tree(&t, &["."], "markdown", &[]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let row = text
        .lines()
        .find(|l| l.contains("gitpod.yml"))
        .expect("a row");
    assert!(
        row.starts_with("| `./a\\|<b>/.gitpod.yml` | x\\`y |"),
        "{row}"
    );
    assert!(!row.contains("<b>/.gitpod.yml |"), "{row}");
}

#[test]
fn the_report_can_be_written_to_a_file() {
    let t = Tree::new();
    t.file("export/a.json", documented_policy(ACCOUNT));
    t.file("p/.gitpod.yml", "image: ubuntu:24.04\n");
    let out = gitpod_tree(&t, &["p"], "json", &["-o", "r.json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.join("r.json")).expect("report"))
            .expect("json");
    assert_eq!(doc["results"][0]["status"], "not-applicable");
}

#[test]
fn readme_lists_every_gitpod_code_with_its_severity() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    for code in ecr_audit::gitpod::catalog::Code::ALL {
        let row = format!("| `{}` | {} |", code.id(), code.severity());
        assert!(readme.contains(&row), "README lacks the row {row}");
    }
}

#[test]
fn discovery_walks_hidden_folders_skips_git_and_reads_named_files() {
    let t = Tree::new();
    t.file("export/a.json", documented_policy(ACCOUNT));
    t.file("src/.hidden/p/.gitpod.yml", "image: ubuntu\n");
    t.file("src/q/.git/.gitpod.yml", "image: not-this\n");
    t.file("src/q/gitpod.yml", "image: nor-this\n");
    t.file("elsewhere/workspace.yml", "image: alpine\n");
    let out = gitpod_tree(&t, &["src", "elsewhere/workspace.yml"], "csv", &[]);
    let rows = parse_csv(&out.stdout);
    let configs: Vec<&str> = rows.iter().map(|r| r["config"].as_str()).collect();
    assert_eq!(
        configs,
        ["elsewhere/workspace.yml", "src/.hidden/p/.gitpod.yml"]
    );
}

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
    assert_eq!(rows.len(), 24, "{rows:#?}");
    let expect = [
        ("web-app/.gitpod.yml", "gitpod/vscode-server", "pass", ""),
        (
            "workspace-base/.gitpod",
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
            "docker/dockerfile:1",
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
        (
            "multi-stage/.gitpod.yml",
            "docker/dockerfile:1.7",
            "not-applicable",
            "not-private-ecr",
        ),
        (
            "multi-stage/.gitpod.yml",
            "platform/go-builder",
            "warn",
            "ecr-image-in-dockerfile",
        ),
        (
            "multi-stage/.gitpod.yml",
            "platform/renderer",
            "not-applicable",
            "not-pulled",
        ),
        (
            "copy-from-registry/.gitpod.yml",
            "platform/go-toolchain",
            "warn",
            "ecr-image-in-dockerfile",
        ),
        (
            "docs-placeholder/.gitpod.yml",
            "<aws-ecr-url-prefix>",
            "error",
            "invalid-image",
        ),
        (
            "china-region/.gitpod.yml",
            "amazonaws.com.cn",
            "error",
            "partition-mismatch",
        ),
        (
            "legacy-shadowed/.gitpod.yml",
            "gitpod/ide-images",
            "pass",
            "",
        ),
        (
            "legacy-shadowed/.gitpod",
            "",
            "not-applicable",
            "config-not-read",
        ),
        (
            "yaml-name/.gitpod.yaml",
            "",
            "not-applicable",
            "config-not-read",
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
    assert!(
        from["detail"].contains("workspace's base image"),
        "{from:?}"
    );
    // The Dockerfile starts with a byte-order mark: its directive is still line 1.
    let builder = find(&rows, "multi-stage/.gitpod.yml", "go-builder");
    assert_eq!(
        builder["via"],
        "testdata/gitpod/multi-stage/.gitpod.Dockerfile:3"
    );
    assert!(builder["detail"].contains("would not help"), "{builder:?}");
    let copy = find(&rows, "copy-from-registry/.gitpod.yml", "go-toolchain");
    assert!(copy["detail"].contains("`COPY --from`"), "{copy:?}");
    let placeholder = find(&rows, "docs-placeholder/.gitpod.yml", "<");
    assert!(
        placeholder["detail"].contains("not a host name component"),
        "{placeholder:?}"
    );
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
    assert_eq!(doc["summary"]["configs"], 14);
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
            "14 configurations × 1 account = 24 rows (export: 50 records): \
11 not-applicable, 3 pass, 5 warn, 2 fail, 3 error"
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
        row.starts_with("| ./a\\|\\<b\\>/.gitpod.yml | x\\`y |"),
        "{row}"
    );
    assert!(!row.contains("<b>"), "{row}");
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

#[test]
fn markdown_uses_scans_sanitiser_mentions_links_and_images_are_inert() {
    let t = Tree::new();
    t.file("export/a.json", documented_policy(ACCOUNT));
    t.file("c@team ![i](u)/.gitpod.yml", "image: ubuntu\n");
    let out = gitpod_tree(&t, &["."], "markdown", &[]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let row = text
        .lines()
        .find(|l| l.contains("gitpod.yml"))
        .expect("a row");
    assert!(
        row.starts_with("| ./c\\@team \\!\\[i\\]\\(u\\)/.gitpod.yml |"),
        "{row}"
    );
    assert_eq!(
        ecr_audit::report::sanitize::markdown("c@team ![i](u)"),
        "c\\@team \\!\\[i\\]\\(u\\)",
        "the very function scan's Markdown uses"
    );
}

/// `gitpod PROJ --export export` on a tree with one project, as CSV rows, with the exit code.
fn project_rows(t: &Tree) -> (Option<i32>, Vec<std::collections::HashMap<String, String>>) {
    let out = gitpod_tree(t, &["proj"], "csv", &[]);
    (out.status.code(), parse_csv(&out.stdout))
}

#[cfg(unix)]
#[test]
fn hostile_checkouts_never_make_it_read_outside_the_root_or_without_bound() {
    use std::os::unix::fs::symlink;
    /// What the checkout is, how to build it, the code and a part of the detail expected.
    type Case<'a> = (&'a str, &'a dyn Fn(&Tree), &'a str, &'a str);
    let cases: [Case; 7] = [
        (
            "a Dockerfile linked to /dev/zero",
            &|t: &Tree| {
                t.file("proj/.gitpod.yml", "image: {file: .gitpod.Dockerfile}\n");
                symlink("/dev/zero", t.join("proj/.gitpod.Dockerfile")).expect("link");
            },
            "outside-repository",
            "proj/.gitpod.Dockerfile",
        ),
        (
            "a configuration linked to /dev/zero",
            &|t: &Tree| {
                symlink("/dev/zero", t.join("proj/.gitpod.yml")).expect("link");
            },
            "outside-repository",
            "proj/.gitpod.yml",
        ),
        (
            "an absolute path, taken relative to the root",
            &|t: &Tree| {
                t.file("proj/.gitpod.yml", "image: {file: /etc/hostname}\n");
            },
            "unreadable",
            "proj/etc/hostname",
        ),
        (
            "a path climbing out with ..",
            &|t: &Tree| {
                t.file("proj/.gitpod.yml", "image: {file: ../x/Dockerfile}\n");
                t.file("x/Dockerfile", "FROM outside\n");
            },
            "outside-repository",
            "../x/Dockerfile",
        ),
        (
            "a folder linked out of the repository",
            &|t: &Tree| {
                t.file("proj/.gitpod.yml", "image: {file: docker/Dockerfile}\n");
                t.file("x/Dockerfile", "FROM outside\n");
                symlink(t.join("x"), t.join("proj/docker")).expect("link");
            },
            "outside-repository",
            "proj/docker/Dockerfile",
        ),
        (
            "a folder named as the Dockerfile",
            &|t: &Tree| {
                t.file("proj/.gitpod.yml", "image: {file: docker}\n");
                t.file("proj/docker/Dockerfile", "FROM ubuntu\n");
            },
            "unreadable",
            "a folder",
        ),
        (
            "an oversized Dockerfile",
            &|t: &Tree| {
                t.file("proj/.gitpod.yml", "image: {file: Dockerfile}\n");
                let mut big = b"FROM ubuntu\n".to_vec();
                big.resize(2 << 20, b'#');
                t.file("proj/Dockerfile", big);
            },
            "unreadable",
            "too large",
        ),
    ];
    for (what, build, code, says) in cases {
        let t = Tree::new();
        t.file("export/a.json", documented_policy(ACCOUNT));
        std::fs::create_dir_all(t.join("proj")).expect("mkdir");
        build(&t);
        let (status, rows) = project_rows(&t);
        // A folder linked out of the projects is also a `link-out` note of the walk.
        let rows: Vec<_> = rows
            .into_iter()
            .filter(|r| r["findings"] != "link-out")
            .collect();
        assert_eq!(status, Some(1), "{what}: {rows:#?}");
        assert_eq!(rows.len(), 1, "{what}: {rows:#?}");
        assert_eq!(rows[0]["status"], "error", "{what}");
        assert_eq!(rows[0]["findings"], code, "{what}: {:?}", rows[0]);
        assert!(rows[0]["detail"].contains(says), "{what}: {:?}", rows[0]);
        assert!(!rows[0]["detail"].contains("outside\n"), "{what}");
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_is_an_error_row_and_never_blocks() {
    let t = Tree::new();
    t.file("export/a.json", documented_policy(ACCOUNT));
    t.file("proj/.gitpod.yml", "image: {file: Dockerfile}\n");
    let made = std::process::Command::new("mkfifo")
        .arg(t.join("proj/Dockerfile"))
        .status();
    if !made.is_ok_and(|s| s.success()) {
        return; // no mkfifo here: nothing to test
    }
    let (status, rows) = project_rows(&t);
    assert_eq!(status, Some(1));
    assert_eq!(rows[0]["findings"], "unreadable");
    assert!(rows[0]["detail"].contains("a FIFO"), "{:?}", rows[0]);
}

#[cfg(unix)]
#[test]
fn a_link_loop_under_the_projects_is_a_note_not_an_error() {
    let t = Tree::new();
    t.file("export/a.json", documented_policy(ACCOUNT));
    t.file("proj/.gitpod.yml", "image: ubuntu\n");
    std::os::unix::fs::symlink(t.join("proj"), t.join("proj/again")).expect("link");
    let (status, rows) = project_rows(&t);
    assert_eq!(status, Some(0), "{rows:#?}");
    let notes: Vec<_> = rows
        .iter()
        .filter(|r| r["findings"] == "link-loop")
        .collect();
    assert_eq!(notes.len(), 1, "{rows:#?}");
    assert_eq!(notes[0]["status"], "not-applicable");
}

#[test]
fn via_paths_are_normalised() {
    let t = Tree::new();
    t.file("export/a.json", documented_policy(ACCOUNT));
    t.file(
        "proj/.gitpod.yml",
        "image: {file: ./.gitpod/./x/../Dockerfile}\n",
    );
    t.file("proj/.gitpod/Dockerfile", "FROM ubuntu\n");
    let (_, rows) = project_rows(&t);
    assert_eq!(rows[0]["via"], "proj/.gitpod/Dockerfile:1");
}

#[test]
fn gitpod_reads_dot_gitpod_when_walking_but_not_dot_gitpod_yaml() {
    let t = Tree::new();
    t.file("export/a.json", documented_policy(ACCOUNT));
    t.file("proj/legacy/.gitpod", "image: ubuntu\n");
    t.file("proj/yaml/.gitpod.yaml", "image: ubuntu\n");
    let (status, rows) = project_rows(&t);
    assert_eq!(status, Some(0));
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["config"].as_str(), r["findings"].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("proj/legacy/.gitpod", "not-private-ecr"),
            ("proj/yaml/.gitpod.yaml", "config-not-read")
        ]
    );
}

#[test]
fn nothing_to_audit_exits_2_with_one_line_and_no_report() {
    // Projects without any configuration Gitpod reads.
    let t = Tree::new();
    t.file("export/a.json", documented_policy(ACCOUNT));
    t.file("proj/.gitpod.yaml", "image: ubuntu\n");
    t.file("proj/README.md", "# nothing\n");
    let out = gitpod_tree(&t, &["proj"], "markdown", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no report claims a verdict");
    let err = String::from_utf8(out.stderr).expect("utf-8");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no Gitpod configuration"), "{err}");
    assert!(err.contains("skipped: 1 file"), "{err}");
    // An export without a record.
    let t = Tree::new();
    t.file("export/notes.yaml", "not: an export\n");
    t.file("proj/.gitpod.yml", "image: ubuntu\n");
    let out = gitpod_tree(&t, &["proj"], "json", &["-o", "r.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!t.join("r.json").exists(), "no report file");
    let err = String::from_utf8(out.stderr).expect("utf-8");
    let last = err.lines().last().unwrap_or_default();
    assert!(last.contains("holds no record"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_folder_linked_out_of_the_projects_is_not_walked() {
    let t = Tree::new();
    t.file("export/a.json", documented_policy(ACCOUNT));
    t.file("proj/.gitpod.yml", "image: ubuntu\n");
    t.file("elsewhere/.gitpod.yml", "image: not-this\n");
    std::os::unix::fs::symlink(t.join("elsewhere"), t.join("proj/other")).expect("link");
    std::fs::create_dir_all(t.join("proj/inside")).expect("mkdir");
    t.file("proj/inside/deep/.gitpod.yml", "image: alpine\n");
    std::os::unix::fs::symlink(t.join("proj/inside"), t.join("proj/alias")).expect("link");
    let (status, rows) = project_rows(&t);
    assert_eq!(status, Some(0), "{rows:#?}");
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["config"].as_str(), r["findings"].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("proj/.gitpod.yml", "not-private-ecr"),
            ("proj/alias/deep/.gitpod.yml", "not-private-ecr"),
            ("proj/inside/deep/.gitpod.yml", "not-private-ecr"),
            ("proj/other", "link-out"),
        ],
        "a link inside the path is followed, one out of it is a note"
    );
}

/// Issue 14: piped, the table is one plain line per row (no box drawing), for grep and less.
#[test]
fn the_table_is_one_plain_line_per_row_when_piped() {
    let out = sample("table", &[]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let json: serde_json::Value =
        serde_json::from_slice(&sample("json", &[]).stdout).expect("json");
    let rows = json["results"].as_array().expect("results").len();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        rows + 1,
        "a line per row and the summary: {text}"
    );
    assert!(!text.contains('│') && !text.contains('─'), "{text}");
    assert_eq!(text.matches("not-applicable").count(), 12, "{text}");
    assert!(text.contains("ecr-image-in-dockerfile"), "{text}");
}

/// Issue 14: on a terminal of 80 or 120 columns (`script` gives the run one), no line is wider
/// than the terminal, and a status or an account ID is never split: each row's first line
/// holds both whole.
#[test]
fn the_table_fits_a_terminal_of_80_and_120_columns() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = env!("CARGO_BIN_EXE_ecr-audit");
    for width in [80usize, 120] {
        let cmd = format!(
            "{bin} gitpod testdata/gitpod --export testdata/export --account {ACCOUNT} --progress never"
        );
        let out = std::process::Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .current_dir(root)
            .env("COLUMNS", width.to_string())
            .env("NO_COLOR", "1")
            .env_remove("ECR_AUDIT_CONFIG")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("script");
        let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
        let table: Vec<&str> = text.lines().filter(|l| !l.starts_with("note:")).collect();
        assert!(table.len() > 24, "{text}");
        let summary = table.last().copied().unwrap_or_default();
        for l in &table[..table.len() - 1] {
            assert!(l.chars().count() <= width, "{width}: {l:?} is wider");
        }
        let firsts: Vec<&&str> = table
            .iter()
            .filter(|l| {
                ["error ", "fail ", "warn ", "pass ", "not-applicable "]
                    .iter()
                    .any(|s| l.starts_with(s))
            })
            .collect();
        assert_eq!(firsts.len(), 24, "{width}: {text}");
        assert!(
            firsts.iter().all(|l| l.contains(ACCOUNT)),
            "{width}: {text}"
        );
        assert!(summary.contains("24 rows"), "{summary}");
    }
}

#[test]
fn the_readme_and_docs_counts_are_the_samples() {
    let out = sample("json", &[]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let s = &doc["summary"];
    let rows = doc["results"].as_array().map_or(0, Vec::len);
    let counts = format!(
        "{rows} rows: {} not-applicable, {} pass, {} warn, {} fail, {} error",
        s["not-applicable"], s["pass"], s["warn"], s["fail"], s["error"]
    );
    let flat = |path: &str| {
        std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
            .expect("doc")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let readme = flat("README.md");
    assert!(
        readme.contains(&format!(
            "{} configurations and 2 files Gitpod does not read) gives {counts}",
            s["configs"]
        )),
        "README does not say: {counts}"
    );
    let docs = flat("docs/gitpod.md").replace(',', "");
    assert!(
        docs.contains(&counts.replace(',', "").replace(":", "")),
        "docs/gitpod.md does not say: {counts}"
    );
}

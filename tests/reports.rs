//! End-to-end checks of the report formats beyond their snapshots: SARIF against the SARIF 2.1.0
//! schema, evidence digests an auditor can recompute, and input text that tries to break out of
//! a CSV cell, a Markdown table or the terminal.

mod util;

use sha2::{Digest, Sha256};
use util::{ACCOUNT, Tree, documented_policy, ecr_audit, scan_in};

/// The OASIS SARIF 2.1.0 schema (`sarif-schema-2.1.0.json`), as the standard publishes it, kept
/// in the repository because the tests run without a network.
const SARIF_SCHEMA: &str = include_str!("schemas/sarif-schema-2.1.0.json");

fn sarif_of(dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--format", "sarif", "--account", ACCOUNT];
    all.extend_from_slice(args);
    let out = scan_in(dir, &all);
    serde_json::from_slice(&out.stdout).expect("SARIF is JSON")
}

#[test]
fn sarif_report_validates_against_the_sarif_2_1_0_schema() {
    // The published schema's `run.language` pattern ends in a stray `]`, which ECMAScript regular
    // expressions read as a literal but Rust's regex engines reject; the validator checks every
    // pattern against the meta-schema, so that one pattern is corrected in memory.
    let stray = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert!(SARIF_SCHEMA.contains(stray));
    let text = SARIF_SCHEMA.replace(stray, r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#);
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("compile schema");
    let doc = sarif_of(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        &["testdata"],
    );
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The schema does not check that a result's rule exists; check it here.
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), ecr_audit::finding::Code::ALL.len());
    for r in run["results"].as_array().expect("results") {
        let i = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
    }
}

#[test]
fn sarif_locates_json_lines_findings_at_their_line() {
    let t = Tree::new();
    let good = documented_policy(ACCOUNT);
    let lines = [
        serde_json::json!({"repositoryName": "ok", "policyText": good}).to_string(),
        serde_json::json!({"repositoryName": "none", "policy": null}).to_string(),
    ];
    t.file("dir with space/export.jsonl", lines.join("\n"));
    let doc = sarif_of(t.path(), &["."]);
    let results = doc["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{results:#?}");
    let r = &results[0];
    assert_eq!(r["ruleId"], "no-policy");
    assert_eq!(r["level"], "error");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "dir%20with%20space/export.jsonl"
    );
    assert_eq!(loc["region"]["startLine"], 2);
}

#[test]
fn evidence_digests_can_be_recomputed_with_sha256sum_rules() {
    let t = Tree::new();
    t.file("b.json", documented_policy(ACCOUNT));
    t.gz("a.json.gz", documented_policy(ACCOUNT));
    let out = scan_in(
        t.path(),
        &[".", "--account", ACCOUNT, "--format", "json", "--evidence"],
    );
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let ev = &doc["evidence"];
    assert_eq!(ev["algorithm"], "sha-256");
    let mut manifest = String::new();
    for f in ev["files"].as_array().expect("files") {
        let path = f["path"].as_str().expect("path");
        // The file as it lies on disk: the gzip file is hashed compressed.
        let bytes = std::fs::read(t.join(path)).expect("read input");
        let hex = format!("{:x}", Sha256::digest(&bytes));
        assert_eq!(f["sha256"], hex.as_str(), "{path}");
        manifest.push_str(&format!("{hex}  {path}\n"));
    }
    assert_eq!(ev["files"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        ev["digest"],
        format!("{:x}", Sha256::digest(manifest.as_bytes())).as_str()
    );
    // Without --evidence the JSON document is unchanged.
    let plain = scan_in(t.path(), &[".", "--account", ACCOUNT, "--format", "json"]);
    let plain: serde_json::Value = serde_json::from_slice(&plain.stdout).expect("json");
    assert!(plain.get("evidence").is_none());
}

/// A get-repository-policy file whose repository name is hostile (ECR would not allow it, but
/// the export is just a file).
fn hostile(name: &str) -> String {
    serde_json::json!({"registryId": "444455556666", "repositoryName": name, "policy": null})
        .to_string()
}

#[test]
fn csv_cells_that_start_a_formula_are_neutralised() {
    let t = Tree::new();
    t.file("x.json", hostile("=HYPERLINK(\"http://evil\",\"click\")"));
    t.file("-rm.json", hostile("@SUM(1+1)"));
    let out = scan_in(t.path(), &[".", "--account", ACCOUNT, "--format", "csv"]);
    let rows = util::parse_csv(&out.stdout);
    let names: Vec<&str> = rows.iter().map(|r| r["repository"].as_str()).collect();
    assert!(
        names.contains(&"'=HYPERLINK(\"http://evil\",\"click\")"),
        "{names:?}"
    );
    assert!(names.contains(&"'@SUM(1+1)"), "{names:?}");
    for r in &rows {
        for (col, cell) in r {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{col}: {cell}"
            );
        }
    }
}

#[test]
fn markdown_escapes_input_text_and_table_strips_escapes() {
    let t = Tree::new();
    t.file(
        "x.json",
        hostile("a|b\n# heading <script>x</script> [link](http://e) @here \u{1b}[31mred"),
    );
    let md = scan_in(
        t.path(),
        &[".", "--account", ACCOUNT, "--format", "markdown"],
    );
    let md = String::from_utf8(md.stdout).expect("utf-8");
    let line = md.lines().find(|l| l.contains("heading")).expect("the row");
    assert!(line.contains("a\\|b \\# heading \\<script\\>x\\</script\\> \\[link\\]\\(http://e\\) \\@here [31mred") || line.contains("a\\|b \\# heading \\<script\\>x\\</script\\> \\[link\\]\\(http://e\\) \\@here \\[31mred"), "{line}");
    // The row still has as many unescaped cell separators as the header.
    let header = md
        .lines()
        .find(|l| l.starts_with("| # | Status"))
        .expect("header");
    let cells = |l: &str| l.replace("\\|", "").matches('|').count();
    assert_eq!(cells(line), cells(header));
    assert!(!md.contains('\u{1b}'));

    let table = scan_in(t.path(), &[".", "--account", ACCOUNT]);
    let table = String::from_utf8(table.stdout).expect("utf-8");
    assert!(!table.contains('\u{1b}'));
}

#[test]
fn progress_never_and_a_non_terminal_stderr_draw_no_bar() {
    let t = Tree::new();
    t.file("a.json", documented_policy(ACCOUNT));
    for mode in ["never", "auto"] {
        let out = ecr_audit()
            .current_dir(t.path())
            .args(["scan", ".", "--account", ACCOUNT, "--progress", mode])
            .output()
            .expect("run");
        assert!(
            out.stderr.is_empty(),
            "{mode}: {:?}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Microsoft's SARIF multitool (npm `@microsoft/sarif-multitool`, which `.ci/run` installs into
/// `.ci/tools` when missing; `SARIF_MULTITOOL=path` picks another copy).
fn sarif_multitool() -> Option<std::path::PathBuf> {
    if std::env::var_os("ECR_AUDIT_SKIP_SARIF_MULTITOOL").is_some_and(|v| v == "1") {
        return None;
    }
    let path = std::env::var_os("SARIF_MULTITOOL")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(".ci/tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool")
        });
    assert!(
        path.exists(),
        "no SARIF multitool at {} (bash .ci/run installs it, or set SARIF_MULTITOOL, or ECR_AUDIT_SKIP_SARIF_MULTITOOL=1)",
        path.display()
    );
    Some(path)
}

#[test]
fn sarif_report_has_no_multitool_error_or_warning_including_githubs_rules() {
    let Some(tool) = sarif_multitool() else {
        return;
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("audit.sarif");
    let out = scan_in(
        root,
        &[
            "testdata/export",
            "--account",
            ACCOUNT,
            "--format",
            "sarif",
            "-o",
            log.to_str().expect("utf-8"),
        ],
    );
    assert!(log.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    let validation = dir.path().join("validation.sarif");
    let run = std::process::Command::new(&tool)
        .args([
            "validate",
            "--rule-kind",
            "Gh;Sarif",
            "--level",
            "Error;Warning",
        ])
        .arg("-o")
        .arg(&validation)
        .arg(&log)
        .current_dir(dir.path())
        .output()
        .expect("run the SARIF multitool");
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{text}");
    let problems: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(": error ") || l.contains(": warning "))
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
    // The validator ran its rules and wrote its own log (with no result at these levels).
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&validation).expect("validation log"))
            .expect("validation log is JSON");
    assert_eq!(v["runs"][0]["results"].as_array().map(Vec::len), Some(0));
}

#[test]
fn sarif_gives_every_result_a_region_and_a_stable_fingerprint() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = sarif_of(root, &["testdata/export"]);
    let run = &doc["runs"][0];
    assert!(
        run["tool"]["driver"]["informationUri"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://"))
    );
    assert!(
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
            .as_str()
            .is_some_and(|u| u.starts_with("file:///") && u.ends_with('/'))
    );
    for rule in run["tool"]["driver"]["rules"].as_array().expect("rules") {
        let id = rule["id"].as_str().expect("id");
        assert!(
            rule["help"]["markdown"]
                .as_str()
                .expect("markdown")
                .contains(&format!("docs/findings.md#{id}"))
        );
        let sev: f64 = rule["properties"]["security-severity"]
            .as_str()
            .expect("security-severity")
            .parse()
            .expect("a number");
        assert!((0.0..=10.0).contains(&sev));
        assert!(
            rule["properties"]["tags"]
                .as_array()
                .is_some_and(|t| t.contains(&"security".into()))
        );
    }
    let results = run["results"].as_array().expect("results");
    let mut prints = std::collections::HashSet::new();
    for r in results {
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(
            loc["region"]["startLine"].as_u64().is_some_and(|l| l >= 1),
            "{r}"
        );
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%", "{r}");
        assert!(
            !loc["artifactLocation"]["uri"]
                .as_str()
                .expect("uri")
                .starts_with("..")
        );
        assert_ne!(
            r["ruleId"], "registry-policy",
            "a note with nothing to do is no alert"
        );
        let fp = r["partialFingerprints"]["ecrAudit/v1"]
            .as_str()
            .expect("fingerprint");
        assert!(prints.insert(fp.to_owned()), "two results share {fp}");
    }
    // The statement's line inside a bare policy document: spark.policy's Deny is statement 1.
    let spark = results
        .iter()
        .find(|r| {
            r["ruleId"] == "action-denied"
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("spark.policy"))
        })
        .expect("spark's deny");
    let line = spark["locations"][0]["physicalLocation"]["region"]["startLine"]
        .as_u64()
        .expect("line");
    let text = std::fs::read_to_string(root.join("testdata/export/teams/data/spark.policy"))
        .expect("read");
    let at: Vec<&str> = text.lines().collect();
    assert!(
        at[line as usize - 1].contains('{') || at[line as usize].contains("FreezeDuringMigration"),
        "line {line}"
    );
    // Stable across runs, and across the folder the scan starts from.
    // (From the export folder itself: `testdata/` holds a sample `ecr-audit.toml`, which a scan
    // started there would read.)
    let again = sarif_of(&root.join("testdata/export"), &["."]);
    let fps = |d: &serde_json::Value| {
        d["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| {
                r["partialFingerprints"]["ecrAudit/v1"]
                    .as_str()
                    .expect("fp")
                    .to_owned()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(fps(&doc), fps(&again));
}

#[test]
fn what_to_do_gives_every_findings_advice_most_severe_first() {
    // Fails (a Deny of BatchGetImage) and over-grants (PutImage): both pieces of advice, the
    // failure's first.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
{{"Sid":"Grant","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},
  "Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:PutImage"]}},
{{"Sid":"Freeze","Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage"}}]}}"#
    );
    let t = Tree::new();
    t.file("team/app.json", &policy);
    let (_, rows, _) = util::scan_csv(&t, &[]);
    let detail = &rows[0]["detail"];
    let denied = detail
        .find("(1) statement 1 (Sid \"Freeze\") denies")
        .expect("deny first");
    let excess = detail
        .find("(2) statement 0 (Sid \"Grant\")")
        .expect("excess second");
    assert!(denied < excess, "{detail}");
    assert!(detail.contains("PutImage"), "{detail}");
    let md = scan_in(
        t.path(),
        &[".", "--account", ACCOUNT, "--format", "markdown"],
    );
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("\\(1\\) statement 1") && md.contains("\\(2\\) statement 0"),
        "{md}"
    );
}

#[test]
fn a_name_from_a_path_says_so_and_is_relative_to_the_scanned_folder_from_any_folder() {
    let t = Tree::new();
    t.file("export/team/app.json", documented_policy(ACCOUNT));
    t.file(
        "export/cli.json",
        serde_json::json!({"registryId": "123456789012", "repositoryName": "team/cli",
            "policyText": documented_policy(ACCOUNT)})
        .to_string(),
    );
    std::fs::create_dir_all(t.join("elsewhere/deeper")).expect("mkdir");
    for (cwd, arg) in [
        (t.path().to_path_buf(), "export"),
        (t.join("export"), "."),
        (t.join("elsewhere/deeper"), "../../export"),
    ] {
        let out = scan_in(&cwd, &[arg, "--account", ACCOUNT, "--format", "json"]);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let results = doc["results"].as_array().expect("results");
        let by_path = results
            .iter()
            .find(|r| r["name_from"] == "path")
            .expect("a path-named row");
        assert_eq!(by_path["repository"], "team/app", "from {}", cwd.display());
        let named = results
            .iter()
            .find(|r| r["repository"] == "team/cli")
            .expect("named row");
        assert_eq!(named["name_from"], "record");
    }
}

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

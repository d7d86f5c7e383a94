//! Snapshots of each report format on the sample export in `testdata/`: any change to a column,
//! a verdict or a message shows up here for review.

mod util;

use util::{ACCOUNT, ecr_audit};

fn report(format: &str) -> String {
    report_with(format, &[])
}

/// The sample export in `format`, with extra arguments; the generation time pinned by
/// `SOURCE_DATE_EPOCH`.
fn report_with(format: &str, extra: &[&str]) -> String {
    let out = ecr_audit()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .args([
            "scan",
            "testdata",
            "--account",
            ACCOUNT,
            "--progress",
            "never",
        ])
        .args(["--format", format])
        .args(extra)
        .output()
        .expect("run ecr-audit");
    assert_eq!(out.status.code(), Some(1), "the sample has failing rows");
    String::from_utf8(out.stdout).expect("utf-8 report")
}

#[test]
fn csv_report_of_the_sample_export() {
    insta::assert_snapshot!(report("csv"));
}

#[test]
fn json_report_of_the_sample_export() {
    let doc: serde_json::Value = serde_json::from_str(&report("json")).expect("json");
    insta::assert_json_snapshot!(doc, {".tool.version" => "[version]"});
}

#[test]
fn table_report_of_the_sample_export() {
    let text = report("table");
    // The summary line ends with the elapsed time, which varies.
    let text = match text.rfind(" (") {
        Some(i) => format!("{} ([elapsed])\n", &text[..i]),
        None => text,
    };
    insta::assert_snapshot!(text);
}

#[test]
fn sample_export_yields_every_status() {
    let rows = util::parse_csv(report("csv").as_bytes());
    for status in ["pass", "warn", "fail", "error"] {
        assert!(
            rows.iter().any(|r| r["status"] == status),
            "no {status} row in the sample"
        );
    }
}

#[test]
fn markdown_report_of_the_sample_export() {
    let text = report("markdown");
    insta::assert_snapshot!(text.replace(env!("CARGO_PKG_VERSION"), "[version]"));
}

#[test]
fn markdown_report_with_evidence_of_the_sample_export() {
    let text = report_with("markdown", &["--evidence"]);
    let evidence = &text[text.find("## Evidence").expect("evidence section")..];
    insta::assert_snapshot!(evidence);
}

#[test]
fn json_report_with_evidence_lists_every_input_file() {
    let doc: serde_json::Value =
        serde_json::from_str(&report_with("json", &["--evidence"])).expect("json");
    insta::assert_json_snapshot!(doc["evidence"]);
}

#[test]
fn sarif_report_of_the_sample_export() {
    let doc: serde_json::Value = serde_json::from_str(&report("sarif")).expect("json");
    insta::assert_json_snapshot!(doc, {
        ".runs[0].tool.driver.version" => "[version]",
        ".runs[0].tool.driver.semanticVersion" => "[version]",
        // The folder the scan ran in (file:///…/), which relative URIs are relative to.
        ".runs[0].originalUriBaseIds" => "[base]",
    });
}

/// `ecr-audit ARGS...` in the crate root; its standard output.
fn command(args: &[&str]) -> String {
    let out = ecr_audit()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run ecr-audit");
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn explain_of_a_denied_policy_in_the_sample() {
    insta::assert_snapshot!(command(&[
        "explain",
        "testdata/export/teams/data/spark.policy",
        "--account",
        ACCOUNT
    ]));
}

#[test]
fn explain_of_a_conditional_record_in_the_sample() {
    insta::assert_snapshot!(command(&[
        "explain",
        "testdata/export/bulk/us-west-2.jsonl",
        "--record",
        "3",
        "--account",
        ACCOUNT
    ]));
}

#[test]
fn rules_listing() {
    insta::assert_snapshot!(command(&["rules"]));
}

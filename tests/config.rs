//! End-to-end tests of issue 15: the configuration file `ecr-audit.toml`, its precedence, its
//! errors, and suppressions (the finding stays in every report, marked; the exit code follows
//! what is left; expired entries stop applying; stale entries are reported).

mod util;

use util::*;

/// A public repository (`public-access`) of registry 444455556666 in us-east-1.
fn public(name: &str) -> String {
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]
    });
    serde_json::json!({
        "registryId": "444455556666",
        "region": "us-east-1",
        "repositoryName": name,
        "policyText": policy.to_string(),
    })
    .to_string()
}

fn tree() -> Tree {
    let t = Tree::new();
    t.file("export/base.json", public("team/base"));
    t.file("export/other.json", public("other/app"));
    t
}

const SUPPRESS_TEAM: &str = "accounts = [\"111122223333\"]\n\n[[suppress]]\ncode = \"public-access\"\nrepository = \"444455556666/*/team/*\"\nreason = \"published base images, approved by security\"\nticket = \"SEC-123\"\nexpires = 2027-03-31\n";

/// 2027-03-01 and 2027-04-01, midnight UTC.
const BEFORE: &str = "1803859200";
const AFTER: &str = "1806537600";

fn scan(t: &Tree, epoch: &str, args: &[&str]) -> std::process::Output {
    ecr_audit()
        .current_dir(t.path())
        .env("SOURCE_DATE_EPOCH", epoch)
        .arg("scan")
        .arg("export")
        .args(args)
        .args(["--progress", "never"])
        .output()
        .expect("run")
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

#[test]
fn a_suppression_turns_the_exit_code_to_zero_and_every_report_still_shows_it() {
    let t = tree();
    // Only the suppressed repository: the run passes.
    std::fs::remove_file(t.join("export/other.json")).expect("rm");
    t.file("ecr-audit.toml", SUPPRESS_TEAM);
    let out = scan(&t, BEFORE, &["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    assert_eq!(doc["summary"]["suppressed"], 1);
    assert_eq!(doc["suppressions"][0]["suppressed"], 1);
    assert_eq!(doc["suppressions"][0]["stale"], false);
    let row = &doc["results"][0];
    assert_eq!(row["status"], "pass");
    let f = &row["findings"][0];
    assert_eq!(f["code"], "public-access");
    assert_eq!(
        f["suppressed"],
        serde_json::json!({"reason": "published base images, approved by security",
            "ticket": "SEC-123", "expires": "2027-03-31", "source": "ecr-audit.toml:3"})
    );
    // SARIF carries it as a suppression with the justification.
    let out = scan(&t, BEFORE, &["--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
    let s = &sarif["runs"][0]["results"][0]["suppressions"][0];
    assert_eq!(s["kind"], "external");
    assert_eq!(
        s["justification"],
        "published base images, approved by security (SEC-123)"
    );
    // CSV (and the table and Markdown, which show the same detail) name the suppression.
    let out = scan(&t, BEFORE, &["--format", "csv"]);
    let rows = parse_csv(&out.stdout);
    assert_eq!(rows[0]["status"], "pass");
    assert_eq!(rows[0]["findings"], "public-access");
    assert_eq!(
        rows[0]["detail"],
        "Suppressed: public-access (published base images, approved by security, ecr-audit.toml:3)."
    );
    let out = scan(&t, BEFORE, &["--format", "markdown"]);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("## Suppressed findings (1)"), "{md}");
    assert!(
        md.contains("| public-access | published base images, approved by security | SEC-123 | 2027-03-31 | ecr-audit.toml:3 |"),
        "{md}"
    );
    // Without the file the row fails.
    std::fs::remove_file(t.join("ecr-audit.toml")).expect("rm");
    let out = scan(&t, BEFORE, &["--account", ACCOUNT, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(json(&out)["results"][0]["findings"][0]["suppressed"].is_null());
}

#[test]
fn only_the_matching_repository_is_suppressed() {
    let t = tree();
    t.file("ecr-audit.toml", SUPPRESS_TEAM);
    let out = scan(&t, BEFORE, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "other/app still fails");
    let doc = json(&out);
    let statuses: Vec<(&str, &str)> = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["repository"].as_str().unwrap_or(""),
                r["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(statuses, vec![("team/base", "pass"), ("other/app", "fail")]);
}

#[test]
fn an_expired_suppression_does_not_apply_and_the_row_says_so() {
    let t = tree();
    std::fs::remove_file(t.join("export/other.json")).expect("rm");
    t.file("ecr-audit.toml", SUPPRESS_TEAM);
    let out = scan(&t, AFTER, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    let row = &doc["results"][0];
    assert_eq!(row["status"], "fail");
    let codes: Vec<&str> = row["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, vec!["public-access", "suppression-expired"]);
    assert!(
        row["findings"][1]["message"]
            .as_str()
            .is_some_and(|m| m.contains("ecr-audit.toml:3") && m.contains("2027-03-31"))
    );
    // An expired entry matched something: it is not stale.
    assert!(!String::from_utf8_lossy(&out.stderr).contains("matched no finding"));
}

#[test]
fn a_stale_suppression_is_reported() {
    let t = tree();
    t.file(
        "ecr-audit.toml",
        "accounts = [\"111122223333\"]\n[[suppress]]\ncode = \"excess-access\"\nreason = \"ci pushes\"\n",
    );
    let out = scan(&t, BEFORE, &["--format", "json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("suppression at ecr-audit.toml:2 matched no finding"),
        "{err}"
    );
    let doc = json(&out);
    assert_eq!(doc["suppressions"][0]["source"], "ecr-audit.toml:2");
    assert_eq!(doc["suppressions"][0]["stale"], true);
    assert_eq!(doc["suppressions"][0]["suppressed"], 0);
}

#[test]
fn a_blanket_rule_does_not_hide_no_policy() {
    let t = Tree::new();
    t.file(
        "export/none.json",
        r#"{"registryId":"444455556666","repositoryName":"x/none","policyText":null}"#,
    );
    t.file(
        "ecr-audit.toml",
        "accounts = [\"111122223333\"]\n[[suppress]]\ncode = \"*\"\nreason = \"everything\"\n",
    );
    let out = scan(&t, BEFORE, &["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn the_command_line_beats_the_environment_beats_the_file() {
    let t = tree();
    t.file(
        "cfg/audit.toml",
        "accounts = [\"999988887777\"]\nfail-on = \"never\"\nformat = \"json\"\n",
    );
    let run = |env: Option<&str>, args: &[&str]| {
        let mut cmd = ecr_audit();
        cmd.current_dir(t.path())
            .args([
                "scan",
                "export",
                "--config",
                "cfg/audit.toml",
                "--progress",
                "never",
            ])
            .args(args);
        if let Some(a) = env {
            cmd.env("ECR_AUDIT_ACCOUNT", a);
        }
        cmd.output().expect("run")
    };
    let out = run(None, &[]);
    assert_eq!(out.status.code(), Some(0), "fail-on never from the file");
    assert_eq!(json(&out)["accounts"], serde_json::json!(["999988887777"]));
    let out = run(Some(ACCOUNT), &[]);
    assert_eq!(json(&out)["accounts"], serde_json::json!([ACCOUNT]));
    let out = run(
        Some(ACCOUNT),
        &["--account", "444455556666", "--fail-on", "fail"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["accounts"], serde_json::json!(["444455556666"]));

    // `config` says where each value came from.
    let out = ecr_audit()
        .current_dir(t.path())
        .env("ECR_AUDIT_ACCOUNT", ACCOUNT)
        .args(["config", "--config", "cfg/audit.toml", "--format", "csv"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let origin = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .and_then(|l| l.rsplit_once("# "))
            .map(|(_, o)| o.to_owned())
    };
    assert_eq!(origin("accounts").as_deref(), Some("environment"), "{text}");
    assert_eq!(
        origin("fail-on").as_deref(),
        Some("cfg/audit.toml:2"),
        "{text}"
    );
    assert_eq!(origin("format").as_deref(), Some("command line"), "{text}");
    assert_eq!(origin("progress").as_deref(), Some("default"), "{text}");
}

#[test]
fn configuration_errors_name_the_file_line_and_key_and_exit_2() {
    for (text, want) in [
        (
            "accounts = [\"111122223333\"]\nfail_on = \"warn\"\n",
            "ecr-audit.toml:2: `fail_on`",
        ),
        ("\njobs = \"four\"\n", "ecr-audit.toml:2: `jobs`"),
        ("fail-on = \"sometimes\"\n", "ecr-audit.toml:1: `fail-on`"),
        (
            "[[suppress]]\ncode = \"*\"\n",
            "ecr-audit.toml:1: `suppress.reason`",
        ),
    ] {
        let t = tree();
        t.file("ecr-audit.toml", text);
        let out = scan(&t, BEFORE, &["--account", ACCOUNT]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(err.contains(want), "{text}: {err}");
    }
}

#[test]
fn no_account_anywhere_is_a_usage_error() {
    let t = tree();
    let out = scan(&t, BEFORE, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no account to audit"));
}

/// `ECR_AUDIT_ACCOUNT` set but empty (a CI variable without its secret) says so.
#[test]
fn an_empty_account_variable_is_named_in_the_usage_error() {
    let t = tree();
    let out = ecr_audit()
        .current_dir(t.path())
        .env("ECR_AUDIT_ACCOUNT", "")
        .args(["scan", ".", "--progress", "never"])
        .output()
        .expect("scan");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("an empty account id") && err.contains("ECR_AUDIT_ACCOUNT is set but empty"),
        "{err}"
    );
}

#[test]
fn the_readme_shows_the_sample_configuration_and_it_applies() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let sample = std::fs::read_to_string(root.join("testdata/ecr-audit.toml")).expect("sample");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let section = readme
        .split("## Running it every night")
        .nth(1)
        .expect("the section");
    let block = section
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a toml block");
    assert_eq!(block, sample, "README and testdata/ecr-audit.toml differ");
    // Before it expires, the sample's suppression turns platform/sandbox to pass and is not stale.
    let out = ecr_audit()
        .current_dir(root)
        .env("SOURCE_DATE_EPOCH", BEFORE)
        .args([
            "scan",
            "testdata/export",
            "--config",
            "testdata/ecr-audit.toml",
            "--format",
            "csv",
        ])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("matched no finding"), "{err}");
    let rows = parse_csv(&out.stdout);
    let sandbox = rows
        .iter()
        .find(|r| r["repository"] == "platform/sandbox")
        .expect("sandbox row");
    assert_eq!(sandbox["status"], "pass");
    assert!(
        sandbox["detail"].starts_with("Suppressed: no-policy (sandbox images are never pulled"),
        "{}",
        sandbox["detail"]
    );
}

#[test]
fn sarif_with_suppressions_validates_against_the_schema() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("tests/schemas/sarif-schema-2.1.0.json"))
        .expect("schema");
    // The published pattern with a stray `]` (see tests/reports.rs), corrected in memory.
    let stray = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    let text = text.replace(stray, r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#);
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("compile schema");
    let t = tree();
    t.file("ecr-audit.toml", SUPPRESS_TEAM);
    let out = scan(&t, BEFORE, &["--format", "sarif"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    let with: Vec<bool> = results
        .iter()
        .map(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(
        with,
        vec![true, false],
        "team/base suppressed, other/app not"
    );
    let loc = &results[0]["suppressions"][0]["location"]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "ecr-audit.toml");
    assert_eq!(loc["region"]["startLine"], 3);
}

#[test]
fn filters_come_from_the_file_unless_the_command_line_gives_them() {
    let t = tree();
    t.file(
        "ecr-audit.toml",
        "accounts = [\"111122223333\"]\nrepositories = [\"*/team/*\"]\n",
    );
    let names = |out: &std::process::Output| -> Vec<String> {
        parse_csv(&out.stdout)
            .iter()
            .map(|r| r["repository"].clone())
            .collect()
    };
    let out = scan(&t, BEFORE, &["--format", "csv"]);
    assert_eq!(names(&out), vec!["team/base"]);
    let out = scan(
        &t,
        BEFORE,
        &["--format", "csv", "--repository", "*/other/*"],
    );
    assert_eq!(names(&out), vec!["other/app"]);
}

#[test]
fn a_missing_config_file_named_on_the_command_line_is_a_usage_error() {
    let t = tree();
    let out = scan(&t, BEFORE, &["--account", ACCOUNT, "--config", "nope.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nope.toml: cannot read the configuration file"),
        "{err}"
    );
}

/// `[context]` is a table of separate facts: `--context` replaces the keys it names and the
/// file's other keys still hold (a CLI fact about one key must not silently drop the others).
#[test]
fn a_context_key_on_the_command_line_replaces_that_key_only() {
    let t = Tree::new();
    t.file(
        "ecr-audit.toml",
        "accounts = [\"111122223333\"]\n[context]\n\"aws:PrincipalOrgID\" = \"o-abc123\"\n",
    )
    .file(
        "export/org.json",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Org","Effect":"Allow","Principal":"*","Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}"#,
    );
    let status = |extra: &[&str]| {
        let out = ecr_audit()
            .current_dir(t.path())
            .args(["scan", "export", "--format", "csv", "--progress", "never"])
            .args(extra)
            .output()
            .expect("scan");
        parse_csv(&out.stdout)[0]["status"].clone()
    };
    assert_eq!(status(&[]), "pass", "the file's fact decides the condition");
    assert_eq!(
        status(&["--context", "aws:SourceVpce=vpce-1"]),
        "pass",
        "another key leaves the file's fact in place"
    );
    assert_eq!(
        status(&["--context", "aws:PrincipalOrgID=o-other"]),
        "fail",
        "the same key replaces it"
    );
}

/// A context value of the wrong type is refused, on the command line and in the file, naming
/// what the key takes; a non-string value in the file says to quote it.
#[test]
fn context_values_of_the_wrong_type_are_usage_errors() {
    let t = Tree::new();
    t.file("export/p.json", documented_policy(ACCOUNT));
    let run = |args: &[&str]| {
        let out = ecr_audit()
            .current_dir(t.path())
            .args([
                "scan",
                "export",
                "--account",
                ACCOUNT,
                "--progress",
                "never",
            ])
            .args(args)
            .output()
            .expect("scan");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--context", "aws:SourceIp=not-an-ip"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("aws:SourceIp takes an IP address"), "{err}");
    assert_eq!(run(&["--context", "aws:SourceIp=203.0.113.10"]).0, Some(0));
    for (toml, says) in [
        (
            "\"aws:SourceIp\" = \"nope\"",
            "aws:SourceIp takes an IP address",
        ),
        (
            "\"aws:SecureTransport\" = true",
            "write numbers, booleans and dates in quotes",
        ),
        ("\"aws:SecureTransport\" = \"maybe\"", "takes true or false"),
    ] {
        t.file("ecr-audit.toml", format!("[context]\n{toml}\n"));
        let (code, err) = run(&[]);
        assert_eq!(code, Some(2), "{toml}");
        assert!(
            err.contains("ecr-audit.toml:2") && err.contains(says),
            "{toml}: {err}"
        );
    }
}

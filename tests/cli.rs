//! End-to-end tests: the real binary on fixture trees built in code.

mod util;

use std::io::Read;
use std::process::Stdio;

use util::*;

fn gitpod_get_repository_policy(registry: &str, name: &str, policy: &str) -> String {
    serde_json::json!({"registryId": registry, "repositoryName": name, "policyText": policy})
        .to_string()
}

#[test]
fn documented_policy_passes_and_exits_zero() {
    let t = Tree::new();
    t.file("team/app.json", documented_policy(ACCOUNT));
    let (code, rows, _) = scan_csv(&t, &[]);
    assert_eq!(code, 0);
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r["status"], "pass");
    assert_eq!(
        r["repository"], "team/app",
        "bare document is named by its path"
    );
    assert_eq!(r["registry"], "");
    assert_eq!(r["account"], ACCOUNT);
    assert_eq!(r["missing_actions"], "");
}

#[test]
fn csv_header_is_the_contract() {
    let t = Tree::new();
    t.file("a.json", documented_policy(ACCOUNT));
    let out = scan_in(t.path(), &[".", "--account", ACCOUNT, "--format", "csv"]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(
        text.lines().next(),
        Some(
            "source,record,registry,region,repository,account,status,missing_actions,\
denied_actions,conditional_actions,findings,detail"
        )
    );
}

#[test]
fn get_repository_policy_output_names_registry_and_repository() {
    let t = Tree::new();
    t.file(
        "prod/app.json",
        gitpod_get_repository_policy("444455556666", "gitpod/app", &documented_policy(OTHER)),
    );
    let (code, rows, _) = scan_csv(&t, &[]);
    assert_eq!(code, 1, "a policy for another account fails");
    let r = row(&rows, "prod/app.json", 1);
    assert_eq!(r["registry"], "444455556666");
    assert_eq!(r["repository"], "gitpod/app");
    assert_eq!(r["status"], "fail");
    assert_eq!(
        r["missing_actions"],
        "ecr:BatchCheckLayerAvailability;ecr:BatchGetImage;ecr:GetDownloadUrlForLayer"
    );
    assert!(r["findings"].contains("action-not-granted"), "{r:?}");
}

#[test]
fn bulk_array_and_json_lines_number_their_records() {
    let t = Tree::new();
    let good = documented_policy(ACCOUNT);
    let array = serde_json::json!([
        {"registryId": "444455556666", "repositoryName": "a", "policyText": good},
        {"registryId": "444455556666", "repositoryName": "b", "policy": null},
        {"registryId": "444455556666", "repositoryName": "c",
         "Policy": serde_json::from_str::<serde_json::Value>(&good).expect("json")},
    ]);
    t.file("bulk.json", array.to_string());
    let lines = [
        serde_json::json!({"repositoryName": "x", "policyText": good}).to_string(),
        String::new(),
        serde_json::json!({"repositoryName": "y", "policy": null}).to_string(),
    ]
    .join("\n");
    t.file("bulk.jsonl", lines);
    let (_, rows, _) = scan_csv(&t, &[]);
    assert_eq!(rows.len(), 5, "{rows:#?}");
    assert_eq!(row(&rows, "bulk.json", 1)["status"], "pass");
    assert_eq!(row(&rows, "bulk.json", 2)["findings"], "no-policy");
    assert_eq!(row(&rows, "bulk.json", 3)["repository"], "c");
    assert_eq!(row(&rows, "bulk.json", 3)["status"], "pass");
    assert_eq!(row(&rows, "bulk.jsonl", 1)["repository"], "x");
    // JSON Lines records are numbered by line, blank lines counted.
    assert_eq!(row(&rows, "bulk.jsonl", 3)["repository"], "y");
    assert_eq!(row(&rows, "bulk.jsonl", 3)["status"], "fail");
}

#[test]
fn aws_config_shapes_are_read() {
    let t = Tree::new();
    let good = documented_policy(ACCOUNT);
    let snapshot = serde_json::json!({
        "fileVersion": "1.0",
        "configurationItems": [
            {"resourceType": "AWS::ECR::Repository", "resourceName": "snap-repo",
             "awsAccountId": "444455556666", "awsRegion": "eu-west-1",
             "ARN": "arn:aws:ecr:eu-west-1:444455556666:repository/snap-repo",
             "configurationItemStatus": "OK",
             "configuration": {"RepositoryName": "snap-repo", "RepositoryPolicyText": good}},
            {"resourceType": "AWS::S3::Bucket", "resourceName": "bucket", "configuration": {}},
            {"resourceType": "AWS::ECR::Repository", "resourceName": "empty-repo",
             "awsAccountId": "444455556666", "awsRegion": "eu-west-1",
             "configurationItemStatus": "OK",
             "configuration": {"RepositoryName": "empty-repo", "RepositoryPolicyText": {}}}
        ]
    });
    t.file("config/snapshot.json", snapshot.to_string());
    let item = serde_json::json!({
        "resourceType": "AWS::ECR::Repository", "resourceName": "sel-repo",
        "accountId": "777788889999", "awsRegion": "us-west-2",
        "arn": "arn:aws:ecr:us-west-2:777788889999:repository/sel-repo",
        "configuration": {"RepositoryName": "sel-repo", "RepositoryPolicyText": good}
    });
    t.file(
        "config/select.json",
        serde_json::json!({"Results": [item.to_string()]}).to_string(),
    );
    let api = serde_json::json!({"configurationItems": [{
        "resourceType": "AWS::ECR::Repository", "resourceName": "api-repo",
        "accountId": "777788889999", "awsRegion": "us-west-2",
        "arn": "arn:aws:ecr:us-west-2:777788889999:repository/api-repo",
        "configurationItemStatus": "OK",
        "configuration": serde_json::json!({"RepositoryName": "api-repo",
            "RepositoryPolicyText": good}).to_string()
    }]});
    t.file("config/api.json", api.to_string());
    let (_, rows, _) = scan_csv(&t, &[]);
    let snap = rows
        .iter()
        .find(|r| r["repository"] == "snap-repo")
        .expect("snapshot row");
    assert_eq!(snap["region"], "eu-west-1");
    assert_eq!(snap["registry"], "444455556666");
    assert_eq!(snap["status"], "pass");
    let empty = rows
        .iter()
        .find(|r| r["repository"] == "empty-repo")
        .expect("{} policy row");
    assert_eq!(empty["findings"], "no-policy");
    assert!(rows.iter().all(|r| r["repository"] != "bucket"));
    for name in ["sel-repo", "api-repo"] {
        let r = rows
            .iter()
            .find(|r| r["repository"] == name)
            .unwrap_or_else(|| panic!("{name} row in {rows:#?}"));
        assert_eq!(r["status"], "pass", "{r:?}");
        assert_eq!(r["region"], "us-west-2");
        assert_eq!(r["registry"], "777788889999");
    }
}

#[test]
fn no_policy_markers_fail_with_no_policy() {
    let t = Tree::new();
    t.file(
        "a.json",
        r#"{"Code":"RepositoryPolicyNotFoundException","repositoryName":"a","registryId":"444455556666"}"#,
    );
    t.file(
        "b.json",
        r#"{"__type":"RepositoryPolicyNotFoundException","message":"Repository policy does not exist for the repository with name 'b' in the registry with id '444455556666'"}"#,
    );
    t.file(
        "c.txt",
        "\nAn error occurred (RepositoryPolicyNotFoundException) when calling the GetRepositoryPolicy operation: Repository policy does not exist for the repository with name 'team/c' in the registry with id '444455556666'\n",
    );
    let (code, rows, _) = scan_csv(&t, &[]);
    assert_eq!(code, 1);
    assert_eq!(rows.len(), 3, "{rows:#?}");
    for r in &rows {
        assert_eq!(r["findings"], "no-policy", "{r:?}");
        assert_eq!(r["status"], "fail");
    }
    // Records of a text file are numbered by line; the first line is blank.
    assert_eq!(row(&rows, "c.txt", 2)["repository"], "team/c");
    assert_eq!(row(&rows, "c.txt", 2)["registry"], "444455556666");
}

#[test]
fn gzip_is_recognised_by_magic_bytes_not_name() {
    let t = Tree::new();
    t.gz("zipped.json.gz", documented_policy(ACCOUNT));
    t.gz("misnamed.json", documented_policy(ACCOUNT));
    let (code, rows, _) = scan_csv(&t, &[]);
    assert_eq!(code, 0);
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["status"] == "pass"), "{rows:#?}");
}

#[test]
fn standard_input_is_read_with_dash() {
    let mut cmd = ecr_audit();
    cmd.args([
        "scan",
        "-",
        "--account",
        ACCOUNT,
        "--format",
        "csv",
        "--progress",
        "never",
    ]);
    let out = run_with_stdin(cmd, documented_policy(ACCOUNT).as_bytes());
    assert_eq!(out.status.code(), Some(0));
    let rows = parse_csv(&out.stdout);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["source"], "-");
    assert_eq!(rows[0]["status"], "pass");
}

#[test]
fn broken_file_among_good_ones_is_an_error_row_and_nothing_is_lost() {
    let t = Tree::new();
    for i in 0..20 {
        t.file(&format!("repos/r{i:02}.json"), documented_policy(ACCOUNT));
    }
    t.file("repos/r05b.json", "{\"Statement\": [ {\"Effect\": ");
    t.file("repos/empty.json", "  \n ");
    t.file("repos/strange.json", r#"{"hello": "world"}"#);
    t.file("repos/binary.json", [0xff, 0xfe, 0x00, 0x01, 0x80]);
    t.file("repos/notes.md", "not an export, ignored by name");
    let (code, rows, _) = scan_csv(&t, &[]);
    assert_eq!(code, 1, "error rows count as fail");
    assert_eq!(rows.len(), 24, "{rows:#?}");
    assert_eq!(rows.iter().filter(|r| r["status"] == "pass").count(), 20);
    assert_eq!(row(&rows, "r05b.json", 1)["findings"], "invalid-json");
    assert_eq!(row(&rows, "empty.json", 1)["findings"], "invalid-json");
    assert_eq!(
        row(&rows, "strange.json", 1)["findings"],
        "unsupported-input"
    );
    assert_eq!(row(&rows, "binary.json", 1)["status"], "error");
    for r in rows.iter().filter(|r| r["status"] == "error") {
        assert!(
            !r["detail"].is_empty(),
            "error rows say what is wrong: {r:?}"
        );
    }
}

#[test]
fn invalid_policy_is_an_error_row() {
    let t = Tree::new();
    t.file(
        "bad.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"allow","Principal":"*","Action":"ecr:*"}]}"#,
    );
    let (code, rows, _) = scan_csv(&t, &[]);
    assert_eq!(code, 1);
    assert_eq!(rows[0]["status"], "error");
    assert_eq!(rows[0]["findings"], "invalid-policy");
    assert!(rows[0]["detail"].contains("Effect"), "{:?}", rows[0]);
}

#[test]
fn fifo_in_a_folder_does_not_hang_the_run() {
    let t = Tree::new();
    t.file("good.json", documented_policy(ACCOUNT));
    let fifo = t.join("pipe.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !made {
        eprintln!("mkfifo unavailable; skipping");
        return;
    }
    let (code, rows, _) = scan_csv(&t, &[]);
    assert_eq!(code, 0);
    assert_eq!(rows.len(), 1);
    assert!(rows[0]["source"].ends_with("good.json"));
}

#[test]
fn exit_status_follows_fail_on() {
    let t = Tree::new();
    // Allowed only inside an organisation: conditional, so warn.
    t.file(
        "warn.json",
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ACCOUNT}"}},
"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],
"Condition":{{"StringEquals":{{"aws:PrincipalOrgID":"o-abc123"}}}}}}]}}"#
        ),
    );
    let (code, rows, _) = scan_csv(&t, &[]);
    assert_eq!(rows[0]["status"], "warn", "{rows:?}");
    assert_eq!(code, 0, "default --fail-on fail");
    assert_eq!(scan_csv(&t, &["--fail-on", "warn"]).0, 1);
    t.file("fail.json", "{}");
    assert_eq!(scan_csv(&t, &[]).0, 1);
    assert_eq!(scan_csv(&t, &["--fail-on", "never"]).0, 0);
}

#[test]
fn context_decides_an_unknown_condition() {
    let t = Tree::new();
    t.file(
        "org.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",
"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],
"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}"#,
    );
    let (_, rows, _) = scan_csv(&t, &[]);
    assert_eq!(rows[0]["status"], "warn");
    assert!(rows[0]["findings"].contains("conditional-allow"));
    let (_, rows, _) = scan_csv(&t, &["--context", "aws:PrincipalOrgID=o-abc123"]);
    assert_eq!(rows[0]["status"], "pass", "{rows:?}");
    let (_, rows, _) = scan_csv(&t, &["--context", "aws:principalorgid=o-other"]);
    assert_eq!(rows[0]["status"], "fail", "{rows:?}");
}

#[test]
fn usage_errors_exit_two() {
    let t = Tree::new();
    t.file("a.json", documented_policy(ACCOUNT));
    for args in [
        vec![".", "--account", "12345"],
        vec![".", "--account", "abcdefghijkl"],
        vec!["."],
        vec!["missing-folder", "--account", ACCOUNT],
        vec![".", "--account", ACCOUNT, "--format", "xml"],
        vec![".", "--account", ACCOUNT, "--context", "novalue"],
    ] {
        let out = scan_in(t.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?} says why");
        assert!(out.stdout.is_empty(), "{args:?} prints no report");
    }
    let out = scan_in(t.path(), &["missing-folder", "--account", ACCOUNT]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing-folder"));
}

#[test]
fn a_misspelt_context_key_exits_two_with_the_nearest_key() {
    let t = Tree::new();
    t.file("a.json", documented_policy(ACCOUNT));
    let out = scan_in(
        t.path(),
        &[
            ".",
            "--account",
            ACCOUNT,
            "--context",
            "aws:PrincipleOrgID=o-abc123",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("aws:PrincipleOrgID") && err.contains("did you mean aws:PrincipalOrgID?"),
        "{err}"
    );
    // Key names are case-insensitive, as IAM's are; tag keys and ecr: keys are accepted.
    for key in [
        "AWS:SOURCEVPCE=vpce-1",
        "aws:PrincipalTag/team=a",
        "ecr:ResourceTag/env=x",
    ] {
        let out = scan_in(t.path(), &[".", "--account", ACCOUNT, "--context", key]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{key}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn accounts_come_from_the_environment_and_give_one_row_each() {
    let t = Tree::new();
    t.file("a.json", documented_policy(ACCOUNT));
    let out = ecr_audit()
        .current_dir(t.path())
        .env("ECR_AUDIT_ACCOUNT", format!("{ACCOUNT},{OTHER}"))
        .args(["scan", ".", "--format", "csv", "--progress", "never"])
        .output()
        .expect("run");
    let rows = parse_csv(&out.stdout);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["account"], ACCOUNT);
    assert_eq!(rows[0]["status"], "pass");
    assert_eq!(rows[1]["account"], OTHER);
    assert_eq!(rows[1]["status"], "fail");
    assert_eq!(out.status.code(), Some(1));
}

/// The CSV report of the tree for both accounts, on `jobs` workers.
fn two_accounts_csv(t: &Tree, jobs: &str) -> Vec<u8> {
    let args = [
        ".",
        "--account",
        ACCOUNT,
        "--account",
        OTHER,
        "--format",
        "csv",
        "-j",
        jobs,
    ];
    scan_in(t.path(), &args).stdout
}

#[test]
fn rows_are_ordered_the_same_whatever_jobs() {
    let t = Tree::new();
    for i in 0..60 {
        let body = if i % 3 == 0 {
            documented_policy(ACCOUNT)
        } else {
            documented_policy(OTHER)
        };
        t.file(&format!("d{}/r{i}.json", i % 7), body);
    }
    let run = |j: &str| two_accounts_csv(&t, j);
    let one = run("1");
    let four = run("4");
    assert_eq!(one, four);
    let rows = parse_csv(&one);
    assert_eq!(rows.len(), 120);
    let keys: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r["source"].clone(), r["account"].clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(keys, sorted, "ordered by source path");
}

#[test]
fn json_report_has_the_contract_fields() {
    let t = Tree::new();
    t.file("ok.json", documented_policy(ACCOUNT));
    t.file("bad.json", "nope");
    let out = scan_in(t.path(), &[".", "--account", ACCOUNT, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["tool"]["name"], "ecr-audit");
    assert_eq!(doc["accounts"], serde_json::json!([ACCOUNT]));
    assert_eq!(
        doc["summary"],
        serde_json::json!({"records": 2, "pass": 1, "warn": 0, "fail": 0, "error": 1, "duplicates": 0, "suppressed": 0})
    );
    let results = doc["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    let bad = &results[0];
    assert!(
        bad["source"]
            .as_str()
            .expect("source")
            .ends_with("bad.json")
    );
    assert_eq!(bad["status"], "error");
    assert_eq!(bad["actions"], serde_json::Value::Null);
    assert_eq!(bad["findings"][0]["code"], "invalid-json");
    assert_eq!(bad["findings"][0]["severity"], "error");
    let ok = &results[1];
    assert_eq!(ok["actions"]["ecr:BatchGetImage"], "allowed");
    assert_eq!(ok["arn"], serde_json::Value::Null);
    for field in [
        "source",
        "record",
        "registry",
        "region",
        "repository",
        "arn",
        "account",
        "status",
        "missing_actions",
        "denied_actions",
        "conditional_actions",
        "actions",
        "findings",
        "detail",
    ] {
        assert!(ok.get(field).is_some(), "result field {field}");
    }
}

#[test]
fn output_file_is_written_atomically_with_no_leftovers() {
    let t = Tree::new();
    t.file("in/a.json", documented_policy(ACCOUNT));
    std::fs::create_dir_all(t.join("out")).expect("mkdir");
    let out = scan_in(
        t.path(),
        &[
            "in",
            "--account",
            ACCOUNT,
            "--format",
            "csv",
            "-o",
            "out/report.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "report went to the file");
    let rows = parse_csv(&std::fs::read(t.join("out/report.csv")).expect("report"));
    assert_eq!(rows.len(), 1);
    let names: Vec<_> = std::fs::read_dir(t.join("out"))
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("report.csv")]);
}

#[test]
fn table_report_lists_rows_and_closes_with_a_summary() {
    let t = Tree::new();
    t.file("ok.json", documented_policy(ACCOUNT));
    t.file(
        "none.json",
        r#"{"Code":"RepositoryPolicyNotFoundException","repositoryName":"none"}"#,
    );
    let out = scan_in(t.path(), &[".", "--account", ACCOUNT]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(!text.contains('\u{1b}'), "no colour when NO_COLOR is set");
    assert!(text.contains("ok.json"));
    assert!(text.contains("no-policy"));
    let last = text.lines().last().expect("summary line");
    assert!(
        last.starts_with("2 records × 1 account = 2 rows: 1 pass, 0 warn, 1 fail, 0 error ("),
        "{last}"
    );
}

#[test]
fn closed_pipe_ends_quietly_with_status_zero() {
    let t = Tree::new();
    let line = serde_json::json!({"repositoryName": "r", "policy": null}).to_string();
    t.file("many.jsonl", vec![line; 20_000].join("\n"));
    let mut child = ecr_audit()
        .current_dir(t.path())
        .args([
            "scan",
            ".",
            "--account",
            ACCOUNT,
            "--format",
            "csv",
            "--progress",
            "never",
        ])
        .args(["--fail-on", "never"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).expect("some output");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.to_lowercase().contains("broken pipe"), "{err}");
}

#[test]
fn help_explains_each_option_with_an_example() {
    let out = ecr_audit().args(["scan", "--help"]).output().expect("help");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    for opt in [
        "--account",
        "--format",
        "--output",
        "--fail-on",
        "--context",
        "--partition",
        "--jobs",
        "--progress",
    ] {
        assert!(text.contains(opt), "{opt} in help");
    }
    assert!(text.matches("Example").count() >= 8, "{text}");
    let top = ecr_audit().arg("--help").output().expect("help");
    assert!(String::from_utf8_lossy(&top.stdout).contains("ecr-audit scan"));
}

#[test]
fn a_large_json_lines_file_judged_on_many_workers_keeps_every_record_in_order() {
    let t = Tree::new();
    // Several batches' worth of records, alternating verdicts, so a lost or reordered batch
    // shows up in the record numbers or the statuses.
    let lines: Vec<String> = (0..2_000)
        .map(|i| {
            let policy = if i % 2 == 0 {
                documented_policy(ACCOUNT)
            } else {
                documented_policy(OTHER)
            };
            serde_json::json!({"registryId": "444455556666", "repositoryName": format!("r{i}"),
                "policyText": policy})
            .to_string()
        })
        .collect();
    t.file("big.jsonl", lines.join("\n"));
    let run = |j: &str| two_accounts_csv(&t, j);
    let one = run("1");
    assert_eq!(one, run("2"));
    assert_eq!(one, run("4"));
    let rows = parse_csv(&one);
    assert_eq!(rows.len(), 4_000);
    for (i, pair) in rows.chunks(2).enumerate() {
        assert_eq!(pair[0]["record"], (i + 1).to_string());
        assert_eq!(pair[0]["repository"], format!("r{i}"));
        assert_eq!(pair[0]["account"], ACCOUNT);
        assert_eq!(pair[1]["account"], OTHER);
        let (mine, other) = if i % 2 == 0 {
            ("pass", "fail")
        } else {
            ("fail", "pass")
        };
        assert_eq!(pair[0]["status"], mine, "record {}", i + 1);
        assert_eq!(pair[1]["status"], other, "record {}", i + 1);
    }
}

//! End to end: `rules`, `explain` and `fix` run as the real binary.

mod util;

use std::path::Path;
use std::process::Output;

use util::{ACCOUNT, OTHER, Tree, documented_policy, ecr_audit, scan_in};

fn run_in(dir: &Path, args: &[&str]) -> Output {
    ecr_audit()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run ecr-audit")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

fn repo_policy(registry: &str, name: &str, policy: Option<&str>) -> String {
    match policy {
        Some(p) => {
            serde_json::json!({"registryId": registry, "repositoryName": name, "policyText": p})
        }
        None => serde_json::json!({"registryId": registry, "repositoryName": name, "policy": null}),
    }
    .to_string()
}

const PULL: &str =
    r#"["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]"#;

#[test]
fn rules_lists_every_code_with_severity_and_description_from_the_catalog() {
    let out = run_in(Path::new("."), &["rules"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for c in ecr_audit::finding::Code::ALL {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(c.id()))
            .unwrap_or_else(|| panic!("no line for {c}"));
        assert!(line.contains(c.severity().as_str()), "{line}");
        assert!(line.contains(c.description()), "{line}");
    }
    let json = run_in(Path::new("."), &["rules", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let codes: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["code"].as_str().expect("code"))
        .collect();
    let catalog: Vec<&str> = ecr_audit::finding::Code::ALL
        .iter()
        .map(|c| c.id())
        .collect();
    assert_eq!(codes, catalog);
}

#[test]
fn explain_walks_each_statement_and_agrees_with_the_scan() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = "testdata/export/teams/data/spark.policy";
    let out = run_in(root, &["explain", file, "--account", ACCOUNT]);
    assert_eq!(out.status.code(), Some(1), "the record fails");
    let text = stdout(&out);
    assert!(text.contains("Verdict:    fail"), "{text}");
    assert!(
        text.contains("statement 1 (Sid \"FreezeDuringMigration\"): Deny"),
        "{text}"
    );
    assert!(text.contains("denied"), "{text}");
    assert!(text.contains("action-denied"), "{text}");
    let scan = scan_in(root, &[file, "--account", ACCOUNT, "--format", "csv"]);
    let rows = util::parse_csv(&scan.stdout);
    assert_eq!(rows[0]["status"], "fail");
}

#[test]
fn explain_shows_each_conditions_known_value_or_unknown() {
    let t = Tree::new();
    t.file(
        "org.json",
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Org","Effect":"Allow","Principal":"*","Action":{PULL},
"Condition":{{"StringEquals":{{"aws:PrincipalOrgID":"o-abc123","aws:PrincipalAccount":"{ACCOUNT}"}}}}}}]}}"#
        ),
    );
    let out = run_in(t.path(), &["explain", "org.json", "--account", ACCOUNT]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "StringEquals aws:PrincipalOrgID [\"o-abc123\"] — the key's value: unknown → unknown"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "aws:PrincipalAccount [\"{ACCOUNT}\"] — the key's value: \"{ACCOUNT}\" → true"
        )),
        "{text}"
    );
    assert!(text.contains("conditional"), "{text}");
    // With the fact given, the same record is allowed.
    let out = run_in(
        t.path(),
        &[
            "explain",
            "org.json",
            "--account",
            ACCOUNT,
            "--context",
            "aws:PrincipalOrgID=o-abc123",
        ],
    );
    let text = stdout(&out);
    assert!(
        text.contains("the key's value: \"o-abc123\" → true"),
        "{text}"
    );
    assert!(text.contains("Verdict:    pass"), "{text}");
}

#[test]
fn explain_asks_for_a_record_in_a_multi_record_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = "testdata/export/bulk/repositories.json";
    let out = run_in(root, &["explain", file, "--account", ACCOUNT]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--record"));
    let out = run_in(
        root,
        &["explain", file, "--record", "3", "--account", ACCOUNT],
    );
    let text = stdout(&out);
    assert!(text.contains("platform/grafana"), "{text}");
    assert!(text.contains("missing"), "{text}");
    let out = run_in(
        root,
        &["explain", file, "--record", "99", "--account", ACCOUNT],
    );
    assert_eq!(out.status.code(), Some(2));
}

/// A fake `aws` that prints each argument on its own line, so apply.sh can be run for real.
fn fake_aws(t: &Tree) -> String {
    t.file(
        "bin/aws",
        "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\necho ---\n",
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(t.join("bin/aws"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
    format!(
        "{}:{}",
        t.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn fix_writes_policies_that_pass_when_scanned_again_and_an_apply_script() {
    let t = Tree::new();
    let other = documented_policy(OTHER);
    let role = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Role","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:role/puller"}},"Action":{PULL}}}]}}"#
    );
    let partial = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Mine","Effect":"Allow","Principal":{{"AWS":"{ACCOUNT}"}},"Action":"ecr:BatchGetImage"}}]}}"#
    );
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:*"}]}"#;
    t.file(
        "export/none.json",
        repo_policy("444455556666", "team/none", None),
    );
    t.file(
        "export/other.json",
        repo_policy("444455556666", "team/other", Some(&other)),
    );
    t.file(
        "export/role.json",
        repo_policy("444455556666", "team/role", Some(&role)),
    );
    t.file(
        "export/partial.json",
        repo_policy("444455556666", "team/partial", Some(&partial)),
    );
    t.file(
        "export/quote.json",
        repo_policy("444455556666", "it's $(x)", None),
    );
    t.file(
        "export/deny.json",
        repo_policy("444455556666", "team/deny", Some(deny)),
    );
    t.file("export/bare.json", &other);
    t.file(
        "export/fine.json",
        repo_policy(
            "444455556666",
            "team/fine",
            Some(&documented_policy(ACCOUNT)),
        ),
    );

    let out = run_in(
        t.path(),
        &["fix", "export", "--account", ACCOUNT, "--out-dir", "out"],
    );
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the Deny needs a person: {text}"
    );
    assert!(text.contains("6 remediated policies"), "{text}");
    assert!(text.contains("team/deny"), "{text}");
    let review = std::fs::read_to_string(t.join("out/needs-review.txt")).expect("review");
    assert!(
        review.contains("team/deny") && review.contains("action-denied"),
        "{review}"
    );

    // Every remediated policy passes when scanned again.
    let scan = scan_in(
        t.path(),
        &["out/policies", "--account", ACCOUNT, "--format", "csv"],
    );
    let rows = util::parse_csv(&scan.stdout);
    assert_eq!(rows.len(), 6);
    for r in &rows {
        assert!(r["status"] == "pass" || r["status"] == "warn", "{r:?}");
        assert_eq!(r["missing_actions"], "", "{r:?}");
    }
    assert_eq!(scan.status.code(), Some(0));

    // Existing statements are kept as they were; a grant to the account alone is merged.
    let policies: Vec<String> = std::fs::read_dir(t.join("out/policies"))
        .expect("policies")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("read"))
        .collect();
    let stmt = |p: &str| {
        let v: serde_json::Value = serde_json::from_str(p).expect("json");
        v["Statement"][0].to_string()
    };
    let kept = stmt(&other);
    assert!(policies.iter().any(|p| stmt(p) == kept));
    let merged = policies
        .iter()
        .find(|p| p.contains("\"Mine\""))
        .expect("merged policy");
    let v: serde_json::Value = serde_json::from_str(merged).expect("json");
    assert_eq!(v["Statement"].as_array().map(Vec::len), Some(1), "{merged}");

    // apply.sh: one line per named repository, everything shell-quoted; run it with a fake aws.
    let script = std::fs::read_to_string(t.join("out/apply.sh")).expect("apply.sh");
    assert_eq!(
        script.matches("\naws ecr set-repository-policy").count(),
        5,
        "{script}"
    );
    assert!(
        script
            .lines()
            .any(|l| l.starts_with("# aws ecr set-repository-policy")
                && l.contains("--repository-name REPOSITORY")),
        "{script}"
    );
    let path = fake_aws(&t);
    // A repository whose export gives no region is never set in the CLI's default region: the
    // script stops unless REGION says which.
    let no_region = std::process::Command::new("sh")
        .arg(t.join("out/apply.sh"))
        .env("PATH", &path)
        .env_remove("REGION")
        .output()
        .expect("sh");
    assert!(!no_region.status.success());
    assert!(String::from_utf8_lossy(&no_region.stderr).contains("set REGION"));
    let ran = std::process::Command::new("sh")
        .arg(t.join("out/apply.sh"))
        .env("PATH", path)
        .env("REGION", "eu-west-1")
        .output()
        .expect("sh");
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let args = String::from_utf8(ran.stdout).expect("utf-8");
    assert!(args.contains("\nit's $(x)\n"), "{args}");
    assert!(args.contains("\nteam/partial\n"), "{args}");
    for block in args.split("---\n").filter(|b| !b.is_empty()) {
        let file = block
            .lines()
            .find_map(|l| l.strip_prefix("file://"))
            .expect("policy path");
        assert!(t.join("out").join(file).is_file(), "{file}");
    }
}

#[test]
fn fix_says_when_a_remediated_policy_would_exceed_ecrs_limit() {
    let t = Tree::new();
    let filler: Vec<String> = (0..60)
        .map(|i| {
            format!(
                r#"{{"Sid":"S{i:03}","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OTHER}:root"}},"Action":{PULL}}}"#
            )
        })
        .collect();
    let big = format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        filler.join(",")
    );
    assert!(big.len() > 10_000);
    t.file(
        "big.json",
        repo_policy("444455556666", "team/big", Some(&big)),
    );
    let out = run_in(
        t.path(),
        &["fix", "big.json", "--account", ACCOUNT, "--out-dir", "out"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("10240"), "{text}");
    assert!(text.contains("0 remediated policies"), "{text}");
}

/// Issue 10: every command is a consumer of one pipeline, so over the whole sample export
/// (registry policies of both scopes, inventory and Steampipe rows included) `explain` gives
/// every row's verdict and findings exactly as `scan` does, `gitpod` reports the scan's status
/// of the row it looks an image up in, and `fix` remediates exactly the rows that fail for want
/// of an Allow and lists every other failing or error row for a person.
#[test]
fn explain_and_fix_agree_with_the_scan_on_every_row_of_the_sample_export() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let accounts = ["--account", ACCOUNT, "--account", OTHER];
    let mut args = vec!["testdata/export", "--format", "csv", "--fail-on", "never"];
    args.extend(accounts);
    let scan = scan_in(root, &args);
    assert_eq!(scan.status.code(), Some(0));
    let rows = util::parse_csv(&scan.stdout);
    assert!(rows.len() > 40, "{} rows", rows.len());
    assert!(
        rows.iter()
            .any(|r| r["findings"].split(';').any(|c| c == "registry-policy")),
        "the sample must exercise the registry policy join"
    );

    for r in &rows {
        let at = format!("{}:{}", r["source"], r["record"]);
        let out = run_in(
            root,
            &[
                "explain",
                "testdata/export",
                "--record",
                &at,
                "--account",
                &r["account"],
            ],
        );
        let text = stdout(&out);
        assert!(
            text.contains(&format!("Verdict:    {}\n", r["status"])),
            "{at} ({}): scan says {}, explain says\n{text}{}",
            r["account"],
            r["status"],
            String::from_utf8_lossy(&out.stderr)
        );
        for code in r["findings"].split(';').filter(|c| !c.is_empty()) {
            assert!(text.contains(code), "{at}: {code} missing from\n{text}");
        }
    }

    // gitpod looks each image up among the same rows: the export status it reports for an
    // image is the scan's status of the row it names.
    let mut args = vec![
        "gitpod",
        "testdata/gitpod",
        "--export",
        "testdata/export",
        "--format",
        "csv",
        "--fail-on",
        "never",
    ];
    args.extend(accounts);
    let gitpod = run_in(root, &args);
    assert_eq!(
        gitpod.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&gitpod.stderr)
    );
    let looked_up: Vec<_> = util::parse_csv(&gitpod.stdout)
        .into_iter()
        .filter(|g| !g["export_source"].is_empty())
        .collect();
    assert!(looked_up.len() >= 4, "{looked_up:#?}");
    for g in &looked_up {
        let scan_row = rows
            .iter()
            .find(|r| {
                format!("{}:{}", r["source"], r["record"]) == g["export_source"]
                    && r["account"] == g["account"]
            })
            .unwrap_or_else(|| panic!("gitpod names a row scan does not have: {g:#?}"));
        assert_eq!(g["export_status"], scan_row["status"], "{g:#?}");
        assert_eq!(g["export_findings"], scan_row["findings"], "{g:#?}");
    }

    let t = Tree::new();
    let out_dir = t.join("rem");
    let mut args = vec![
        "fix",
        "testdata/export",
        "--out-dir",
        out_dir.to_str().expect("utf-8"),
    ];
    args.extend(accounts);
    let fix = run_in(root, &args);
    assert_eq!(fix.status.code(), Some(1), "{}", stdout(&fix));
    let script = std::fs::read_to_string(out_dir.join("apply.sh")).expect("apply.sh");
    let review = std::fs::read_to_string(out_dir.join("needs-review.txt")).expect("review");
    let cured = |r: &std::collections::HashMap<String, String>| {
        r["status"] == "fail"
            && r["findings"].split(';').all(|c| {
                !matches!(
                    c,
                    "action-denied"
                        | "duplicate-record"
                        | "public-access"
                        | "invalid-policy"
                        | "invalid-json"
                        | "unreadable"
                        | "unsupported-input"
                )
            })
            && r["findings"]
                .split(';')
                .any(|c| c == "no-policy" || c == "action-not-granted")
    };
    let mut remediated = 0;
    for r in &rows {
        let at = format!("{}:{}", r["source"], r["record"]);
        let applied = script.contains(&format!("# {} record {}\n", r["source"], r["record"]));
        if cured(r) {
            remediated += 1;
            assert!(
                applied,
                "{at} fails for want of an Allow but fix left it out"
            );
        } else if r["status"] == "fail" || r["status"] == "error" {
            assert!(
                review.contains(&format!("{at}\t")),
                "{at} ({}) is not listed for review:\n{review}",
                r["status"]
            );
        } else {
            // A row that passes or warns is never remediated (its other account may be).
            let other_fails = rows
                .iter()
                .any(|o| o["source"] == r["source"] && o["record"] == r["record"] && cured(o));
            assert!(applied == other_fails, "{at} passes but was remediated");
        }
    }
    assert!(remediated > 0);
}

#[test]
fn fix_grants_several_accounts_in_one_documented_statement() {
    let t = Tree::new();
    t.file("none.json", repo_policy("444455556666", "team/none", None));
    let out = run_in(
        t.path(),
        &[
            "fix",
            "none.json",
            "--account",
            ACCOUNT,
            "--account",
            OTHER,
            "--out-dir",
            "out",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let scan = scan_in(
        t.path(),
        &[
            "out/policies",
            "--account",
            ACCOUNT,
            "--account",
            OTHER,
            "--format",
            "csv",
        ],
    );
    let rows = util::parse_csv(&scan.stdout);
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["status"] == "pass"), "{rows:?}");
    let policy = std::fs::read_dir(t.join("out/policies"))
        .expect("dir")
        .next()
        .expect("one policy")
        .expect("entry")
        .path();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(policy).expect("read")).expect("json");
    assert_eq!(v["Statement"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["Statement"][0]["Sid"], "Gitpod Access");
}

/// Issue 10: a run with nothing to audit never reports a pass. An empty folder, a folder of
/// skipped files only, or registry policies without any repository: exit 2, one line on
/// standard error saying what was found, no report (not even to `-o`).
#[test]
fn nothing_to_audit_is_a_usage_error_never_a_pass() {
    let empty = Tree::new();
    let skipped = Tree::new();
    skipped
        .file("ci.yml", "jobs:\n  build: {}\n")
        .file("notes.csv", "a,b\n1,2\n");
    let registry_only = Tree::new();
    registry_only.file(
        "registry.json",
        serde_json::json!({"registryId": "444455556666", "policyText": documented_policy(ACCOUNT)})
            .to_string(),
    );
    for (tree, says) in [
        (&empty, "0 input files found"),
        (&skipped, "2 skipped"),
        (&registry_only, "no repository record"),
    ] {
        for format in ["table", "markdown", "json"] {
            let out = run_in(
                tree.path(),
                &[
                    "scan",
                    ".",
                    "--account",
                    ACCOUNT,
                    "--format",
                    format,
                    "-o",
                    "report",
                ],
            );
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{format}: {err}");
            assert!(
                err.contains("nothing to audit") && err.contains(says),
                "{err}"
            );
            assert!(!tree.join("report").exists(), "a report was written");
        }
        let out = run_in(
            tree.path(),
            &["fix", ".", "--account", ACCOUNT, "--out-dir", "rem"],
        );
        assert_eq!(out.status.code(), Some(2));
        let out = run_in(tree.path(), &["explain", ".", "--account", ACCOUNT]);
        assert_eq!(out.status.code(), Some(2));
    }
}

/// `explain` on a record a join folded says which row is its verdict, instead of judging it
/// on its own; on standard input it explains the record scan would report.
#[test]
fn explain_names_the_row_that_folded_a_record_and_reads_standard_input() {
    let t = Tree::new();
    t.file(
        "inventory.json",
        serde_json::json!({"repositories": [
            {"registryId": "444455556666", "repositoryName": "team/app",
             "repositoryArn": "arn:aws:ecr:us-east-1:444455556666:repository/team/app"}
        ]})
        .to_string(),
    )
    .file(
        "policies.jsonl",
        repo_policy(
            "444455556666",
            "team/app",
            Some(&documented_policy(ACCOUNT)),
        ) + "\n",
    );
    let out = run_in(
        t.path(),
        &[
            "explain",
            ".",
            "--account",
            ACCOUNT,
            "--record",
            "inventory.json:1",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("inventory entry") && err.contains("policies.jsonl:1"),
        "{err}"
    );
    let out = run_in(t.path(), &["explain", ".", "--account", ACCOUNT]);
    assert_eq!(out.status.code(), Some(0), "the only row needs no --record");
    assert!(stdout(&out).contains("Verdict:    pass"));

    let mut cmd = ecr_audit();
    // As the reports name it, without `=`: `-:2` is a value, not an option.
    cmd.args(["explain", "-", "--account", ACCOUNT, "--record", "-:2"]);
    let two = format!(
        "{}\n{}\n",
        repo_policy("444455556666", "a", Some(&documented_policy(ACCOUNT))),
        repo_policy("444455556666", "b", None)
    );
    let out = util::run_with_stdin(cmd, two.as_bytes());
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Repository: 444455556666/b") && text.contains("no-policy"),
        "{text}"
    );
}

/// A reused `--out-dir` holds only this run's policies (apply.sh asks to review every policy
/// under policies/); files of other names are left alone.
#[test]
fn fix_into_a_reused_folder_leaves_no_policy_of_an_earlier_run() {
    let t = Tree::new();
    t.file("one/a.json", repo_policy("444455556666", "first", None))
        .file("two/b.json", repo_policy("444455556666", "second", None))
        .file("rem/policies/notes.json", "{}");
    for input in ["one", "two"] {
        let out = run_in(
            t.path(),
            &["fix", input, "--account", ACCOUNT, "--out-dir", "rem"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    }
    let mut names: Vec<String> = std::fs::read_dir(t.join("rem/policies"))
        .expect("policies")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["0001-second.json", "notes.json"]);
}

/// `fix` remediates a row whose registry policy the export could not read, and lists it for
/// review: the unseen registry policy may still deny the pull.
#[test]
fn fix_lists_a_remediated_row_whose_registry_policy_was_unreadable() {
    let t = Tree::new();
    t.file(
        "export/444455556666/us-east-1/registry-policy.json",
        r#"{"__type": "AccessDeniedException", "registryId": "444455556666", "region": "us-east-1", "message": "not authorized to perform: ecr:GetRegistryPolicy"}"#,
    );
    t.file(
        "export/444455556666/us-east-1/none.json",
        repo_policy("444455556666", "team/none", None),
    );
    let out = run_in(
        t.path(),
        &["fix", "export", "--account", ACCOUNT, "--out-dir", "out"],
    );
    let text = stdout(&out);
    assert!(text.contains("1 remediated polic"), "{text}");
    let review = std::fs::read_to_string(t.join("out/needs-review.txt")).expect("review");
    assert!(
        review.contains("team/none") && review.contains("registry-policy-unreadable"),
        "{review}"
    );
}

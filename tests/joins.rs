//! End to end: the joins of issue 3 — the registry policy judged with every repository of its
//! registry, and the describe-repositories inventory that lets no repository pass unseen.

mod util;

use util::{
    ACCOUNT, OTHER, Tree, documented_policy, ecr_audit, parse_csv, row, run_with_stdin, scan_csv,
    scan_in,
};

fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

fn get_repository_policy(registry: &str, name: &str, policy: &str) -> String {
    format!(
        r#"{{"registryId":"{registry}","repositoryName":"{name}","policyText":{}}}"#,
        quoted(policy)
    )
}

fn registry_policy(registry: &str, policy: &str) -> String {
    format!(
        r#"{{"registryId":"{registry}","policyText":{}}}"#,
        quoted(policy)
    )
}

const DENY_PULL: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Freeze","Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage"}]}"#;

#[test]
fn an_allow_in_the_registry_policy_is_enough_and_the_row_says_so() {
    let tree = Tree::new();
    tree.file(
        "a.json",
        get_repository_policy("444455556666", "a", &documented_policy(OTHER)),
    )
    .file(
        "registry.json",
        registry_policy("444455556666", &documented_policy(ACCOUNT)),
    )
    .file(
        "other-registry.json",
        get_repository_policy("777788889999", "b", &documented_policy(OTHER)),
    )
    // `get-account-setting` output saved beside the registry policy: the scope of its registry.
    .file(
        "registry-scope.json",
        r#"{"name": "REGISTRY_POLICY_SCOPE", "value": "V2"}"#,
    );
    let (code, rows, _) = scan_csv(&tree, &[]);
    // The registry policy gives no row of its own.
    assert_eq!(rows.len(), 2, "{rows:#?}");
    let a = row(&rows, "a.json", 1);
    assert_eq!(a["status"], "pass", "{a:#?}");
    assert_eq!(a["findings"], "registry-policy");
    let b = row(&rows, "other-registry.json", 1);
    assert_eq!(b["status"], "fail");
    assert_eq!(b["findings"], "action-not-granted");
    assert_eq!(code, 1);
}

#[test]
fn a_deny_in_the_registry_policy_wins_and_names_its_statement() {
    let tree = Tree::new();
    tree.file(
        "a.json",
        get_repository_policy("444455556666", "a", &documented_policy(ACCOUNT)),
    )
    .file("registry.json", registry_policy("444455556666", DENY_PULL));
    let out = ecr_audit()
        .current_dir(tree.path())
        .args(["scan", ".", "--account", ACCOUNT, "--format", "json"])
        .output()
        .expect("run");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let r = &doc["results"][0];
    assert_eq!(r["status"], "fail");
    assert_eq!(r["actions"]["ecr:BatchGetImage"], "denied");
    let denied = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == "action-denied")
        .expect("action-denied");
    assert!(
        denied["message"]
            .as_str()
            .expect("message")
            .starts_with("registry policy statement 0 (Sid \"Freeze\")"),
        "{denied}"
    );
    assert_eq!(
        denied["statement"],
        serde_json::json!({"index": 0, "sid": "Freeze", "document": "registry-policy"})
    );
    assert_eq!(doc["summary"]["records"], 1);
}

#[test]
fn a_repository_without_its_own_policy_is_judged_on_the_registry_policy() {
    let tree = Tree::new();
    tree.file(
        "none.json",
        r#"{"Code":"RepositoryPolicyNotFoundException","repositoryName":"a","registryId":"444455556666"}"#,
    )
    .file(
        "registry.json",
        registry_policy("444455556666", &documented_policy(ACCOUNT)),
    );
    let (_, rows, _) = scan_csv(&tree, &["--registry-policy-scope", "v2"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "pass");
    assert!(rows[0]["detail"].contains("can pull"));
    assert_eq!(rows[0]["findings"], "registry-policy");
}

#[test]
fn a_registry_policy_of_another_region_does_not_apply() {
    let tree = Tree::new();
    tree.file(
        "a.json",
        r#"[{"registryId":"444455556666","region":"eu-west-1","repositoryName":"a","policy":null}]"#,
    )
    .file(
        "registry.json",
        r#"{"registryId":"444455556666","region":"us-east-1","policyText":"{\"Statement\":[]}"}"#,
    );
    let (_, rows, _) = scan_csv(&tree, &[]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["findings"], "no-policy");
}

#[test]
fn an_invalid_registry_policy_is_an_error_row_and_is_not_applied() {
    let tree = Tree::new();
    tree.file(
        "a.json",
        get_repository_policy("444455556666", "a", &documented_policy(ACCOUNT)),
    )
    .file(
        "registry.json",
        registry_policy("444455556666", r#"{"Statement":[{"Effect":"Perhaps"}]}"#),
    );
    let (_, rows, _) = scan_csv(&tree, &[]);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert_eq!(row(&rows, "a.json", 1)["status"], "pass");
    assert_eq!(row(&rows, "registry.json", 1)["status"], "error");
}

#[test]
fn standard_input_records_get_the_registry_policy_too() {
    let tree = Tree::new();
    tree.file(
        "registry.json",
        registry_policy("444455556666", &documented_policy(ACCOUNT)),
    );
    let mut cmd = ecr_audit();
    cmd.current_dir(tree.path())
        .args(["scan", "-", ".", "--account", ACCOUNT, "--format", "csv"])
        .args(["--registry-policy-scope", "v2"]);
    let input = format!(
        "[{}, {}]",
        get_repository_policy("444455556666", "a", &documented_policy(OTHER)),
        documented_policy(OTHER)
    );
    let out = run_with_stdin(cmd, input.as_bytes());
    let rows = parse_csv(&out.stdout);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert_eq!(rows[0]["source"], "-");
    assert_eq!(rows[0]["status"], "pass");
    // A record of no known registry is not covered, and keeps its first-pass row.
    assert_eq!(rows[1]["record"], "2");
    assert_eq!(rows[1]["status"], "fail");
}

#[test]
fn inventory_repositories_that_no_record_names_are_no_policy_rows() {
    let tree = Tree::new();
    tree.file(
        "policies.json",
        format!(
            "[{},{{\"repositoryName\":\"by-arn\",\"arn\":\"arn:aws:ecr:us-east-1:444455556666:repository/by-arn\",\"policy\":null}}]",
            get_repository_policy("444455556666", "seen", &documented_policy(ACCOUNT))
        ),
    )
    .file(
        "inventory/describe-repositories.json",
        r#"{"repositories":[
            {"repositoryArn":"arn:aws:ecr:us-east-1:444455556666:repository/seen","registryId":"444455556666","repositoryName":"seen"},
            {"repositoryArn":"arn:aws:ecr:us-east-1:444455556666:repository/by-arn","registryId":"444455556666","repositoryName":"by-arn"},
            {"repositoryArn":"arn:aws:ecr:us-east-1:444455556666:repository/unseen","registryId":"444455556666","repositoryName":"unseen"}]}"#,
    )
    // The same repository listed again elsewhere: still one row.
    .file(
        "inventory/again.json",
        r#"{"repositories":[{"repositoryArn":"arn:aws:ecr:us-east-1:444455556666:repository/unseen","registryId":"444455556666","repositoryName":"unseen"}]}"#,
    );
    let (code, rows, _) = scan_csv(&tree, &[]);
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let unseen = row(&rows, "inventory/again.json", 1);
    assert_eq!(unseen["repository"], "unseen");
    assert_eq!(unseen["status"], "fail");
    assert_eq!(unseen["findings"], "no-policy");
    assert_eq!(code, 1);
}

#[test]
fn every_new_shape_gives_the_same_verdict_as_get_repository_policy() {
    let tree = Tree::new();
    let p = documented_policy(ACCOUNT);
    let compact: serde_json::Value = serde_json::from_str(&p).expect("policy");
    tree.file(
        "tf.json",
        format!(
            r#"{{"format_version":"1.0","values":{{"root_module":{{"resources":[{{"address":"aws_ecr_repository_policy.a","mode":"managed","type":"aws_ecr_repository_policy","values":{{"repository":"tf","policy":{}}}}}]}}}}}}"#,
            quoted(&p)
        ),
    )
    .file(
        "cfn.json",
        format!(
            r#"{{"Resources":{{"R":{{"Type":"AWS::ECR::Repository","Properties":{{"RepositoryName":"cfn","RepositoryPolicyText":{compact}}}}}}}}}"#
        ),
    )
    .file(
        "steampipe.json",
        format!(
            r#"[{{"repository_name":"sp","registry_id":"444455556666","policy":{compact}}}]"#
        ),
    )
    .file(
        "cq.jsonl",
        format!(
            r#"{{"registry_id":"444455556666","repository_name":"cq","policy_text":{}}}"#,
            quoted(&p)
        ),
    );
    let (code, rows, _) = scan_csv(&tree, &[]);
    assert_eq!(rows.len(), 4, "{rows:#?}");
    for r in &rows {
        assert_eq!(r["status"], "pass", "{r:#?}");
    }
    assert_eq!(code, 0);
}

#[test]
fn of_two_registry_policies_of_a_registry_the_first_in_report_order_applies_however_read() {
    // `s` links to a folder elsewhere; `s-x/…` comes before `s/…` in report order (`-` before
    // `/`), whatever order the walk meets them in.
    let tree = Tree::new();
    let outside = Tree::new();
    outside.file("reg.json", registry_policy("444455556666", DENY_PULL));
    tree.file(
        "app.json",
        get_repository_policy("444455556666", "app", &documented_policy(OTHER)),
    )
    .file(
        "s-x/reg.json",
        registry_policy("444455556666", &documented_policy(ACCOUNT)),
    );
    std::os::unix::fs::symlink(outside.path(), tree.join("s")).expect("symlink");
    for jobs in ["1", "2"] {
        let (_, rows, _) = scan_csv(&tree, &["-j", jobs, "--registry-policy-scope", "v2"]);
        let app = row(&rows, "app.json", 1);
        assert_eq!(app["status"], "pass", "-j{jobs}: {app:#?}");
        assert!(app["detail"].contains("can pull"), "{app:#?}");
    }
}

/// Issue 10: records never vanish. Over the whole sample export and each of its folders alone,
/// every record read is either folded by a join (counted in `inputs`) or one row per account,
/// and the JSON and Markdown reports say how many of each shape were read and folded.
#[test]
fn every_record_read_is_a_row_per_account_or_counted_as_folded() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut folders = vec!["testdata/export".to_owned()];
    for e in std::fs::read_dir(root.join("testdata/export")).expect("testdata") {
        let e = e.expect("entry");
        if e.path().is_dir() {
            folders.push(format!(
                "testdata/export/{}",
                e.file_name().to_string_lossy()
            ));
        }
    }
    let mut folded_somewhere = false;
    for folder in &folders {
        let out = scan_in(
            root,
            &[
                folder,
                "--account",
                ACCOUNT,
                "--account",
                OTHER,
                "--format",
                "json",
                "--fail-on",
                "never",
            ],
        );
        if out.status.code() == Some(2) {
            // A folder of registry policies alone has nothing to audit (tested elsewhere).
            assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to audit"));
            continue;
        }
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let inputs = &doc["inputs"];
        let read = inputs["records_read"].as_u64().expect("read");
        let folded = inputs["records_folded"].as_u64().expect("folded");
        let results = doc["results"].as_array().expect("results").len() as u64;
        assert_eq!(results, (read - folded) * 2, "{folder}: {inputs}");
        assert_eq!(doc["summary"]["records"].as_u64(), Some(read - folded));
        let by_shape = inputs["by_shape"].as_array().expect("by_shape");
        let sum = |k: &str| {
            by_shape
                .iter()
                .map(|s| s[k].as_u64().unwrap_or(0))
                .sum::<u64>()
        };
        assert_eq!((sum("read"), sum("folded")), (read, folded), "{folder}");
        folded_somewhere |= folded > 0;
    }
    assert!(
        folded_somewhere,
        "the sample must exercise a join that folds records"
    );
    let md = scan_in(
        root,
        &[
            "testdata/export",
            "--account",
            ACCOUNT,
            "--format",
            "markdown",
        ],
    );
    let text = String::from_utf8_lossy(&md.stdout);
    assert!(
        text.contains("## Inputs") && text.contains("| describe-repositories |"),
        "{text}"
    );
}

/// Issue 11: two records of the same repository (two exports, an export and a plan) are tied
/// together: each row names the other record, and the JSON summary counts them. A region known
/// on one side only still matches; another region or a name taken from a path does not.
#[test]
fn records_of_the_same_repository_are_tied_together() {
    let t = Tree::new();
    let grant = documented_policy(ACCOUNT);
    t.file(
        "2025/app.json",
        serde_json::json!({"registryId": "444455556666", "repositoryName": "team/app", "policyText": grant})
            .to_string(),
    )
    .file(
        "2024/repos.jsonl",
        [
            serde_json::json!({"registryId": "444455556666", "region": "us-east-1", "repositoryName": "team/app", "policy": null}),
            serde_json::json!({"registryId": "444455556666", "region": "us-east-1", "repositoryName": "team/other", "policy": null}),
            serde_json::json!({"registryId": "444455556666", "region": "eu-west-1", "repositoryName": "team/other", "policy": null}),
        ]
        .map(|v| v.to_string())
        .join("\n"),
    )
    .file("team/app.json", &grant);
    let (_, rows, _) = scan_csv(&t, &[]);
    let new = row(&rows, "2025/app.json", 1);
    let old = row(&rows, "2024/repos.jsonl", 1);
    assert_eq!(
        (new["status"].as_str(), old["status"].as_str()),
        ("pass", "fail")
    );
    // A note: the statuses stay each record's own.
    for r in [new, old] {
        assert!(
            r["findings"].split(';').any(|c| c == "duplicate-record"),
            "{r:?}"
        );
    }
    for (suffix, n) in [
        ("2024/repos.jsonl", 2),
        ("2024/repos.jsonl", 3),
        ("team/app.json", 1),
    ] {
        let r = row(&rows, suffix, n);
        assert!(
            !r["findings"].contains("duplicate-record"),
            "{suffix}:{n} {r:?}"
        );
    }
    let out = util::scan_in(t.path(), &[".", "--account", ACCOUNT, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["summary"]["duplicates"], 2);
    let note = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["source"] == "./2025/app.json")
        .flat_map(|r| r["findings"].as_array().expect("findings").iter())
        .find(|f| f["code"] == "duplicate-record")
        .expect("note");
    assert!(
        note["message"]
            .as_str()
            .expect("message")
            .contains("./2024/repos.jsonl:1"),
        "{note}"
    );
}

/// Issue 11: the registry policy's scope, through the join. `get-account-setting` output naming
/// the registry (as the export script writes it), or saved beside the registry policy, or
/// `--registry-policy-scope`: V2 the registry policy grants the pull; V1 it does not (note
/// `registry-policy-v1`); unknown, a pull that rests on it alone is a warning saying which
/// command tells.
#[test]
fn the_registry_policy_scope_decides_whether_the_registry_policy_grants_the_pull() {
    let setting = |value: &str, registry: Option<&str>| {
        let mut v = serde_json::json!({"name": "REGISTRY_POLICY_SCOPE", "value": value});
        if let Some(r) = registry {
            v["registryId"] = r.into();
        }
        v.to_string()
    };
    let tree = |scope: Option<(&str, &str, Option<&str>)>| {
        let t = Tree::new();
        t.file(
            "repos/a.json",
            get_repository_policy("444455556666", "a", &documented_policy(OTHER)),
        )
        .file(
            "registry/policy.json",
            registry_policy("444455556666", &documented_policy(ACCOUNT)),
        );
        if let Some((path, value, registry)) = scope {
            t.file(path, setting(value, registry));
        }
        t
    };
    let status = |t: &Tree, extra: &[&str]| {
        let (_, rows, _) = scan_csv(t, extra);
        assert_eq!(rows.len(), 1, "{rows:#?}");
        let r = row(&rows, "repos/a.json", 1);
        (
            r["status"].clone(),
            r["findings"].clone(),
            r["detail"].clone(),
        )
    };
    // Named by registry id, anywhere in the export.
    let v2 = tree(Some(("elsewhere/scope.json", "V2", Some("444455556666"))));
    let (s, f, _) = status(&v2, &[]);
    assert_eq!((s.as_str(), f.as_str()), ("pass", "registry-policy"));
    let v1 = tree(Some(("elsewhere/scope.json", "V1", Some("444455556666"))));
    let (s, f, _) = status(&v1, &[]);
    assert_eq!(s, "fail");
    assert!(
        f.contains("action-not-granted") && f.contains("registry-policy-v1"),
        "{f}"
    );
    assert!(!f.split(';').any(|c| c == "registry-policy"), "{f}");
    // Beside the registry policy, without a registry id.
    let beside = tree(Some(("registry/scope.json", "V1", None)));
    assert_eq!(status(&beside, &[]).0, "fail");
    // A setting of another registry, or in another folder without an id, says nothing.
    for t in [
        tree(Some(("elsewhere/scope.json", "V1", Some("777788889999")))),
        tree(Some(("repos/scope.json", "V1", None))),
        tree(None),
    ] {
        let (s, f, d) = status(&t, &[]);
        assert_eq!(s, "warn", "{f}");
        assert!(f.contains("registry-policy-scope-unknown"), "{f}");
        assert!(
            d.contains("get-account-setting --name REGISTRY_POLICY_SCOPE"),
            "{d}"
        );
        assert_eq!(status(&t, &["--registry-policy-scope", "v2"]).0, "pass");
        assert_eq!(status(&t, &["--registry-policy-scope", "v1"]).0, "fail");
    }
    // The export's own setting wins over the command line's.
    assert_eq!(status(&v1, &["--registry-policy-scope", "v2"]).0, "fail");
}

/// A registry policy names its repositories in `Resource` (AWS's own examples do): its
/// statements never give the repository-policy note `resource-element`.
#[test]
fn a_registry_policys_resource_element_is_no_finding() {
    let tree = Tree::new();
    let registry = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"arn:aws:ecr:us-east-1:444455556666:repository/*"}]}"#;
    tree.file(
        "a.json",
        get_repository_policy("444455556666", "a", &documented_policy(OTHER)),
    )
    .file("registry.json", registry_policy("444455556666", registry));
    let (_, rows, _) = scan_csv(&tree, &["--registry-policy-scope", "v2"]);
    let a = row(&rows, "a.json", 1);
    assert!(!a["findings"].contains("resource-element"), "{a:#?}");
    assert!(a["findings"].contains("registry-policy"), "{a:#?}");
}

/// The verdict cache never carries a `cross-account-write` verdict from one registry to another:
/// the same policy text granting push to account 444455556666 is no finding in that account's
/// own registry, and a finding in another registry, in whichever order they are read, the first
/// time and again (the cache keeps a verdict per owner).
#[test]
fn the_same_policy_text_is_judged_for_each_registrys_owner() {
    let push = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]},{"Sid":"Push","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":["ecr:PutImage","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload"]}]}"#;
    for (first, second) in [
        ("444455556666", "777788889999"),
        ("777788889999", "444455556666"),
    ] {
        let tree = Tree::new();
        tree.file(
            "repos.jsonl",
            // Each registry twice: the second of each takes its registry's kept verdict.
            format!(
                "{}\n{}\n{}\n{}\n",
                get_repository_policy(first, "a", push),
                get_repository_policy(second, "b", push),
                get_repository_policy(first, "c", push),
                get_repository_policy(second, "d", push)
            ),
        );
        let (_, rows, _) = scan_csv(&tree, &["-j", "1"]);
        assert_eq!(rows.len(), 4);
        for r in &rows {
            let own = r["registry"] == "444455556666";
            assert_eq!(
                r["findings"].contains("cross-account-write"),
                !own,
                "{first} then {second}: {r:#?}"
            );
        }
    }
}

/// A registry policy the export could not read (scripts/export-ecr.sh writes the AWS error into
/// `registry-policy.json`) leaves the pull of every repository of that registry and region in
/// doubt: those rows get `registry-policy-unreadable` (warn); other registries and regions, a
/// registry whose scope is V1, and one whose registry policy was read after all do not.
#[test]
fn an_unreadable_registry_policy_puts_its_registrys_rows_in_doubt() {
    let denied = |region: &str| {
        format!(
            r#"{{"__type": "AccessDeniedException", "registryId": "444455556666", "region": "{region}", "message": "User: arn:aws:iam::444455556666:user/x is not authorized to perform: ecr:GetRegistryPolicy"}}"#
        )
    };
    let repo = |registry: &str, region: &str, name: &str| {
        format!(
            r#"{{"registryId":"{registry}","region":"{region}","repositoryName":"{name}","policyText":{}}}"#,
            quoted(&documented_policy(ACCOUNT))
        )
    };
    let tree = Tree::new();
    tree.file(
        "444455556666/us-east-1/registry-policy.json",
        denied("us-east-1"),
    )
    .file(
        "444455556666/us-east-1/repositories.jsonl",
        format!(
            "{}\n{}\n",
            repo("444455556666", "us-east-1", "a"),
            repo("444455556666", "eu-west-1", "b")
        ),
    )
    .file(
        "777788889999/us-east-1/repositories.jsonl",
        repo("777788889999", "us-east-1", "c"),
    );
    let (_, rows, _) = scan_csv(&tree, &[]);
    let a = row(&rows, "444455556666/us-east-1/repositories.jsonl", 1);
    assert_eq!(a["status"], "warn", "{a:#?}");
    assert_eq!(a["findings"], "registry-policy-unreadable", "{a:#?}");
    assert!(
        a["detail"].contains("registry 444455556666 in us-east-1")
            && a["detail"].contains("registry-policy.json:1"),
        "{a:#?}"
    );
    for (source, n) in [
        ("444455556666/us-east-1/repositories.jsonl", 2),
        ("777788889999/us-east-1/repositories.jsonl", 1),
    ] {
        let r = row(&rows, source, n);
        assert_eq!(
            (r["status"].as_str(), r["findings"].as_str()),
            ("pass", ""),
            "{r:#?}"
        );
    }
    // The marker itself stays an error row of its registry.
    let marker = row(&rows, "registry-policy.json", 1);
    assert_eq!(marker["status"], "error");
    // A V1 registry: its registry policy takes no part in a pull.
    let (_, rows, _) = scan_csv(&tree, &["--registry-policy-scope", "v1"]);
    let a = row(&rows, "444455556666/us-east-1/repositories.jsonl", 1);
    assert_eq!(a["status"], "pass", "{a:#?}");
    // The registry policy read from another file after all: judged with it, no doubt left.
    tree.file(
        "later/registry-policy.json",
        registry_policy("444455556666", &documented_policy(ACCOUNT)),
    );
    let (_, rows, _) = scan_csv(&tree, &["--registry-policy-scope", "v2"]);
    let a = row(&rows, "444455556666/us-east-1/repositories.jsonl", 1);
    assert_eq!(a["findings"], "registry-policy", "{a:#?}");
}

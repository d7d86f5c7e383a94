//! End to end: export shapes read as their producers write them (issue 10, points 5 and 6).

mod util;

use util::{ACCOUNT, OTHER, Tree, documented_policy, row, scan_csv};

/// A Steampipe `select * from aws_ecr_repository` export (`--output json`, v0.24 and later).
fn steampipe_select_star(rows: &[(&str, Option<String>)]) -> String {
    let rows: Vec<String> = rows
        .iter()
        .map(|(name, policy)| {
            let arn = format!("arn:aws:ecr:us-east-1:444455556666:repository/{name}");
            let policy = policy.clone().unwrap_or_else(|| "null".to_owned());
            format!(
                r#"{{"repository_name":"{name}","registry_id":"444455556666","arn":"{arn}","repository_uri":"444455556666.dkr.ecr.us-east-1.amazonaws.com/{name}","image_tag_mutability":"MUTABLE","policy":{policy},"policy_std":{policy},"title":"{name}","akas":["{arn}"],"partition":"aws","region":"us-east-1","account_id":"444455556666"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"columns":[{{"name":"repository_name","data_type":"text"}},{{"name":"policy","data_type":"jsonb"}}],"rows":[{}]}}"#,
        rows.join(",")
    )
}

#[test]
fn a_steampipe_select_star_is_judged_by_its_policy_and_no_record_disappears() {
    let tree = Tree::new();
    tree.file(
        "steampipe.json",
        steampipe_select_star(&[
            ("app", Some(documented_policy(ACCOUNT))),
            ("partner", Some(documented_policy(OTHER))),
            ("bare", None),
        ]),
    )
    // A second export names `app` again, with another policy.
    .file(
        "app.json",
        format!(
            r#"{{"registryId":"444455556666","repositoryName":"app","policyText":{}}}"#,
            serde_json::to_string(&documented_policy(OTHER)).expect("string")
        ),
    );
    let (code, rows, stderr) = scan_csv(&tree, &[]);
    assert_eq!(rows.len(), 4, "{rows:#?} {stderr}");
    let app = row(&rows, "steampipe.json", 1);
    assert_eq!(app["repository"], "app");
    assert_eq!(app["region"], "us-east-1");
    assert_eq!(app["status"], "pass", "{app:#?}");
    let partner = row(&rows, "steampipe.json", 2);
    assert_eq!(partner["status"], "fail");
    assert_eq!(partner["findings"], "action-not-granted");
    let bare = row(&rows, "steampipe.json", 3);
    assert_eq!(bare["findings"], "no-policy");
    let other = row(&rows, "app.json", 1);
    assert_eq!(other["repository"], "app");
    assert_eq!(other["status"], "fail");
    assert_eq!(code, 1);
}

#[test]
fn a_bad_registry_id_is_an_error_row_naming_the_field() {
    let tree = Tree::new();
    tree.file(
        "app.json",
        format!(
            r#"{{"registryId":1.5e3,"repositoryName":"app","policyText":{}}}"#,
            serde_json::to_string(&documented_policy(ACCOUNT)).expect("string")
        ),
    );
    let (code, rows, _) = scan_csv(&tree, &[]);
    let r = row(&rows, "app.json", 1);
    assert_eq!(r["status"], "error");
    assert_eq!(r["findings"], "unsupported-input");
    assert_eq!(r["repository"], "app");
    assert!(r["detail"].contains("registryId"), "{r:#?}");
    assert_eq!(code, 1);
}

/// A document of a shape not read in parts is held whole up to a documented size (24 MiB);
/// ECR_AUDIT_MAX_DOCUMENT_MIB moves that size, and a bad value is a usage error. A 2 MiB
/// Terraform state shows it: read under the default, refused (one error row naming the
/// variable) under 1 MiB.
#[test]
fn the_size_of_a_document_held_whole_is_set_by_the_environment() {
    let policy = serde_json::to_string(&documented_policy(ACCOUNT)).expect("json");
    let resources: Vec<String> = (0..8000)
        .map(|i| {
            format!(
                r#"{{"address":"aws_ecr_repository_policy.p{i}","mode":"managed","type":"aws_ecr_repository_policy","name":"p{i}","values":{{"repository":"r{i}","registry_id":"444455556666","policy":{policy}}}}}"#
            )
        })
        .collect();
    let state = format!(
        r#"{{"format_version":"1.0","values":{{"root_module":{{"resources":[{}]}}}}}}"#,
        resources.join(",")
    );
    assert!(state.len() > 2 << 20, "{}", state.len());
    let t = Tree::new();
    t.file("state.json", &state);
    let run = |mib: Option<&str>| {
        let mut cmd = util::ecr_audit();
        cmd.current_dir(t.path()).args([
            "scan",
            ".",
            "--account",
            ACCOUNT,
            "--format",
            "csv",
            "--progress",
            "never",
        ]);
        match mib {
            Some(v) => cmd.env("ECR_AUDIT_MAX_DOCUMENT_MIB", v),
            None => cmd.env_remove("ECR_AUDIT_MAX_DOCUMENT_MIB"),
        };
        let out = cmd.output().expect("scan");
        (
            out.status.code(),
            util::parse_csv(&out.stdout),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (_, rows, _) = run(None);
    assert_eq!(rows.len(), 8000);
    assert!(rows.iter().all(|r| r["status"] == "pass"), "{:?}", rows[0]);
    let (_, rows, _) = run(Some("1"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "error");
    assert!(
        rows[0]["detail"].contains("larger than 1 MiB")
            && rows[0]["detail"].contains("ECR_AUDIT_MAX_DOCUMENT_MIB"),
        "{:?}",
        rows[0]
    );
    let (code, rows, err) = run(Some("lots"));
    assert_eq!(code, Some(2));
    assert!(rows.is_empty());
    assert!(err.contains("ECR_AUDIT_MAX_DOCUMENT_MIB=\"lots\""), "{err}");
}

#[test]
fn records_are_counted_by_shape_when_one_file_mixes_shapes() {
    // A JSON Lines file of bulk records with a line that is no JSON (an error record of no
    // shape), a second such line, a bare policy document and a get-repository-policy file: each
    // record counted once, under its own shape, whatever file it shares.
    let policy = documented_policy(ACCOUNT);
    let bulk = |name: &str| {
        format!(
            r#"{{"registryId":"444455556666","repositoryName":"{name}","policyText":{}}}"#,
            serde_json::to_string(&policy).expect("json")
        )
    };
    let tree = Tree::new();
    tree.file(
        "mixed.jsonl",
        [
            bulk("a"),
            "not json".into(),
            bulk("b"),
            "{oops".into(),
            bulk("c"),
        ]
        .join("\n"),
    )
    .file("team/app.policy", &policy)
    .file("team/web.json", bulk("web"));
    let out = util::scan_in(
        tree.path(),
        &[
            ".",
            "--account",
            ACCOUNT,
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let counts: Vec<(String, u64)> = doc["inputs"]["by_shape"]
        .as_array()
        .expect("by_shape")
        .iter()
        .map(|s| {
            (
                s["shape"].as_str().unwrap_or("?").to_owned(),
                s["read"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let want = [
        ("get-repository-policy", 1),
        ("policy-document", 1),
        ("bulk", 3),
        ("unrecognised", 2),
    ];
    for (shape, n) in want {
        assert!(
            counts.iter().any(|(s, c)| s == shape && *c == n),
            "{shape}: {n} in {counts:?}"
        );
    }
    assert_eq!(
        doc["inputs"]["records_read"].as_u64(),
        Some(7),
        "{counts:?}"
    );
}

#[test]
fn a_folder_of_many_files_gives_every_row_once_in_order_whatever_its_chunks() {
    // 1,100 files: more than the walk's first chunks together (256, 512, ...), each judged while
    // the one before is gathered. Every file is one row, in the order of the paths, with the
    // verdict of its own policy.
    let tree = Tree::new();
    let mut want = Vec::new();
    for i in 0..1100 {
        let account = if i % 3 == 0 { OTHER } else { ACCOUNT };
        let name = format!("app-{i:04}");
        let path = format!("team-{}/{name}.json", i % 4);
        tree.file(
            &path,
            format!(
                r#"{{"registryId":"444455556666","repositoryName":"{name}","policyText":{}}}"#,
                serde_json::to_string(&documented_policy(account)).expect("json")
            ),
        );
        want.push((format!("./{path}"), name, account == ACCOUNT));
    }
    want.sort();
    let (_, rows, stderr) = scan_csv(&tree, &["--fail-on", "never"]);
    assert_eq!(rows.len(), want.len(), "{stderr}");
    for (row, (source, name, pulls)) in rows.iter().zip(&want) {
        assert_eq!(&row["source"], source);
        assert_eq!(&row["repository"], name, "{source}");
        assert_eq!(row["status"] == "pass", *pulls, "{source}: {row:?}");
    }
}

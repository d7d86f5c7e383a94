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

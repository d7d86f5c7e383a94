//! Tests of the export shapes of issue 3: Terraform, CloudFormation, Steampipe, CloudQuery,
//! the describe-repositories inventory and the registry policy.

use super::*;

fn unresolved(record: &Record) -> &str {
    match &record.body {
        Body::Unresolved(m) => m,
        other => panic!("expected an unresolved record, got {other:?}"),
    }
}

fn tf_repo(address: &str, name: &str) -> String {
    format!(
        r#"{{"address":"{address}","mode":"managed","type":"aws_ecr_repository","name":"x","values":{{"name":"{name}","registry_id":"444455556666","arn":"arn:aws:ecr:eu-west-1:444455556666:repository/{name}"}}}}"#
    )
}

fn tf_policy(address: &str, name: &str, policy: &str) -> String {
    format!(
        r#"{{"address":"{address}","mode":"managed","type":"aws_ecr_repository_policy","name":"x","values":{{"repository":"{name}","registry_id":"444455556666","policy":{}}}}}"#,
        quoted(policy)
    )
}

#[test]
fn terraform_state_gives_each_policy_and_each_repository_without_one() {
    let text = format!(
        r#"{{"format_version":"1.0","terraform_version":"1.8.5","values":{{"root_module":{{"resources":[
            {{"address":"data.aws_ecr_repository.x","mode":"data","type":"aws_ecr_repository","name":"x","values":{{"name":"data-source"}}}},
            {a},{b}],
            "child_modules":[{{"address":"module.m","resources":[{c}],"child_modules":[{{"address":"module.m.module.n","resources":[{d}]}}]}}]}}}}}}"#,
        a = tf_repo("aws_ecr_repository.app", "app"),
        b = tf_policy("aws_ecr_repository_policy.app", "app", GITPOD),
        c = tf_repo("module.m.aws_ecr_repository.lonely", "lonely"),
        d = tf_policy(
            "module.m.module.n.aws_ecr_repository_policy.orphan",
            "elsewhere",
            GITPOD
        ),
    );
    let records = read_named("state.json", text);
    assert_eq!(records.len(), 3, "{records:#?}");
    // Numbered by position among the ECR resources: app repo 1, app policy 2, lonely 3, orphan 4.
    assert_eq!(records[0].record, 2);
    assert_eq!(records[0].repo.repository.as_deref(), Some("app"));
    assert_eq!(records[0].repo.region.as_deref(), Some("eu-west-1"));
    assert!(records[0].repo.arn.is_some());
    assert_eq!(records[0].body, Body::Policy(GITPOD.into()));
    assert_eq!(records[1].record, 3);
    assert_eq!(records[1].repo.repository.as_deref(), Some("lonely"));
    assert_eq!(records[1].body, Body::NoPolicy);
    assert_eq!(records[2].record, 4);
    assert_eq!(records[2].repo.repository.as_deref(), Some("elsewhere"));
}

#[test]
fn terraform_plan_judges_after_skips_deletions_and_leaves_unknown_policies_unresolved() {
    let change = |addr: &str, ty: &str, actions: &str, after: &str, unknown: &str| {
        format!(
            r#"{{"address":"{addr}","mode":"managed","type":"{ty}","name":"x","change":{{"actions":{actions},"before":null,"after":{after},"after_unknown":{unknown}}}}}"#
        )
    };
    let text = format!(
        r#"{{"format_version":"1.2","resource_changes":[{},{},{},{}]}}"#,
        change(
            "aws_ecr_repository.api",
            "aws_ecr_repository",
            r#"["create"]"#,
            r#"{"name":"api"}"#,
            r#"{"arn":true}"#
        ),
        change(
            "aws_ecr_repository_policy.api",
            "aws_ecr_repository_policy",
            r#"["create"]"#,
            r#"{"repository":"api"}"#,
            r#"{"policy":true}"#
        ),
        change(
            "aws_ecr_repository_policy.gone",
            "aws_ecr_repository_policy",
            r#"["delete"]"#,
            "null",
            "{}"
        ),
        change(
            "aws_ecr_repository_policy.web",
            "aws_ecr_repository_policy",
            r#"["delete","create"]"#,
            &format!(r#"{{"repository":"web","policy":{}}}"#, quoted(GITPOD)),
            "{}"
        ),
    );
    let records = read_named("plan.json", text);
    assert_eq!(records.len(), 2, "{records:#?}");
    assert_eq!(records[0].repo.repository.as_deref(), Some("api"));
    let m = unresolved(&records[0]);
    assert!(
        m.contains("aws_ecr_repository_policy.api") && m.contains("after_unknown.policy"),
        "{m}"
    );
    assert_eq!(records[1].repo.repository.as_deref(), Some("web"));
    assert_eq!(records[1].body, Body::Policy(GITPOD.into()));
}

#[test]
fn a_terraform_policy_of_the_wrong_type_is_an_error_naming_the_resource() {
    let text = r#"{"format_version":"1.0","values":{"root_module":{"resources":[
        {"address":"aws_ecr_repository_policy.bad","mode":"managed","type":"aws_ecr_repository_policy","values":{"repository":"a","policy":42}}]}}}"#;
    let r = one(read_named("state.json", text));
    let (code, message) = err(&r);
    assert_eq!(code, Code::UnsupportedInput);
    assert!(
        message.contains("aws_ecr_repository_policy.bad"),
        "{message}"
    );
}

const CFN_JSON: &str = r#"{"AWSTemplateFormatVersion":"2010-09-09","Resources":{
  "Zed":{"Type":"AWS::ECR::Repository","Properties":{"RepositoryName":"zed","RepositoryPolicyText":POLICY}},
  "Bucket":{"Type":"AWS::S3::Bucket"},
  "Alpha":{"Type":"AWS::ECR::Repository","Properties":{"RepositoryName":{"Fn::Sub":"${Env}-alpha"}}},
  "Joined":{"Type":"AWS::ECR::Repository","Properties":{"RepositoryName":"joined","RepositoryPolicyText":{"Version":"2012-10-17","Statement":[{"Sid":{"Ref":"AWS::StackName"},"Effect":"Allow","Principal":{"AWS":{"Fn::Join":[":",["arn:aws:iam:","111122223333","root"]]}},"Action":"ecr:BatchGetImage"}]}}},
  "Ref":{"Type":"AWS::ECR::Repository","Properties":{"RepositoryName":"ref","RepositoryPolicyText":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":{"Ref":"GitpodAccount"}},"Action":"ecr:BatchGetImage"}]}}}
}}"#;

#[test]
fn cloudformation_json_reads_each_repository_in_template_order() {
    let text = CFN_JSON.replace("POLICY", &quoted(GITPOD));
    let records = read_named("stack.template", text);
    assert_eq!(records.len(), 4, "{records:#?}");
    assert_eq!(records[0].record, 1);
    assert_eq!(records[0].repo.repository.as_deref(), Some("zed"));
    assert_eq!(records[0].body, Body::Policy(GITPOD.into()));
    // A name made at deploy time: the logical id is a label.
    assert_eq!(records[1].record, 3);
    assert_eq!(records[1].repo, label_repo("Alpha"));
    assert_eq!(records[1].body, Body::NoPolicy);
    // Fn::Join of plain strings resolves; an intrinsic in a Sid does not matter.
    let Body::Policy(joined) = &records[2].body else {
        panic!("{:?}", records[2]);
    };
    assert!(
        joined.text().contains("arn:aws:iam::111122223333:root"),
        "{joined:?}"
    );
    let m = unresolved(&records[3]);
    assert!(
        m.contains("Ref") && m.contains("Statement[0].Principal.AWS"),
        "{m}"
    );
}

#[test]
fn cloudformation_policy_as_an_object_is_its_text() {
    let text = CFN_JSON.replace("POLICY", GITPOD);
    let records = read_named("stack.json", text);
    let Body::Policy(p) = &records[0].body else {
        panic!("{:?}", records[0]);
    };
    assert!(crate::policy::parse(&p.text()).is_ok());
}

#[test]
fn cloudformation_yaml_short_form_tags_are_intrinsics() {
    let text = "AWSTemplateFormatVersion: '2010-09-09'\r\nResources:\r\n  Repo:\r\n    Type: AWS::ECR::Repository\r\n    Properties:\r\n      RepositoryName: app\r\n      RepositoryPolicyText:\r\n        Version: '2012-10-17'\r\n        Statement:\r\n          - Effect: Allow\r\n            Principal:\r\n              AWS: !Sub 'arn:aws:iam::${Gitpod}:root'\r\n            Action: ecr:BatchGetImage\r\n  Plain:\r\n    Type: AWS::ECR::Repository\r\n    Properties:\r\n      RepositoryName: plain\r\n      RepositoryPolicyText:\r\n        Statement:\r\n          - Effect: Allow\r\n            Principal: { AWS: !Join ['', ['1111', '22223333']] }\r\n            Action: [ecr:BatchGetImage]\r\n";
    let records = read_named("repos.yaml", text);
    assert_eq!(records.len(), 2, "{records:#?}");
    assert!(unresolved(&records[0]).contains("Fn::Sub"));
    let Body::Policy(p) = &records[1].body else {
        panic!("{:?}", records[1]);
    };
    assert!(p.text().contains("\"111122223333\""), "{p:?}");
}

#[test]
fn a_broken_yaml_template_is_invalid_json_naming_yaml() {
    let r = one(read_named(
        "t.yaml",
        "Resources:\n  Repo:\n    Type: [unclosed\n",
    ));
    let (code, message) = err(&r);
    assert_eq!(code, Code::InvalidJson);
    assert!(message.contains("YAML"), "{message}");
}

#[test]
fn walked_yaml_that_is_no_template_is_still_skipped() {
    let (records, outcome) = read_walked("ci.yml", "on: push\njobs:\n  build: {}\n");
    assert!(records.is_empty());
    assert!(matches!(outcome, Outcome::Skipped(_)));
}

/// A Steampipe `select * from aws_ecr_repository` row, with the plugin's columns
/// (`aws/table_aws_ecr_repository.go` plus the regional `partition`, `region`, `account_id`).
/// `policy_std` is lower-cased on purpose: it must never be what is judged.
fn steampipe_row(name: &str, policy: &str) -> String {
    let std = if policy == "null" {
        "null".to_owned()
    } else {
        r#"{"statement":[{"effect":"deny","principal":{"aws":["*"]},"action":["ecr:*"]}]}"#
            .to_owned()
    };
    format!(
        r#"{{"repository_name":"{name}","registry_id":"444455556666","arn":"arn:aws:ecr:us-east-1:444455556666:repository/{name}","repository_uri":"444455556666.dkr.ecr.us-east-1.amazonaws.com/{name}","created_at":"2024-03-01T10:00:00Z","image_tag_mutability":"MUTABLE","image_scanning_configuration":{{"ScanOnPush":false}},"policy":{policy},"policy_std":{std},"tags_src":[],"tags":{{}},"title":"{name}","akas":["arn:aws:ecr:us-east-1:444455556666:repository/{name}"],"partition":"aws","region":"us-east-1","account_id":"444455556666"}}"#
    )
}

#[test]
fn steampipe_select_star_is_judged_by_its_policy_column_in_every_json_layout() {
    let rows = [
        steampipe_row("a", GITPOD),
        steampipe_row("b", "null"),
        steampipe_row("c", &quoted(GITPOD)),
    ]
    .join(",");
    for text in [
        // Steampipe v0.24 and later: `columns` and `rows`.
        format!(
            r#"{{"columns":[{{"name":"repository_name","data_type":"text"}},{{"name":"policy","data_type":"jsonb"}}],"rows":[{rows}]}}"#
        ),
        // Earlier: `rows` alone, or a bare array.
        format!(r#"{{"rows":[{rows}]}}"#),
        format!("[{rows}]"),
    ] {
        let records = read_named("steampipe.json", &text);
        assert_eq!(records.len(), 3, "{text}: {records:#?}");
        for r in &records {
            assert_eq!(r.shape, Shape::Steampipe);
        }
        assert_eq!(
            records[0].repo,
            RepoId {
                arn: Some("arn:aws:ecr:us-east-1:444455556666:repository/a".into()),
                ..repo(Some("444455556666"), Some("us-east-1"), "a")
            }
        );
        assert_eq!(records[0].body, Body::Policy(GITPOD.into()));
        assert_eq!(records[1].body, Body::NoPolicy);
        assert_eq!(records[1].record, 2);
        assert_eq!(records[2].body, Body::Policy(GITPOD.into()));
    }
}

#[test]
fn a_steampipe_row_with_a_policy_column_is_never_an_inventory_entry() {
    let text = r#"{"rows":[
        {"repository_name":"a","registry_id":"444455556666","region":"us-east-1","policy":null},
        {"repository_name":"b","registry_id":"444455556666","region":"us-east-1","policy_std":null},
        {"repository_name":"c","registry_id":"444455556666","region":"us-east-1","policy_std":{"statement":[]}},
        {"repository_name":"d","registry_id":"444455556666","region":"us-east-1"},
        {"arn":"arn:aws:ecr:us-east-1:444455556666:repository/e","policy":null},
        {"registry_id":"444455556666"}
    ]}"#;
    let records = read_named("narrow.json", text);
    assert_eq!(records.len(), 6, "{records:#?}");
    assert_eq!(records[0].body, Body::NoPolicy);
    assert_eq!(records[1].body, Body::NoPolicy);
    let (code, message) = err(&records[2]);
    assert_eq!(code, Code::UnsupportedInput);
    assert!(message.contains("`policy_std`") && message.contains("select the `policy` column"));
    // No policy column at all: `select repository_name, registry_id, region`.
    assert_eq!(records[3].body, Body::Inventory);
    assert_eq!(records[3].shape, Shape::Steampipe);
    assert_eq!(records[4].repo.repository.as_deref(), Some("e"));
    assert_eq!(records[4].body, Body::NoPolicy);
    assert_eq!(err(&records[5]).0, Code::UnsupportedInput);
    assert_eq!(records[5].record, 6);
}

#[test]
fn steampipe_csv_reads_json_text_in_the_policy_cell() {
    let cell = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
    let text = format!(
        "repository_name,registry_id,arn,region,account_id,policy,policy_std,title\r\n\
         a,444455556666,arn:aws:ecr:us-east-1:444455556666:repository/a,us-east-1,444455556666,{},{},a\r\n\
         b,444455556666,arn:aws:ecr:us-east-1:444455556666:repository/b,us-east-1,444455556666,,,b\r\n\
         c,444455556666\r\n",
        cell(GITPOD),
        cell(r#"{"statement":[]}"#)
    );
    let (records, outcome) = read_walked("ecr.csv", text);
    assert_eq!(outcome, Outcome::Read);
    assert_eq!(records.len(), 3, "{records:#?}");
    assert_eq!(records[0].shape, Shape::Steampipe);
    assert_eq!(records[0].repo.registry.as_deref(), Some("444455556666"));
    assert_eq!(records[0].repo.repository.as_deref(), Some("a"));
    assert_eq!(records[0].body, Body::Policy(GITPOD.into()));
    assert_eq!(records[1].body, Body::NoPolicy);
    let (code, message) = err(&records[2]);
    assert_eq!(code, Code::InvalidJson);
    assert!(message.starts_with("row 3 has 2 cells"), "{message}");
    assert_eq!(records[2].shape, Shape::Steampipe);
}

#[test]
fn a_narrow_steampipe_csv_without_a_policy_column_is_an_inventory() {
    let text = "repository_name,registry_id,region\na,444455556666,us-east-1\n";
    let (records, outcome) = read_walked("repos.csv", text);
    assert_eq!(outcome, Outcome::Read);
    let r = one(records);
    assert_eq!(r.body, Body::Inventory);
    assert_eq!(r.repo, repo(Some("444455556666"), Some("us-east-1"), "a"));
}

#[test]
fn cloudquery_lines_prefer_policy_json_then_policy_text() {
    let line = |name: &str, json: &str, text: &str| {
        format!(
            r#"{{"_cq_id":"x","account_id":"444455556666","region":"eu-west-1","registry_id":"444455556666","repository_name":"{name}","policy_json":{json},"policy_text":{text}}}"#
        )
    };
    let text = [
        line("a", GITPOD, "null"),
        line("b", "null", &quoted(GITPOD)),
        line("c", "null", "null"),
        r#"{"account_id":"444455556666","region":"eu-west-1","repository_name":"d","repository_arn":"arn:aws:ecr:eu-west-1:444455556666:repository/d"}"#.to_owned(),
    ]
    .join("\n");
    let records = read_named("cq.jsonl", text);
    assert_eq!(records.len(), 4);
    assert!(records.iter().all(|r| r.shape == Shape::CloudQuery));
    assert_eq!(records[0].body, Body::Policy(GITPOD.into()));
    assert_eq!(records[1].body, Body::Policy(GITPOD.into()));
    assert_eq!(records[2].body, Body::NoPolicy);
    // CloudQuery's `aws_ecr_repositories`: an inventory entry.
    assert_eq!(records[3].body, Body::Inventory);
    assert_eq!(records[3].repo.registry.as_deref(), Some("444455556666"));
}

#[test]
fn describe_repositories_lists_inventory_entries() {
    let text = r#"{"repositories":[
        {"repositoryArn":"arn:aws:ecr:us-east-1:444455556666:repository/a","registryId":"444455556666","repositoryName":"a"},
        {"repositoryArn":"arn:aws:ecr:us-east-1:444455556666:repository/b"},
        42]}"#;
    let records = read_named("describe.json", text);
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].body, Body::Inventory);
    assert_eq!(records[0].repo.region.as_deref(), Some("us-east-1"));
    assert_eq!(records[1].repo.repository.as_deref(), Some("b"));
    assert_eq!(records[1].repo.registry.as_deref(), Some("444455556666"));
    assert_eq!(err(&records[2]).0, Code::UnsupportedInput);
    assert_eq!(records[2].record, 3);
}

#[test]
fn get_registry_policy_is_a_registry_policy_record() {
    let text = format!(
        r#"{{"registryId":"444455556666","policyText":{}}}"#,
        quoted(GITPOD)
    );
    let r = one(read_named("registry.json", text));
    assert_eq!(r.body, Body::RegistryPolicy(GITPOD.to_owned()));
    assert_eq!(r.repo.registry.as_deref(), Some("444455556666"));
    assert_eq!(r.repo.repository, None);
    let bad = one(read_named(
        "registry.json",
        r#"{"registryId":"444455556666","policyText":7}"#,
    ));
    assert_eq!(err(&bad).0, Code::UnsupportedInput);
}

#[test]
fn a_terraform_registry_policy_is_a_registry_policy_record() {
    let text = format!(
        r#"{{"format_version":"1.0","values":{{"root_module":{{"resources":[
            {{"address":"aws_ecr_registry_policy.org","mode":"managed","type":"aws_ecr_registry_policy","values":{{"registry_id":"444455556666","policy":{}}}}}]}}}}}}"#,
        quoted(GITPOD)
    );
    let r = one(read_named("state.json", text));
    assert_eq!(r.body, Body::RegistryPolicy(GITPOD.to_owned()));
    assert_eq!(r.repo.registry.as_deref(), Some("444455556666"));
}

#[test]
fn get_account_setting_registry_policy_scope_is_a_scope_record() {
    use crate::record::ScopeV;
    let r = one(read_named(
        "scope.json",
        r#"{"name": "REGISTRY_POLICY_SCOPE", "value": "V1"}"#,
    ));
    assert_eq!(r.shape, Shape::RegistryPolicyScope);
    assert_eq!(r.body, Body::RegistryPolicyScope(ScopeV::V1));
    assert_eq!(r.repo, RepoId::default());
    // An export script adds whose registry it is.
    let r = one(read_named(
        "scope.json",
        r#"{"name": "REGISTRY_POLICY_SCOPE", "value": "V2", "registryId": "444455556666", "region": "eu-west-1"}"#,
    ));
    assert_eq!(r.body, Body::RegistryPolicyScope(ScopeV::V2));
    assert_eq!(r.repo.registry.as_deref(), Some("444455556666"));
    assert_eq!(r.repo.region.as_deref(), Some("eu-west-1"));
    // Any other value is an error row naming it.
    for (value, shown) in [
        (r#""V3""#, "`V3`"),
        (r#""v2""#, "`v2`"),
        ("2", "a JSON number"),
    ] {
        let text = format!(r#"{{"name":"REGISTRY_POLICY_SCOPE","value":{value}}}"#);
        let r = one(read_named("scope.json", text));
        let (code, message) = err(&r);
        assert_eq!(code, Code::UnsupportedInput);
        assert!(
            message.contains(shown) && message.contains("`V1` or `V2`"),
            "{message}"
        );
    }
    // Another setting of get-account-setting: unsupported, saying what is read.
    let r = one(read_named(
        "scan-type.json",
        r#"{"name": "BASIC_SCAN_TYPE_VERSION", "value": "AWS_NATIVE"}"#,
    ));
    let (code, message) = err(&r);
    assert_eq!(code, Code::UnsupportedInput);
    assert!(
        message.contains("only --name REGISTRY_POLICY_SCOPE is read"),
        "{message}"
    );
    // A bad registry id is refused like everywhere else.
    let r = one(read_named(
        "scope.json",
        r#"{"name": "REGISTRY_POLICY_SCOPE", "value": "V2", "registryId": 12.5}"#,
    ));
    assert!(
        err(&r)
            .1
            .starts_with("`registryId` of the file is the number")
    );
}

#[test]
fn a_scope_record_is_set_aside_not_a_row() {
    let r = one(read_named(
        "scope.json",
        r#"{"name": "REGISTRY_POLICY_SCOPE", "value": "V1", "registryId": "444455556666"}"#,
    ));
    let mut aside = crate::join::Aside::default();
    assert_eq!(aside.take(r), None);
    assert_eq!(aside.scopes.len(), 1);
    assert!(!aside.is_empty());
}

#[test]
fn every_registered_format_is_reached_and_tags_its_records() {
    // One input per entry of `shape::FORMATS`, in its order, with the shape of its first record:
    // a format added to the list without a case here fails the count below.
    let cases: [(&str, String, Shape); 14] = [
        (
            "config.json",
            r#"{"configurationItems":[{"resourceType":"AWS::ECR::Repository","resourceName":"a","configuration":{"RepositoryName":"a"}}]}"#.into(),
            Shape::AwsConfig,
        ),
        (
            "state.json",
            r#"{"format_version":"1.0","values":{"root_module":{"resources":[{"address":"aws_ecr_repository.a","mode":"managed","type":"aws_ecr_repository","values":{"name":"a"}}]}}}"#.into(),
            Shape::Terraform,
        ),
        (
            "t.json",
            r#"{"Resources":{"R":{"Type":"AWS::ECR::Repository","Properties":{"RepositoryName":"a"}}}}"#.into(),
            Shape::CloudFormation,
        ),
        (
            "describe.json",
            r#"{"repositories":[{"repositoryName":"a","registryId":"444455556666"}]}"#.into(),
            Shape::DescribeRepositories,
        ),
        (
            "sp.json",
            r#"{"rows":[{"repository_name":"a","policy":null}]}"#.into(),
            Shape::Steampipe,
        ),
        (
            "grp.json",
            format!(r#"{{"registryId":"444455556666","repositoryName":"a","policyText":{}}}"#, quoted(GITPOD)),
            Shape::GetRepositoryPolicy,
        ),
        ("doc.json", GITPOD.to_owned(), Shape::PolicyDocument),
        (
            "scope.json",
            r#"{"name":"REGISTRY_POLICY_SCOPE","value":"V2"}"#.into(),
            Shape::RegistryPolicyScope,
        ),
        (
            "registry.json",
            format!(r#"{{"registryId":"444455556666","policyText":{}}}"#, quoted(GITPOD)),
            Shape::GetRegistryPolicy,
        ),
        (
            "cq.json",
            r#"{"_cq_id":"x","repository_name":"a","registry_id":"444455556666"}"#.into(),
            Shape::CloudQuery,
        ),
        (
            "item.json",
            r#"{"resourceType":"AWS::ECR::Repository","resourceName":"a","configuration":{"RepositoryName":"a"}}"#.into(),
            Shape::AwsConfig,
        ),
        (
            "marker.json",
            r#"{"__type":"RepositoryPolicyNotFoundException","message":"Repository policy does not exist for the repository with name 'a' in the registry with id '444455556666'"}"#.into(),
            Shape::NoPolicyMarker,
        ),
        (
            "t.yaml",
            "Resources:\n  R:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: a\n".into(),
            Shape::CloudFormation,
        ),
        (
            "sp.csv",
            "repository_name,registry_id,policy\na,444455556666,\n".into(),
            Shape::Steampipe,
        ),
    ];
    assert_eq!(cases.len(), shape::FORMATS.len());
    for (name, text, shape) in cases {
        let records = read_named(name, &text);
        let first = records
            .first()
            .unwrap_or_else(|| panic!("{name}: no record"));
        assert_eq!(first.shape, shape, "{name}: {records:#?}");
        assert!(
            !matches!(first.body, Body::Error { .. }),
            "{name}: {:?}",
            first.body
        );
    }
}

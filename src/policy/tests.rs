//! Parsing and validation, one test per rule of SPEC 4.6 (`invalid-json`, `invalid-policy`).

use super::*;
use crate::finding::Code;

fn errors(text: &str) -> Vec<Finding> {
    match parse(text) {
        Ok(p) => panic!("expected errors, parsed {p:?}"),
        Err(e) => e,
    }
}

/// The single error of a document, checked to have `code`.
fn only_error(text: &str, code: Code) -> Finding {
    let e = errors(text);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].code, code, "{e:#?}");
    e[0].clone()
}

fn statement(body: &str) -> String {
    format!(r#"{{"Version": "2012-10-17", "Statement": [{body}]}}"#)
}

const PULL: &str = r#""Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]"#;

fn ok_statement(extra: &str) -> String {
    statement(&format!(
        r#"{{"Sid": "Pull", "Effect": "Allow", "Principal": {{"AWS": "111122223333"}}, {PULL}{extra}}}"#
    ))
}

#[test]
fn documented_policy_parses() {
    let p = parse(&ok_statement("")).expect("valid");
    assert_eq!(p.version(), Version::V2012_10_17);
    let s = &p.statements()[0];
    assert_eq!(
        (s.index(), s.sid(), s.effect()),
        (0, Some("Pull"), Effect::Allow)
    );
    let Who::Principal(pr) = s.who() else {
        panic!("Principal expected")
    };
    assert_eq!(pr.aws(), ["111122223333"]);
    assert!(s.resources().is_none());
    assert_eq!(s.coverage().count_ones(), 3);
}

#[test]
fn leading_bom_is_accepted() {
    let text = format!("\u{feff}{}", ok_statement(""));
    assert!(parse(&text).is_ok());
}

#[test]
fn single_statement_object_is_accepted() {
    let text = r#"{"Statement": {"Effect": "Deny", "Principal": "*", "Action": "ecr:*"}}"#;
    let p = parse(text).expect("valid");
    assert_eq!(p.version(), Version::Missing);
    assert_eq!(p.statements().len(), 1);
    assert_eq!(p.statements()[0].effect(), Effect::Deny);
}

#[test]
fn not_json_is_invalid_json() {
    for text in ["", "   ", "{", "{\"Statement\": [}", "nope", "{} trailing"] {
        let f = only_error(text, Code::InvalidJson);
        assert!(f.message.contains("not valid JSON"), "{}", f.message);
        assert!(f.statement.is_none());
    }
}

#[test]
fn deep_nesting_is_invalid_json_not_a_stack_overflow() {
    let f = only_error(&"[".repeat(100_000), Code::InvalidJson);
    assert!(f.message.contains("nesting too deep"), "{}", f.message);
    let closed = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let f = only_error(&closed, Code::InvalidJson);
    assert!(f.message.contains("nesting too deep"), "{}", f.message);
    // Deep nesting under an unknown key is skipped by serde, with the same limit.
    let deep = format!(r#"{{"Statement": [], "X": {}}}"#, "[".repeat(100_000));
    only_error(&deep, Code::InvalidJson);
    let deep = format!(r#"{{"Statement": {}}}"#, "{\"a\":".repeat(100_000));
    only_error(&deep, Code::InvalidJson);
}

#[test]
fn top_level_that_is_not_an_object_is_invalid() {
    let f = only_error("[1, 2]", Code::InvalidPolicy);
    assert!(
        f.message.contains("must be a JSON object, found an array"),
        "{}",
        f.message
    );
}

#[test]
fn no_statement_is_invalid() {
    let f = only_error(r#"{"Version": "2012-10-17"}"#, Code::InvalidPolicy);
    assert!(f.message.contains("no Statement"), "{}", f.message);
}

#[test]
fn statement_neither_object_nor_array_is_invalid() {
    let f = only_error(r#"{"Statement": "Allow"}"#, Code::InvalidPolicy);
    assert!(
        f.message
            .contains("Statement must be an object or an array of objects, found a string"),
        "{}",
        f.message
    );
}

#[test]
fn statement_array_item_that_is_not_an_object_is_invalid() {
    let e =
        errors(r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:*"}, 42]}"#);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(
        e[0].statement,
        Some(StatementRef {
            index: 1,
            sid: None,
            registry_policy: false,
        })
    );
    assert!(
        e[0].message
            .contains("statement 1: must be an object, found a number")
    );
}

#[test]
fn effect_must_be_exactly_allow_or_deny() {
    let text = format!(
        r#"{{"Statement": [{a}, {a}, {{"Sid": "Pull", "Effect": "allow", "Principal": "*", {PULL}}}]}}"#,
        a = r#"{"Effect": "Deny", "Principal": "*", "Action": "ecr:PutImage"}"#
    );
    let f = only_error(&text, Code::InvalidPolicy);
    assert_eq!(
        f.message.text(),
        r#"statement 2 (Sid "Pull"): Effect must be "Allow" or "Deny", found "allow""#
    );
    assert_eq!(
        f.statement,
        Some(StatementRef {
            index: 2,
            sid: Some("Pull".into()),
            registry_policy: false,
        })
    );
    let f = only_error(
        &statement(&format!(r#"{{"Principal": "*", {PULL}}}"#)),
        Code::InvalidPolicy,
    );
    assert!(f.message.contains("Effect is missing"), "{}", f.message);
}

#[test]
fn both_action_and_not_action_is_invalid() {
    let f = only_error(
        &statement(
            r#"{"Effect": "Allow", "Principal": "*", "Action": "ecr:*", "NotAction": "ecr:PutImage"}"#,
        ),
        Code::InvalidPolicy,
    );
    assert!(
        f.message.contains("both Action and NotAction"),
        "{}",
        f.message
    );
}

#[test]
fn neither_action_nor_not_action_is_invalid() {
    let f = only_error(
        &statement(r#"{"Effect": "Allow", "Principal": "*"}"#),
        Code::InvalidPolicy,
    );
    assert!(
        f.message.contains("neither Action nor NotAction"),
        "{}",
        f.message
    );
}

#[test]
fn both_principal_and_not_principal_is_invalid() {
    let f = only_error(
        &statement(
            r#"{"Effect": "Deny", "Principal": "*", "NotPrincipal": {"AWS": "111122223333"}, "Action": "ecr:*"}"#,
        ),
        Code::InvalidPolicy,
    );
    assert!(
        f.message.contains("both Principal and NotPrincipal"),
        "{}",
        f.message
    );
}

#[test]
fn neither_principal_nor_not_principal_is_invalid() {
    let f = only_error(
        &statement(&format!(r#"{{"Effect": "Allow", {PULL}}}"#)),
        Code::InvalidPolicy,
    );
    assert!(
        f.message.contains("neither Principal nor NotPrincipal"),
        "{}",
        f.message
    );
}

#[test]
fn unknown_principal_key_is_invalid() {
    let f = only_error(
        &statement(&format!(
            r#"{{"Effect": "Allow", "Principal": {{"aws": "111122223333"}}, {PULL}}}"#
        )),
        Code::InvalidPolicy,
    );
    assert!(
        f.message
            .contains(r#"Principal key "aws" is not one of AWS"#),
        "{}",
        f.message
    );
}

#[test]
fn principal_string_other_than_star_is_invalid() {
    let f = only_error(
        &statement(&format!(
            r#"{{"Effect": "Allow", "Principal": "111122223333", {PULL}}}"#
        )),
        Code::InvalidPolicy,
    );
    assert!(f.message.contains(r#"must be "*""#), "{}", f.message);
}

#[test]
fn wildcard_inside_principal_arn_is_invalid() {
    for arn in ["arn:aws:iam::*:root", "arn:aws:iam::111122223333:role/ci-?"] {
        let f = only_error(
            &statement(&format!(
                r#"{{"Effect": "Allow", "Principal": {{"AWS": ["111122223333", "{arn}"]}}, {PULL}}}"#
            )),
            Code::InvalidPolicy,
        );
        assert!(
            f.message.contains(arn) && f.message.contains("wildcard"),
            "{}",
            f.message
        );
    }
    // A lone "*" is every principal, not a wildcard inside an ARN.
    assert!(
        parse(&statement(&format!(
            r#"{{"Effect": "Allow", "Principal": {{"AWS": "*"}}, {PULL}}}"#
        )))
        .is_ok()
    );
}

#[test]
fn malformed_aws_principal_is_invalid_and_named() {
    // Seen in public Terraform and CloudFormation code; IAM refuses each when the policy is set.
    for (value, why) in [
        ("1111222233334", "13 digits"),
        ("1111222233", "10 digits"),
        ("xxxxxxxx", "not an account id"),
        ("aws:ecr", "not an account id"),
        ("arn:aws:iam::1111222233334:root", "not 12 digits"),
        ("arn:aws:iam:us-east-1:111122223333:root", "region"),
        ("arn:aws:iam::111122223333:group/devs", "no principal"),
        ("arn:aws:iam::111122223333:role/", "no principal"),
        ("arn:aws:sts::111122223333:assumed-role/ci", "no principal"),
        (
            "arn:aws:ecr:us-east-1:111122223333:repository/app",
            "service",
        ),
        ("arn:aws:iam::111122223333", "six parts"),
        ("arn:azure:iam::111122223333:root", "partition"),
        ("aidajqablzs4a3qdu576q", "not an account id"),
    ] {
        for element in ["Principal", "NotPrincipal"] {
            let f = only_error(
                &statement(&format!(
                    r#"{{"Effect": "Deny", "{element}": {{"AWS": ["111122223333", "{value}"]}}, {PULL}}}"#
                )),
                Code::InvalidPolicy,
            );
            assert!(
                f.message.contains(&format!("{value:?}")) && f.message.contains(why),
                "{value}: {}",
                f.message
            );
        }
    }
}

#[test]
fn well_formed_aws_principals_and_unique_ids_are_valid() {
    for value in [
        "*",
        "111122223333",
        "arn:aws:iam::111122223333:root",
        "arn:aws-cn:iam::111122223333:user/division/bob",
        "arn:aws-us-gov:iam::111122223333:role/path/ci",
        "arn:aws:sts::111122223333:assumed-role/ci/session-1",
        "arn:aws:sts::111122223333:federated-user/alice",
        // What IAM shows for a deleted user or role: names nobody, but IAM keeps it.
        "AIDAJQABLZS4A3QDU576Q",
        "AROADBQP57FF2AEXAMPLE",
    ] {
        let text = statement(&format!(
            r#"{{"Effect": "Allow", "Principal": {{"AWS": "{value}"}}, {PULL}}}"#
        ));
        assert!(parse(&text).is_ok(), "{value}: {:?}", parse(&text).err());
    }
}

#[test]
fn unknown_condition_operator_is_invalid() {
    let f = only_error(
        &ok_statement(r#", "Condition": {"StringEqual": {"aws:PrincipalOrgID": "o-1"}}"#),
        Code::InvalidPolicy,
    );
    assert!(
        f.message
            .contains(r#"unknown condition operator "StringEqual""#),
        "{}",
        f.message
    );
    assert!(
        f.message.contains(r#"did you mean "StringEquals"?"#),
        "{}",
        f.message
    );
    // Operator names are case-sensitive.
    only_error(
        &ok_statement(r#", "Condition": {"stringequals": {"aws:PrincipalOrgID": "o-1"}}"#),
        Code::InvalidPolicy,
    );
    // Null takes no IfExists.
    only_error(
        &ok_statement(r#", "Condition": {"NullIfExists": {"aws:SourceVpce": "true"}}"#),
        Code::InvalidPolicy,
    );
}

#[test]
fn every_operator_family_is_accepted() {
    let cond = r#", "Condition": {
        "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*"]},
        "ForAllValues:StringEquals": {"aws:TagKeys": "b"},
        "NumericLessThan": {"s3:max-keys": 10},
        "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
        "Bool": {"aws:SecureTransport": true},
        "BinaryEquals": {"key": "QmluYXJ5"},
        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
        "NotIpAddressIfExists": {"aws:SourceIp": "10.1.0.0/16"},
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"},
        "Null": {"aws:SourceVpce": "false"}
    }"#;
    let p = parse(&ok_statement(cond)).expect("valid");
    assert_eq!(p.statements()[0].conditions().len(), 10);
}

#[test]
fn condition_values_normalise_numbers_and_booleans_to_strings() {
    let p = parse(&ok_statement(
        r#", "Condition": {"NumericEquals": {"K": [1, 2.5, "3"]}, "Bool": {"aws:SecureTransport": false}}"#,
    ))
    .expect("valid");
    let c = p.statements()[0].conditions();
    let (first, second) = (c.get(0).expect("one"), c.get(1).expect("two"));
    let texts: Vec<&str> = first.values().iter().map(|v| v.text()).collect();
    assert_eq!(texts, ["1", "2.5", "3"]);
    assert_eq!(
        first.values().get(1).expect("2.5").typed(),
        &Typed::Number(2.5)
    );
    assert_eq!(second.values().get(0).expect("false").text(), "false");
}

#[test]
fn condition_keys_are_case_insensitive() {
    let p = parse(&ok_statement(
        r#", "Condition": {"StringEquals": {"AWS:PrincipalOrgId": "o-1"}}"#,
    ))
    .expect("valid");
    let c = p.statements()[0].conditions().get(0).expect("a condition");
    assert_eq!(
        (c.key(), c.key_lower()),
        ("AWS:PrincipalOrgId", "aws:principalorgid")
    );
}

#[test]
fn unsupported_version_is_invalid() {
    let f = only_error(
        r#"{"Version": "2012-10-18", "Statement": []}"#,
        Code::InvalidPolicy,
    );
    assert!(f.message.contains(r#"found "2012-10-18""#), "{}", f.message);
    assert_eq!(
        parse(r#"{"Version": "2008-10-17", "Statement": []}"#)
            .map(|p| p.version())
            .ok(),
        Some(Version::V2008_10_17)
    );
}

#[test]
fn unknown_statement_key_is_invalid() {
    let f = only_error(
        &ok_statement(r#", "Effects": "Allow""#),
        Code::InvalidPolicy,
    );
    assert!(
        f.message.contains(r#"unknown statement key "Effects""#),
        "{}",
        f.message
    );
    // Element names are case-sensitive.
    only_error(&ok_statement(r#", "condition": {}"#), Code::InvalidPolicy);
}

#[test]
fn unknown_top_level_key_is_invalid() {
    let f = only_error(
        r#"{"Version": "2012-10-17", "Statement": [], "Statements": []}"#,
        Code::InvalidPolicy,
    );
    assert!(
        f.message.contains(r#"unknown top-level key "Statements""#),
        "{}",
        f.message
    );
    assert!(f.statement.is_none());
}

#[test]
fn not_principal_with_allow_is_invalid() {
    let f = only_error(
        &statement(&format!(
            r#"{{"Effect": "Allow", "NotPrincipal": {{"AWS": "444455556666"}}, {PULL}}}"#
        )),
        Code::InvalidPolicy,
    );
    assert!(
        f.message
            .contains("NotPrincipal cannot be used with \"Allow\""),
        "{}",
        f.message
    );
}

#[test]
fn duplicate_key_is_invalid() {
    let f = only_error(&ok_statement(r#", "Effect": "Deny""#), Code::InvalidPolicy);
    assert!(
        f.message.contains(r#""Effect" appears more than once"#),
        "{}",
        f.message
    );
}

#[test]
fn duplicate_principal_operator_or_condition_key_is_invalid() {
    for (statement, needle) in [
        (
            r#"{"Effect": "Allow", "Principal": {"AWS": "444455556666", "AWS": "111122223333"},
                "Action": "ecr:*"}"#,
            r#"Principal has the key "AWS" twice"#,
        ),
        (
            r#"{"Effect": "Allow", "Principal": "*", "Action": "ecr:*", "Condition": {
                "StringEquals": {"aws:PrincipalAccount": "444455556666"},
                "StringEquals": {"aws:PrincipalAccount": "111122223333"}}}"#,
            r#"Condition has the operator "StringEquals" twice"#,
        ),
        (
            r#"{"Effect": "Allow", "Principal": "*", "Action": "ecr:*", "Condition": {
                "StringEquals": {"aws:PrincipalAccount": "1", "AWS:PRINCIPALACCOUNT": "2"}}}"#,
            r#"Condition operator "StringEquals" has the key "AWS:PRINCIPALACCOUNT" twice"#,
        ),
    ] {
        let text = format!(r#"{{"Version": "2012-10-17", "Statement": [{statement}]}}"#);
        let f = only_error(&text, Code::InvalidPolicy);
        assert!(f.message.contains(needle), "{}", f.message);
    }
}

#[test]
fn wrong_json_types_are_invalid_policy_with_a_clear_message() {
    for (body, needle) in [
        (
            r#"{"Effect": null, "Principal": "*", "Action": "ecr:*"}"#,
            "Effect must be \"Allow\" or \"Deny\", found null",
        ),
        (
            r#"{"Effect": "Allow", "Principal": "*", "Action": 42}"#,
            "Action must be a string or an array of strings, found a number",
        ),
        (
            r#"{"Effect": "Allow", "Principal": "*", "Action": ["ecr:*", null]}"#,
            "Action item 1 must be a string, found null",
        ),
        (
            r#"{"Effect": "Allow", "Principal": {"AWS": [1]}, "Action": "ecr:*"}"#,
            "Principal.AWS item 0 must be a string, found a number",
        ),
        (
            r#"{"Effect": "Allow", "Principal": true, "Action": "ecr:*"}"#,
            "Principal must be \"*\" or an object of principals, found a boolean",
        ),
        (
            r#"{"Effect": "Allow", "Principal": "*", "Action": "ecr:*", "Resource": {}}"#,
            "Resource must be a string or an array of strings, found an object",
        ),
        (
            r#"{"Effect": "Allow", "Principal": "*", "Action": "ecr:*", "Condition": []}"#,
            "Condition must be an object of operators, found an array",
        ),
        (
            r#"{"Effect": "Allow", "Principal": "*", "Action": "ecr:*", "Condition": {"Bool": "true"}}"#,
            "must map condition keys to values, found a string",
        ),
        (
            r#"{"Effect": "Allow", "Principal": "*", "Action": "ecr:*", "Condition": {"Bool": {"k": {"a": 1}}}}"#,
            "found an object",
        ),
        (
            r#"{"Effect": "Allow", "Principal": "*", "Action": "ecr:*", "Condition": {"Bool": {"k": [null]}}}"#,
            "value 0 must be a string, number or boolean, found null",
        ),
        (
            r#"{"Sid": 7, "Effect": "Allow", "Principal": "*", "Action": "ecr:*"}"#,
            "Sid must be a string, found a number",
        ),
        (
            r#"{"Effect": "Allow", "Principal": "*", "Action": []}"#,
            "Action is an empty array",
        ),
    ] {
        let f = only_error(&statement(body), Code::InvalidPolicy);
        assert!(
            f.message.text().starts_with("statement 0: "),
            "{}",
            f.message
        );
        assert!(
            f.message.contains(needle),
            "{} does not contain {needle}",
            f.message
        );
    }
    let f = only_error(r#"{"Version": 2012, "Statement": []}"#, Code::InvalidPolicy);
    assert!(f.message.contains("found a number"), "{}", f.message);
}

#[test]
fn every_problem_of_the_document_is_collected() {
    let text = r#"{"Version": "1", "Bogus": 1, "Statement": [
        {"Sid": "A", "Effect": "allow", "Principal": {"Aws": "1"}, "Action": "ecr:*"},
        {"Effect": "Allow", "Principal": "*"},
        {"Sid": "C", "Effect": "Deny", "Principal": "*", "Action": "ecr:*", "Condition": {"Nope": {"k": "v"}}}
    ]}"#;
    let e = errors(text);
    let at: Vec<Option<usize>> = e
        .iter()
        .map(|f| f.statement.as_ref().map(|s| s.index))
        .collect();
    assert_eq!(
        at,
        [None, None, Some(0), Some(0), Some(1), Some(2)],
        "{e:#?}"
    );
    assert!(e.iter().all(|f| f.code == Code::InvalidPolicy));
    assert_eq!(
        e[5].statement.as_ref().and_then(|s| s.sid.as_deref()),
        Some("C")
    );
}

#[test]
fn action_patterns_are_matched_against_the_catalog_once() {
    let p = parse(&statement(
        r#"{"Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImages", "s3:GetObject", "ecr:Get*"]}"#,
    ))
    .expect("valid");
    let s = &p.statements()[0];
    let unknown: Vec<(&str, bool, Option<&str>)> = s
        .unknown_actions()
        .iter()
        .map(|u| (u.pattern.as_str(), u.not_ecr, u.suggestion.as_deref()))
        .collect();
    assert_eq!(
        unknown,
        [
            ("ecr:BatchGetImages", false, Some("ecr:BatchGetImage")),
            ("s3:GetObject", true, None)
        ]
    );
}

/// Documents of every shape the short way must agree with the long way on.
fn known_statement_corpus() -> Vec<String> {
    let statements = [
        r#"{"Sid":"Gitpod0","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root"]},"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}"#,
        r#"{"Sid":"Org3","Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}}"#,
        r#"{"Sid":"NoDelete1","Effect":"Deny","Principal":"*","Action":["ecr:Delete*","ecr:BatchDeleteImage"],"Condition":{"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/admin-*"}}}"#,
        r#"{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"NotAction":"ecr:Get*","Resource":"*"}"#,
        r#"{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"ecr:BatchGetImage","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8"]}}}"#,
        r#"{"Sid":"Esc\u0041","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}"#,
        // Problems: every one must come out of the long way, with its place.
        r#"{"Effect":"Permit","Principal":"*","Action":"ecr:BatchGetImage"}"#,
        r#"{"Effect":"Allow","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Extra":1}"#,
        r#"{"Effect":"Allow","Principal":{"AWS":"*","AWS":"1"},"Action":"ecr:BatchGetImage"}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":5}"#,
        r#"{"Effect":"Allow","NotPrincipal":"*","Action":"ecr:BatchGetImage"}"#,
        r#"[]"#,
        r#""a statement""#,
        r#"null"#,
    ];
    let mut docs = Vec::new();
    for (i, a) in statements.iter().enumerate() {
        for b in statements.iter().skip(i) {
            docs.push(format!(
                r#"{{"Version":"2012-10-17","Statement":[{a},{b}]}}"#
            ));
        }
        docs.push(format!(r#"{{"Version":"2012-10-17","Statement":{a}}}"#));
        docs.push(format!(r#"{{"Statement":[{a}],"Id":"x"}}"#));
        for head in [
            r#""Version":"2008-10-17""#,
            r#""Version":null"#,
            r#""Version":"2012-10-17","Version":"2012-10-17""#,
            r#""Version":"2012-10-17\u0000""#,
            r#""Version":"2012-10-18""#,
            r#""Id":null"#,
            r#""Id":"a\"b""#,
            r#""Id":7"#,
            r#""version":"2012-10-17""#,
            r#""Other":1"#,
            r#""Statement":[]"#,
        ] {
            docs.push(format!(r#"{{{head},"Statement":[{a}]}}"#));
        }
    }
    // A document that is not an object, whose elements would fill the fields in order.
    let pull = statements[0];
    docs.push(format!(r#"["2012-10-17","x",[{pull}]]"#));
    docs.push(format!(r#" ["2012-10-17","x",{pull}]"#));
    docs.push(format!(r#"[null,null,[{pull}]]"#));
    docs.push(r#"{"Version":"2012-10-17","Statement":[]}"#.to_owned());
    docs.push(r#"{"Version":"2012-10-17","Statement":{}}"#.to_owned());
    docs.push(r#"{"Version":"2012-10-17","Statement":null}"#.to_owned());
    docs.push(r#"{"Version":"2012-10-17"}"#.to_owned());
    docs.push(r#"{"Version":"2012-10-17","Statement":[]} trailing"#.to_owned());
    docs.push(r#"  {"Version":"2012-10-17","Statement":[ {"Effect":"Allow","Principal":"*","Action":"ecr:*"} ]}  "#.to_owned());
    // Nesting near serde_json's limit of 128: the short way must not accept what the long way
    // calls too deep.
    for depth in [90, 120, 126, 127, 130] {
        let deep = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        docs.push(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{{"StringEquals":{{"k":{deep}}}}}}}]}}"#
        ));
    }
    docs
}

#[test]
fn known_statements_are_read_as_the_whole_document_would_be() {
    validate::forget_known_statements();
    let docs = known_statement_corpus();
    // Three times: statements unknown, seen once (remembered only now), then known.
    for round in 0..3 {
        for doc in &docs {
            assert_eq!(
                parse(doc),
                validate::parse_whole(doc),
                "round {round}: {doc}"
            );
        }
    }
    // The common shape does take the short way.
    let common = &docs[0];
    let short = validate::parse_known(common).expect("the short way");
    assert_eq!(Ok(short), validate::parse_whole(common));
}

/// Documents that the hand-written split must leave to serde_json, or split as serde_json does.
#[test]
fn the_split_of_a_document_agrees_with_serde_json() {
    let s = r#"{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Sid":"a}\"{b"}"#;
    let docs = [
        format!(r#"{{"Version":"2012-10-17","Statement":[{s}]}}"#),
        format!(" \t\r\n{{ \"Version\" : \"2012-10-17\" , \"Statement\" : [ {s} , {s} ] }} \n"),
        format!(r#"{{"Statement":{s},"Version":"2008-10-17","Id":"x"}}"#),
        r#"{"Version":"2012-10-17","Statement":[]}"#.to_owned(),
        format!(r#"{{"Version":"2012-10-17","Statement":[{s}]}} x"#),
        format!(r#"{{"Version":"2012-10-17","Version":"2012-10-17","Statement":[{s}]}}"#),
        format!(r#"{{"Vers\u0069on":"2012-10-17","Statement":[{s}]}}"#),
        format!(r#"{{"Version":"2012-10-17","Id":"a\tb","Statement":[{s}]}}"#),
        format!(r#"{{"Version":"2012-10-17","Id":"a\"b","Statement":[{s}]}}"#),
        format!(r#"{{"Version":"2012-10-17","Id":null,"Statement":[{s}]}}"#),
        format!(r#"{{"Version":"2012-10-17","Statement":[{s},]}}"#),
        format!(r#"{{"Version":"2012-10-17","Statement":[{s}}}]}}"#),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow"]}]}"#.to_owned(),
        format!(r#"{{"Version":"2012-10-17","Statement":["{s}"]}}"#),
        format!(r#"{{"Version":"2012-10-17","Statement":[{s}]"#),
        format!(r#"{{"Version":"2012-10-17","Statement":[{s}],}}"#),
        format!(r#"{{"Version":"2012-10-17","Other":1,"Statement":[{s}]}}"#),
    ];
    for round in 0..3 {
        for doc in &docs {
            assert_eq!(
                parse(doc),
                validate::parse_whole(doc),
                "round {round}: {doc}"
            );
        }
    }
}

#[test]
fn a_statement_is_remembered_the_second_time_it_is_seen() {
    validate::forget_known_statements();
    let a = r#"{"Sid":"A","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}"#;
    let b = r#"{"Sid":"B","Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage"}"#;
    let doc = |s: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{s}]}}"#);
    let first = parse(&doc(a)).expect("a");
    assert_eq!(validate::remembered_statements(), 0, "seen once: not kept");
    let second = parse(&doc(a)).expect("a again");
    assert_eq!(validate::remembered_statements(), 1, "seen twice: kept");
    parse(&doc(b)).expect("b");
    assert_eq!(
        validate::remembered_statements(),
        1,
        "another statement, seen once"
    );
    let third = parse(&doc(a)).expect("a a third time");
    assert_eq!(validate::remembered_statements(), 1);
    assert_eq!(first, second);
    assert_eq!(second, third);
}

#[test]
fn a_known_statement_keeps_its_place_in_each_document() {
    validate::forget_known_statements();
    let a = r#"{"Sid":"A","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}"#;
    let b = r#"{"Sid":"B","Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage"}"#;
    let ab = parse(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{a},{b}]}}"#
    ))
    .expect("ab");
    let ba = parse(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{b},{a}]}}"#
    ))
    .expect("ba");
    assert_eq!(ab.statements()[0].sid(), Some("A"));
    assert_eq!(ab.statements()[1].index(), 1);
    assert_eq!(ba.statements()[1].sid(), Some("A"));
    assert_eq!(ba.statements()[1].index(), 1);
    assert_eq!(ba.statements()[1].label(), "statement 1 (Sid \"A\")");
}

/// The tokens of the property tests that compare readers on policy-like texts.
#[rustfmt::skip]
const POLICY_TOKENS: &[&str] = &[
    "{", "}", "[", "]", ",", ":", "\"Statement\"", "\"Effect\"", "\"Allow\"", "\"Deny\"",
    "\"Principal\"", "\"*\"", "\"Action\"", "\"ecr:*\"", "\"Version\"", "\"2012-10-17\"",
    "\"Condition\"", "\"StringEquals\"", "1", "null", "\"k\"", "\"Sid\"", "\"AWS\"", " ", "\n",
    "\t", "\r", "\"Id\"", "\"2008-10-17\"", "\"a\\\"}b\"", "\"\\u0041\"", "\"a\tb\"", "\"a/b\"",
    "\"Vers\\u0069on\"", "\"NotPrincipal\"", "true",
];

/// Up to 60 of [`POLICY_TOKENS`], one after the other.
fn policy_like_text() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::strategy::Strategy;
    proptest::collection::vec(proptest::sample::select(POLICY_TOKENS), 0..60)
        .prop_map(|parts| parts.concat())
}

proptest::proptest! {
    #[test]
    fn parse_never_panics(text in "\\PC{0,200}") {
        let _ = parse(&text);
    }

    #[test]
    fn the_short_way_agrees_with_the_long_way(text in policy_like_text()) {
        proptest::prop_assert_eq!(parse(&text), validate::parse_whole(&text));
    }

    /// Any text of policy-like tokens: read inside its literal when the reader takes it, the
    /// same policy as read decoded.
    #[test]
    fn a_policy_like_text_read_inside_its_literal_is_the_text_decoded(text in policy_like_text()) {
        if let Some(policy) = validate::parse_escaped(&literal_contents(&text)) {
            proptest::prop_assert_eq!(Ok(policy), validate::parse_whole(&text));
        }
    }

    #[test]
    fn parse_never_panics_on_policy_like_text(
        parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "{", "}", "[", "]", ",", ":", "\"Statement\"", "\"Effect\"", "\"Allow\"", "\"Principal\"",
                "\"*\"", "\"Action\"", "\"Condition\"", "\"StringEquals\"", "1", "null", "true", "\"k\"",
            ]),
            0..60,
        )
    ) {
        let _ = parse(&parts.concat());
    }
}

#[test]
fn a_label_quotes_the_sid_as_debug_does() {
    for sid in [
        "Gitpod1",
        "it's",
        "a b~!",
        "q\"uote",
        "back\\slash",
        "tab\there",
        "é",
        "",
        "\u{7f}",
    ] {
        assert_eq!(
            super::label(3, Some(sid)),
            format!("statement 3 (Sid {sid:?})"),
            "{sid}"
        );
    }
    assert_eq!(super::label(0, None), "statement 0");
}

#[test]
fn a_statements_label_in_parts_is_its_label() {
    for sid in [
        r#""Sid": "Pull", "#,
        r#""Sid": "with \"quote\" and \\ é", "#,
        r#""Sid": "", "#,
        "",
    ] {
        let text = format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{{sid}"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}}]}}"#
        );
        let p = parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
        let s = &p.statements()[0];
        assert_eq!(s.label_parts().to_string(), s.label(), "{sid}");
    }
}

/// Strings without an escape are borrowed from the text, those with one are decoded: both read
/// the same, in every element, whether the statement is known or not.
#[test]
fn escaped_and_plain_strings_read_the_same() {
    let plain = statement(
        r#"{"Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:role/ci"]}, "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpce": ["vpce-1", 7, true]}}}"#,
    );
    let escaped = statement(
        r#"{"Sid": "P\u0075ll", "Effect": "Al\u006cow", "Principal": {"A\u0057S": ["111122223333", "arn:aws:iam::111122223333:role\/ci"]}, "Action": ["ecr:BatchGet\u0049mage", "ecr:GetDownloadUrlForLayer"], "Resource": "\u002a", "Condition": {"String\u0045quals": {"aws:Source\u0056pce": ["vpce-\u0031", 7, true]}}}"#,
    );
    for round in 0..2 {
        assert_eq!(parse(&escaped), parse(&plain), "round {round}");
        assert_eq!(validate::parse_whole(&escaped), parse(&plain));
    }
    // And the messages of an invalid list name the same items either way.
    let bad = |action: &str| {
        errors(&statement(&format!(
            r#"{{"Effect": "Allow", "Principal": {{"AWS": ["1", "x*"]}}, "Action": [{action}, 3, null]}}"#
        )))
    };
    let plain = bad(r#""ecr:BatchGetImage""#);
    assert_eq!(bad(r#""ecr:BatchGet\u0049mage""#), plain);
    let messages: Vec<String> = plain.iter().map(|f| f.message.to_string()).collect();
    assert_eq!(messages.len(), 4, "{messages:#?}");
    assert!(
        messages[0].contains(r#"Principal.AWS "1" has 1 digits"#),
        "{messages:#?}"
    );
    assert!(
        messages[1].contains(r#"Principal.AWS "x*" has a wildcard"#),
        "{messages:#?}"
    );
    assert!(messages[2].ends_with("Action item 1 must be a string, found a number"));
    assert!(messages[3].ends_with("Action item 2 must be a string, found null"));
}

/// Calls `check` with every insertion of one of `inserts` into `seed` at a character boundary,
/// and with every deletion of one of its characters.
fn each_mutant(seed: &str, inserts: &[&str], check: &mut impl FnMut(&str)) {
    for i in (0..=seed.len()).filter(|&i| seed.is_char_boundary(i)) {
        for insert in inserts {
            check(&format!("{}{insert}{}", &seed[..i], &seed[i..]));
        }
        if i < seed.len() {
            let next = seed[i..].chars().next().map_or(1, char::len_utf8);
            check(&format!("{}{}", &seed[..i], &seed[i + next..]));
        }
    }
}

/// The hand-written reader of common statements takes only what it reads as serde_json does:
/// every statement it accepts, serde_json reads to the same raw statement. Checked on
/// statements of the common shape and on every one-character insertion and deletion of them.
#[test]
fn the_plain_statement_reader_reads_as_serde_json_does() {
    let seeds = [
        r#"{"Sid":"Gitpod0","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","111122223333"]},"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage"]}"#,
        r#"{"Sid":"Tls","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#,
        r#"{"Effect":"Deny","NotPrincipal":{"AWS":"1","Service":["a.amazonaws.com"]},"NotAction":[],"NotResource":"*","Condition":{"Bool":{"k":[true,false]},"StringLike":{"a":"b","c":["d"]}}}"#,
        " {\n\t\"Effect\" : \"Allow\" ,\r\n \"Principal\" : { \"AWS\" : [ \"*\" ] } , \"Action\" : [ ] , \"Resource\" : [ \"*\" , \"arn:aws:ecr:*\" ] } ",
        r#"{"Effect":"Allow","Effect":"Deny","Principal":{},"Action":"x","Condition":{}}"#,
        r#"{}"#,
    ];
    let mut accepted = 0;
    let mut check = |text: &str| {
        if let Some(hand) = plain::statement(text) {
            accepted += 1;
            let serde = serde_json::from_str::<raw::LoneStatement>(text)
                .ok()
                .and_then(|s| s.0);
            assert_eq!(Some(hand), serde, "{text:?}");
        }
    };
    for seed in seeds {
        assert!(plain::statement(seed).is_some(), "{seed}");
        each_mutant(
            seed,
            &[
                " ", "\"", "\\", ",", "{", "}", "[", "]", ":", "x", "\u{1}", "1", "true", "\n",
                "é", "n", "\"\"", "{}", "[]",
            ],
            &mut check,
        );
    }
    // The mutants it took are many (whitespace, extra characters inside strings, ...): the
    // comparison above is not vacuous.
    assert!(accepted > 2000, "{accepted}");
}

/// Valid statements of every element the one-pass reader takes, for the tests that compare
/// readers on them and on their mutants.
const STATEMENTS: [&str; 8] = [
    r#"{"Sid":"Gitpod0","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","111122223333"]},"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage"]}"#,
    r#"{"Sid":"Tls","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#,
    r#"{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/ci","Service":["a.amazonaws.com"]},"NotAction":["ecr:Get*","s3:GetObject"],"NotResource":"*","Condition":{"Bool":{"AWS:SecureTransport":[true,false]},"StringLike":{"a":"b","C":["d"]}}}"#,
    " {\n\t\"Effect\" : \"Allow\" ,\r\n \"Principal\" : { \"AWS\" : [ \"*\" ] } , \"Action\" : [ \"ecr:BatchGetImage\", \"ecr:batchgetimagex\" ] , \"Resource\" : [ \"*\" , \"arn:aws:ecr:*\" ] } ",
    r#"{"Action":"BatchGetImage","Condition":{"NumericLessThan":{"n":"5"},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","x"]},"ForAnyValue:StringEqualsIfExists":{"k":"v"}},"Principal":{"Federated":"cognito-identity.amazonaws.com","CanonicalUser":"abc"},"Effect":"Allow","Sid":""}"#,
    r#"{"Effect":"Allow","Principal":{"AWS":"AIDAJQABLZS4A3QDU576Q"},"Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/x"}"#,
    // Nine strings in lists and more: past the spans a statement keeps in itself.
    r#"{"Effect":"Allow","Principal":{"AWS":["111122223333","222233334444","333344445555","444455556666","555566667777"]},"Action":["ecr:*","ecr:Get*"],"Resource":["*","arn:aws:ecr:*"]}"#,
    r#"{"Action":"ecr:BatchGetImage","Condition":{"ForAnyValue:StringEqualsIfExists":{"Aws:PrincipalOrgID":"o-1","k":"v"}},"Principal":"*","Effect":"Allow"}"#,
];

/// The one-pass reader of common statements gives exactly what reading them into a raw
/// statement and validating it gives, and nothing where that finds a problem: checked on valid
/// statements of every element it takes and on every one-character insertion and deletion of
/// them (most of which are invalid JSON, invalid policies, or valid and read the long way).
#[test]
fn the_one_pass_statement_reader_agrees_with_the_long_way() {
    let seeds = STATEMENTS;
    let mut accepted = 0;
    let mut check = |text: &str| {
        if let Some(one) = plain::body(text) {
            accepted += 1;
            let long = validate::statement_the_long_way(text);
            assert_eq!(Some(&one), long.as_deref(), "{text:?}");
            assert_eq!(&one.buf[..one.text_len], text, "the text is the key");
        }
    };
    for seed in seeds {
        assert!(plain::body(seed).is_some(), "{seed}");
        each_mutant(
            seed,
            &[
                " ", "\"", "\\", ",", "{", "}", "[", "]", ":", "x", "\u{1}", "1", "true", "\n",
                "é", "n", "\"\"", "{}", "[]", "*", "A", "?",
            ],
            &mut check,
        );
    }
    assert!(accepted > 2000, "{accepted}");
}

/// What the one-pass reader leaves to the long way: every problem, and the rare shapes.
#[test]
fn the_one_pass_statement_reader_leaves_problems_and_rare_shapes_to_the_long_way() {
    let ok = r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*"}"#;
    assert!(plain::body(ok).is_some());
    for text in [
        r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{}}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"Bool":{}}}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"Bool":{"a":"true","A":"true"}}}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"Bool":{"a":"true"},"Bool":{"b":"true"}}}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"Bool":{"a":1}}}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"NoSuchOp":{"a":"b"}}}"#,
        r#"{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"ecr:*"}"#,
        r#"{"Effect":"Allow","Principal":{"AWS":"*","AWS":"*"},"Action":"ecr:*"}"#,
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:root"},"Action":"ecr:*"}"#,
        r#"{"Effect":"Allow","Principal":{"AWS":"1234"},"Action":"ecr:*"}"#,
        r#"{"Effect":"Allow","Principal":{},"Action":"ecr:*"}"#,
        r#"{"Effect":"Allow","Principal":"x","Action":"ecr:*"}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":[]}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","NotAction":"ecr:*"}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*","Resource":"*"}"#,
        r#"{"Effect":"Allow","Principal":"*","Principal":"*","Action":"ecr:*"}"#,
        r#"{"Effect":"Allow","Principal":"*"}"#,
        r#"{"Principal":"*","Action":"ecr:*"}"#,
        r#"{"Effect":"allow","Principal":"*","Action":"ecr:*"}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*","Other":"x"}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"ecr:\u002a"}"#,
        r#"{"Effect":"Allow","Principal":"*","Action":"ecr:*"} x"#,
    ] {
        assert!(plain::body(text).is_none(), "{text}");
    }
    // More than a few operators or keys in one object: the long way (which finds duplicates
    // through a set).
    let keys: Vec<String> = (0..9).map(|i| format!(r#""k{i}":"v""#)).collect();
    let many = format!(
        r#"{{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{{"StringEquals":{{{}}}}}}}"#,
        keys.join(",")
    );
    assert!(plain::body(&many).is_none());
    assert!(validate::statement_the_long_way(&many).is_some());
    let eight = many.replace(r#","k8":"v""#, "");
    assert_eq!(
        plain::body(&eight).as_ref(),
        validate::statement_the_long_way(&eight).as_deref()
    );
    assert!(plain::body(&eight).is_some());
}

/// The contents of the JSON string literal that holds `text` (as an export writes a policy).
fn literal_contents(text: &str) -> String {
    let literal = serde_json::to_string(text).expect("a string");
    literal[1..literal.len() - 1].to_owned()
}

/// A document read in place, inside the JSON string literal that holds it, is the document
/// read from the decoded text: checked on documents whose statements are the one-pass
/// reader's seeds and every one-character insertion and deletion of them (quotes, backslashes,
/// control characters and line breaks among them, which the literal writes as escapes), in
/// compact and spread layouts. Where the in-place reader declines, the text is decoded.
#[test]
fn a_document_read_inside_its_literal_is_the_document_decoded() {
    let seeds = STATEMENTS;
    let docs = |s: &str| {
        [
            format!(r#"{{"Version":"2012-10-17","Statement":[{s}]}}"#),
            format!(
                "\u{feff}{{\n  \"Version\": \"2012-10-17\",\n  \"Id\": \"x\",\n  \"Statement\": [\n    {s},\n    {s}\n  ]\n}}\n"
            ),
            format!(r#"{{"Statement":{s},"Version":"2008-10-17"}}"#),
        ]
    };
    let (mut read, mut declined) = (0, 0);
    // The mutants in the compact layout (the layouts differ only outside the statements).
    let mut check = |statement: &str| {
        for doc in docs(statement).into_iter().take(1) {
            let contents = literal_contents(&doc);
            match validate::parse_escaped(&contents) {
                Some(policy) => {
                    read += 1;
                    // `parse` of the decoded text (held to `parse_whole` by the tests above).
                    assert_eq!(Ok(policy), parse(&doc), "{doc:?}");
                }
                None => declined += 1,
            }
        }
    };
    for seed in seeds {
        // Each layout, and as a kept literal judged through `parse_text`.
        for doc in docs(seed) {
            let policy = validate::parse_escaped(&literal_contents(&doc));
            assert_eq!(policy.map(Ok), Some(super::parse_whole(&doc)), "{doc:?}");
            let literal = serde_json::to_string(&doc).expect("a string");
            let text = PolicyText::encoded(&literal);
            assert_eq!(parse_text(&text), super::parse_whole(&doc), "{doc:?}");
        }
        each_mutant(
            seed,
            &[
                // What the literal writes as an escape, and what breaks the document's shape.
                " ", "\"", "\\", "\n", "\t", "\u{1}", "/", "\\n", "{", "}", ":", ",", "é",
            ],
            &mut check,
        );
    }
    // Both ways were taken often: the comparison is not vacuous.
    assert!(read > 3000 && declined > 3000, "{read} {declined}");
}

#[test]
fn a_document_with_an_escape_in_a_string_is_decoded_before_it_is_read() {
    let plain = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}"#;
    assert!(validate::parse_escaped(&literal_contents(plain)).is_some());
    // As ECR gives a policy back (`get-repository-policy`, the AWS CLI): spread over lines,
    // a space before each colon; read in place.
    let file =
        include_str!("../../testdata/export/get-repository-policy/platform-build-images.json");
    let literal = serde_json::from_str::<serde_json::Value>(file).expect("JSON")["policyText"]
        .as_str()
        .map(|text| serde_json::to_string(text).expect("a string"))
        .expect("a policy text");
    assert!(
        literal.contains(r#"\n  \"Version\" : \"2012-10-17\",\n"#),
        "{literal}"
    );
    let read = validate::parse_escaped(&literal[1..literal.len() - 1]).expect("read in place");
    let text: String = serde_json::from_str(&literal).expect("decoded");
    assert_eq!(Ok(read), super::parse_whole(&text));
    for doc in [
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"a\"b","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"a\\b","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}"#,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":"*","Action":"ecr:BatchGet\u0049mage"}]}"#,
        r#"{"Version":"2012-10-17","Id":"a\/b","Statement":[{"Sid":"A","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}"#,
        "{\"Version\":\"2012-10-17\",\u{c}\"Statement\":[]}",
    ] {
        let contents = literal_contents(doc);
        assert_eq!(validate::parse_escaped(&contents), None, "{doc}");
        let literal = serde_json::to_string(doc).expect("a string");
        if !literal.contains("\\u") {
            assert_eq!(
                parse_text(&PolicyText::encoded(&literal)),
                validate::parse_whole(doc),
                "{doc}"
            );
        }
    }
}

/// Documents read inside their literal whose statements repeat are looked up among those a
/// worker validated before (each is then kept the second time it is seen), and read the same
/// either way; documents whose statements differ are read in one pass, mostly.
#[test]
fn statements_that_repeat_inside_literals_are_remembered_and_read_the_same() {
    validate::forget_known_statements();
    let doc = |sid: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{sid}","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}},{{"Sid":"Tls","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}}"#
        )
    };
    // Every statement differs: at most the sampled documents' statements are looked up, and
    // none of them twice.
    for n in 0..64 {
        let text = doc(&format!("S{n}")).replace("SecureTransport", &format!("K{n}"));
        let read = validate::parse_escaped(&literal_contents(&text)).expect("read");
        assert_eq!(Ok(read), super::parse_whole(&text));
    }
    assert_eq!(validate::remembered_statements(), 0);
    // The second statement repeats and the first differs: half are found, then more.
    for n in 0..64 {
        let text = doc(&format!("R{n}"));
        let read = validate::parse_escaped(&literal_contents(&text)).expect("read");
        assert_eq!(Ok(read), super::parse_whole(&text), "{n}");
    }
    assert!(validate::remembered_statements() >= 1);
    // The same document over and over: every statement found.
    let text = doc("Same");
    for _ in 0..32 {
        let read = validate::parse_escaped(&literal_contents(&text)).expect("read");
        assert_eq!(Ok(read), super::parse_whole(&text));
    }
    assert!(validate::remembered_statements() >= 2);
}

/// Where the in-place reader declines most documents (here: every `/` written `\/`), only one
/// in eight is tried in place; the rest are decoded at once. Either way the policy is the same.
#[test]
fn where_most_literals_are_declined_few_are_tried_in_place() {
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ci"},"Action":"ecr:BatchGetImage"}]}"#;
    let expected = super::parse_whole(doc);
    let slashed = serde_json::to_string(doc)
        .expect("a string")
        .replace('/', "\\/");
    let before = super::tried_in_place();
    for _ in 0..64 {
        assert_eq!(parse_text(&PolicyText::encoded(&slashed)), expected);
    }
    let tried = super::tried_in_place() - before;
    assert!((8..=20).contains(&tried), "{tried}");
    // Documents it reads bring the trying back.
    let plain = serde_json::to_string(doc).expect("a string");
    for _ in 0..200 {
        assert_eq!(parse_text(&PolicyText::encoded(&plain)), expected);
    }
    let before = super::tried_in_place();
    for _ in 0..16 {
        assert_eq!(parse_text(&PolicyText::encoded(&plain)), expected);
    }
    assert_eq!(super::tried_in_place() - before, 16);
}

/// A policy read while its line is read (`read_in_literal`) lies inside a valid literal that
/// ends where the usual scan says, and is the policy `parse_text` reads from that literal:
/// checked on lines holding each statement in two layouts and on every one-character insertion
/// (the bytes an escape, a bare quote or a control byte would break) and deletion of them.
#[test]
fn a_policy_read_with_its_line_ends_its_literal_where_the_scan_does() {
    let (mut read, mut declined) = (0, 0);
    let mut check = |line: &str| {
        let start = "{\"policyText\":\"".len();
        let Some((policy, end)) = read_in_literal(line, start) else {
            declined += 1;
            return;
        };
        read += 1;
        let b = line.as_bytes();
        assert_eq!(
            crate::jsonscan::checked_string_end(b, start - 1),
            Some(end),
            "{line}"
        );
        let text = PolicyText::encoded(&line[start - 1..end]);
        assert_eq!(Ok(policy), parse_text(&text), "{line}");
    };
    for seed in STATEMENTS {
        for doc in [
            format!(r#"{{"Version":"2012-10-17","Statement":[{seed}]}}"#),
            format!("{{\n  \"Statement\" : [ {seed} ]\n}}\n"),
        ] {
            let line = format!(
                r#"{{"policyText":{},"repositoryName":"app"}}"#,
                serde_json::to_string(&doc).expect("a string")
            );
            check(&line);
            each_mutant(
                &line,
                &["\"", "\\", "\\\"", "\u{1}", "\\/", "\\n", " ", "}", "x"],
                &mut check,
            );
        }
    }
    assert!(read > 2000 && declined > 2000, "{read} {declined}");
}

//! The judgement, one test per rule of SPEC 4.1–4.6, with policies written as JSON text.

use super::*;
use crate::finding::{Code, StatementRef};
use crate::policy::parse;
use ActionState::{Allowed, Conditional, Denied, Missing};

const A: &str = "111122223333";
const ROOT: &str = "arn:aws:iam::111122223333:root";
const PULL: &str =
    r#"["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]"#;

fn puller() -> Puller {
    Puller {
        account: A.into(),
        partition: Partition::Aws,
        context: HashMap::new(),
    }
}

fn with_context(pairs: &[(&str, Option<&[&str]>)]) -> Puller {
    let mut p = puller();
    for (k, v) in pairs {
        let value = match v {
            None => ContextValue::Absent,
            Some(vs) => ContextValue::Values(vs.iter().map(|s| s.to_string()).collect()),
        };
        p.context.insert(k.to_ascii_lowercase(), value);
    }
    p
}

/// A 2012-10-17 policy of the given statements.
fn policy(statements: &[String]) -> String {
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#,
        statements.join(", ")
    )
}

/// An Allow of the pull actions to `principal` (JSON), with `extra` elements.
fn allow(principal: &str, extra: &str) -> String {
    format!(
        r#"{{"Sid": "Pull", "Effect": "Allow", "Principal": {principal}, "Action": {PULL}{extra}}}"#
    )
}

fn deny(principal: &str, extra: &str) -> String {
    format!(
        r#"{{"Sid": "Block", "Effect": "Deny", "Principal": {principal}, "Action": {PULL}{extra}}}"#
    )
}

/// Judges, and checks on every rule's test that the explanation agrees with the verdict.
fn run_with(text: &str, puller: &Puller, repo: &RepoId) -> Judgement {
    let p = parse(text).unwrap_or_else(|e| panic!("invalid test policy: {e:#?}"));
    let j = judge(&p, puller, repo);
    let trace = super::explain(&p, puller, repo);
    assert_eq!(trace.judgement, j, "explain disagrees with judge on {text}");
    explanation_is_consistent(&trace);
    j
}

/// Re-derives each action's state from the statement traces alone (SPEC 4.5) and checks that
/// it is the state the verdict gives: the trace shows everything the verdict rests on.
fn explanation_is_consistent(trace: &super::Trace) {
    use crate::policy::Effect;
    for (j, state) in trace.judgement.actions.iter().enumerate() {
        let on = |s: &super::StatementTrace| if s.required[j] { s.applies } else { Tri::False };
        let deny = |t| {
            trace
                .statements
                .iter()
                .any(|s| s.effect == Effect::Deny && on(s) == t)
        };
        let allow = |t| {
            trace
                .statements
                .iter()
                .any(|s| s.effect == Effect::Allow && on(s) == t)
        };
        let expected = if deny(Tri::True) {
            ActionState::Denied
        } else if !allow(Tri::True) && !allow(Tri::Unknown) {
            ActionState::Missing
        } else if !allow(Tri::True) || deny(Tri::Unknown) {
            ActionState::Conditional
        } else {
            ActionState::Allowed
        };
        assert_eq!(*state, expected, "action {j}");
        for s in &trace.statements {
            assert_eq!(s.condition, Tri::all(s.conditions.iter().map(|c| c.result)));
            assert_eq!(s.applies, s.principal.and(s.resource).and(s.condition));
        }
    }
}

#[test]
fn explain_names_each_condition_with_the_keys_known_value() {
    let text = policy(&[allow(
        r#"{"AWS": "111122223333"}"#,
        r#", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1", "aws:PrincipalAccount": "111122223333"}}"#,
    )]);
    let p = parse(&text).expect("policy");
    let t = super::explain(&p, &puller(), &RepoId::default());
    let s = &t.statements[0];
    assert_eq!(s.principal, Tri::True);
    assert_eq!(s.matched().count(), 3);
    let by_key = |k: &str| s.conditions.iter().find(|c| c.key == k).expect(k);
    assert_eq!(by_key("aws:PrincipalOrgID").known, "unknown");
    assert_eq!(by_key("aws:PrincipalOrgID").result, Tri::Unknown);
    assert_eq!(by_key("aws:PrincipalAccount").known, "\"111122223333\"");
    assert_eq!(by_key("aws:PrincipalAccount").result, Tri::True);
    assert_eq!(s.applies, Tri::Unknown);
}

fn run(text: &str) -> Judgement {
    run_with(text, &puller(), &RepoId::default())
}

fn codes(j: &Judgement) -> Vec<Code> {
    j.findings.iter().map(|f| f.code).collect()
}

fn finding(j: &Judgement, code: Code) -> &Finding {
    j.findings
        .iter()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("no {code} in {:#?}", j.findings))
}

fn at(index: usize, sid: &str) -> Option<StatementRef> {
    Some(StatementRef {
        index,
        sid: Some(sid.into()),
        registry_policy: false,
    })
}

const ALL: [ActionState; 3] = [Allowed; 3];

// ---- 4.1 the pulling principal ----

#[test]
fn documented_policy_allows_every_pull_action_without_findings() {
    let j = run(&policy(&[allow(&format!(r#"{{"AWS": ["{ROOT}"]}}"#), "")]));
    assert_eq!(j.actions, ALL);
    assert_eq!(j.findings, []);
}

#[test]
fn account_shorthand_covers_the_puller() {
    let j = run(&policy(&[allow(&format!(r#"{{"AWS": "{A}"}}"#), "")]));
    assert_eq!(j.actions, ALL);
    assert_eq!(j.findings, []);
}

#[test]
fn star_principal_covers_the_puller() {
    for p in [r#""*""#, r#"{"AWS": "*"}"#] {
        let j = run(&policy(&[allow(p, "")]));
        assert_eq!(j.actions, ALL, "{p}");
        assert_eq!(codes(&j), [Code::PublicAccess], "{p}");
    }
}

#[test]
fn root_arn_uses_the_pullers_partition() {
    let text = policy(&[allow(r#"{"AWS": "arn:aws-cn:iam::111122223333:root"}"#, "")]);
    assert_eq!(run(&text).actions, [Missing; 3]);
    let cn = Puller {
        partition: Partition::AwsCn,
        ..puller()
    };
    assert_eq!(run_with(&text, &cn, &RepoId::default()).actions, ALL);
}

#[test]
fn role_arn_in_allow_is_missing_with_principal_not_root() {
    let role = "arn:aws:iam::111122223333:role/gitpod";
    let j = run(&policy(&[allow(&format!(r#"{{"AWS": "{role}"}}"#), "")]));
    assert_eq!(j.actions, [Missing; 3]);
    assert_eq!(codes(&j), [Code::ActionNotGranted, Code::PrincipalNotRoot]);
    let f = finding(&j, Code::PrincipalNotRoot);
    assert_eq!(f.statement, at(0, "Pull"));
    assert!(
        f.message.contains(role) && f.message.contains(ROOT),
        "{}",
        f.message
    );
}

#[test]
fn user_and_session_arns_in_allow_are_missing_with_principal_not_root() {
    for arn in [
        "arn:aws:iam::111122223333:user/bob",
        "arn:aws:sts::111122223333:assumed-role/gitpod/session",
    ] {
        let j = run(&policy(&[allow(&format!(r#"{{"AWS": "{arn}"}}"#), "")]));
        assert_eq!(j.actions, [Missing; 3], "{arn}");
        assert!(codes(&j).contains(&Code::PrincipalNotRoot), "{arn}");
    }
}

#[test]
fn role_arn_in_deny_is_conditional() {
    let j = run(&policy(&[
        allow(&format!(r#"{{"AWS": "{A}"}}"#), ""),
        deny(r#"{"AWS": "arn:aws:iam::111122223333:role/ci"}"#, ""),
    ]));
    assert_eq!(j.actions, [Conditional; 3]);
    assert_eq!(codes(&j), [Code::ConditionalDeny]);
    let f = finding(&j, Code::ConditionalDeny);
    assert_eq!(f.statement, at(1, "Block"));
    assert!(
        f.message.contains("role is among its principals"),
        "{}",
        f.message
    );
}

#[test]
fn assumed_role_session_in_deny_is_conditional() {
    let j = run(&policy(&[
        allow(&format!(r#"{{"AWS": "{A}"}}"#), ""),
        deny(
            r#"{"AWS": "arn:aws:sts::111122223333:assumed-role/ci/x"}"#,
            "",
        ),
    ]));
    assert_eq!(j.actions, [Conditional; 3]);
}

#[test]
fn user_arn_in_deny_does_not_apply() {
    let j = run(&policy(&[
        allow(&format!(r#"{{"AWS": "{A}"}}"#), ""),
        deny(r#"{"AWS": "arn:aws:iam::111122223333:user/bob"}"#, ""),
    ]));
    assert_eq!(j.actions, ALL);
    assert_eq!(j.findings, []);
}

#[test]
fn account_in_deny_denies() {
    let j = run(&policy(&[
        allow(
            r#""*""#,
            r#", "Condition": {"StringEquals": {"aws:PrincipalAccount": "111122223333"}}"#,
        ),
        deny(&format!(r#"{{"AWS": "{ROOT}"}}"#), ""),
    ]));
    assert_eq!(j.actions, [Denied; 3]);
}

#[test]
fn other_accounts_and_non_aws_principals_never_cover() {
    for p in [
        r#"{"AWS": "444455556666"}"#,
        r#"{"AWS": "arn:aws:iam::444455556666:root"}"#,
        r#"{"Service": "codebuild.amazonaws.com"}"#,
        r#"{"Federated": "cognito-identity.amazonaws.com"}"#,
        r#"{"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}"#,
        r#"{"AWS": "AIDACKCEVSQ6C2EXAMPLE"}"#,
    ] {
        let j = run(&policy(&[allow(p, "")]));
        assert_eq!(j.actions, [Missing; 3], "{p}");
        assert_eq!(codes(&j), [Code::ActionNotGranted], "{p}");
    }
}

#[test]
fn not_principal_deny_listing_only_account_applies() {
    let j = run(&policy(&[
        allow(&format!(r#"{{"AWS": "{A}"}}"#), ""),
        deny(&format!(r#"{{"AWS": "{ROOT}"}}"#), "").replace("\"Principal\"", "\"NotPrincipal\""),
    ]));
    assert_eq!(j.actions, [Denied; 3]);
    assert_eq!(finding(&j, Code::ActionDenied).statement, at(1, "Block"));
}

#[test]
fn not_principal_deny_with_account_and_role_is_conditional() {
    let listed = format!(r#"{{"AWS": ["{ROOT}", "arn:aws:iam::111122223333:role/gitpod"]}}"#);
    let j = run(&policy(&[
        allow(&format!(r#"{{"AWS": "{A}"}}"#), ""),
        deny(&listed, "").replace("\"Principal\"", "\"NotPrincipal\""),
    ]));
    assert_eq!(j.actions, [Conditional; 3]);
    assert_eq!(codes(&j), [Code::ConditionalDeny]);
}

#[test]
fn not_principal_deny_not_listing_the_account_applies() {
    let j = run(&policy(&[
        allow(&format!(r#"{{"AWS": "{A}"}}"#), ""),
        deny(r#"{"AWS": "444455556666"}"#, "").replace("\"Principal\"", "\"NotPrincipal\""),
    ]));
    assert_eq!(j.actions, [Denied; 3]);
}

// ---- 4.2 actions ----

fn allow_actions(actions: &str) -> String {
    policy(&[format!(
        r#"{{"Sid": "Pull", "Effect": "Allow", "Principal": {{"AWS": "{A}"}}, "Action": {actions}}}"#
    )])
}

#[test]
fn action_match_is_case_insensitive() {
    let j = run(&allow_actions(
        r#"["ECR:batchcheckLAYERavailability", "ecr:batchgetimage", "Ecr:GetDownloadUrlForLayer"]"#,
    ));
    assert_eq!(j.actions, ALL);
    assert_eq!(j.findings, []);
}

#[test]
fn star_matches_any_run_of_characters() {
    let j = run(&allow_actions(r#"["ecr:Batch*", "ecr:*Layer"]"#));
    assert_eq!(j.actions, ALL);
    assert_eq!(
        codes(&j),
        [Code::ExcessAccess],
        "ecr:*Layer also grants upload actions"
    );
}

#[test]
fn question_mark_matches_one_character() {
    let j = run(&allow_actions(
        r#"["ecr:BatchCheckLayerAvailabilit?", "ecr:BatchGet?mage", "ecr:GetDownloadUrlForLayer?"]"#,
    ));
    assert_eq!(j.actions, [Allowed, Allowed, Missing]);
    assert_eq!(codes(&j), [Code::ActionNotGranted, Code::UnknownAction]);
}

#[test]
fn not_action_in_allow_grants_pull() {
    let text = policy(&[format!(
        r#"{{"Sid": "Pull", "Effect": "Allow", "Principal": {{"AWS": "{A}"}}, "NotAction": ["ecr:Put*", "ecr:Delete*"]}}"#
    )]);
    let j = run(&text);
    assert_eq!(j.actions, ALL);
    // Everything but Put* and Delete* is still far more than pulling needs.
    assert_eq!(codes(&j), [Code::ExcessAccess]);
}

#[test]
fn not_action_listing_a_pull_action_leaves_it_missing() {
    let text = policy(&[format!(
        r#"{{"Effect": "Allow", "Principal": {{"AWS": "{A}"}}, "NotAction": "ecr:BatchGetImage"}}"#
    )]);
    assert_eq!(run(&text).actions, [Allowed, Missing, Allowed]);
}

// ---- 4.3 resources ----

fn repo(registry: Option<&str>, region: Option<&str>, name: Option<&str>) -> RepoId {
    RepoId {
        registry: registry.map(Into::into),
        region: region.map(Into::into),
        repository: name.map(Into::into),
        arn: None,
        name_from_path: false,
    }
}

fn with_resource(element: &str, value: &str) -> String {
    policy(&[allow(
        &format!(r#"{{"AWS": "{A}"}}"#),
        &format!(r#", "{element}": "{value}""#),
    )])
}

#[test]
fn absent_resource_applies() {
    assert_eq!(
        run(&policy(&[allow(&format!(r#"{{"AWS": "{A}"}}"#), "")])).actions,
        ALL
    );
}

#[test]
fn star_resource_applies_with_resource_element_note() {
    let j = run(&with_resource("Resource", "*"));
    assert_eq!(j.actions, ALL);
    assert_eq!(codes(&j), [Code::ResourceElement]);
    let f = finding(&j, Code::ResourceElement);
    assert_eq!(f.statement, at(0, "Pull"));
    assert!(f.message.contains("Resource element"), "{}", f.message);
}

#[test]
fn pattern_matching_any_repository_applies_whatever_is_unknown() {
    let j = run(&with_resource("Resource", "arn:aws:ecr:*:*:repository/*"));
    assert_eq!(j.actions, ALL);
}

#[test]
fn resource_pattern_for_other_account_does_not_apply() {
    let text = with_resource(
        "Resource",
        "arn:aws:ecr:us-east-1:444455556666:repository/app",
    );
    let r = repo(Some(A), None, Some("app"));
    let j = run_with(&text, &puller(), &r);
    assert_eq!(j.actions, [Missing; 3]);
}

#[test]
fn resource_pattern_for_other_service_or_name_does_not_apply() {
    let r = repo(Some(A), Some("us-east-1"), Some("app"));
    for pat in [
        "arn:aws:s3:::bucket/*",
        "arn:aws:ecr:us-east-1:111122223333:repository/other",
        "arn:aws:ecr:*:*:repository",
    ] {
        let j = run_with(&with_resource("Resource", pat), &puller(), &r);
        assert_eq!(j.actions, [Missing; 3], "{pat}");
    }
}

#[test]
fn unknown_region_resource_is_conditional() {
    let text = with_resource(
        "Resource",
        "arn:aws:ecr:us-east-1:111122223333:repository/app",
    );
    let r = repo(Some(A), None, Some("app"));
    let j = run_with(&text, &puller(), &r);
    assert_eq!(j.actions, [Conditional; 3]);
    let f = finding(&j, Code::ConditionalAllow);
    assert!(f.message.contains("resource pattern"), "{}", f.message);
    // Known region: decided.
    let r = repo(Some(A), Some("us-east-1"), Some("app"));
    assert_eq!(run_with(&text, &puller(), &r).actions, ALL);
}

#[test]
fn bare_document_resource_naming_a_repository_is_conditional() {
    let text = with_resource(
        "Resource",
        "arn:aws:ecr:us-east-1:111122223333:repository/app",
    );
    assert_eq!(run(&text).actions, [Conditional; 3]);
    // A path-derived label is not the repository's name.
    let mut r = repo(Some(A), Some("us-east-1"), Some("app"));
    r.name_from_path = true;
    assert_eq!(run_with(&text, &puller(), &r).actions, [Conditional; 3]);
}

#[test]
fn repository_arn_from_the_input_decides_every_part() {
    let text = with_resource(
        "Resource",
        "arn:aws:ecr:eu-west-1:111122223333:repository/team/*",
    );
    let r = RepoId {
        arn: Some("arn:aws:ecr:eu-west-1:111122223333:repository/team/app".into()),
        ..RepoId::default()
    };
    assert_eq!(run_with(&text, &puller(), &r).actions, ALL);
}

#[test]
fn not_resource_mirrors_resource() {
    let r = repo(Some(A), Some("us-east-1"), Some("app"));
    let other = with_resource("NotResource", "arn:aws:ecr:*:*:repository/other");
    assert_eq!(run_with(&other, &puller(), &r).actions, ALL);
    let this = with_resource("NotResource", "arn:aws:ecr:*:*:repository/app");
    assert_eq!(run_with(&this, &puller(), &r).actions, [Missing; 3]);
    let unknown_name = with_resource("NotResource", "arn:aws:ecr:*:*:repository/app");
    let j = run(&unknown_name);
    assert_eq!(j.actions, [Conditional; 3]);
    assert!(codes(&j).contains(&Code::ResourceElement));
}

// ---- 4.4 conditions ----

/// The condition block of a one-statement policy, evaluated for `puller`.
fn cond(block: &str, puller: &Puller) -> Tri {
    let text = policy(&[allow(r#""*""#, &format!(r#", "Condition": {block}"#))]);
    let p = parse(&text).unwrap_or_else(|e| panic!("invalid test condition: {e:#?}"));
    condition::block(p.statements()[0].conditions(), puller)
}

fn c(block: &str) -> Tri {
    cond(block, &puller())
}

#[test]
fn absent_key_under_plain_operator_is_false() {
    assert_eq!(
        c(r#"{"StringEquals": {"aws:SourceAccount": "111122223333"}}"#),
        Tri::False
    );
    assert_eq!(c(r#"{"ArnLike": {"aws:SourceArn": "*"}}"#), Tri::False);
}

#[test]
fn absent_key_under_negated_operator_is_true() {
    assert_eq!(
        c(r#"{"StringNotEquals": {"aws:SourceAccount": "444455556666"}}"#),
        Tri::True
    );
    assert_eq!(
        c(r#"{"ArnNotLike": {"aws:SourceArn": "arn:*"}}"#),
        Tri::True
    );
}

#[test]
fn if_exists_is_true_on_absent_key() {
    assert_eq!(
        c(r#"{"StringEqualsIfExists": {"aws:SourceAccount": "x"}}"#),
        Tri::True
    );
    // On a present key IfExists changes nothing.
    assert_eq!(
        c(r#"{"StringEqualsIfExists": {"aws:PrincipalAccount": "444455556666"}}"#),
        Tri::False
    );
}

#[test]
fn null_operator_tests_absence() {
    assert_eq!(c(r#"{"Null": {"aws:SourceArn": "true"}}"#), Tri::True);
    assert_eq!(c(r#"{"Null": {"aws:SourceArn": "false"}}"#), Tri::False);
    assert_eq!(
        c(r#"{"Null": {"aws:PrincipalAccount": "true"}}"#),
        Tri::False
    );
    assert_eq!(c(r#"{"Null": {"aws:PrincipalAccount": false}}"#), Tri::True);
    assert_eq!(c(r#"{"Null": {"aws:SourceVpce": "true"}}"#), Tri::Unknown);
}

#[test]
fn for_any_value_absent_is_false() {
    assert_eq!(
        c(r#"{"ForAnyValue:StringEquals": {"aws:CalledVia": "x"}}"#),
        Tri::False
    );
    // IfExists does not rescue ForAnyValue: with no request value, none can match.
    assert_eq!(
        c(r#"{"ForAnyValue:StringEqualsIfExists": {"aws:SourceAccount": "444455556666"}}"#),
        Tri::False
    );
    // Without a set qualifier, IfExists makes the absent key true.
    assert_eq!(
        c(r#"{"StringEqualsIfExists": {"aws:SourceAccount": "444455556666"}}"#),
        Tri::True
    );
}

#[test]
fn for_all_values_absent_is_true() {
    assert_eq!(
        c(r#"{"ForAllValues:StringEquals": {"aws:CalledVia": "x"}}"#),
        Tri::True
    );
}

#[test]
fn known_facts_about_the_puller_decide() {
    assert_eq!(
        c(r#"{"StringEquals": {"aws:PrincipalAccount": "111122223333"}}"#),
        Tri::True
    );
    assert_eq!(
        c(r#"{"StringEquals": {"aws:PrincipalAccount": "444455556666"}}"#),
        Tri::False
    );
    assert_eq!(
        c(r#"{"StringEquals": {"aws:PrincipalType": "AssumedRole"}}"#),
        Tri::True
    );
    assert_eq!(
        c(r#"{"Bool": {"aws:PrincipalIsAWSService": "false"}}"#),
        Tri::True
    );
    assert_eq!(c(r#"{"Bool": {"aws:ViaAWSService": true}}"#), Tri::False);
    assert_eq!(c(r#"{"Bool": {"aws:SecureTransport": "true"}}"#), Tri::True);
    assert_eq!(
        c(r#"{"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}"#),
        Tri::Unknown
    );
}

#[test]
fn condition_keys_are_case_insensitive() {
    assert_eq!(
        c(r#"{"StringEquals": {"AWS:principalaccount": "111122223333"}}"#),
        Tri::True
    );
    let p = with_context(&[("aws:SourceVpce", Some(&["vpce-1"]))]);
    assert_eq!(
        cond(r#"{"StringEquals": {"AWS:SOURCEVPCE": "vpce-1"}}"#, &p),
        Tri::True
    );
}

#[test]
fn principal_arn_against_root_arn_is_false() {
    assert_eq!(
        c(&format!(
            r#"{{"ArnEquals": {{"aws:PrincipalArn": "{ROOT}"}}}}"#
        )),
        Tri::False
    );
    assert_eq!(
        c(&format!(
            r#"{{"StringEquals": {{"aws:PrincipalArn": "{ROOT}"}}}}"#
        )),
        Tri::False
    );
    assert_eq!(
        c(r#"{"StringLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/*"}}"#),
        Tri::False
    );
    assert_eq!(
        c(r#"{"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::444455556666:role/*"}}"#),
        Tri::False
    );
}

#[test]
fn principal_arn_matching_every_role_of_the_account_is_true() {
    assert_eq!(
        c(r#"{"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}}"#),
        Tri::True
    );
    assert_eq!(
        c(r#"{"StringLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:*"}}"#),
        Tri::True
    );
    assert_eq!(
        c(r#"{"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}"#),
        Tri::True
    );
}

#[test]
fn principal_arn_naming_some_roles_is_unknown() {
    assert_eq!(
        c(r#"{"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/gitpod-*"}}"#),
        Tri::Unknown
    );
    assert_eq!(
        c(r#"{"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/gitpod"}}"#),
        Tri::Unknown
    );
    assert_eq!(
        c(r#"{"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/gitpod-*"}}"#),
        Tri::Unknown
    );
    assert_eq!(
        c(r#"{"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}}"#),
        Tri::False
    );
}

#[test]
fn principal_arn_literal_that_is_no_role_name_is_false() {
    // StringEquals compares literally: `role/*` names no role (role names have no `*`), so it
    // is certainly not Gitpod's role, and StringNotEquals certainly true.
    for (op, want) in [
        ("StringEquals", Tri::False),
        ("StringEqualsIgnoreCase", Tri::False),
        ("StringNotEquals", Tri::True),
    ] {
        let block =
            format!(r#"{{"{op}": {{"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}}}}"#);
        assert_eq!(c(&block), want, "{op}");
    }
    // A real role name, with or without a path, stays unknown.
    assert_eq!(
        c(
            r#"{"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/ci/gitpod_puller"}}"#
        ),
        Tri::Unknown
    );
    assert_eq!(
        c(r#"{"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/"}}"#),
        Tri::False
    );
}

#[test]
fn context_turns_unknown_into_decision() {
    let block = r#"{"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}"#;
    assert_eq!(c(block), Tri::Unknown);
    assert_eq!(
        cond(
            block,
            &with_context(&[("aws:PrincipalOrgID", Some(&["o-abc"]))])
        ),
        Tri::True
    );
    assert_eq!(
        cond(
            block,
            &with_context(&[("aws:PrincipalOrgID", Some(&["o-xyz"]))])
        ),
        Tri::False
    );
    // KEY= makes the key absent.
    assert_eq!(
        cond(block, &with_context(&[("aws:PrincipalOrgID", None)])),
        Tri::False
    );
    // Context overrides the built-in table too.
    let arn = with_context(&[(
        "aws:PrincipalArn",
        Some(&["arn:aws:iam::111122223333:role/gitpod-x"]),
    )]);
    assert_eq!(
        cond(
            r#"{"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/gitpod-*"}}"#,
            &arn
        ),
        Tri::True
    );
}

#[test]
fn context_decides_the_per_action_state() {
    let text = policy(&[allow(
        r#""*""#,
        r#", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}"#,
    )]);
    let j = run(&text);
    assert_eq!(j.actions, [Conditional; 3]);
    let f = finding(&j, Code::ConditionalAllow);
    assert!(
        f.message.contains("aws:PrincipalOrgID") && f.message.contains("ecr:BatchGetImage"),
        "{}",
        f.message
    );
    let known = with_context(&[("aws:PrincipalOrgID", Some(&["o-abc"]))]);
    let j = run_with(&text, &known, &RepoId::default());
    assert_eq!(j.actions, ALL);
    assert_eq!(j.findings, []);
}

#[test]
fn values_of_one_key_are_ored_and_keys_anded() {
    assert_eq!(
        c(r#"{"StringEquals": {"aws:PrincipalAccount": ["444455556666", "111122223333"]}}"#),
        Tri::True
    );
    assert_eq!(
        c(
            r#"{"StringEquals": {"aws:PrincipalAccount": "111122223333", "aws:PrincipalType": "User"}}"#
        ),
        Tri::False
    );
    assert_eq!(
        c(
            r#"{"StringEquals": {"aws:PrincipalAccount": "111122223333"}, "Bool": {"aws:SecureTransport": "false"}}"#
        ),
        Tri::False
    );
}

#[test]
fn negated_operator_requires_the_value_to_match_none() {
    assert_eq!(
        c(r#"{"StringNotEquals": {"aws:PrincipalAccount": ["444455556666", "111122223333"]}}"#),
        Tri::False
    );
    assert_eq!(
        c(r#"{"StringNotEquals": {"aws:PrincipalAccount": ["444455556666", "555566667777"]}}"#),
        Tri::True
    );
}

#[test]
fn unknown_combines_as_kleene_logic() {
    // false AND unknown = false
    assert_eq!(
        c(
            r#"{"StringEquals": {"aws:PrincipalAccount": "444455556666", "aws:PrincipalOrgID": "o-1"}}"#
        ),
        Tri::False
    );
    // true AND unknown = unknown
    assert_eq!(
        c(
            r#"{"StringEquals": {"aws:PrincipalAccount": "111122223333", "aws:PrincipalOrgID": "o-1"}}"#
        ),
        Tri::Unknown
    );
}

#[test]
fn multi_valued_context_uses_set_qualifiers() {
    let p = with_context(&[("aws:TagKeys", Some(&["team", "env"]))]);
    assert_eq!(
        cond(
            r#"{"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env", "x"]}}"#,
            &p
        ),
        Tri::True
    );
    assert_eq!(
        cond(
            r#"{"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}"#,
            &p
        ),
        Tri::False
    );
    assert_eq!(
        cond(
            r#"{"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}"#,
            &p
        ),
        Tri::True
    );
    assert_eq!(
        cond(
            r#"{"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env"]}}"#,
            &p
        ),
        Tri::True
    );
    assert_eq!(
        cond(
            r#"{"ForAllValues:StringNotEquals": {"aws:TagKeys": ["env"]}}"#,
            &p
        ),
        Tri::False
    );
}

fn ctx1(key: &str, value: &str) -> Puller {
    with_context(&[(key, Some(&[value]))])
}

#[test]
fn string_operators_compare_exactly_ignoring_case_or_with_wildcards() {
    let p = ctx1("k", "Team-App");
    assert_eq!(
        cond(r#"{"StringEquals": {"k": "team-app"}}"#, &p),
        Tri::False
    );
    assert_eq!(
        cond(r#"{"StringEqualsIgnoreCase": {"k": "team-app"}}"#, &p),
        Tri::True
    );
    assert_eq!(
        cond(r#"{"StringNotEqualsIgnoreCase": {"k": "TEAM-APP"}}"#, &p),
        Tri::False
    );
    assert_eq!(cond(r#"{"StringLike": {"k": "Team-*"}}"#, &p), Tri::True);
    assert_eq!(cond(r#"{"StringLike": {"k": "Team-??p"}}"#, &p), Tri::True);
    assert_eq!(cond(r#"{"StringNotLike": {"k": "team-*"}}"#, &p), Tri::True);
}

#[test]
fn numeric_operators_compare_numbers() {
    let p = ctx1("n", "10");
    assert_eq!(cond(r#"{"NumericEquals": {"n": 10}}"#, &p), Tri::True);
    assert_eq!(cond(r#"{"NumericEquals": {"n": "10.0"}}"#, &p), Tri::True);
    assert_eq!(cond(r#"{"NumericNotEquals": {"n": 10}}"#, &p), Tri::False);
    assert_eq!(cond(r#"{"NumericLessThan": {"n": 11}}"#, &p), Tri::True);
    assert_eq!(
        cond(r#"{"NumericLessThanEquals": {"n": 10}}"#, &p),
        Tri::True
    );
    assert_eq!(cond(r#"{"NumericGreaterThan": {"n": 10}}"#, &p), Tri::False);
    assert_eq!(
        cond(r#"{"NumericGreaterThanEquals": {"n": 9.5}}"#, &p),
        Tri::True
    );
}

#[test]
fn unparsable_value_makes_the_comparison_false() {
    assert_eq!(
        cond(r#"{"NumericEquals": {"n": "ten"}}"#, &ctx1("n", "10")),
        Tri::False
    );
    assert_eq!(
        cond(r#"{"NumericEquals": {"n": "10"}}"#, &ctx1("n", "ten")),
        Tri::False
    );
    assert_eq!(
        cond(
            r#"{"DateLessThan": {"d": "soon"}}"#,
            &ctx1("d", "2020-01-01T00:00:00Z")
        ),
        Tri::False
    );
    assert_eq!(
        cond(
            r#"{"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}"#,
            &ctx1("aws:SourceIp", "nope")
        ),
        Tri::False
    );
    assert_eq!(
        cond(r#"{"Bool": {"b": "yes"}}"#, &ctx1("b", "true")),
        Tri::False
    );
    // A numeric operator on the puller's role ARN: not a number.
    assert_eq!(
        c(r#"{"NumericEquals": {"aws:PrincipalArn": "1"}}"#),
        Tri::False
    );
}

#[test]
fn date_operators_read_iso_8601_and_epoch_seconds() {
    let p = ctx1("aws:CurrentTime", "2024-06-01T12:00:00Z");
    assert_eq!(
        cond(
            r#"{"DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}}"#,
            &p
        ),
        Tri::True
    );
    assert_eq!(
        cond(r#"{"DateLessThan": {"aws:CurrentTime": 1704067200}}"#, &p),
        Tri::False
    );
    assert_eq!(
        cond(
            r#"{"DateEquals": {"aws:CurrentTime": "2024-06-01T14:00:00+02:00"}}"#,
            &p
        ),
        Tri::True
    );
    assert_eq!(
        cond(
            r#"{"DateNotEquals": {"aws:CurrentTime": "2024-06-01"}}"#,
            &p
        ),
        Tri::True
    );
    assert_eq!(
        cond(
            r#"{"DateLessThanEquals": {"aws:CurrentTime": "1717243200"}}"#,
            &p
        ),
        Tri::True
    );
    assert_eq!(
        cond(
            r#"{"DateGreaterThanEquals": {"aws:CurrentTime": "2025-01-01"}}"#,
            &p
        ),
        Tri::False
    );
}

#[test]
fn bool_and_binary_operators() {
    assert_eq!(
        cond(r#"{"Bool": {"b": "TRUE"}}"#, &ctx1("b", "true")),
        Tri::True
    );
    assert_eq!(
        cond(
            r#"{"BinaryEquals": {"k": "QmluYXJ5"}}"#,
            &ctx1("k", "QmluYXJ5")
        ),
        Tri::True
    );
    assert_eq!(
        cond(
            r#"{"BinaryEquals": {"k": "QmluYXJ5"}}"#,
            &ctx1("k", "qmluyxj5")
        ),
        Tri::False
    );
}

#[test]
fn ip_address_operators_match_cidr_ranges() {
    let p = ctx1("aws:SourceIp", "10.1.2.3");
    assert_eq!(
        cond(
            r#"{"IpAddress": {"aws:SourceIp": ["192.168.0.0/16", "10.0.0.0/8"]}}"#,
            &p
        ),
        Tri::True
    );
    assert_eq!(
        cond(r#"{"IpAddress": {"aws:SourceIp": "10.1.2.3"}}"#, &p),
        Tri::True
    );
    assert_eq!(
        cond(r#"{"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}"#, &p),
        Tri::False
    );
    assert_eq!(
        cond(r#"{"NotIpAddress": {"aws:SourceIp": "172.16.0.0/12"}}"#, &p),
        Tri::True
    );
    let v6 = ctx1("aws:SourceIp", "2001:db8::1");
    assert_eq!(
        cond(r#"{"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}"#, &v6),
        Tri::True
    );
    assert_eq!(
        c(r#"{"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}"#),
        Tri::Unknown
    );
}

#[test]
fn arn_operators_match_part_by_part() {
    let p = ctx1(
        "aws:SourceArn",
        "arn:aws:codebuild:us-east-1:111122223333:project/x",
    );
    assert_eq!(
        cond(
            r#"{"ArnLike": {"aws:SourceArn": "arn:aws:codebuild:*:111122223333:*"}}"#,
            &p
        ),
        Tri::True
    );
    assert_eq!(
        cond(
            r#"{"ArnEquals": {"aws:SourceArn": "arn:aws:codebuild:us-east-1:111122223333:project/x"}}"#,
            &p
        ),
        Tri::True
    );
    // A wildcard does not cross a colon.
    assert_eq!(
        cond(r#"{"ArnLike": {"aws:SourceArn": "arn:aws:*"}}"#, &p),
        Tri::False
    );
    assert_eq!(
        cond(
            r#"{"ArnNotEquals": {"aws:SourceArn": "arn:aws:s3:::b"}}"#,
            &p
        ),
        Tri::True
    );
    assert_eq!(
        cond(
            r#"{"ArnLike": {"aws:SourceArn": "arn:aws:*"}}"#,
            &ctx1("aws:SourceArn", "not-an-arn")
        ),
        Tri::False
    );
}

// ---- 4.5 per-action states ----

#[test]
fn deny_takes_precedence_over_allow() {
    let j = run(&policy(&[
        allow(&format!(r#"{{"AWS": "{A}"}}"#), ""),
        r#"{"Sid": "NoLayers", "Effect": "Deny", "Principal": "*", "Action": "ecr:GetDownloadUrlForLayer"}"#.to_string(),
    ]));
    assert_eq!(j.actions, [Allowed, Allowed, Denied]);
    let f = finding(&j, Code::ActionDenied);
    assert_eq!(f.statement, at(1, "NoLayers"));
    assert!(
        f.message.contains("ecr:GetDownloadUrlForLayer") && f.message.contains(A),
        "{}",
        f.message
    );
}

#[test]
fn missing_when_no_allow_can_apply() {
    let j = run(&policy(&[allow(
        &format!(r#"{{"AWS": "{A}"}}"#),
        r#", "Condition": {"StringEquals": {"aws:SourceAccount": "1"}}"#,
    )]));
    assert_eq!(j.actions, [Missing; 3]);
}

#[test]
fn conditional_deny_makes_an_allowed_action_conditional() {
    let j = run(&policy(&[
        allow(&format!(r#"{{"AWS": "{A}"}}"#), ""),
        deny(
            r#""*""#,
            r#", "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}"#,
        ),
    ]));
    assert_eq!(j.actions, [Conditional; 3]);
    assert_eq!(codes(&j), [Code::ConditionalDeny]);
    let f = finding(&j, Code::ConditionalDeny);
    assert_eq!(f.statement, at(1, "Block"));
    assert!(
        f.message.contains("aws:SourceVpce") && f.message.contains("statement 1"),
        "{}",
        f.message
    );
}

#[test]
fn certain_allow_beside_conditional_allow_is_allowed() {
    let j = run(&policy(&[
        allow(
            r#""*""#,
            r#", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}"#,
        ),
        allow(&format!(r#"{{"AWS": "{A}"}}"#), ""),
    ]));
    assert_eq!(j.actions, ALL);
    assert_eq!(j.findings, []);
}

// ---- 4.6 findings ----

#[test]
fn action_not_granted_names_the_missing_actions_and_the_fix() {
    let j = run(&allow_actions(r#""ecr:BatchGetImage""#));
    assert_eq!(j.actions, [Missing, Allowed, Missing]);
    let f = finding(&j, Code::ActionNotGranted);
    assert_eq!(f.statement, None);
    assert!(
        f.message
            .contains("ecr:BatchCheckLayerAvailability and ecr:GetDownloadUrlForLayer")
            && !f.message.contains("ecr:BatchGetImage,")
            && f.message.contains(ROOT),
        "{}",
        f.message
    );
}

#[test]
fn public_access_without_a_narrowing_condition() {
    let j = run(&policy(&[allow(r#"{"AWS": "*"}"#, "")]));
    let f = finding(&j, Code::PublicAccess);
    assert_eq!(f.statement, at(0, "Pull"));
    assert!(f.message.contains("every AWS principal"), "{}", f.message);
}

#[test]
fn public_access_is_quiet_with_a_plain_operator_on_a_narrowing_key() {
    for block in [
        r#"{"StringEquals": {"aws:PrincipalOrgID": "o-1"}}"#,
        r#"{"StringEquals": {"AWS:PrincipalAccount": "111122223333"}}"#,
        r#"{"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}}"#,
        r#"{"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-1/*"}}"#,
        r#"{"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}"#,
    ] {
        let j = run(&policy(&[allow(
            r#""*""#,
            &format!(r#", "Condition": {block}"#),
        )]));
        assert!(!codes(&j).contains(&Code::PublicAccess), "{block}");
    }
}

#[test]
fn public_access_is_raised_with_negated_or_if_exists_conditions() {
    for block in [
        r#"{"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}}"#,
        r#"{"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}"#,
        r#"{"StringEquals": {"aws:PrincipalTag/team": "a"}}"#,
        r#"{"Null": {"aws:PrincipalOrgID": "false"}}"#,
        // Twelve `?` fit every account id: they exclude no one.
        r#"{"StringLike": {"aws:PrincipalAccount": "????????????"}}"#,
        r#"{"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::????????????:*"}}"#,
    ] {
        let j = run(&policy(&[allow(
            r#""*""#,
            &format!(r#", "Condition": {block}"#),
        )]));
        assert!(codes(&j).contains(&Code::PublicAccess), "{block}");
    }
}

#[test]
fn excess_access_names_write_actions_shortened() {
    let j = run(&allow_actions(r#""ecr:*""#));
    assert_eq!(j.actions, ALL);
    assert_eq!(codes(&j), [Code::ExcessAccess]);
    let f = finding(&j, Code::ExcessAccess);
    assert_eq!(f.statement, at(0, "Pull"));
    assert!(
        f.message.contains("35 actions")
            && f.message.contains("ecr:BatchDeleteImage")
            && f.message.contains("31 more"),
        "{}",
        f.message
    );
}

#[test]
fn excess_access_counts_permissions_management_and_tagging() {
    let j = run(&allow_actions(
        r#"["ecr:SetRepositoryPolicy", "ecr:TagResource", "ecr:DescribeImages"]"#,
    ));
    let f = finding(&j, Code::ExcessAccess);
    assert!(
        f.message.contains("2 actions")
            && f.message
                .contains("ecr:SetRepositoryPolicy and ecr:TagResource"),
        "{}",
        f.message
    );
}

#[test]
fn excess_access_via_a_principal_inside_the_account_or_a_condition() {
    let text = policy(&[r#"{"Sid": "Push", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/ci"}, "Action": "ecr:PutImage"}"#.to_string()]);
    let f = run(&text)
        .findings
        .into_iter()
        .find(|f| f.code == Code::ExcessAccess);
    assert!(f.is_some_and(
        |f| f.message.contains("possibly grants") && f.message.contains("ecr:PutImage")
    ));
    let text = policy(&[r#"{"Sid": "Push", "Effect": "Allow", "Principal": "*", "Action": "ecr:PutImage", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}"#.to_string()]);
    assert!(codes(&run(&text)).contains(&Code::ExcessAccess));
}

#[test]
fn excess_access_to_a_principal_named_by_condition_counts_for_the_account() {
    // Gitpod's role session fails the condition, but a user of the account is granted the push:
    // the account is granted more than pulling, however the principal is written.
    for cond in [
        r#"{"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/ci"}}"#,
        r#"{"StringEquals": {"aws:PrincipalType": "User"}}"#,
    ] {
        let text = policy(&[format!(
            r#"{{"Sid": "Push", "Effect": "Allow", "Principal": {{"AWS": "{A}"}}, "Action": "ecr:PutImage", "Condition": {cond}}}"#
        )]);
        let j = run(&text);
        let f = finding(&j, Code::ExcessAccess);
        assert!(f.message.contains("ecr:PutImage"), "{}", f.message);
    }
    // A condition the whole account fails still rules the grant out.
    let text = policy(&[format!(
        r#"{{"Effect": "Allow", "Principal": {{"AWS": "{A}"}}, "Action": "ecr:PutImage", "Condition": {{"StringEquals": {{"aws:PrincipalAccount": "444455556666"}}}}}}"#
    )]);
    assert!(!codes(&run(&text)).contains(&Code::ExcessAccess));
}

#[test]
fn excess_access_not_for_other_accounts_or_denied_actions() {
    let text = policy(&[
        r#"{"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "ecr:PutImage"}"#
            .to_string(),
    ]);
    assert!(!codes(&run(&text)).contains(&Code::ExcessAccess));
    let text = policy(&[
        allow(&format!(r#"{{"AWS": "{A}"}}"#), "").replace(PULL, r#"["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:PutImage"]"#),
        r#"{"Effect": "Deny", "Principal": "*", "Action": "ecr:PutImage"}"#.to_string(),
    ]);
    let j = run(&text);
    assert_eq!(j.actions, ALL);
    assert!(!codes(&j).contains(&Code::ExcessAccess));
}

#[test]
fn unknown_action_suggests_the_nearest_catalog_name() {
    let j = run(&allow_actions(
        r#"["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImages", "ecr:GetDownloadUrlForLayer"]"#,
    ));
    assert_eq!(j.actions, [Allowed, Missing, Allowed]);
    let f = finding(&j, Code::UnknownAction);
    assert_eq!(f.statement, at(0, "Pull"));
    assert!(
        f.message.contains(
            r#""ecr:BatchGetImages" names no ECR action (did you mean "ecr:BatchGetImage"?)"#
        ),
        "{}",
        f.message
    );
}

#[test]
fn unknown_action_of_another_service_or_matching_nothing() {
    let j = run(&allow_actions(
        r#"["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "s3:GetObject", "ecr:Frobnicate*", "*", "ecr:*Image"]"#,
    ));
    let unknown: Vec<&Finding> = j
        .findings
        .iter()
        .filter(|f| f.code == Code::UnknownAction)
        .collect();
    assert_eq!(unknown.len(), 1, "one finding per statement");
    let m = &unknown[0].message;
    assert!(
        m.contains(r#""s3:GetObject" is not of the ecr: service"#),
        "{m}"
    );
    assert!(
        m.contains(r#""ecr:Frobnicate*" names no ECR action"#),
        "{m}"
    );
    assert!(!m.contains(r#""*""#) && !m.contains("*Image"), "{m}");
    // A missing service prefix is pointed at the ECR action it names.
    let j = run(&allow_actions(r#""BatchGetImage""#));
    assert!(
        finding(&j, Code::UnknownAction)
            .message
            .contains(r#"did you mean "ecr:BatchGetImage"?"#)
    );
}

#[test]
fn legacy_version_when_missing_or_2008() {
    let body = allow(&format!(r#"{{"AWS": "{A}"}}"#), "");
    for (text, needle) in [
        (format!(r#"{{"Statement": [{body}]}}"#), "no Version"),
        (
            format!(r#"{{"Version": "2008-10-17", "Statement": [{body}]}}"#),
            "2008-10-17",
        ),
    ] {
        let j = run(&text);
        assert_eq!(j.actions, ALL);
        assert_eq!(codes(&j), [Code::LegacyVersion]);
        let f = finding(&j, Code::LegacyVersion);
        assert!(
            f.statement.is_none() && f.message.contains(needle) && f.message.contains("2012-10-17"),
            "{}",
            f.message
        );
    }
}

#[test]
fn findings_are_sorted_by_code_then_statement_without_duplicates() {
    let text = r#"{"Statement": [
        {"Sid": "S0", "Effect": "Allow", "Principal": "*", "Action": ["ecr:*", "ecr:Nope"], "Resource": "*"},
        {"Sid": "S1", "Effect": "Allow", "Principal": "*", "Action": ["ecr:PutImage", "s3:*"], "Resource": "*"},
        {"Sid": "S2", "Effect": "Deny", "Principal": "*", "Action": "ecr:BatchGetImage", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}
    ]}"#;
    let j = run(text);
    assert_eq!(j.actions, [Allowed, Conditional, Allowed]);
    let got: Vec<(Code, Option<usize>)> = j
        .findings
        .iter()
        .map(|f| (f.code, f.statement.as_ref().map(|s| s.index)))
        .collect();
    assert_eq!(
        got,
        [
            (Code::PublicAccess, Some(0)),
            (Code::PublicAccess, Some(1)),
            (Code::ConditionalDeny, Some(2)),
            (Code::ExcessAccess, Some(0)),
            (Code::ExcessAccess, Some(1)),
            (Code::UnknownAction, Some(0)),
            (Code::UnknownAction, Some(1)),
            (Code::ResourceElement, Some(0)),
            (Code::ResourceElement, Some(1)),
            (Code::LegacyVersion, None),
        ]
    );
    let mut sorted = j.findings.clone();
    sorted.sort_by_key(|f| (f.code, f.statement.as_ref().map(|s| s.index)));
    assert_eq!(sorted, j.findings);
}

#[test]
fn every_finding_has_a_one_sentence_message() {
    let text = r#"{"Statement": [
        {"Sid": "S0", "Effect": "Allow", "Principal": "*", "Action": ["ecr:*", "ecr:Nope"], "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/x"}, "Action": "ecr:BatchGetImage"},
        {"Effect": "Deny", "Principal": "*", "Action": "ecr:GetDownloadUrlForLayer"},
        {"Effect": "Deny", "Principal": "*", "Action": "ecr:BatchGetImage", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}
    ]}"#;
    let j = run(text);
    for f in &j.findings {
        assert!(
            !f.message.text().is_empty()
                && !f.message.contains(". ")
                && !f.message.text().ends_with('.'),
            "{}",
            f.message
        );
    }
}

// ---- the registry policy, judged together with the repository policy (issue 3) ----

fn with_registry(repo_policy: &str, registry_policy: &str) -> Judgement {
    let own = parse(repo_policy).expect("repository policy");
    let registry = parse(registry_policy)
        .expect("registry policy")
        .into_registry();
    judge_with_registry(&own, Some(&registry), &puller(), &RepoId::default())
}

#[test]
fn an_allow_in_the_registry_policy_is_enough() {
    let j = with_registry(
        &policy(&[allow(r#"{"AWS": "999988887777"}"#, "")]),
        &policy(&[allow(&format!(r#"{{"AWS": "{ROOT}"}}"#), "")]),
    );
    assert_eq!(j.actions, ALL);
    assert_eq!(j.findings, []);
}

#[test]
fn a_deny_in_the_registry_policy_wins_and_is_named_as_the_registry_policys() {
    let j = with_registry(
        &policy(&[allow(&format!(r#"{{"AWS": "{ROOT}"}}"#), "")]),
        &policy(&[deny(r#""*""#, "")]),
    );
    assert_eq!(j.actions, [Denied; 3]);
    let f = finding(&j, Code::ActionDenied);
    assert!(
        f.message
            .text()
            .starts_with(r#"registry policy statement 0 (Sid "Block")"#),
        "{}",
        f.message
    );
    // The reference says which document: the reports show it as "registry-policy".
    assert_eq!(
        f.statement,
        Some(StatementRef {
            index: 0,
            sid: Some("Block".into()),
            registry_policy: true,
        })
    );
}

#[test]
fn a_deny_in_the_repository_policy_wins_over_a_registry_allow() {
    let j = with_registry(
        &policy(&[deny(r#""*""#, "")]),
        &policy(&[allow(&format!(r#"{{"AWS": "{ROOT}"}}"#), "")]),
    );
    assert_eq!(j.actions, [Denied; 3]);
    assert!(
        finding(&j, Code::ActionDenied)
            .message
            .text()
            .starts_with("statement 0")
    );
}

#[test]
fn without_a_registry_policy_the_judgement_is_unchanged() {
    let text = policy(&[allow(r#"{"AWS": "999988887777"}"#, "")]);
    let p = parse(&text).expect("policy");
    assert_eq!(
        judge_with_registry(&p, None, &puller(), &RepoId::default()),
        judge(&p, &puller(), &RepoId::default())
    );
}

// ---- the safety half of the verdict (issue 11) and conditional-deny (issue 10) ----

const OWNER: &str = "444455556666";
const THIRD: &str = "999988887777";

/// A repository of the registry `OWNER`, so that its owner is known.
fn owned() -> RepoId {
    repo(Some(OWNER), Some("us-east-1"), Some("app"))
}

fn run_owned(text: &str) -> Judgement {
    run_with(text, &puller(), &owned())
}

fn status(j: &Judgement) -> crate::finding::Status {
    crate::finding::Status::worst(&j.findings)
}

#[test]
fn public_access_fails_for_ecr_star_or_set_repository_policy_to_everyone() {
    use crate::finding::Status;
    for action in [r#""ecr:*""#, r#""ecr:SetRepositoryPolicy""#, PULL] {
        let j = run(&allow_actions(action).replace(r#"{"AWS": "111122223333"}"#, r#""*""#));
        assert!(codes(&j).contains(&Code::PublicAccess), "{action}");
        assert_eq!(status(&j), Status::Fail, "{action}");
    }
}

#[test]
fn public_access_when_no_condition_value_excludes_anyone() {
    // Each of these "narrows" nobody: a wildcard for the whole value, an organization or account
    // wildcard, any address, a set qualifier or IfExists that is true without the key.
    for block in [
        r#"{"StringLike": {"aws:PrincipalOrgID": "*"}}"#,
        r#"{"StringLike": {"aws:PrincipalOrgID": ["o-abc123", "?*"]}}"#,
        r#"{"StringLike": {"aws:PrincipalOrgID": "o-*"}}"#,
        r#"{"StringLike": {"aws:PrincipalAccount": "*"}}"#,
        r#"{"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "*"}}"#,
        r#"{"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/gitpod"}}"#,
        r#"{"ArnLike": {"aws:PrincipalArn": "*"}}"#,
        r#"{"StringLike": {"aws:PrincipalArn": "arn:aws:*"}}"#,
        r#"{"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}"#,
        r#"{"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}"#,
        r#"{"StringEqualsIfExists": {"aws:PrincipalAccount": "111122223333"}}"#,
        r#"{"StringNotEquals": {"aws:PrincipalAccount": "444455556666"}}"#,
    ] {
        let j = run(&policy(&[allow(
            r#""*""#,
            &format!(r#", "Condition": {block}"#),
        )]));
        assert!(codes(&j).contains(&Code::PublicAccess), "{block}");
    }
}

#[test]
fn public_access_is_quiet_when_a_value_excludes_someone() {
    for block in [
        r#"{"StringLike": {"aws:PrincipalOrgID": "o-abc*"}}"#,
        r#"{"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc123/*"}}"#,
        r#"{"StringLike": {"aws:PrincipalArn": "arn:aws:iam::444455556666:*"}}"#,
        r#"{"StringEquals": {"aws:PrincipalOrgID": "*"}}"#,
        r#"{"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}"#,
    ] {
        let j = run(&policy(&[allow(
            r#""*""#,
            &format!(r#", "Condition": {block}"#),
        )]));
        assert!(!codes(&j).contains(&Code::PublicAccess), "{block}");
    }
}

#[test]
fn public_access_message_says_which_condition_excludes_no_one() {
    let j = run(&policy(&[allow(
        r#""*""#,
        r#", "Condition": {"StringLike": {"aws:PrincipalOrgID": "*"}}"#,
    )]));
    let f = finding(&j, Code::PublicAccess);
    assert!(
        f.message
            .contains("StringLike on aws:PrincipalOrgID excludes no one"),
        "{}",
        f.message
    );
}

/// An Allow of `actions` to the `AWS` principal `who`, with `extra` elements.
fn grant(who: &str, actions: &str, extra: &str) -> String {
    format!(
        r#"{{"Sid": "Other", "Effect": "Allow", "Principal": {{"AWS": "{who}"}}, "Action": {actions}{extra}}}"#
    )
}

#[test]
fn cross_account_write_names_a_third_party_granted_ecr_star() {
    let text = policy(&[
        allow(&format!(r#"{{"AWS": "{ROOT}"}}"#), ""),
        grant(THIRD, r#""ecr:*""#, ""),
    ]);
    let j = run_owned(&text);
    assert_eq!(j.actions, ALL);
    assert_eq!(codes(&j), [Code::CrossAccountWrite]);
    let f = finding(&j, Code::CrossAccountWrite);
    assert_eq!(f.statement, at(1, "Other"));
    assert!(
        f.message.contains("grants account 999988887777 35 actions")
            && f.message.contains("ecr:BatchDeleteImage")
            && f.message.contains(OWNER)
            && !f.message.contains("possibly"),
        "{}",
        f.message
    );
    assert_eq!(status(&j), crate::finding::Status::Warn);
}

#[test]
fn cross_account_write_names_accounts_by_arn_and_by_condition() {
    let arn = format!("arn:aws:iam::{THIRD}:role/ci");
    let j = run_owned(&policy(&[grant(&arn, r#""ecr:PutImage""#, "")]));
    assert!(
        finding(&j, Code::CrossAccountWrite)
            .message
            .contains("account 999988887777 1 action (ecr:PutImage)")
    );
    // A grant to "*" that a condition gives to one account: that account is named.
    let j = run_owned(&policy(&[format!(
        r#"{{"Effect": "Allow", "Principal": "*", "Action": "ecr:TagResource", "Condition": {{"StringEquals": {{"aws:PrincipalAccount": "{THIRD}"}}}}}}"#
    )]));
    assert!(!codes(&j).contains(&Code::PublicAccess));
    assert!(
        finding(&j, Code::CrossAccountWrite)
            .message
            .contains("ecr:TagResource")
    );
}

#[test]
fn cross_account_write_is_possibly_under_an_undecided_condition() {
    let j = run_owned(&policy(&[grant(
        THIRD,
        r#""ecr:PutImage""#,
        r#", "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}"#,
    )]));
    let f = finding(&j, Code::CrossAccountWrite);
    assert!(
        f.message.contains("possibly account 999988887777"),
        "{}",
        f.message
    );
}

#[test]
fn cross_account_write_not_for_the_owner_the_audited_account_reads_or_excluded_grants() {
    for text in [
        // The registry's owner pushing to its own repository.
        policy(&[grant(OWNER, r#""ecr:*""#, "")]),
        // Another account that may only pull.
        policy(&[grant(THIRD, PULL, "")]),
        // A condition no principal of that account can meet.
        policy(&[grant(
            THIRD,
            r#""ecr:PutImage""#,
            r#", "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::555566667777:*"}}"#,
        )]),
        // A Deny that certainly takes the write away from everyone.
        policy(&[
            grant(THIRD, r#""ecr:PutImage""#, ""),
            r#"{"Effect": "Deny", "Principal": "*", "Action": "ecr:PutImage"}"#.to_string(),
        ]),
        // A Deny naming that account, or a NotPrincipal Deny that does not list it.
        policy(&[
            grant(THIRD, r#""ecr:PutImage""#, ""),
            format!(
                r#"{{"Effect": "Deny", "Principal": {{"AWS": "{THIRD}"}}, "Action": "ecr:PutImage"}}"#
            ),
        ]),
        policy(&[
            grant(THIRD, r#""ecr:PutImage""#, ""),
            format!(
                r#"{{"Effect": "Deny", "NotPrincipal": {{"AWS": "{ROOT}"}}, "Action": "ecr:PutImage"}}"#
            ),
        ]),
        // An IAM unique id names no account (a deleted principal).
        policy(&[grant("AIDAJQABLZS4A3QDU576Q", r#""ecr:*""#, "")]),
    ] {
        let j = run_owned(&text);
        assert!(!codes(&j).contains(&Code::CrossAccountWrite), "{text}");
    }
    // The audited account's own write is excess-access, not cross-account-write.
    let j = run_owned(&allow_actions(r#""ecr:*""#));
    assert_eq!(codes(&j), [Code::ExcessAccess]);
}

#[test]
fn cross_account_write_stays_when_a_deny_may_not_apply_to_every_principal_of_the_account() {
    for deny in [
        format!(r#"{{"Effect": "Deny", "NotPrincipal": {{"AWS": "arn:aws:iam::{THIRD}:role/ci"}}, "Action": "ecr:PutImage"}}"#),
        r#"{"Effect": "Deny", "Principal": "*", "Action": "ecr:PutImage", "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}"#.to_owned(),
    ] {
        let j = run_owned(&policy(&[grant(THIRD, r#""ecr:PutImage""#, ""), deny.clone()]));
        assert!(codes(&j).contains(&Code::CrossAccountWrite), "{deny}");
    }
}

#[test]
fn cross_account_write_with_an_unknown_owner_says_so() {
    let j = run(&policy(&[grant(THIRD, r#""ecr:PutImage""#, "")]));
    let f = finding(&j, Code::CrossAccountWrite);
    assert!(
        f.message.contains("not known from the input"),
        "{}",
        f.message
    );
}

#[test]
fn excess_access_not_for_a_principal_arn_pattern_of_another_account() {
    for cond in [
        r#"{"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::444455556666:*"}}"#,
        r#"{"StringLike": {"aws:PrincipalArn": "arn:aws:iam::444455556666:role/*"}}"#,
        r#"{"ArnEquals": {"aws:PrincipalArn": "arn:aws:sts::444455556666:federated-user/x"}}"#,
        r#"{"Null": {"aws:PrincipalArn": "true"}}"#,
    ] {
        let text = policy(&[format!(
            r#"{{"Sid": "Push", "Effect": "Allow", "Principal": {{"AWS": "{A}"}}, "Action": "ecr:PutImage", "Condition": {cond}}}"#
        )]);
        assert!(!codes(&run(&text)).contains(&Code::ExcessAccess), "{cond}");
    }
    // Every principal of the account, or some of them: still excess.
    for (cond, possibly) in [
        (
            r#"{"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::444455556666:*"}}"#,
            false,
        ),
        (
            r#"{"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/*"}}"#,
            true,
        ),
        (
            r#"{"ArnLike": {"aws:PrincipalArn": "arn:aws:*:*:111122223333:*"}}"#,
            false,
        ),
    ] {
        let text = policy(&[format!(
            r#"{{"Sid": "Push", "Effect": "Allow", "Principal": {{"AWS": "{A}"}}, "Action": "ecr:PutImage", "Condition": {cond}}}"#
        )]);
        let j = run(&text);
        let f = finding(&j, Code::ExcessAccess);
        assert!(f.message.contains("ecr:PutImage"), "{cond}: {}", f.message);
        assert_eq!(
            f.message.contains("possibly"),
            possibly,
            "{cond}: {}",
            f.message
        );
    }
}

#[test]
fn conditional_deny_even_when_the_action_is_not_granted() {
    // The ECR documentation's IP-allow policy: deny everything outside a range, grant nothing.
    let text = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "AllowIp", "Effect": "Deny", "Principal": "*", "Action": "ecr:*", "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}]}"#;
    let j = run(text);
    assert_eq!(j.actions, [Missing; 3]);
    assert_eq!(codes(&j), [Code::ActionNotGranted, Code::ConditionalDeny]);
    let f = finding(&j, Code::ConditionalDeny);
    assert!(
        f.message.contains("aws:SourceIp")
            && f.message.contains(
                "ecr:BatchCheckLayerAvailability, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer"
            ),
        "{}",
        f.message
    );
    // An action another Deny certainly takes away is action-denied, not also conditional-deny.
    let text = policy(&[
        deny(r#""*""#, ""),
        deny(
            r#""*""#,
            r#", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}"#,
        ),
    ]);
    let j = run(&text);
    assert_eq!(codes(&j), [Code::ActionDenied]);
}

#[test]
fn unique_ids_name_nobody_who_can_pull() {
    // What IAM stores in place of a deleted user (AIDA…) or role (AROA…).
    let j = run_owned(&policy(&[
        allow(r#"{"AWS": "AIDAJQABLZS4A3QDU576Q"}"#, ""),
        grant("AROADBQP57FF2AEXAMPLE", r#""ecr:*""#, ""),
    ]));
    assert_eq!(j.actions, [Missing; 3]);
    assert_eq!(codes(&j), [Code::ActionNotGranted]);
    // In a Deny they never cover the puller either.
    let j = run_owned(&policy(&[
        allow(&format!(r#"{{"AWS": "{ROOT}"}}"#), ""),
        deny(r#"{"AWS": "AROADBQP57FF2AEXAMPLE"}"#, ""),
    ]));
    assert_eq!((j.actions, j.findings), (ALL, vec![]));
}

/// A grant of pull and push to `n` accounts beside the puller, and a Deny of push to the first
/// half of them: the steps the judgement took, and its cross-account message.
fn many_accounts(n: usize) -> (u64, String) {
    let accounts: Vec<String> = (0..n)
        .map(|i| format!("\"arn:aws:iam::{}:root\"", 100_000_000_000u64 + i as u64))
        .collect();
    let text = policy(&[
        format!(
            r#"{{"Sid": "Many", "Effect": "Allow", "Principal": {{"AWS": ["{ROOT}", {}]}}, "Action": ["ecr:BatchGetImage", "ecr:PutImage"]}}"#,
            accounts.join(", ")
        ),
        format!(
            r#"{{"Sid": "NoPush", "Effect": "Deny", "Principal": {{"AWS": [{}]}}, "Action": "ecr:PutImage"}}"#,
            accounts[..n / 2].join(", ")
        ),
    ]);
    crate::policy::steps::take();
    let j = run_owned(&text);
    let steps = crate::policy::steps::take();
    (
        steps,
        finding(&j, Code::CrossAccountWrite).message.to_string(),
    )
}

#[test]
fn many_principals_cost_grows_linearly_and_the_message_counts_the_rest() {
    let (small, message) = many_accounts(1_000);
    assert!(message.contains("and 492 more accounts"), "{message}");
    // The denied half is not among those named.
    assert!(!message.contains("100000000000 "), "{message}");
    assert!(
        message.contains("account 100000000500 1 action"),
        "{message}"
    );
    let (large, message) = many_accounts(4_000);
    assert!(message.contains("and 1992 more accounts"), "{message}");
    assert!(small >= 1_000, "{small}");
    assert!(
        large <= 5 * small,
        "4x the accounts took {large} steps, 1x {small}"
    );
}

#[test]
fn an_undecided_message_names_the_first_keys_and_counts_the_rest() {
    // Ten unknown keys (plus one known one, which is not named), a principal of the account
    // that may not be Gitpod's role: every part of the message, written a part at a time.
    let keys: Vec<String> = (0..10)
        .map(|i| format!(r#""aws:PrincipalTag/k{i}": "v""#))
        .collect();
    let text = policy(&[allow(
        r#""*""#,
        &format!(
            r#", "Condition": {{"StringEquals": {{{}, "aws:PrincipalAccount": "111122223333"}}}}"#,
            keys.join(", ")
        ),
    )]);
    let j = run(&text);
    let f = finding(&j, Code::ConditionalAllow);
    let named: Vec<String> = (0..8).map(|i| format!("aws:PrincipalTag/k{i}")).collect();
    assert_eq!(
        f.message.text(),
        format!(
            "statement 0 (Sid \"Pull\") allows ecr:BatchCheckLayerAvailability, ecr:BatchGetImage and \
             ecr:GetDownloadUrlForLayer only depending on the condition keys {} and 2 more, which \
             cannot be decided offline; pass the facts with --context KEY=VALUE or grant the \
             account without them",
            named.join(", ")
        )
    );
    // One key: singular.
    let one = run(&policy(&[allow(
        r#""*""#,
        r#", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}"#,
    )]));
    assert!(
        finding(&one, Code::ConditionalAllow)
            .message
            .contains("only depending on the condition key aws:PrincipalOrgID, which"),
        "{:?}",
        one.findings
    );
}

#[test]
fn remembered_messages_follow_every_input_they_are_written_from() {
    // One thread judges policies that differ in one input of a message each: each message must
    // name its own input, never the one remembered from the policy before (and builds with debug
    // assertions compare every remembered message with a freshly written one).
    let message = |j: &Judgement, code: Code| -> String {
        j.findings
            .iter()
            .find(|f| f.code == code)
            .unwrap_or_else(|| panic!("no {code:?} in {:?}", codes(j)))
            .message
            .text()
            .into_owned()
    };
    let vpce = r#", "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}"#;
    let ip = r#", "Condition": {"StringNotEquals": {"aws:SourceIp": "10.0.0.1"}}"#;
    let first = run(&policy(&[
        allow(&format!("{{\"AWS\": \"{ROOT}\"}}"), ""),
        deny(r#""*""#, vpce),
    ]));
    let m = message(&first, Code::ConditionalDeny);
    assert!(
        m.contains("statement 1 (Sid \"Block\")") && m.contains("aws:SourceVpce"),
        "{m}"
    );
    // Another Sid, another position, another key: each in its own message.
    let sid = policy(&[
        allow(&format!("{{\"AWS\": \"{ROOT}\"}}"), ""),
        deny(r#""*""#, vpce).replace("\"Block\"", "\"Fence\""),
    ]);
    let m = message(&run(&sid), Code::ConditionalDeny);
    assert!(m.contains("(Sid \"Fence\")") && !m.contains("Block"), "{m}");
    let moved = policy(&[
        deny(r#""*""#, vpce),
        allow(&format!("{{\"AWS\": \"{ROOT}\"}}"), ""),
    ]);
    let m = message(&run(&moved), Code::ConditionalDeny);
    assert!(m.starts_with("statement 0 "), "{m}");
    let key = policy(&[
        allow(&format!("{{\"AWS\": \"{ROOT}\"}}"), ""),
        deny(r#""*""#, ip),
    ]);
    let m = message(&run(&key), Code::ConditionalDeny);
    assert!(
        m.contains("aws:SourceIp") && !m.contains("aws:SourceVpce"),
        "{m}"
    );
    // The audited account, and which actions, in action-not-granted.
    let none = policy(&[allow(r#"{"AWS": "999988887777"}"#, "")]);
    let other = Puller {
        account: "444455556666".into(),
        ..puller()
    };
    let ours = message(&run(&none), Code::ActionNotGranted);
    let theirs = message(
        &run_with(&none, &other, &RepoId::default()),
        Code::ActionNotGranted,
    );
    assert!(ours.contains(A) && !ours.contains("444455556666"), "{ours}");
    assert!(
        theirs.contains("444455556666") && !theirs.contains(A),
        "{theirs}"
    );
    let one = policy(&[allow(&format!("{{\"AWS\": \"{ROOT}\"}}"), "").replace(
        PULL,
        r#"["ecr:BatchGetImage", "ecr:BatchCheckLayerAvailability"]"#,
    )]);
    let m = message(&run(&one), Code::ActionNotGranted);
    assert!(
        m.contains("ecr:GetDownloadUrlForLayer") && !m.contains("BatchGetImage"),
        "{m}"
    );
}

proptest::proptest! {
    /// `states` (one pass, bit masks) against `state` asked action by action, on documents of
    /// Allows and Denies whose principals, actions and conditions apply, do not, or may.
    #[test]
    fn the_states_in_one_pass_are_the_states_one_by_one(
        statements in proptest::collection::vec((0..2usize, 0..4usize, 0..5usize, 0..4usize), 1..6)
    ) {
        let principals = [r#""*""#, r#"{"AWS": "111122223333"}"#, r#"{"AWS": "444455556666"}"#, r#"{"AWS": "arn:aws:iam::111122223333:role/x"}"#];
        let actions = [
            r#""ecr:BatchGetImage""#,
            r#""ecr:*""#,
            r#"["ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]"#,
            r#""ecr:PutImage""#,
            r#""ecr:Batch*""#,
        ];
        let conditions = [
            "",
            r#", "Condition": {"Bool": {"aws:SecureTransport": "false"}}"#,
            r#", "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}"#,
            r#", "Condition": {"Bool": {"aws:SecureTransport": "true"}}"#,
        ];
        let text = policy(
            &statements
                .iter()
                .map(|(e, p, a, c)| {
                    format!(
                        r#"{{"Effect": "{}", "Principal": {}, "Action": {}{}}}"#,
                        ["Allow", "Deny"][*e],
                        principals[*p],
                        actions[*a],
                        conditions[*c]
                    )
                })
                .collect::<Vec<_>>(),
        );
        let p = parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
        let puller = puller();
        let repo = RepoId::default();
        let repo_arn = resource::RepoArn::new(&repo, puller.partition);
        let views: Vec<View<'_>> = p
            .statements()
            .iter()
            .map(|s| View::new(s, &puller, &repo_arn))
            .collect();
        let (actions, allow_true) = states(&views);
        for (j, a) in actions.iter().enumerate() {
            proptest::prop_assert_eq!(*a, state(&views, j), "{}", text);
            proptest::prop_assert_eq!(
                allow_true & 1 << j != 0,
                views.iter().any(|v| v.stmt.effect() == Effect::Allow && v.on(j) == Tri::True),
                "{}", text
            );
        }
    }
}

//! Micro-benchmarks of the engine: parsing a policy, judging a parsed one, and both together on
//! a realistic mix. Run with `cargo bench --bench judge`.

use ecr_audit::eval::{self, Puller};
use ecr_audit::policy;
use ecr_audit::record::RepoId;

/// The same allocator as the binary, so the figures match what a scan pays.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

const ACCOUNT: &str = "111122223333";

/// A documented grant, a conditional org grant, a deny with conditions and a NotAction.
const POLICIES: &[&str] = &[
    r#"{"Version":"2012-10-17","Statement":[{"Sid":"Gitpod Access","Effect":"Allow",
"Principal":{"AWS":["arn:aws:iam::111122223333:root"]},
"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Sid":"Org","Effect":"Allow","Principal":"*",
"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],
"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}},
{"Sid":"NoPush","Effect":"Deny","Principal":"*","Action":["ecr:Put*","ecr:Upload*"],
"Condition":{"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ci-*"}}}]}"#,
    r#"{"Version":"2008-10-17","Statement":[{"Sid":"All","Effect":"Allow",
"Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:role/builder"]},
"NotAction":["ecr:Delete*","ecr:SetRepositoryPolicy"]},
{"Sid":"Tls","Effect":"Deny","Principal":"*","Action":"ecr:*",
"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#,
];

fn puller() -> Puller {
    Puller {
        account: ACCOUNT.into(),
        ..Puller::default()
    }
}

/// The same document again and again: after the first time its statements are known (see
/// `policy::parse`), as in an estate of templated policies.
#[divan::bench(args = [0, 1, 2])]
fn parse(bencher: divan::Bencher, i: usize) {
    let text = POLICIES[i];
    bencher.bench(|| policy::parse(divan::black_box(text)).is_ok());
}

/// The whole document read and validated every time (a policy whose statements were never seen).
#[divan::bench(args = [0, 1, 2])]
fn parse_whole(bencher: divan::Bencher, i: usize) {
    let text = POLICIES[i];
    bencher.bench(|| policy::parse_whole(divan::black_box(text)).is_ok());
}

#[divan::bench(args = [0, 1, 2])]
fn judge(bencher: divan::Bencher, i: usize) {
    let Ok(p) = policy::parse(POLICIES[i]) else {
        panic!("benchmark policy {i} must be valid");
    };
    let who = puller();
    let repo = RepoId {
        registry: Some("444455556666".into()),
        region: Some("us-east-1".into()),
        repository: Some("gitpod/workspace".into()),
        ..RepoId::default()
    };
    bencher.bench(|| eval::judge(divan::black_box(&p), &who, &repo).actions);
}

#[divan::bench]
fn parse_and_judge_mix(bencher: divan::Bencher) {
    let who = puller();
    let repo = RepoId::default();
    bencher.bench(|| {
        POLICIES
            .iter()
            .filter_map(|t| policy::parse(t).ok())
            .map(|p| eval::judge(&p, &who, &repo).findings.len())
            .sum::<usize>()
    });
}

/// Condition blocks on known facts, unknown keys, the partly-known aws:PrincipalArn and sets.
const CONDITIONS: &[&str] = &[
    r#"{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}"#,
    r#"{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"},"Bool":{"aws:SecureTransport":"true"}}"#,
    r#"{"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::*:role/admin-*","arn:aws:iam::111122223333:role/ci-*"]}}"#,
    r#"{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":["o-a/r-b/ou-c/*"]},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}"#,
];

#[divan::bench(args = [0, 1, 2, 3])]
fn condition_block(bencher: divan::Bencher, i: usize) {
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{}}}]}}"#,
        CONDITIONS[i]
    );
    let Ok(p) = policy::parse(&text) else {
        panic!("benchmark condition {i} must be valid");
    };
    let who = puller();
    let conditions = p.statements()[0].conditions();
    bencher.bench(|| ecr_audit::eval::condition::block(divan::black_box(conditions), &who));
}

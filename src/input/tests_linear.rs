//! Cost that grows with the input (issue 13, point 4): each case is generated at two sizes and
//! the work done is compared by counted steps (`policy::steps`), never by time.

use super::*;
use crate::policy::steps;
use crate::record::Body;

/// A Terraform state with `n` child modules, each holding one repository and its policy.
fn terraform_modules(n: usize) -> String {
    let policy = serde_json::to_string(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ecr:BatchGetImage"}]}"#,
    )
    .expect("a string serialises");
    let modules: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"address":"module.m{i}","resources":[{{"address":"module.m{i}.aws_ecr_repository.r","mode":"managed","type":"aws_ecr_repository","name":"r","values":{{"name":"repo-{i}","registry_id":"444455556666"}}}},{{"address":"module.m{i}.aws_ecr_repository_policy.p","mode":"managed","type":"aws_ecr_repository_policy","name":"p","values":{{"repository":"repo-{i}","registry_id":"444455556666","policy":{policy}}}}}]}}"#
            )
        })
        .collect();
    format!(
        r#"{{"format_version":"1.0","values":{{"root_module":{{"resources":[],"child_modules":[{}]}}}}}}"#,
        modules.join(",")
    )
}

/// Reads a Terraform state of `n` modules; the steps it took.
fn terraform_steps(n: usize) -> u64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.json");
    fs::write(&path, terraform_modules(n)).expect("write");
    steps::take();
    let (records, _) = read_all(&named_source(&path));
    let taken = steps::take();
    // Every policy found its repository (so none is `no-policy`), each one row.
    assert_eq!(records.len(), n);
    assert!(
        records
            .iter()
            .all(|r| matches!(r.body, Body::Policy(_)) && r.repo.registry.is_some())
    );
    taken
}

#[test]
fn terraform_child_modules_cost_grows_linearly() {
    let small = terraform_steps(2_000);
    let large = terraform_steps(8_000);
    assert!(
        small >= 2_000,
        "each policy looks up its repository: {small}"
    );
    assert!(
        large <= 5 * small,
        "4x the modules took {large} steps, 1x {small}"
    );
}

/// A policy with one statement whose condition has `n` distinct keys (and `dup` repeats the
/// first key, in another case, at the end).
fn many_keys(n: usize, dup: bool) -> String {
    let mut keys: Vec<String> = (0..n)
        .map(|i| format!(r#""aws:PrincipalTag/k{i}":"v{i}""#))
        .collect();
    if dup {
        keys.push(r#""AWS:PRINCIPALTAG/K0":"again""#.to_owned());
    }
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{{"StringEquals":{{{}}}}}}}]}}"#,
        keys.join(",")
    )
}

fn parse_steps(
    text: &str,
) -> (
    u64,
    Result<crate::policy::Policy, Vec<crate::finding::Finding>>,
) {
    steps::take();
    let parsed = crate::policy::parse(text);
    (steps::take(), parsed)
}

#[test]
fn condition_keys_cost_grows_linearly_and_a_repeat_is_still_found() {
    let (small, p) = parse_steps(&many_keys(5_000, false));
    assert_eq!(p.expect("valid").statements()[0].conditions().len(), 5_000);
    let (large, p) = parse_steps(&many_keys(20_000, false));
    assert_eq!(p.expect("valid").statements()[0].conditions().len(), 20_000);
    assert!(small >= 5_000, "each key is checked: {small}");
    assert!(
        large <= 5 * small,
        "4x the keys took {large} steps, 1x {small}"
    );
    // The key given twice (in another case) is still reported, named once.
    let (_, p) = parse_steps(&many_keys(20_000, true));
    let errors = p.expect_err("a key twice");
    assert!(
        errors
            .iter()
            .any(|f| f.message.contains("\"AWS:PRINCIPALTAG/K0\" twice")),
        "{errors:#?}"
    );
}

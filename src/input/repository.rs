//! `aws ecr get-repository-policy` output (`registryId`, `repositoryName`, `policyText`: the ECR
//! API's *GetRepositoryPolicy* response), and the objects of a bulk export that carry
//! `repositoryName` with `policyText`, `policy` or `Policy`.

use serde_json::value::RawValue;

use super::common::{
    At, Ctx, Emit, Format, Input, Item, Probe, Rejected, account_field, emit_item, fill_from_arn,
    name_string, policy_body, string,
};
use super::kind::Shape;
use crate::record::RepoId;

/// `repositoryName` with a policy key.
pub(crate) struct RepositoryPolicy;

impl Format for RepositoryPolicy {
    fn detect(&self, input: &Input<'_>, _at: At) -> bool {
        matches!(input, Input::Object { probe, .. } if probe.repository_name.is_some()
            && (probe.policy_text.is_some() || probe.policy_lower.is_some() || probe.policy_upper.is_some()))
    }

    fn read(&self, input: &Input<'_>, at: At, _ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
        let Input::Object { probe: p, .. } = input else {
            return Err(Rejected::Declined);
        };
        let (Some(name), Some((key, policy))) = (p.repository_name, policy(p)) else {
            return Err(Rejected::Declined);
        };
        emit_item(repository(p, name, key, policy, at), at, emit)
    }
}

/// The first policy key present, in this order.
fn policy<'a>(p: &Probe<'a>) -> Option<(&'static str, &'a RawValue)> {
    [
        ("policyText", p.policy_text),
        ("policy", p.policy_lower),
        ("Policy", p.policy_upper),
    ]
    .into_iter()
    .find_map(|(key, raw)| raw.map(|r| (key, r)))
}

/// `get-repository-policy` output, or a bulk-export object with `repositoryName` and a policy.
fn repository(p: &Probe, name: &RawValue, key: &str, policy: &RawValue, at: At) -> Item {
    // A file of its own with `policyText` is the CLI's output; anything else is a bulk export.
    let shape = match (at, key) {
        (At::File, "policyText") => Shape::GetRepositoryPolicy,
        _ => Shape::Bulk,
    };
    let name = match name_string(name, "repositoryName", at) {
        Ok(name) => name,
        Err(body) => return Item::Record(shape, RepoId::default(), body),
    };
    let mut repo = RepoId {
        registry: None,
        region: string(p.region).or_else(|| string(p.aws_region)),
        repository: Some(name),
        arn: string(p.arn).or_else(|| string(p.repository_arn)),
        name_from_path: false,
    };
    match account_field(p.registry_id, "registryId", at) {
        Ok(registry) => repo.registry = registry,
        // The row keeps the name, so that the person can find the record.
        Err(body) => return Item::Record(shape, repo, body),
    }
    fill_from_arn(&mut repo);
    Item::Record(shape, repo, policy_body(key, policy, at))
}

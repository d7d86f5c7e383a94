//! `aws ecr get-registry-policy` output (the ECR API's *GetRegistryPolicy* response:
//! `registryId`, `policyText`), optionally with `region`/`awsRegion` added by a script. Not a row
//! of its own: it is joined with every repository of its registry (`join.rs`).

use super::common::{
    At, Ctx, Emit, Format, Input, Item, Probe, Rejected, describe, emit_item, error,
    identity_account, string,
};
use super::kind::Shape;
use crate::finding::Code;
use crate::record::{Body, RepoId};

/// `registryId` and `policyText`, no `repositoryName`.
pub(crate) struct GetRegistryPolicy;

impl Format for GetRegistryPolicy {
    fn detect(&self, input: &Input<'_>, _at: At) -> bool {
        matches!(input, Input::Object { probe, .. } if probe.repository_name.is_none()
            && probe.registry_id.is_some() && probe.policy_text.is_some())
    }

    fn read(&self, input: &Input<'_>, at: At, _ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
        let Input::Object { probe, .. } = input else {
            return Err(Rejected::Declined);
        };
        match item(probe, at) {
            Some(item) => emit_item(item, at, emit),
            None => Err(Rejected::Declined),
        }
    }
}

/// The registry policy, or `None`.
fn item(p: &Probe, at: At) -> Option<Item> {
    // `aws ecr get-registry-policy`: `registryId` + `policyText`, no `repositoryName`.
    if let (None, Some(registry), Some(text)) = (p.repository_name, p.registry_id, p.policy_text) {
        let repo = RepoId {
            region: string(p.region).or_else(|| string(p.aws_region)),
            ..RepoId::default()
        };
        let shape = Shape::GetRegistryPolicy;
        let registry = match identity_account(registry, "registryId", at) {
            Ok(registry) => registry,
            Err(body) => return Some(Item::Record(shape, repo, body)),
        };
        let repo = RepoId { registry, ..repo };
        let body = match string(Some(text)) {
            Some(text) => Body::RegistryPolicy(text),
            None => error(
                Code::UnsupportedInput,
                format!(
                    "`policyText` of the registry policy in {} is {}; expected a JSON string",
                    at.subject(),
                    describe(text.get())
                ),
            ),
        };
        return Some(Item::Record(shape, repo, body));
    }
    None
}

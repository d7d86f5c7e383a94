//! `aws ecr get-account-setting --name REGISTRY_POLICY_SCOPE` output (issue 11): `{"name":
//! "REGISTRY_POLICY_SCOPE", "value": "V1"}` or `"V2"` (the ECR API's `GetAccountSetting`
//! response: `name`, `value`), optionally with `registryId` and `region` added by an export
//! script, since the CLI's output does not say whose registry it describes.

use super::common::{
    At, Ctx, Emit, Format, Input, Item, Kind, Probe, Rejected, account_field, describe, emit_item,
    error, kind, shown, string,
};
use super::kind::Shape;
use crate::finding::Code;
use crate::record::{Body, RepoId, ScopeV};

/// The one account setting that changes a verdict.
const REGISTRY_POLICY_SCOPE: &str = "REGISTRY_POLICY_SCOPE";

/// `get-account-setting` output: a `name` and a `value`.
pub(crate) struct AccountSetting;

impl Format for AccountSetting {
    fn detect(&self, input: &Input<'_>, _at: At) -> bool {
        matches!(input, Input::Object { probe, .. } if probe.name.is_some() && probe.value.is_some())
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

/// An account setting, or `None` when `p` is not one: a `name` that is an upper-case setting
/// name (`REGISTRY_POLICY_SCOPE`, `BASIC_SCAN_TYPE_VERSION`) and a `value`.
fn item(p: &Probe, at: At) -> Option<Item> {
    let value = p.value?;
    let name = string(p.name)?;
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
        return None;
    }
    let shape = Shape::RegistryPolicyScope;
    if name != REGISTRY_POLICY_SCOPE {
        return Some(Item::Record(
            shape,
            RepoId::default(),
            error(
                Code::UnsupportedInput,
                format!(
                    "{} is the account setting {name}; of `aws ecr get-account-setting` only --name {REGISTRY_POLICY_SCOPE} is read",
                    at.subject()
                ),
            ),
        ));
    }
    let mut repo = RepoId {
        region: string(p.region),
        ..RepoId::default()
    };
    match account_field(p.registry_id, "registryId", at) {
        Ok(registry) => repo.registry = registry,
        Err(body) => return Some(Item::Record(shape, repo, body)),
    }
    let body = match (kind(value), string(Some(value)).as_deref()) {
        (_, Some("V1")) => Body::RegistryPolicyScope(ScopeV::V1),
        (_, Some("V2")) => Body::RegistryPolicyScope(ScopeV::V2),
        (Kind::String, Some(other)) => error(
            Code::UnsupportedInput,
            format!(
                "`value` of {} is {}; {REGISTRY_POLICY_SCOPE} is `V1` or `V2`",
                at.subject(),
                shown(other)
            ),
        ),
        _ => error(
            Code::UnsupportedInput,
            format!(
                "`value` of {} is {}; {REGISTRY_POLICY_SCOPE} is `V1` or `V2`",
                at.subject(),
                describe(value.get())
            ),
        ),
    };
    Some(Item::Record(shape, repo, body))
}

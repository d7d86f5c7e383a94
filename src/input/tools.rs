//! Exports made by other tools (issue 3): Steampipe's `aws_ecr_repository` rows, CloudQuery's
//! `aws_ecr_repository_policies` (and `aws_ecr_repositories`) rows, the `aws ecr
//! describe-repositories` inventory and the `aws ecr get-registry-policy` registry policy; and
//! the hand-off to Terraform (`terraform.rs`) and CloudFormation (`cfn.rs`) documents.

use serde_json::value::RawValue;

use super::Shape;
use super::shape::{
    At, Ctx, Emit, Field, Item, Kind, Probe, Rejected, account_field, describe, elements, error,
    fill_from_arn, identity_account, kind, name_field, string,
};
use super::{cfn, rows, terraform};
use crate::finding::Code;
use crate::record::{Body, RepoId};

/// A top-level object that is a whole document of one of these tools, read here; `None` when it
/// is not one.
pub(crate) fn document(
    p: &Probe,
    raw: &str,
    ctx: &Ctx,
    emit: &mut Emit,
) -> Option<Result<(), Rejected>> {
    let is_array = |f: Field<'_>| f.is_some_and(|r| kind(r) == Kind::Array);
    let is_object = |f: Field<'_>| f.is_some_and(|r| kind(r) == Kind::Object);
    if p.format_version.is_some() && (is_object(p.tf_values) || is_array(p.resource_changes)) {
        terraform::read(raw, emit);
        return Some(Ok(()));
    }
    if is_object(p.cfn_resources) {
        return Some(cfn::json(raw, ctx, emit));
    }
    if let Some(list) = p.repositories.filter(|r| kind(r) == Kind::Array) {
        inventory(list, emit);
        return Some(Ok(()));
    }
    if let Some(rows) = p.rows.filter(|r| kind(r) == Kind::Array) {
        // `steampipe query --output json`: `{"columns": […], "rows": […]}`.
        rows::steampipe_document(rows, ctx, emit);
        return Some(Ok(()));
    }
    None
}

/// `aws ecr describe-repositories`: every repository of the registry, without policies. Each is
/// an inventory record, which becomes a `no-policy` row only when no other record names it.
fn inventory(list: &RawValue, emit: &mut Emit) {
    let Some(items) = elements(list, emit) else {
        return;
    };
    for (i, raw) in items.iter().enumerate() {
        let at = At::part("repository", i);
        let repo = serde_json::from_str::<Probe>(raw.get())
            .ok()
            .filter(|_| kind(raw) == Kind::Object)
            .map(|p| {
                let mut repo = RepoId {
                    registry: account_field(p.registry_id, "registryId", at)?,
                    region: None,
                    repository: name_field(p.repository_name, "repositoryName", at)?,
                    arn: string(p.repository_arn),
                    name_from_path: false,
                };
                fill_from_arn(&mut repo);
                Ok(repo)
            })
            .filter(|r| {
                r.as_ref()
                    .map_or(true, |r| r.repository.is_some() || r.arn.is_some())
            });
        match repo {
            Some(Err(body)) => emit(
                at.number(),
                Shape::DescribeRepositories,
                RepoId::default(),
                body,
            ),
            Some(Ok(repo)) => emit(
                at.number(),
                Shape::DescribeRepositories,
                repo,
                Body::Inventory,
            ),
            None => emit(
                at.number(),
                Shape::DescribeRepositories,
                RepoId::default(),
                error(
                    Code::UnsupportedInput,
                    format!(
                        "{} of `repositories` is {}; expected an object with `repositoryName` or `repositoryArn`",
                        at.subject(),
                        describe(raw.get())
                    ),
                ),
            ),
        }
    }
}

/// One object of these tools' shapes, or `None`.
pub(crate) fn item(p: &Probe, at: At, ctx: &Ctx) -> Option<Item> {
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
    rows::row(p, at, ctx, None)
}

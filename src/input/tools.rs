//! Exports made by other tools (issue 3): Steampipe's `aws_ecr_repository` rows, CloudQuery's
//! `aws_ecr_repository_policies` (and `aws_ecr_repositories`) rows, the `aws ecr
//! describe-repositories` inventory and the `aws ecr get-registry-policy` registry policy; and
//! the hand-off to Terraform (`terraform.rs`) and CloudFormation (`cfn.rs`) documents.

use serde_json::value::RawValue;

use super::Shape;
use super::shape::{
    At, Ctx, Emit, Field, Item, Kind, Probe, Rejected, account, describe, elements, error,
    fill_from_arn, item_text, kind, policy_body, string,
};
use super::{cfn, terraform};
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
        each(rows, "row", ctx, emit);
        return Some(Ok(()));
    }
    None
}

/// Each element of an array, as an item numbered by its 1-based index.
fn each(list: &RawValue, noun: &'static str, ctx: &Ctx, emit: &mut Emit) {
    let Some(items) = elements(list, emit) else {
        return;
    };
    for (i, raw) in items.iter().enumerate() {
        item_text(raw.get(), At::part(noun, i), ctx, emit);
    }
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
            .and_then(|p| {
                let mut repo = RepoId {
                    registry: account(p.registry_id),
                    region: None,
                    repository: string(p.repository_name),
                    arn: string(p.repository_arn),
                    name_from_path: false,
                };
                fill_from_arn(&mut repo);
                (repo.repository.is_some() || repo.arn.is_some()).then_some(repo)
            });
        match repo {
            Some(repo) => emit(
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
pub(crate) fn item(p: &Probe, at: At) -> Option<Item> {
    // `aws ecr get-registry-policy`: `registryId` + `policyText`, no `repositoryName`.
    if let (None, Some(_), Some(text)) = (p.repository_name, p.registry_id, p.policy_text) {
        let repo = RepoId {
            registry: account(p.registry_id),
            region: string(p.region).or_else(|| string(p.aws_region)),
            ..RepoId::default()
        };
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
        return Some(Item::Record(Shape::GetRegistryPolicy, repo, body));
    }
    // CloudQuery `aws_ecr_repository_policies`: `policy_json` (JSON) and/or `policy_text`.
    if let Some(name) = p.repository_name_snake {
        let repo = snake_identity(p, name, Shape::CloudQuery);
        let policy = [
            ("policy_json", p.policy_json),
            ("policy_text", p.policy_text_snake),
        ]
        .into_iter()
        .filter_map(|(key, raw)| raw.map(|r| (key, r)))
        .find(|(_, r)| kind(r) != Kind::Null)
        .or_else(|| {
            p.policy_json
                .map(|r| ("policy_json", r))
                .or(p.policy_text_snake.map(|r| ("policy_text", r)))
        });
        return Some(match (repo, policy) {
            (Err(item), _) => *item,
            (Ok(repo), Some((key, raw))) => {
                Item::Record(Shape::CloudQuery, repo, policy_body(key, raw, at))
            }
            // CloudQuery `aws_ecr_repositories`: an inventory of repositories.
            (Ok(repo), None) => Item::Record(Shape::CloudQuery, repo, Body::Inventory),
        });
    }
    // Steampipe `aws_ecr_repository`: `name`, `registry_id`/`account_id`, `arn`, `policy`.
    let steampipe = p.registry_id_snake.is_some()
        || p.repository_uri_snake.is_some()
        || p.account_id_snake.is_some()
        || p.arn.is_some();
    if let (Some(name), Some(policy), true) = (p.name, p.policy_lower, steampipe) {
        return Some(match snake_identity(p, name, Shape::Steampipe) {
            Ok(repo) => Item::Record(Shape::Steampipe, repo, policy_body("policy", policy, at)),
            Err(item) => *item,
        });
    }
    None
}

/// The identity of a Steampipe or CloudQuery row (snake-case columns).
fn snake_identity(p: &Probe, name: &RawValue, shape: Shape) -> Result<RepoId, Box<Item>> {
    let Some(name) = string(Some(name)) else {
        return Err(Box::new(Item::Record(
            shape,
            RepoId::default(),
            error(
                Code::UnsupportedInput,
                format!(
                    "the repository name is {}; expected a string",
                    describe(name.get())
                ),
            ),
        )));
    };
    let mut repo = RepoId {
        registry: account(p.registry_id_snake).or_else(|| account(p.account_id_snake)),
        region: string(p.region),
        repository: Some(name),
        arn: string(p.arn).or_else(|| string(p.repository_arn_snake)),
        name_from_path: false,
    };
    fill_from_arn(&mut repo);
    Ok(repo)
}

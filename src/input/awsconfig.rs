//! AWS Config: configuration items of `AWS::ECR::Repository`, from snapshot/history files
//! (`configurationItems`), `select-resource-config` output (`Results` of JSON strings) and the
//! API's items (whose `configuration` is a JSON string). Other resource types and deleted
//! repositories are recognised and skipped: they are not repositories to audit.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::common::{
    At, Ctx, Each, Emit, Field, Format, Input, Item, Kind, Probe, Rejected, account_field,
    describe, error, fill_from_arn, invalid, kind, kind_of, lazy_literal, name_field, present,
    read_list, string, trim_json_ws, unknown_message,
};
use super::kind::Shape;
use crate::finding::Code;
use crate::record::{Body, PolicyText, RepoId};

const ECR_REPOSITORY: &str = "AWS::ECR::Repository";

/// A whole file of items: a snapshot or history file (`configurationItems`),
/// `batch-get-resource-config` output (`baseConfigurationItems`), or `select-resource-config`
/// output (`Results` of JSON strings).
pub(crate) struct ConfigFile;

impl Format for ConfigFile {
    fn detect(&self, input: &Input<'_>, at: At) -> bool {
        matches!((input, at), (Input::Object { probe, .. }, At::File) if self.list(probe).is_some())
    }

    fn read(&self, input: &Input<'_>, _at: At, ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
        let Some((list, each)) = (match input {
            Input::Object { probe, .. } => self.list(probe),
            Input::Text(_) => None,
        }) else {
            return Err(Rejected::Declined);
        };
        read_list(list, each, ctx, emit);
        Ok(())
    }

    fn list<'a>(&self, p: &Probe<'a>) -> Option<(&'a RawValue, Each)> {
        let is_array = |f: Field<'a>| f.filter(|r| kind(r) == Kind::Array);
        is_array(p.configuration_items.or(p.base_configuration_items))
            .map(|l| (l, configuration_item as Each))
            .or_else(|| is_array(p.results).map(|l| (l, result as Each)))
    }
}

/// One configuration item on its own (a file, an array element, a line).
pub(crate) struct ConfigItem;

impl Format for ConfigItem {
    fn detect(&self, input: &Input<'_>, _at: At) -> bool {
        matches!(input, Input::Object { probe, .. }
            if probe.resource_type.is_some() || probe.configuration.is_some())
    }

    fn read(&self, input: &Input<'_>, at: At, _ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
        let Input::Object { probe, .. } = input else {
            return Err(Rejected::Declined);
        };
        match item(probe, at) {
            Some(item) => super::common::emit_item(item, at, emit),
            None => Err(Rejected::Declined),
        }
    }
}

/// An element of `configurationItems` (or `baseConfigurationItems`).
fn configuration_item(i: usize, raw: &RawValue, _ctx: &Ctx, emit: &mut Emit) {
    element(i, raw, "configuration item", emit);
}

/// An element of `select-resource-config`'s `Results`.
fn result(i: usize, raw: &RawValue, _ctx: &Ctx, emit: &mut Emit) {
    element(i, raw, "result", emit);
}

/// One element of a `configurationItems` or `Results` array: an item (an object, or a JSON
/// string of one), numbered by its 1-based index. An element that is no configuration item is an
/// error record of its own.
fn element(i: usize, raw: &RawValue, noun: &'static str, emit: &mut Emit) {
    let at = At::part(noun, i);
    let n = at.number();
    let owned;
    let text = if kind(raw) == Kind::String {
        match serde_json::from_str::<String>(raw.get()) {
            Ok(text) => {
                owned = text;
                trim_json_ws(&owned)
            }
            Err(e) => {
                emit(
                    n,
                    Shape::Unrecognised,
                    RepoId::default(),
                    error(Code::InvalidJson, invalid(at, &e)),
                );
                return;
            }
        }
    } else {
        raw.get()
    };
    let unknown = |emit: &mut Emit| {
        emit(
            n,
            Shape::Unrecognised,
            RepoId::default(),
            error(Code::UnsupportedInput, unknown_message(text, at)),
        )
    };
    if kind_of(text) != Kind::Object {
        match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => unknown(emit),
            Err(e) => emit(
                n,
                Shape::Unrecognised,
                RepoId::default(),
                error(Code::InvalidJson, invalid(at, &e)),
            ),
        }
        return;
    }
    match serde_json::from_str::<Probe>(text) {
        Ok(p) => match item(&p, at) {
            Some(Item::Record(shape, repo, body)) => emit(n, shape, repo, body),
            Some(Item::Skip) => {}
            Some(Item::Unknown(message)) => emit(
                n,
                Shape::Unrecognised,
                RepoId::default(),
                error(Code::UnsupportedInput, message),
            ),
            None => unknown(emit),
        },
        Err(e) => emit(
            n,
            Shape::Unrecognised,
            RepoId::default(),
            error(Code::InvalidJson, invalid(at, &e)),
        ),
    }
}

/// The ECR part of an item's `configuration` (AWS Config records it with CloudFormation's
/// property names; the camel-case spellings are accepted too).
#[derive(Default, Deserialize)]
struct RawConfiguration<'a> {
    #[serde(
        rename = "RepositoryName",
        default,
        borrow,
        deserialize_with = "present"
    )]
    name_upper: Field<'a>,
    #[serde(
        rename = "repositoryName",
        default,
        borrow,
        deserialize_with = "present"
    )]
    name_lower: Field<'a>,
    #[serde(
        rename = "RepositoryPolicyText",
        default,
        borrow,
        deserialize_with = "present"
    )]
    policy_upper: Field<'a>,
    #[serde(
        rename = "repositoryPolicyText",
        default,
        borrow,
        deserialize_with = "present"
    )]
    policy_lower: Field<'a>,
    #[serde(rename = "Arn", default, borrow, deserialize_with = "present")]
    arn_upper: Field<'a>,
    #[serde(rename = "arn", default, borrow, deserialize_with = "present")]
    arn_lower: Field<'a>,
}

/// What the tool takes from `configuration`, owned (the API gives it as a string to parse).
struct Configuration {
    name: Option<String>,
    arn: Option<String>,
    /// `None`: no `RepositoryPolicyText` key.
    policy: Option<Result<Body, String>>,
}

impl Configuration {
    fn is_ecr(&self) -> bool {
        self.name.is_some() || self.policy.is_some()
    }
}

fn configuration(raw: &RawValue, at: At) -> Result<Configuration, (Code, String)> {
    let owned;
    let text = match kind(raw) {
        Kind::Object => raw.get(),
        Kind::String => {
            owned = serde_json::from_str::<String>(raw.get())
                .map_err(|e| (Code::InvalidJson, invalid(at, &e)))?;
            trim_json_ws(&owned)
        }
        _ => raw.get(),
    };
    let not_object = || {
        (
            Code::UnsupportedInput,
            format!(
                "`configuration` of {} is {}; expected an object or a JSON string of one",
                at.subject(),
                describe(text)
            ),
        )
    };
    if !text.starts_with('{') {
        // A string that holds JSON but not an object, or holds no JSON at all.
        if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
            return Err(not_object());
        }
    }
    let c: RawConfiguration = serde_json::from_str(text).map_err(|e| {
        (
            Code::InvalidJson,
            format!("`configuration` of {} is not valid JSON: {e}", at.subject()),
        )
    })?;
    let policy = c
        .policy_upper
        .map(|p| ("RepositoryPolicyText", p))
        .or(c.policy_lower.map(|p| ("repositoryPolicyText", p)))
        .map(|(key, p)| policy(key, p, at));
    Ok(Configuration {
        name: string(c.name_upper).or_else(|| string(c.name_lower)),
        arn: string(c.arn_upper).or_else(|| string(c.arn_lower)),
        policy,
    })
}

/// `RepositoryPolicyText`: a JSON string is the policy; `{}`, `""` and `null` mean none.
fn policy(key: &str, raw: &RawValue, at: At) -> Result<Body, String> {
    match kind(raw) {
        Kind::Null => Ok(Body::NoPolicy),
        Kind::String if lazy_literal(raw.get()) => Ok(Body::Policy(PolicyText::encoded(raw.get()))),
        Kind::String => match string(Some(raw)) {
            Some(text) if text.trim().is_empty() => Ok(Body::NoPolicy),
            Some(text) => Ok(Body::Policy(PolicyText::plain(&text))),
            None => Err(format!(
                "`{key}` of {} is not a valid JSON string",
                at.subject()
            )),
        },
        Kind::Object => {
            let inner = trim_json_ws(&raw.get()[1..raw.get().len() - 1]);
            if inner.is_empty() {
                Ok(Body::NoPolicy)
            } else {
                Ok(Body::Policy(PolicyText::plain(raw.get())))
            }
        }
        _ => Err(format!(
            "`{key}` of {} is {}; expected a JSON string of the policy or {{}}",
            at.subject(),
            describe(raw.get())
        )),
    }
}

/// An AWS Config item, or `None` when `p` is not one: it needs a `resourceType` of the form
/// `AWS::…`, or (no `resourceType`, as in a `select-resource-config` that did not select it) a
/// `configuration` with an ECR repository's keys.
pub(crate) fn item(p: &Probe, at: At) -> Option<Item> {
    let resource_type = string(p.resource_type).filter(|t| t.starts_with("AWS::"));
    let config = p
        .configuration
        .filter(|r| kind(r) != Kind::Null)
        .map(|raw| configuration(raw, at));
    match &resource_type {
        Some(t) if t != ECR_REPOSITORY => return Some(Item::Skip),
        Some(_) => {}
        None => match &config {
            Some(Ok(c)) if c.is_ecr() => {}
            _ => return None,
        },
    }
    let status = string(p.status);
    // A deleted repository has nothing left to pull from.
    if matches!(
        status.as_deref(),
        Some("ResourceDeleted" | "ResourceDeletedNotRecorded")
    ) {
        return Some(Item::Skip);
    }
    let mut repo = RepoId {
        region: string(p.aws_region),
        arn: string(p.arn_upper).or_else(|| string(p.arn)),
        ..RepoId::default()
    };
    let fields = account_field(p.aws_account_id, "awsAccountId", at)
        .and_then(|r| match r {
            Some(r) => Ok(Some(r)),
            None => account_field(p.account_id, "accountId", at),
        })
        .and_then(|registry| {
            name_field(p.resource_name, "resourceName", at).map(|name| (registry, name))
        });
    match fields {
        Ok((registry, name)) => {
            repo.registry = registry;
            repo.repository = name;
        }
        Err(body) => return Some(Item::Record(Shape::AwsConfig, repo, body)),
    }
    if let Some(Ok(c)) = &config {
        if repo.repository.is_none() {
            repo.repository.clone_from(&c.name);
        }
        if repo.arn.is_none() {
            repo.arn.clone_from(&c.arn);
        }
    }
    fill_from_arn(&mut repo);
    let body = if status.as_deref() == Some("ResourceNotRecorded") {
        error(
            Code::UnsupportedInput,
            format!(
                "{} is `ResourceNotRecorded`: AWS Config holds no configuration for it, so its \
                 repository policy is unknown",
                at.subject()
            ),
        )
    } else {
        match config {
            None => error(
                Code::UnsupportedInput,
                format!(
                    "{} has no `configuration`, so its repository policy is unknown",
                    at.subject()
                ),
            ),
            Some(Err((code, message))) => error(code, message),
            Some(Ok(c)) => match c.policy {
                None => Body::NoPolicy,
                Some(Ok(body)) => body,
                Some(Err(message)) => error(Code::UnsupportedInput, message),
            },
        }
    };
    Some(Item::Record(Shape::AwsConfig, repo, body))
}

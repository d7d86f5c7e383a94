//! No-policy markers: ECR's `RepositoryPolicyNotFoundException` (the *GetRepositoryPolicy*
//! error) as JSON (`{"Code": …}`, `{"__type": …}`, boto3's `{"Error": {"Code": …}}`) or as the
//! AWS CLI's error line. Any other AWS error is named in an `unsupported-input` message.

use super::common::{
    At, Ctx, Emit, Format, Input, Item, Kind, Probe, Rejected, account_field, emit_item, error,
    kind, name_field, string,
};
use super::kind::Shape;
use crate::finding::Code;
use crate::record::{Body, RepoId};

/// ECR's answer when a repository has no policy, in JSON errors and the CLI's error line.
pub(crate) const NOT_FOUND: &str = "RepositoryPolicyNotFoundException";

/// The AWS CLI prints a failed call as `An error occurred (Code) when calling the Op operation: …`.
pub(crate) const CLI_ERROR: &str = "An error occurred (";

/// An object with `Code`, `__type` or `Error`.
pub(crate) struct Marker;

impl Format for Marker {
    fn detect(&self, input: &Input<'_>, _at: At) -> bool {
        matches!(input, Input::Object { probe, .. }
            if probe.code.is_some() || probe.type_.is_some() || probe.error.is_some())
    }

    fn read(&self, input: &Input<'_>, at: At, ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
        let Input::Object { probe: p, .. } = input else {
            return Err(Rejected::Declined);
        };
        match marker(p, at, ctx) {
            Some(item) => emit_item(item, at, emit),
            None => Err(Rejected::Declined),
        }
    }
}

/// One line of JSON Lines (or of a CLI error log) that is an AWS CLI error line: `Some` with its
/// record, `None` when the line is no such line.
pub(crate) fn cli_line(line: &str, at: At, ctx: &Ctx, emit: &mut Emit) -> Option<()> {
    let (code, message) = cli_error(line)?;
    let n = at.number();
    if code == NOT_FOUND {
        emit(
            n,
            Shape::NoPolicyMarker,
            not_found_identity(None, None, Some(message), ctx),
            Body::NoPolicy,
        );
    } else {
        emit(
            n,
            Shape::Unrecognised,
            RepoId::default(),
            error(
                Code::UnsupportedInput,
                format!(
                    "line {n} is an AWS CLI error ({code}: {message}), not a repository policy"
                ),
            ),
        );
    }
    Some(())
}

/// An AWS error response as JSON: `{"Code": …}` (CLI/SDK), `{"__type": …}` (the raw API), or
/// `{"Error": {"Code": …}}` (boto3's `response`). `RepositoryPolicyNotFoundException` is a
/// repository without policy; any other error is named in an `unsupported-input` message.
fn marker(p: &Probe, at: At, ctx: &Ctx) -> Option<Item> {
    let (code, message) = if let Some(code) = string(p.code) {
        (
            code,
            string(p.message_upper).or_else(|| string(p.message_lower)),
        )
    } else if let Some(code) = string(p.type_) {
        (
            code,
            string(p.message_lower).or_else(|| string(p.message_upper)),
        )
    } else {
        let inner = p.error.filter(|r| kind(r) == Kind::Object)?;
        let inner: Probe = serde_json::from_str(inner.get()).ok()?;
        (
            string(inner.code)?,
            string(inner.message_upper).or_else(|| string(inner.message_lower)),
        )
    };
    // The raw API may namespace the type: `com.amazonaws.ecr#RepositoryPolicyNotFoundException`.
    let short = code.rsplit(['#', ':']).next().unwrap_or(&code);
    if short == NOT_FOUND {
        let fields = name_field(p.repository_name, "repositoryName", at).and_then(|name| {
            account_field(p.registry_id, "registryId", at).map(|registry| (name, registry))
        });
        return Some(match fields {
            Ok((name, registry)) => {
                let mut repo = not_found_identity(name, registry, message.as_deref(), ctx);
                // ECR's error has no region; scripts/export-ecr.sh adds it.
                repo.region = string(p.region);
                Item::Record(Shape::NoPolicyMarker, repo, Body::NoPolicy)
            }
            Err(body) => Item::Record(Shape::NoPolicyMarker, RepoId::default(), body),
        });
    }
    let message = format!(
        "{} is an AWS error response ({short}{}), not a repository policy",
        at.subject(),
        message.map(|m| format!(": {m}")).unwrap_or_default()
    );
    // An error that names its repository (scripts/export-ecr.sh writes one for a policy it could
    // not read, e.g. AccessDeniedException) is that repository's error row, so that the
    // inventory join does not take the repository for one without a policy.
    // One that names only a registry (a registry policy or a region's listing that could not be
    // read) is an error row of that registry and region, so the report says where to look.
    let registry = account_field(p.registry_id, "registryId", at)
        .ok()
        .flatten();
    let name = string(p.repository_name);
    if name.is_some() || registry.is_some() {
        let repo = RepoId {
            registry,
            region: string(p.region),
            repository: name,
            ..RepoId::default()
        };
        return Some(Item::Record(
            Shape::Unrecognised,
            repo,
            error(Code::UnsupportedInput, message),
        ));
    }
    Some(Item::Unknown(message))
}

/// Who a `RepositoryPolicyNotFoundException` is about: the fields if given, else the message
/// ("… the repository with name 'app' in the registry with id '123456789012'"), else the path.
fn not_found_identity(
    name: Option<String>,
    registry: Option<String>,
    message: Option<&str>,
    ctx: &Ctx,
) -> RepoId {
    let name = name.or_else(|| quoted_after(message?, "repository with name '"));
    let registry = registry.or_else(|| quoted_after(message?, "registry with id '"));
    match name {
        Some(name) => RepoId {
            registry,
            repository: Some(name),
            ..RepoId::default()
        },
        None => RepoId {
            registry,
            repository: ctx.label.map(str::to_owned),
            name_from_path: true,
            ..RepoId::default()
        },
    }
}

fn quoted_after(text: &str, lead: &str) -> Option<String> {
    let start = text.find(lead)? + lead.len();
    let rest = &text[start..];
    let end = rest.find('\'')?;
    Some(rest[..end].to_owned())
}

/// `An error occurred (Code) when calling the Op operation: message` → (Code, message).
fn cli_error(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix(CLI_ERROR)?;
    let (code, rest) = rest.split_once(')')?;
    let message = rest.split_once(": ").map_or("", |(_, m)| m);
    Some((code, message))
}

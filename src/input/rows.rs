//! Rows of the SQL-like inventory tools: Steampipe's `aws_ecr_repository` table and CloudQuery's
//! `aws_ecr_repositories` / `aws_ecr_repository_policies` tables, as JSON (Steampipe's
//! `--output json`, a bare array, JSON Lines) or CSV (see `csvexport.rs`). The columns are the
//! producers' own (see `docs/inputs.md`):
//!
//! - Steampipe (`turbot/steampipe-plugin-aws`, `aws/table_aws_ecr_repository.go`):
//!   `repository_name`, `registry_id`, `arn`, `repository_uri`, …, `policy` (JSON, the
//!   repository policy; null when there is none), `policy_std` (a canonical, lower-cased rewrite:
//!   never judged), `title`, `akas`, and the regional `partition`, `region`, `account_id`.
//! - CloudQuery (`cloudquery/cloudquery`, `plugins/source/aws/docs/tables/`):
//!   `aws_ecr_repository_policies` has `account_id`, `region`, `registry_id`, `repository_name`,
//!   `policy_json` (JSON), `policy_text` (text); `aws_ecr_repositories` has no policy column.
//!
//! A row that carries a policy column is a policy record (null: no policy), never an inventory
//! entry; a row without any policy column (`select repository_name, registry_id, region`) is an
//! inventory entry.

use serde_json::value::RawValue;

use super::common::{
    At, Ctx, Each, Emit, Format, Input, Item, Kind, Probe, Rejected, describe, emit_item, error,
    fill_from_arn, identity_account, invalid, kind, name_string, policy_body, read_list, string,
};
use super::kind::Shape;
use crate::finding::Code;
use crate::record::{Body, RepoId};

/// `steampipe query --output json`: a file with a `rows` array.
pub(crate) struct SteampipeDocument;

impl Format for SteampipeDocument {
    fn detect(&self, input: &Input<'_>, at: At) -> bool {
        matches!((input, at), (Input::Object { probe, .. }, At::File)
            if probe.rows.is_some_and(|r| kind(r) == Kind::Array))
    }

    fn read(&self, input: &Input<'_>, _at: At, ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
        match input {
            Input::Object { probe, .. } => match self.list(probe) {
                Some((rows, each)) => {
                    read_list(rows, each, ctx, emit);
                    Ok(())
                }
                None => Err(Rejected::Declined),
            },
            Input::Text(_) => Err(Rejected::Declined),
        }
    }

    /// `{"columns": […], "rows": […]}` (Steampipe v0.24 and later), `{"rows": […]}` (earlier).
    fn list<'a>(&self, probe: &Probe<'a>) -> Option<(&'a RawValue, Each)> {
        probe
            .rows
            .filter(|r| kind(r) == Kind::Array)
            .map(|l| (l, steampipe_row as Each))
    }
}

/// One row on its own (an element of a bare array, a line of JSON Lines, a whole file).
pub(crate) struct Row;

impl Format for Row {
    fn detect(&self, input: &Input<'_>, _at: At) -> bool {
        matches!(input, Input::Object { probe, .. } if is_row(probe))
    }

    fn read(&self, input: &Input<'_>, at: At, ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
        let Input::Object { probe, .. } = input else {
            return Err(Rejected::Declined);
        };
        match row(probe, at, ctx, None) {
            Some(item) => emit_item(item, at, emit),
            None => Err(Rejected::Declined),
        }
    }
}

/// One element of a Steampipe document's `rows`, read as a Steampipe row.
fn steampipe_row(i: usize, raw: &RawValue, ctx: &Ctx, emit: &mut Emit) {
    let at = At::part("row", i);
    let n = at.number();
    let item = match kind(raw) {
        Kind::Object => match serde_json::from_str::<Probe>(raw.get()) {
            Ok(p) => row(&p, at, ctx, Some(Shape::Steampipe)).unwrap_or_else(|| {
                Item::Record(
                    Shape::Steampipe,
                    RepoId::default(),
                    error(
                        Code::UnsupportedInput,
                        format!(
                            "{} of the Steampipe rows is {}; expected `repository_name` or `arn`",
                            at.subject(),
                            describe(raw.get())
                        ),
                    ),
                )
            }),
            Err(e) => Item::Record(
                Shape::Steampipe,
                RepoId::default(),
                error(Code::InvalidJson, invalid(at, &e)),
            ),
        },
        _ => Item::Record(
            Shape::Steampipe,
            RepoId::default(),
            error(
                Code::UnsupportedInput,
                format!(
                    "{} of the Steampipe rows is {}; expected an object",
                    at.subject(),
                    describe(raw.get())
                ),
            ),
        ),
    };
    match item {
        Item::Record(shape, repo, body) => emit(n, shape, repo, body),
        Item::Skip | Item::Unknown(_) => {}
    }
}

/// Which tool wrote the row, from the columns only it has; `None` when the row names neither
/// tool's own columns (`select repository_name, registry_id, region`).
fn tool_of(p: &Probe) -> Option<Shape> {
    if p.cq_id.is_some()
        || p.cq_parent_id.is_some()
        || p.policy_json.is_some()
        || p.policy_text_snake.is_some()
        || p.repository_arn_snake.is_some()
    {
        Some(Shape::CloudQuery)
    } else if p.policy_lower.is_some()
        || p.policy_std.is_some()
        || p.akas.is_some()
        || p.title.is_some()
        || p.partition.is_some()
    {
        Some(Shape::Steampipe)
    } else {
        None
    }
}

/// Whether `p` looks like a row of these tools: `repository_name`, or an `arn` with another
/// column of theirs.
fn is_row(p: &Probe) -> bool {
    p.repository_name_snake.is_some()
        || (p.arn.is_some()
            && (p.policy_lower.is_some()
                || p.policy_std.is_some()
                || p.registry_id_snake.is_some()
                || p.account_id_snake.is_some()
                || p.repository_uri_snake.is_some()))
}

/// One row, or `None` when `p` is no row of these tools. `hint` is the tool the container says
/// wrote it; without one, a row that names neither tool's own columns is counted as
/// CloudQuery's in JSON Lines (CloudQuery's file format) and as Steampipe's elsewhere.
pub(crate) fn row(p: &Probe, at: At, ctx: &Ctx, hint: Option<Shape>) -> Option<Item> {
    if !is_row(p) {
        return None;
    }
    let shape = hint.or_else(|| tool_of(p)).unwrap_or(if ctx.json_lines {
        Shape::CloudQuery
    } else {
        Shape::Steampipe
    });
    let repo = match identity(p, at) {
        Ok(repo) => repo,
        Err(body) => return Some(Item::Record(shape, RepoId::default(), body)),
    };
    Some(Item::Record(shape, repo, body(p, at)))
}

/// What the row says of the policy.
fn body(p: &Probe, at: At) -> Body {
    // Steampipe's `policy`: the policy as the API returned it.
    if let Some(policy) = p.policy_lower {
        return policy_body("policy", policy, at);
    }
    // CloudQuery: `policy_json` and/or `policy_text`, the first that is not null.
    let cq = [
        ("policy_json", p.policy_json),
        ("policy_text", p.policy_text_snake),
    ];
    if let Some((key, raw)) = cq
        .iter()
        .filter_map(|(key, raw)| raw.map(|r| (*key, r)))
        .find(|(_, r)| kind(r) != Kind::Null)
    {
        return policy_body(key, raw, at);
    }
    if cq.iter().any(|(_, raw)| raw.is_some()) {
        return Body::NoPolicy;
    }
    // Steampipe's `policy_std` alone: null means no policy, like `policy`; a value is a
    // lower-cased rewrite (values included), which cannot be judged.
    if let Some(std) = p.policy_std {
        if kind(std) == Kind::Null {
            return Body::NoPolicy;
        }
        return error(
            Code::UnsupportedInput,
            format!(
                "{} has only `policy_std`, Steampipe's canonical rewrite of the policy (values lower-cased), which cannot be judged; select the `policy` column",
                at.subject()
            ),
        );
    }
    // No policy column: `aws_ecr_repositories`, or a narrow select. An inventory entry.
    Body::Inventory
}

/// The identity of a row: the name from `repository_name` (or the ARN), the registry from
/// `registry_id` (or `account_id`), the region, the ARN.
fn identity(p: &Probe, at: At) -> Result<RepoId, Body> {
    let repository = match p.repository_name_snake {
        Some(raw) => Some(name_string(raw, "repository_name", at)?),
        None => None,
    };
    let registry = match (p.registry_id_snake, p.account_id_snake) {
        (Some(raw), _) if kind(raw) != Kind::Null => identity_account(raw, "registry_id", at)?,
        (_, Some(raw)) => identity_account(raw, "account_id", at)?,
        _ => None,
    };
    let mut repo = RepoId {
        registry,
        region: string(p.region),
        repository,
        arn: string(p.arn).or_else(|| string(p.repository_arn_snake)),
        name_from_path: false,
    };
    fill_from_arn(&mut repo);
    if repo.repository.is_none() {
        return Err(error(
            Code::UnsupportedInput,
            format!(
                "{} names no repository: expected `repository_name` or an ECR repository `arn`",
                at.subject()
            ),
        ));
    }
    Ok(repo)
}

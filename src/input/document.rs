//! A bare policy document (`aws ecr get-repository-policy --query policyText --output text`): an
//! object with `Statement`. Its identity is the path it was found at (SPEC 3); inside an array or
//! JSON Lines it is part of a bulk export.

use super::common::{
    At, Ctx, EXPECTED, Emit, Format, Input, Item, Kind, Probe, Rejected, emit_item, kind_of,
    trim_json_ws,
};
use super::kind::Shape;
use crate::record::{Body, PolicyText, RepoId};

/// An object with `Statement`.
pub(crate) struct PolicyDocument;

impl Format for PolicyDocument {
    fn detect(&self, input: &Input<'_>, _at: At) -> bool {
        matches!(input, Input::Object { probe, .. } if probe.statement.is_some())
    }

    fn read(&self, input: &Input<'_>, at: At, ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
        let Input::Object { raw, .. } = input else {
            return Err(Rejected::Declined);
        };
        read_bare(raw, at, ctx, emit)
    }
}

/// A bare policy document's record (`raw`: the object's text), as [`PolicyDocument`] reads it;
/// also the one-pass route's (`quick::document`).
pub(crate) fn read_bare(raw: &str, at: At, ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
    emit_item(bare_policy(raw, at, ctx), at, emit)
}

/// [`read_bare`] of a document whose policy was read with it (`policy::read_document`).
pub(crate) fn read_bare_with(
    raw: &str,
    policy: crate::policy::Policy,
    ctx: &Ctx,
    emit: &mut Emit,
) -> Result<(), Rejected> {
    let text = PolicyText::plain(raw).with_read(policy);
    emit_item(bare_policy_of(text, At::File, ctx), At::File, emit)
}

/// A JSON string holding a policy document (`--query policyText` with the default JSON output)
/// is that document; any other string is no known shape.
pub(crate) fn from_string(s: &str, at: At, ctx: &Ctx) -> Item {
    let inner = trim_json_ws(s);
    if kind_of(inner) == Kind::Object
        && serde_json::from_str::<Probe>(inner).is_ok_and(|p| p.statement.is_some())
    {
        return bare_policy(inner, at, ctx);
    }
    Item::Unknown(format!(
        "{} is a JSON string that holds no policy document; {EXPECTED}",
        at.subject()
    ))
}

fn bare_policy(raw: &str, at: At, ctx: &Ctx) -> Item {
    bare_policy_of(PolicyText::plain(raw), at, ctx)
}

/// The record of a bare policy document whose text is `text`.
fn bare_policy_of(text: PolicyText, at: At, ctx: &Ctx) -> Item {
    let shape = match at {
        At::File => Shape::PolicyDocument,
        At::Part { .. } => Shape::Bulk,
    };
    Item::Record(
        shape,
        RepoId {
            repository: ctx.label.map(str::to_owned),
            name_from_path: true,
            ..RepoId::default()
        },
        Body::Policy(text),
    )
}

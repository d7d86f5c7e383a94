//! Recognising an export's shape from its content (SPEC 3; first match wins) and handing it to
//! its format: the dispatcher. Every format is one module behind [`Format`], listed once in
//! [`FORMATS`]; this module owns only what is not a format — a file's JSON layout (one object, an
//! array, a JSON string, JSON Lines, text that is not JSON) and the numbering of records.
//! Module graph: `common` ← each format ← `shape` (no format imports the dispatcher).

use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::awsconfig::{ConfigFile, ConfigItem};
use super::cfn::{CloudFormationJson, CloudFormationYaml};
use super::common::{
    At, Ctx, Emit, Format, Input, Kind, Probe, Rejected, emit_item, error, invalid, kind_of,
    trim_json_ws, unknown_message,
};
use super::csvexport::Csv;
use super::document::{self, PolicyDocument};
use super::inventory::DescribeRepositories;
use super::kind::Shape;
use super::marker::{self, CLI_ERROR, Marker};
use super::quick;
use super::registry::GetRegistryPolicy;
use super::repository::RepositoryPolicy;
use super::rows::{Row, SteampipeDocument};
use super::scope::AccountSetting;
use super::terraform::Terraform;
use crate::record::RepoId;

/// Every format, in the order they are tried (first match wins). Whole-file containers come
/// first (their `detect` accepts only `At::File`), then single objects, then the text formats
/// for files that are not JSON.
pub(crate) static FORMATS: &[&dyn Format] = &[
    &ConfigFile,
    &Terraform,
    &CloudFormationJson,
    &DescribeRepositories,
    &SteampipeDocument,
    &RepositoryPolicy,
    &PolicyDocument,
    &AccountSetting,
    &GetRegistryPolicy,
    &Row,
    &ConfigItem,
    &Marker,
    &CloudFormationYaml,
    &Csv,
];

/// Offers `input` to each format in turn; `None` when none takes it.
fn dispatch(input: &Input<'_>, at: At, ctx: &Ctx, emit: &mut Emit) -> Option<Result<(), Rejected>> {
    for format in FORMATS {
        if format.detect(input, at) {
            match format.read(input, at, ctx, emit) {
                Err(Rejected::Declined) => continue,
                done => return Some(done),
            }
        }
    }
    None
}

/// One parsed object: its format reads it, or it is of no known shape.
pub(super) fn object(
    p: &Probe,
    raw: &str,
    at: At,
    ctx: &Ctx,
    emit: &mut Emit,
) -> Result<(), Rejected> {
    let input = Input::Object { probe: p, raw };
    dispatch(&input, at, ctx, emit)
        .unwrap_or_else(|| Err(Rejected::Unsupported(unknown_message(raw, at))))
}

/// Reads a decoded file. `Err` when the file as a whole gave nothing: empty, not JSON, or JSON of
/// no known shape; otherwise every record (error records included) went to `emit`.
pub(crate) fn parse(text: &str, ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
    let trimmed = trim_json_ws(text);
    if text.trim().is_empty() {
        return Err(Rejected::Empty);
    }
    if ctx.json_lines {
        lines(text, ctx, emit);
        return Ok(());
    }
    if let Some((shape, repo, body)) = quick::record(trimmed, At::File, true) {
        emit(At::File.number(), shape, repo, body);
        return Ok(());
    }
    if let Some(records) = quick::array(trimmed) {
        for (i, (shape, repo, body)) in records.into_iter().enumerate() {
            emit(At::part("record", i).number(), shape, repo, body);
        }
        return Ok(());
    }
    // Where policies are seldom found in the verdict cache, a bare document's policy is read
    // now (see `audit::read_while_reading`): a valid one of the common shape is also a
    // document `quick::document` takes, whose check is then spared.
    if crate::audit::read_while_reading::on() {
        if let Some(policy) = crate::policy::read_document(trimmed) {
            return super::document::read_bare_with(trimmed, policy, ctx, emit);
        }
    }
    if quick::document(trimmed) {
        return super::document::read_bare(trimmed, At::File, ctx, emit);
    }
    // Parse `text`, not `trimmed`, so that serde_json's line numbers count leading blank lines.
    let parsed = match kind_of(trimmed) {
        Kind::Object => {
            serde_json::from_str::<Probe>(text).map(|p| object(&p, trimmed, At::File, ctx, emit))
        }
        Kind::Array => serde_json::from_str::<Vec<&RawValue>>(text).map(|items| {
            for (i, raw) in items.iter().enumerate() {
                part(raw.get(), At::part("record", i), ctx, emit);
            }
            Ok(())
        }),
        Kind::String => serde_json::from_str::<String>(text)
            .map(|s| emit_item(document::from_string(&s, At::File, ctx), At::File, emit)),
        _ => serde_json::from_str::<IgnoredAny>(text)
            .map(|_| Err(Rejected::Unsupported(unknown_message(trimmed, At::File)))),
    };
    match parsed {
        Ok(result) => result,
        Err(e) if e.is_data() => Err(Rejected::NotJson(invalid(At::File, &e))),
        Err(e) => match dispatch(&Input::Text(text), At::File, ctx, emit) {
            Some(result) => result,
            // Several values, one a line (JSON Lines without the name), or CLI error lines.
            None if looks_line_oriented(text) => {
                lines(text, ctx, emit);
                Ok(())
            }
            None => Err(Rejected::NotJson(invalid(At::File, &e))),
        },
    }
}

/// One value of a multi-record file (an array element, a line), given as text: its record, or an
/// error record under its number.
pub(crate) fn part(text: &str, at: At, ctx: &Ctx, emit: &mut Emit) {
    let text = trim_json_ws(text);
    if let Some((shape, repo, body)) = quick::record(text, at, ctx.judged_here) {
        emit(at.number(), shape, repo, body);
        return;
    }
    let result = match kind_of(text) {
        Kind::Object if quick::document(text) => super::document::read_bare(text, at, ctx, emit),
        Kind::Object => match serde_json::from_str::<Probe>(text) {
            Ok(p) => object(&p, text, at, ctx, emit),
            Err(e) => Err(Rejected::NotJson(invalid(at, &e))),
        },
        Kind::String => match serde_json::from_str::<String>(text) {
            Ok(s) => emit_item(document::from_string(&s, at, ctx), at, emit),
            Err(e) => Err(Rejected::NotJson(invalid(at, &e))),
        },
        _ => match serde_json::from_str::<IgnoredAny>(text) {
            Ok(_) => Err(Rejected::Unsupported(unknown_message(text, at))),
            Err(e) => Err(Rejected::NotJson(invalid(at, &e))),
        },
    };
    if let Err(rejected) = result {
        let code = rejected.code();
        emit(
            at.number(),
            Shape::Unrecognised,
            RepoId::default(),
            error(code, rejected.into_message()),
        );
    }
}

/// Several non-blank lines of which the first is a JSON value on its own, or all start with `{`
/// (JSON Lines), or a first line that is an AWS CLI error. A pretty-printed document fails both
/// JSON tests (its first line is `{` or `[`).
fn looks_line_oriented(text: &str) -> bool {
    let mut non_blank = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let Some(first) = non_blank.next() else {
        return false;
    };
    if first.starts_with(CLI_ERROR) {
        return true;
    }
    let Some(second) = non_blank.next() else {
        return false;
    };
    serde_json::from_str::<IgnoredAny>(first).is_ok()
        || (first.starts_with('{')
            && second.starts_with('{')
            && non_blank.all(|l| l.starts_with('{')))
}

/// JSON Lines (and AWS CLI error lines): each non-blank line is one record numbered by its line;
/// blank lines are skipped but counted.
fn lines(text: &str, ctx: &Ctx, emit: &mut Emit) {
    for (i, text) in text.lines().enumerate() {
        line(i, text, ctx, emit);
    }
}

/// One line (0-based index `i`) of JSON Lines: blank is nothing, else one record.
pub(crate) fn line(i: usize, line: &str, ctx: &Ctx, emit: &mut Emit) {
    let line = line.trim();
    if line.is_empty() {
        return;
    }
    let at = At::part("line", i);
    if marker::cli_line(line, at, ctx, emit).is_none() {
        part(line, at, ctx, emit);
    }
}

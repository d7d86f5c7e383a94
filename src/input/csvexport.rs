//! CSV exports: Steampipe's `steampipe query --output csv` of `aws_ecr_repository` (the policy
//! as JSON text in the `policy` cell), and CloudQuery's CSV of `aws_ecr_repository_policies` /
//! `aws_ecr_repositories`. Each data row is turned into the object the JSON export would have had
//! and read as one row (see `rows.rs`); an empty cell is a missing value (an empty policy cell is
//! `null`: no policy). CSV files are few and small next to the JSON estate, so a row's object is
//! built as a `serde_json` value.

use super::common::{At, Ctx, Emit, Format, Input, Item, Probe, Rejected, error, invalid};
use super::kind::Shape;
use super::rows;
use crate::finding::Code;
use crate::record::RepoId;

const POLICY_COLUMNS: [&str; 4] = ["policy", "policy_std", "policy_json", "policy_text"];
/// Columns only CloudQuery writes.
const CLOUDQUERY_COLUMNS: [&str; 4] = ["_cq_id", "_cq_parent_id", "policy_json", "policy_text"];

/// Text that is not JSON and starts with a CSV header of these tools' rows.
pub(crate) struct Csv;

impl Format for Csv {
    fn detect(&self, input: &Input<'_>, _at: At) -> bool {
        matches!(input, Input::Text(text) if looks_like_export(text))
    }

    fn read(&self, input: &Input<'_>, _at: At, ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
        match input {
            Input::Text(text) => {
                read(text, ctx, emit);
                Ok(())
            }
            Input::Object { .. } => Err(Rejected::Declined),
        }
    }
}

/// Whether `text` starts with a CSV header of these tools' rows: `repository_name`, or `arn`
/// with a policy column.
pub(crate) fn looks_like_export(text: &str) -> bool {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut first = csv::StringRecord::new();
    if !matches!(reader.read_record(&mut first), Ok(true)) {
        return false;
    }
    let has = |names: &[&str]| first.iter().any(|h| names.contains(&h.trim()));
    has(&["repository_name"]) || (has(&["arn"]) && has(&POLICY_COLUMNS))
}

fn read(text: &str, ctx: &Ctx, emit: &mut Emit) {
    read_from(text.as_bytes(), ctx, emit, &mut || {});
}

/// Reads a CSV export from `input`, one row at a time (a file too large to hold is streamed
/// through here: `stream.rs`). `before` is called before each row is read.
pub(crate) fn read_from(
    input: impl std::io::Read,
    ctx: &Ctx,
    emit: &mut Emit,
    before: &mut dyn FnMut(),
) {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = match reader.headers() {
        Ok(h) => h.iter().map(|h| h.trim().to_owned()).collect::<Vec<_>>(),
        Err(e) => {
            emit(
                1,
                Shape::Unrecognised,
                RepoId::default(),
                error(
                    Code::InvalidJson,
                    format!("the CSV header cannot be read: {e}"),
                ),
            );
            return;
        }
    };
    let shape = if headers
        .iter()
        .any(|h| CLOUDQUERY_COLUMNS.contains(&h.as_str()))
    {
        Shape::CloudQuery
    } else {
        Shape::Steampipe
    };
    let mut records = reader.records();
    for i in 0.. {
        before();
        let Some(row) = records.next() else {
            break;
        };
        let at = At::part("row", i);
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                let io = e.is_io_error();
                emit(
                    at.number(),
                    shape,
                    RepoId::default(),
                    error(
                        if io {
                            Code::Unreadable
                        } else {
                            Code::InvalidJson
                        },
                        format!("{} cannot be read as CSV: {e}", at.subject()),
                    ),
                );
                // A failed read (damaged gzip, a row over the cap) ends the file.
                if io {
                    break;
                }
                continue;
            }
        };
        if row.len() != headers.len() {
            emit(
                at.number(),
                shape,
                RepoId::default(),
                error(
                    Code::InvalidJson,
                    format!(
                        "{} has {} cells, the header {}",
                        at.subject(),
                        row.len(),
                        headers.len()
                    ),
                ),
            );
            continue;
        }
        let mut obj = serde_json::Map::new();
        for (h, cell) in headers.iter().zip(row.iter()) {
            let value = if cell.trim().is_empty() {
                if !POLICY_COLUMNS.contains(&h.as_str()) {
                    continue;
                }
                serde_json::Value::Null
            } else {
                serde_json::Value::String(cell.to_owned())
            };
            obj.insert(h.clone(), value);
        }
        let text = serde_json::Value::Object(obj).to_string();
        let item = match serde_json::from_str::<Probe>(&text) {
            Ok(p) => rows::row(&p, at, ctx, Some(shape)),
            Err(e) => Some(Item::Record(
                shape,
                RepoId::default(),
                error(Code::InvalidJson, invalid(at, &e)),
            )),
        };
        match item {
            Some(Item::Record(shape, repo, body)) => emit(at.number(), shape, repo, body),
            _ => emit(
                at.number(),
                shape,
                RepoId::default(),
                error(
                    Code::UnsupportedInput,
                    format!(
                        "{} names no repository: expected a `repository_name` or `arn` cell",
                        at.subject()
                    ),
                ),
            ),
        }
    }
}

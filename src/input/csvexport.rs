//! CSV exports: Steampipe's `steampipe query --output csv` of `aws_ecr_repository` (the policy
//! as JSON text in the `policy` cell), and CloudQuery's CSV of `aws_ecr_repository_policies`.
//! Each data row is turned into the object the JSON export would have had and read as one; an
//! empty cell is a missing value (an empty `policy` cell is `null`: no policy).

use super::Shape;
use super::shape::{At, Ctx, Emit, error, item_text};
use crate::finding::Code;
use crate::record::RepoId;

const POLICY_COLUMNS: [&str; 3] = ["policy", "policy_json", "policy_text"];
const NAME_COLUMNS: [&str; 2] = ["name", "repository_name"];

/// Whether `text` starts with a CSV header naming a repository column and a policy column.
pub(crate) fn looks_like_export(text: &str) -> bool {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut first = csv::StringRecord::new();
    if !matches!(reader.read_record(&mut first), Ok(true)) {
        return false;
    }
    let has = |names: &[&str]| first.iter().any(|h| names.contains(&h.trim()));
    has(&POLICY_COLUMNS) && has(&NAME_COLUMNS)
}

pub(crate) fn read(text: &str, ctx: &Ctx, emit: &mut Emit) {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
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
    for (i, row) in reader.records().enumerate() {
        let at = At::part("row", i);
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                emit(
                    at.number(),
                    Shape::Unrecognised,
                    RepoId::default(),
                    error(
                        Code::InvalidJson,
                        format!("{} cannot be read as CSV: {e}", at.subject()),
                    ),
                );
                continue;
            }
        };
        if row.len() != headers.len() {
            emit(
                at.number(),
                Shape::Unrecognised,
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
        item_text(&serde_json::Value::Object(obj).to_string(), at, ctx, emit);
    }
}

//! Input: walking the paths, opening and gunzipping files, recognising the export shape, and
//! turning bytes into [`Record`]s. Knows nothing about IAM.

use std::path::PathBuf;
use std::sync::Arc;

use crate::record::Record;

/// One input to read: a file found by the walk, a file named on the command line, or standard
/// input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The path to open; `None` for standard input.
    pub path: Option<PathBuf>,
    /// The path as found (the command-line argument joined with the walked part), `-` for
    /// standard input. This is the report's `source` column.
    pub display: Arc<str>,
    /// For the identity of a bare policy document: its path relative to the scanned folder,
    /// without the extension (`team/app` for `export/team/app.json` when scanning `export`);
    /// for a file named on the command line, its file stem; `None` for standard input.
    pub label: Option<String>,
    /// Named on the command line (read whatever its name) rather than found by the walk.
    pub named: bool,
    /// The walk could not reach or stat this entry (broken link, permission denied, loop): the
    /// source becomes one `unreadable` record with this message.
    pub walk_error: Option<String>,
}

/// A path named on the command line that does not exist (a usage error, exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{path}: no such file or directory")]
pub struct MissingPath {
    pub path: String,
}

/// What reading a source came to, beyond the records it gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Read,
    /// A `.yaml`/`.yml`/`.csv` file found by the walk that is no export shape the tool knows:
    /// skipped, with this note for standard error.
    Skipped(String),
}

/// Finds every source under `paths`, sorted by `display`. `-` is standard input.
pub fn discover(_paths: &[String]) -> Result<Vec<Source>, MissingPath> {
    todo!("input helper")
}

/// Reads one source and hands each record to `sink`, in record order. Never fails: every problem
/// becomes an error record.
pub fn read_source(_source: &Source, _sink: &mut dyn FnMut(Record)) -> Outcome {
    todo!("input helper")
}

//! Input: walking the paths, opening and gunzipping files, recognising the export shape, and
//! turning bytes into [`Record`]s. Knows nothing about IAM.

mod awsconfig;
mod cfn;
mod csvexport;
mod read;
mod shape;
mod stream;
mod terraform;
mod tools;
mod walk;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::finding::Code;
use crate::record::{Body, Record, RepoId};

use read::MAX_BYTES;
use stream::Caps;

/// One input to read: a file found by the walk, a file named on the command line, or standard
/// input. A million of these are held during a scan, so the path and the label are kept inside
/// `display` where they can be (they almost always can).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    place: Place,
    /// The path as found (the command-line argument joined with the walked part), `-` for
    /// standard input. This is the report's `source` column.
    pub display: Arc<str>,
    label: Label,
    /// Named on the command line (read whatever its name) rather than found by the walk.
    pub named: bool,
    /// The walk could not reach or stat this entry (broken link, permission denied, loop): the
    /// source becomes one `unreadable` record with this message.
    pub walk_error: Option<Box<str>>,
}

/// Where a source is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Place {
    Stdin,
    /// The path `display` spells.
    Display,
    /// A path `display` shows only lossily (a name that is not UTF-8).
    Other(Box<Path>),
}

/// The label, as a span of `display` or, where it is not one, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Label {
    None,
    Span(u32, u32),
    /// Boxed twice so that the label costs one word in the (rare) owned case.
    Owned(Box<Box<str>>),
}

impl Source {
    /// Standard input (`-`).
    pub fn stdin() -> Source {
        Source {
            place: Place::Stdin,
            display: Arc::from("-"),
            label: Label::None,
            named: true,
            walk_error: None,
        }
    }

    /// A file at `path`, shown as `display`, whose bare policy document would be named `label`.
    pub fn file(
        path: PathBuf,
        display: Arc<str>,
        label: Option<String>,
        named: bool,
        walk_error: Option<String>,
    ) -> Source {
        let place = if path.as_os_str() == std::ffi::OsStr::new(&*display) {
            Place::Display
        } else {
            Place::Other(path.into_boxed_path())
        };
        let label = match label {
            None => Label::None,
            Some(l) => match display.find(l.as_str()) {
                Some(at) => Label::Span(at as u32, l.len() as u32),
                None => Label::Owned(Box::new(l.into_boxed_str())),
            },
        };
        Source {
            place,
            display,
            label,
            named,
            walk_error: walk_error.map(String::into_boxed_str),
        }
    }

    /// The path to open; `None` for standard input.
    pub fn path(&self) -> Option<&Path> {
        match &self.place {
            Place::Stdin => None,
            Place::Display => Some(Path::new(&*self.display)),
            Place::Other(p) => Some(p),
        }
    }

    /// For the identity of a bare policy document: its path relative to the scanned folder,
    /// without the extension (`team/app` for `export/team/app.json` when scanning `export`);
    /// for a file named on the command line, its file stem; `None` for standard input.
    pub fn label(&self) -> Option<&str> {
        match &self.label {
            Label::None => None,
            Label::Span(at, len) => self.display.get(*at as usize..(*at + *len) as usize),
            Label::Owned(l) => Some(l),
        }
    }
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
pub fn discover(paths: &[String]) -> Result<Vec<Source>, MissingPath> {
    walk::discover(paths)
}

/// The one folder of a scan of a single folder, whose sources [`walk_folder`] can hand over
/// while the walk goes on; `None` when `paths` is anything else (see [`discover`]).
pub fn single_folder(paths: &[String]) -> Option<&str> {
    match paths {
        [arg] if arg != "-" && std::fs::metadata(arg).is_ok_and(|m| m.is_dir()) => Some(arg),
        _ => None,
    }
}

/// Walks the folder `arg` and hands each source to `sink` as it is found, in `display` order
/// but for rare walk errors on folders (the caller checks the order; [`discover`] sorts).
pub fn walk_folder(arg: &str, sink: &mut dyn FnMut(Source)) {
    walk::walk(arg, sink);
}

/// Reads one source and hands each record to `sink`, in record order. Never fails: every problem
/// becomes an error record.
pub fn read_source(source: &Source, sink: &mut dyn FnMut(Record)) -> Outcome {
    read_source_capped(source, MAX_BYTES, sink)
}

/// [`read_source`] with the size cap as a parameter, so that tests can trip it cheaply.
pub(crate) fn read_source_capped(
    source: &Source,
    limit: u64,
    sink: &mut dyn FnMut(Record),
) -> Outcome {
    let display = &source.display;
    let mut emit = |record: u64, repo: RepoId, body: Body| {
        sink(Record {
            source: Arc::clone(display),
            record,
            repo,
            body,
        });
    };
    let unreadable = |message: String| Body::Error {
        code: Code::Unreadable,
        message,
    };
    if let Some(message) = &source.walk_error {
        emit(1, RepoId::default(), unreadable(message.to_string()));
        return Outcome::Read;
    }

    let name = source
        .path()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = walk::split_name(&name).ext;
    // Folders often hold unrelated YAML and CSV: found by the walk, such a file that is no shape
    // the tool knows is skipped with a note. Named on the command line, it is an error record.
    let skippable = !source.named && matches!(ext, Some("yaml" | "yml" | "csv"));
    let skipped = |why: &str| {
        Outcome::Skipped(format!(
            "{display}: skipped, {why}; YAML and CSV files are read only when they hold an export (JSON, a CloudFormation template, Steampipe or CloudQuery CSV)"
        ))
    };

    if matches!(ext, Some("jsonl" | "ndjson")) {
        let caps = if limit == MAX_BYTES {
            Caps::default()
        } else {
            Caps::scaled(limit)
        };
        if let Some(outcome) = stream::lines(source, &caps, &mut emit) {
            return outcome;
        }
    }
    let bytes = match read::load(source, limit) {
        Ok(bytes) => bytes,
        Err(message) => {
            emit(1, RepoId::default(), unreadable(message));
            return Outcome::Read;
        }
    };
    let text = match read::decode(bytes) {
        Ok(text) => text,
        Err(_) if skippable => return skipped("not UTF-8 text"),
        Err(message) => {
            emit(1, RepoId::default(), unreadable(message));
            return Outcome::Read;
        }
    };
    let ctx = shape::Ctx {
        label: source.label(),
        json_lines: matches!(ext, Some("jsonl" | "ndjson")),
    };
    match shape::parse(text.body(), &ctx, &mut emit) {
        Ok(()) => Outcome::Read,
        Err(shape::Rejected::Empty) if skippable => skipped("empty"),
        Err(shape::Rejected::NotJson(_)) if skippable => skipped("not JSON"),
        Err(shape::Rejected::Unsupported(_)) if skippable => {
            skipped("no export shape ecr-audit knows")
        }
        Err(rejected) => {
            let code = rejected.code();
            emit(
                1,
                RepoId::default(),
                Body::Error {
                    code,
                    message: rejected.into_message(),
                },
            );
            Outcome::Read
        }
    }
}

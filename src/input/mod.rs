//! Input: walking the paths, opening and gunzipping files, recognising the export shape, and
//! turning bytes into [`Record`]s. Knows nothing about IAM.

mod awsconfig;
mod cfn;
mod common;
mod csvexport;
mod document;
mod inventory;
mod kind;
mod marker;
mod open;
mod quick;
use open::Folders;
mod read;
mod registry;
mod repository;
mod rows;
mod scope;
mod shape;
mod stream;
mod terraform;
#[cfg(all(test, unix))]
mod tests_walk;
mod walk;
#[cfg(unix)]
mod walk_fast;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::finding::Code;
use crate::record::{Body, Record, RepoId};

pub use kind::Shape;
#[cfg(test)]
use read::MAX_WHOLE;
pub use read::{MAX_DOCUMENT_VAR, max_document_setting};
use stream::Caps;

/// One input to read: a file found by the walk, a file named on the command line, or standard
/// input. A million of these are held during a scan, so a source is five words: the path and
/// the label are kept inside `display` where they can be (they almost always can), and what
/// few sources have is boxed apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The path as found (the command-line argument joined with the walked part), `-` for
    /// standard input. This is the report's `source` column.
    pub display: Arc<str>,
    /// The label as a span of `display` (start, length), when it is one.
    label: Option<(u32, u32)>,
    /// Named on the command line (read whatever its name) rather than found by the walk.
    pub named: bool,
    stdin: bool,
    /// The known extension of the file's name (`walk::EXTENSIONS`), as its place there plus
    /// one; 0 for none. Found once, by the walk, not again by the reader.
    ext: u8,
    rare: Option<Box<Rare>>,
}

/// What few sources have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Rare {
    /// The path, where `display` shows it only lossily (a name that is not UTF-8).
    path: Option<PathBuf>,
    /// The label, where it is not a span of `display`.
    label: Option<String>,
    /// The walk could not reach or stat this entry (broken link, permission denied, loop).
    walk_error: Option<String>,
}

/// A known extension as kept in a [`Source`]: its place in `walk::EXTENSIONS` plus one, 0 for
/// none.
fn ext_code(ext: Option<&'static str>) -> u8 {
    ext.and_then(|e| walk::EXTENSIONS.iter().position(|k| *k == e))
        .map_or(0, |i| i as u8 + 1)
}

impl Source {
    /// Standard input (`-`).
    pub fn stdin() -> Source {
        Source {
            display: Arc::from("-"),
            label: None,
            named: true,
            stdin: true,
            ext: 0,
            rare: None,
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
        // The label is almost always a part of the displayed path.
        let (span, owned) = match label {
            None => (None, None),
            Some(l) => match display.find(l.as_str()) {
                Some(at) => (Some(at..at + l.len()), None),
                None => (None, Some(l)),
            },
        };
        let ext = {
            let name = String::from_utf8_lossy(walk::last_name(&path));
            walk::split_name(&name).ext
        };
        Source::new(Some(path), display, span, owned, named, walk_error, ext)
    }

    /// A file found by the walk, whose label is the span `label` of `display`.
    /// `ext` is the known extension of its name ([`walk::split_name`]). `path` is `None` when
    /// `display` is the path (the walk knows, and makes no `PathBuf` to compare).
    pub(crate) fn walked(
        path: Option<PathBuf>,
        display: Arc<str>,
        label: std::ops::Range<usize>,
        ext: Option<&'static str>,
    ) -> Source {
        debug_assert!(display.get(label.clone()).is_some());
        Source::new(path, display, Some(label), None, false, None, ext)
    }

    /// The label given as a span of `display` or, where it is none, as text.
    fn new(
        path: Option<PathBuf>,
        display: Arc<str>,
        span: Option<std::ops::Range<usize>>,
        label: Option<String>,
        named: bool,
        walk_error: Option<String>,
        ext: Option<&'static str>,
    ) -> Source {
        let rare = Rare {
            path: path.filter(|p| p.as_os_str() != std::ffi::OsStr::new(&*display)),
            label,
            walk_error,
        };
        Source {
            display,
            label: span.map(|r| (r.start as u32, r.len() as u32)),
            named,
            stdin: false,
            ext: ext_code(ext),
            rare: (rare != Rare::default()).then(|| Box::new(rare)),
        }
    }

    /// The path to open; `None` for standard input.
    pub fn path(&self) -> Option<&Path> {
        if self.stdin {
            return None;
        }
        match self.rare.as_ref().and_then(|r| r.path.as_deref()) {
            Some(p) => Some(p),
            None => Some(Path::new(&*self.display)),
        }
    }

    /// For the identity of a bare policy document: its path relative to the scanned folder,
    /// without the extension (`team/app` for `export/team/app.json` when scanning `export`);
    /// for a file named on the command line, its file stem; `None` for standard input.
    pub fn label(&self) -> Option<&str> {
        match self.label {
            Some((at, len)) => self.display.get(at as usize..(at + len) as usize),
            None => self.rare.as_ref().and_then(|r| r.label.as_deref()),
        }
    }

    /// The known extension of the file's name (`json`, `policy`, …, lower case), without `.gz`;
    /// `None` for another name and for standard input.
    pub(crate) fn ext(&self) -> Option<&'static str> {
        walk::EXTENSIONS
            .get(usize::from(self.ext).checked_sub(1)?)
            .copied()
    }

    /// Why the walk could not reach or stat this entry (broken link, permission denied, loop):
    /// the source becomes one `unreadable` record with this message.
    pub fn walk_error(&self) -> Option<&str> {
        self.rare.as_ref().and_then(|r| r.walk_error.as_deref())
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
    read_source_in(source, &mut Reader::default(), sink)
}

/// What a worker that reads many sources one after another keeps from one to the next: the
/// folder of the last file, so that the next file in it is opened relative to it (see
/// `open.rs`), and the buffer of the last small file, read into again instead of a new one.
#[derive(Default)]
pub struct Reader {
    folders: Folders,
    /// Empty; its capacity is what is kept.
    spare: Vec<u8>,
}

impl Reader {
    /// The largest buffer kept for the next file: the buffer of a larger one is freed with it.
    const SPARE: usize = 64 << 10;

    /// Keeps `buffer` for the next file when it is small.
    fn keep(&mut self, mut buffer: Vec<u8>) {
        if buffer.capacity() <= Self::SPARE && buffer.capacity() > self.spare.capacity() {
            buffer.clear();
            self.spare = buffer;
        }
    }
}

/// [`read_source`] for a worker that reads many sources one after another (see [`Reader`]).
pub fn read_source_in(
    source: &Source,
    reader: &mut Reader,
    sink: &mut dyn FnMut(Record),
) -> Outcome {
    read_source_giving(source, &Caps::default(), reader, sink, None)
}

/// [`read_source_in`], with a JSON Lines file's lines handed to `give` in blocks (see
/// [`Lines`]) instead of as records (`give` may give back a block it is done with, whose
/// buffers the next reuses): whoever takes a block makes its records
/// ([`Lines::records`]) and caps its anonymous error records in file order (see [`ErrorCap`]).
/// Any other source gives records as [`read_source_in`] does.
pub fn read_source_in_blocks(
    source: &Source,
    reader: &mut Reader,
    sink: &mut dyn FnMut(Record),
    give: &mut dyn FnMut(Lines) -> Option<Lines>,
) -> Outcome {
    read_source_giving(source, &Caps::default(), reader, sink, Some(give))
}

/// [`read_source`] with the size cap (of a document held whole, and of what a stream may give)
/// as a parameter, so that tests can trip it cheaply.
#[cfg(test)]
pub(crate) fn read_source_capped(
    source: &Source,
    limit: u64,
    sink: &mut dyn FnMut(Record),
) -> Outcome {
    let caps = if limit == MAX_WHOLE {
        Caps::default()
    } else {
        Caps::scaled(limit)
    };
    read_source_giving(source, &caps, &mut Reader::default(), sink, None)
}

/// [`read_source`] with its limits as a parameter.
#[cfg(test)]
pub(crate) fn read_source_with(
    source: &Source,
    caps: &Caps,
    reader: &mut Reader,
    sink: &mut dyn FnMut(Record),
) -> Outcome {
    read_source_giving(source, caps, reader, sink, None)
}

/// [`read_source`] with its limits as a parameter, and JSON Lines blocks handed to `give` where
/// given (see [`read_source_in_blocks`]).
pub(crate) fn read_source_giving(
    source: &Source,
    caps: &Caps,
    reader: &mut Reader,
    sink: &mut dyn FnMut(Record),
    give: Option<&mut stream::Give>,
) -> Outcome {
    let display = &source.display;
    let mut cap = ErrorCap::default();
    // A file of many records (an array) is judged in batches on several workers, and each row
    // keeps its source: records past the first few share a copy of the name made for their run
    // of them, so that workers do not count references to one `Arc` from different cores for
    // every record.
    const RUN: u64 = 512;
    let mut local = Arc::clone(display);
    let mut emitted = 0u64;
    let outcome = {
        let mut emit = |record: u64, shape: Shape, repo: RepoId, body: Body| {
            if let Some(code) = ErrorCap::anonymous(&repo, &body) {
                if cap.takes(record, code) {
                    return;
                }
            }
            emitted += 1;
            if emitted % RUN == 0 {
                local = Arc::from(&**display);
            }
            sink(Record {
                source: Arc::clone(&local),
                record,
                shape,
                repo,
                body,
            });
        };
        read_into(source, caps, reader, &mut emit, give)
    };
    if let Some(summary) = cap.summary(source) {
        sink(summary);
    }
    outcome
}

pub use stream::Lines;

impl Lines {
    /// Makes the block's records, in line order, and hands them to `sink` (error records that
    /// name no repository included: the taker caps them, see [`ErrorCap`]).
    pub fn records(&self, source: &Source, sink: &mut dyn FnMut(Record)) {
        // The block's rows share a copy of the source's name of their own (see
        // `read_source_giving`).
        let name: Arc<str> = Arc::from(&*source.display);
        let ctx = common::Ctx {
            label: source.label(),
            json_lines: true,
            judged_here: true,
        };
        self.read(&ctx, &mut |record, shape, repo, body| {
            sink(Record {
                source: Arc::clone(&name),
                record,
                shape,
                repo,
                body,
            });
        });
    }
}

/// How many error records that name no repository one file gives before the rest are counted
/// into one closing error record: a file of garbage (a 30 MB array of numbers, or a tiny gzip
/// of one) would otherwise make millions of rows that say the same and fill the memory. An
/// error that names its repository (an export script's access-denied marker) is always a row
/// of its own: the inventory join needs it.
const ANONYMOUS_ERRORS: u64 = 10_000;

/// Counts a file's error records without identity past the first 10,000 (`ANONYMOUS_ERRORS`), in
/// record order.
#[derive(Default)]
pub struct ErrorCap {
    shown: u64,
    more: u64,
    first: u64,
    last: u64,
    code: Option<Code>,
}

impl ErrorCap {
    /// The code of an error record that names no repository: the kind this cap counts.
    pub fn anonymous(repo: &RepoId, body: &Body) -> Option<Code> {
        match body {
            Body::Error { code, .. } if *repo == RepoId::default() => Some(*code),
            _ => None,
        }
    }

    /// Whether an error record that names no repository (numbered `record`, of `code`) is
    /// taken into the count instead of being a row. Asked of each in the file's order.
    pub fn takes(&mut self, record: u64, code: Code) -> bool {
        if self.shown < ANONYMOUS_ERRORS {
            self.shown += 1;
            return false;
        }
        if self.more == 0 {
            self.first = record;
            self.code = Some(code);
        }
        self.more += 1;
        self.last = record;
        true
    }

    /// Whether every such record from now on is taken into the count.
    pub fn full(&self) -> bool {
        self.shown >= ANONYMOUS_ERRORS
    }

    /// The closing error record of `source`, numbered as the first record it counts.
    pub fn summary(&self, source: &Source) -> Option<Record> {
        let code = self.code.filter(|_| self.more > 0)?;
        Some(Record {
            source: Arc::clone(&source.display),
            record: self.first,
            shape: Shape::Unrecognised,
            repo: RepoId::default(),
            body: Body::Error {
                code,
                message: format!(
                    "{} more records of this file, records {} to {}, could not be read either (the first as {code}); after {ANONYMOUS_ERRORS} such records they are counted here, not listed one by one, so that a file of garbage cannot fill the memory: fix or remove the file",
                    self.more, self.first, self.last
                ),
            },
        })
    }
}

/// [`read_source_with`]'s work: the records of `source`, handed to `emit`.
fn read_into(
    source: &Source,
    caps: &Caps,
    reader: &mut Reader,
    emit: &mut common::Emit,
    give: Option<&mut stream::Give>,
) -> Outcome {
    let display = &source.display;
    let unreadable = |message: String| Body::Error {
        code: Code::Unreadable,
        message,
    };
    if let Some(message) = source.walk_error() {
        emit(
            1,
            Shape::Unrecognised,
            RepoId::default(),
            unreadable(message.to_string()),
        );
        return Outcome::Read;
    }

    let ext = source.ext();
    // Folders often hold unrelated YAML and CSV: found by the walk, such a file that is no shape
    // the tool knows is skipped with a note. Named on the command line, it is an error record.
    let skippable = !source.named && matches!(ext, Some("yaml" | "yml" | "csv"));
    let skipped = |why: &str| {
        Outcome::Skipped(format!(
            "{display}: skipped, {why}; YAML and CSV files are read only when they hold an export (JSON, a CloudFormation template, Steampipe or CloudQuery CSV)"
        ))
    };

    if matches!(ext, Some("jsonl" | "ndjson")) {
        if let Some(outcome) = stream::lines(source, caps, emit, give) {
            return outcome;
        }
    }
    // `_turn` is held until the records are made: a share of the memory for documents held
    // whole, so that `--jobs` does not multiply it.
    let (bytes, _turn) = match read::load(
        source,
        caps.whole,
        &mut reader.folders,
        std::mem::take(&mut reader.spare),
    ) {
        Ok(read::Loaded::Whole(bytes, turn)) => (bytes, turn),
        Ok(read::Loaded::Large { reader, gz }) => {
            // Too large to hold: streamed when its shape allows, else refused, never held.
            if let Some(outcome) = stream::document(reader, gz, source, caps, emit) {
                return outcome;
            }
            // An unrelated YAML or CSV file found by the walk stays a note (a CloudFormation
            // template is at most 1 MiB: CloudFormation's own quota).
            if skippable {
                return skipped(&format!(
                    "larger than {} and of no export shape read in parts",
                    read::human(caps.whole)
                ));
            }
            emit(
                1,
                Shape::Unrecognised,
                RepoId::default(),
                unreadable(format!(
                    "the file is larger than {} (after decompression) and not of a shape read in parts (a JSON array, JSON Lines, AWS Config `configurationItems` or `Results`, describe-repositories `repositories`, Steampipe `rows`, Steampipe or CloudQuery CSV); other shapes (a CloudFormation template, a Terraform state, a single policy) are read only up to that size (set ECR_AUDIT_MAX_DOCUMENT_MIB to read a larger one whole, at about 17 times its size in memory): split the file",
                    read::human(caps.whole)
                )),
            );
            return Outcome::Read;
        }
        Err(message) => {
            emit(
                1,
                Shape::Unrecognised,
                RepoId::default(),
                unreadable(message),
            );
            return Outcome::Read;
        }
    };
    let text = match read::decode(bytes) {
        Ok(text) => text,
        Err(_) if skippable => return skipped("not UTF-8 text"),
        Err(message) => {
            emit(
                1,
                Shape::Unrecognised,
                RepoId::default(),
                unreadable(message),
            );
            return Outcome::Read;
        }
    };
    let ctx = common::Ctx {
        label: source.label(),
        json_lines: matches!(ext, Some("jsonl" | "ndjson")),
        judged_here: false,
    };
    let parsed = shape::parse(text.body(), &ctx, emit);
    reader.keep(text.text.into_bytes());
    match parsed {
        Ok(()) => Outcome::Read,
        Err(common::Rejected::Empty) if skippable => skipped("empty"),
        Err(common::Rejected::NotJson(_)) if skippable => skipped("not JSON"),
        Err(common::Rejected::Unsupported(_)) if skippable => {
            skipped("no export shape ecr-audit knows")
        }
        Err(rejected) => {
            let code = rejected.code();
            emit(
                1,
                Shape::Unrecognised,
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

//! The one pipeline every command consumes (issue 10): **discover** the sources, **read** them
//! into records, **judge** each record on many workers, then the **joins** that need every
//! record first (registry policies, inventories), and the rows in report order. `scan` writes
//! these rows, `explain` explains one of them, `fix` remediates some of them and `gitpod` looks
//! images up in them: no command reads inputs its own way, so none can disagree with `scan`.

use std::io::{self, IsTerminal};

use indicatif::{ProgressBar, ProgressDrawTarget};
use rayon::prelude::*;

use crate::audit::{Audit, RegistryPolicy, Row, Rows};
use crate::config::Progress;
use crate::eval::Puller;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::input::{self, Outcome, Shape, Source};
use crate::join;
use crate::record::{Identity, Record, ScopeV};
use crate::run::RunError;

/// How many "skipped" notes are printed one by one before the rest are only counted.
const SKIP_NOTES_SHOWN: u64 = 3;

/// What the pipeline is asked to judge.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// Files, folders, or `-` for standard input, as named on the command line.
    pub paths: &'a [String],
    pub pullers: &'a [Puller],
    pub progress: Progress,
    /// Keep every record read from standard input, so that [`Judged::record`] can give it back
    /// (`explain`, `fix`); a scan keeps only those a join may need.
    pub keep_stdin: bool,
    /// `--registry-policy-scope`: the scope of every registry policy the export gives no
    /// setting of (`None`: unknown).
    pub registry_scope: Option<ScopeV>,
}

/// Everything the pipeline found and judged.
#[derive(Debug)]
pub struct Judged {
    /// One row per record and account (records folded by a join excepted), in report order.
    pub rows: Rows,
    /// Records that became rows.
    pub records: u64,
    /// Records counted per shape, read and folded by a join.
    pub tally: Tally,
    /// Every source read, in report order.
    pub sources: Vec<Source>,
    /// Files that held no export and were skipped (YAML or CSV of another kind).
    pub skipped: u64,
    /// The valid registry policies, in the order they are looked up.
    pub registries: Vec<RegistryPolicy>,
    /// Standard input's records, when asked to keep them (it cannot be read twice).
    stdin: Vec<Record>,
    /// The verdict cache: thousands of small pieces that cost time to free one by one. A scan
    /// frees it with the rows, on a thread of its own, once the report is written (the process
    /// is about to end); anything else that drops a `Judged` frees it then.
    pub(crate) cache: Garbage,
}

/// Something only to be freed, where its cost is not waited on.
pub(crate) struct Garbage(#[allow(dead_code)] Box<dyn Send>);

impl std::fmt::Debug for Garbage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Garbage")
    }
}

/// The pipeline for the commands that work on single records (`explain`, `fix`): on a pool of
/// `jobs` workers, without a progress display, keeping standard input's records so that
/// [`Judged::record`] can give any row's record back.
pub fn run_keeping_records(
    paths: &[String],
    pullers: &[Puller],
    registry_scope: Option<ScopeV>,
    jobs: Option<usize>,
) -> Result<Judged, RunError> {
    let workers = crate::run::pool(jobs)?;
    run(
        &Request {
            paths,
            pullers,
            progress: Progress::Never,
            keep_stdin: true,
            registry_scope,
        },
        &workers,
    )
}

/// How many shapes there are (`Shape as usize` indexes the tallies).
pub const SHAPES: usize = Shape::ALL.len();

/// What the inputs held, counted (issue 10: records never vanish). Every record read is counted
/// under its shape; a record a join folds into another row (an inventory entry whose repository
/// another record names, a registry policy judged with its registry's repositories) is counted
/// again under `folded`. Every other record is one row per audited account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Files (and standard input) read.
    pub files: u64,
    /// Files skipped as holding no export (YAML or CSV of another kind).
    pub skipped: u64,
    pub read: [u64; SHAPES],
    pub folded: [u64; SHAPES],
    /// Records that name the same repository as another record (`duplicate-record`).
    pub duplicates: u64,
}

impl Tally {
    /// `(shape, read, folded)` for every shape with a record, in [`Shape::ALL`] order.
    pub fn shapes(&self) -> impl Iterator<Item = (Shape, u64, u64)> + '_ {
        Shape::ALL
            .iter()
            .map(|&s| (s, self.read[s as usize], self.folded[s as usize]))
            .filter(|&(_, read, _)| read > 0)
    }

    pub fn records_read(&self) -> u64 {
        self.read.iter().sum()
    }

    pub fn records_folded(&self) -> u64 {
        self.folded.iter().sum()
    }
}

impl Judged {
    /// The registry policy that the joins applied to `repo`, if any: the one place that decides
    /// it, for the scan's rows and for the commands that judge a record again.
    /// (In ECR's V1 scope it is returned too: [`crate::audit::Audit::rows_with`] then judges the
    /// pull without it, and says so.)
    pub fn registry_for(&self, repo: &impl Identity) -> Option<&RegistryPolicy> {
        join::registry_for(&self.registries, repo)
    }

    /// Record `n` of `source` (as the reports print them), read again; standard input's from
    /// what was kept. `None` if there is no such record.
    pub fn record(&self, source: &str, n: u64) -> Option<Record> {
        if source == "-" {
            return self.stdin.iter().find(|r| r.record == n).cloned();
        }
        let src = self.sources.iter().find(|s| &*s.display == source)?;
        let mut found = None;
        let _ = input::read_source(src, &mut |r| {
            if found.is_none() && r.record == n {
                found = Some(r);
            }
        });
        found
    }

    /// Fails when there is nothing to audit (issue 10: an empty input is never a pass): no row
    /// at all, so no report may claim a verdict. The message says what was found and skipped.
    pub fn require_rows(&self) -> Result<(), RunError> {
        if !self.rows.is_empty() {
            return Ok(());
        }
        let files = self.sources.len() as u64;
        let plural = |n: u64| if n == 1 { "" } else { "s" };
        let mut what = format!(
            "nothing to audit: {files} input file{} found",
            plural(files)
        );
        if self.skipped > 0 {
            what.push_str(&format!(", {} skipped (no export shape)", self.skipped));
        }
        if files > self.skipped {
            what.push_str(", and no repository record among the rest");
        }
        what.push_str("; no report was written");
        Err(RunError::NothingToAudit(what))
    }
}

/// Sources judged together before their rows are gathered (see [`collect`]).
const CHUNK: usize = 4096;
/// The first chunk of a folder's walk (each next one twice as large, up to [`CHUNK`]): the
/// workers wait for it.
const FIRST_CHUNK: usize = 256;

/// Records per batch handed to another worker when one file holds many (JSON Lines, arrays).
const BATCH: usize = 512;
/// At most this many batches of one file wait for a worker; past it the reader judges the batch
/// itself, so memory stays bounded when judging is slower than reading.
const MAX_IN_FLIGHT: usize = 8;
/// A block of lines larger than this (one that holds a line of megabytes) is judged by its
/// reader: the blocks that wait then hold at most [`MAX_IN_FLIGHT`] times this.
const MAX_BLOCK_AWAY: usize = 2 << 20;

/// Spreads the judging of a large file's records over the pool while its reader goes on: a
/// single JSON Lines file would otherwise be judged on one core. Files of fewer than [`BATCH`]
/// records never hand anything off.
///
/// A JSON Lines file comes in blocks of lines ([`input::Lines`]): a worker makes a block's
/// records and judges them, so that each is made, judged and freed on one thread (made on the
/// reader's and freed on another, a distinct JSON Lines scan took 30 % longer). Other files of
/// many records (arrays) come as batches of records.
struct Handoff<'a> {
    audit: &'a Audit<'a>,
    /// Rows per record (one per account audited).
    width: usize,
    source: &'a Source,
    /// The scan's count of records read, by shape.
    read: &'a [AtomicU64; SHAPES],
    done: std::sync::Mutex<Vec<Vec<Row>>>,
    blocks: std::sync::Mutex<InOrder>,
    /// Signalled when a block is taken in order (the reader may be waiting for room).
    taken: std::sync::Condvar,
    /// Blocks of lines given and not started yet, oldest first: whoever comes first, a worker
    /// or the reader making room, judges the oldest.
    queue: std::sync::Mutex<std::collections::VecDeque<input::Lines>>,
    /// Blocks judged, for the reader to read the next ones into.
    spare: std::sync::Mutex<Vec<input::Lines>>,
    /// Batches of records handed to other workers and not judged yet.
    in_flight: std::sync::atomic::AtomicUsize,
    used: std::sync::atomic::AtomicBool,
    /// The file's cap on anonymous error records is full: every such record of a block judged
    /// from now on comes after the ones that filled it, so it is counted, not judged.
    capped: std::sync::atomic::AtomicBool,
}

/// A block of lines judged: its rows, and what the file's order decides about them.
struct Block {
    seq: usize,
    rows: Vec<Row>,
    /// The error records that name no repository, in record order: number, code, shape and
    /// their rows' span in `rows` (the file's cap on them is applied in its order, see
    /// [`input::ErrorCap`]).
    anonymous: Vec<(u64, crate::finding::Code, Shape, std::ops::Range<usize>)>,
    aside: join::Aside,
    records: u64,
}

/// The blocks of a JSON Lines file taken in the file's order as they are judged (in any order):
/// the cap on anonymous error records counts in that order, so the rows are those of one
/// reader reading the file from start to end.
#[derive(Default)]
struct InOrder {
    next: usize,
    /// Blocks given (to the queue, or judged by the reader) and not taken yet: at most
    /// [`MAX_IN_FLIGHT`], and one more for a block the reader judges alone.
    given: usize,
    /// The most blocks that ever waited to be taken, and that were ever given and not taken
    /// (tests of the bound).
    #[cfg(test)]
    most_waiting: usize,
    #[cfg(test)]
    most_given: usize,
    waiting: std::collections::BTreeMap<usize, Block>,
    groups: Vec<Vec<Row>>,
    cap: input::ErrorCap,
    aside: join::Aside,
    records: u64,
}

impl<'a> Handoff<'a> {
    fn new(
        audit: &'a Audit<'a>,
        width: usize,
        source: &'a Source,
        read: &'a [AtomicU64; SHAPES],
    ) -> Self {
        Handoff {
            audit,
            width,
            source,
            read,
            done: std::sync::Mutex::new(Vec::new()),
            blocks: std::sync::Mutex::new(InOrder::default()),
            taken: std::sync::Condvar::new(),
            queue: std::sync::Mutex::new(std::collections::VecDeque::new()),
            spare: std::sync::Mutex::new(Vec::new()),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
            used: std::sync::atomic::AtomicBool::new(false),
            capped: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Judges `batch` on another worker, or here when enough batches already wait. Either way
    /// its rows become a group of their own.
    fn judge<'s>(&'s self, batch: Vec<Record>, scope: &rayon::Scope<'s>) {
        use std::sync::atomic::Ordering;
        self.used.store(true, Ordering::Release);
        if self.in_flight.load(Ordering::Acquire) >= MAX_IN_FLIGHT {
            self.judge_here(batch);
            return;
        }
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        scope.spawn(move |_| {
            self.judge_here(batch);
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
        });
    }

    /// Judges `batch` on this worker, as a group of its own.
    fn judge_here(&self, batch: Vec<Record>) {
        let mut out = Vec::with_capacity(batch.len());
        for r in batch {
            self.audit.rows(r, &mut out);
        }
        // The lock is held only to hand the rows over, never while judging.
        self.done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(out);
    }

    /// Makes and judges a block of lines on another worker; here when it is the file's last
    /// (the reader has nothing else to do), when there is no other worker, or when it is large
    /// (see [`MAX_BLOCK_AWAY`]). Gives back a block done with, if any, for the reader to read
    /// the next into.
    ///
    /// At most [`MAX_IN_FLIGHT`] blocks are given and not taken: past it the reader judges the
    /// oldest block no worker has started, or waits for one being judged elsewhere to be taken.
    /// Blocks are taken in order, so a block nobody starts (every worker busy with a file of its
    /// own) would otherwise hold every block after it, with its rows, until the file's end.
    fn lines<'s>(&'s self, block: input::Lines, scope: &rayon::Scope<'s>) -> Option<input::Lines> {
        self.used.store(true, Ordering::Release);
        if block.last() || rayon::current_num_threads() == 1 || block.bytes() > MAX_BLOCK_AWAY {
            // The blocks before it that nobody has started are judged first, so that it is
            // taken as soon as the ones being judged elsewhere are.
            while self.judge_oldest() {}
            self.give_one();
            self.judge_and_take(&block);
            return Some(block);
        }
        self.make_room();
        self.give_one();
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push_back(block);
        scope.spawn(move |_| {
            // The reader may have judged it already, making room: then there is nothing to do.
            self.judge_oldest();
        });
        self.spare
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
    }

    /// Returns once fewer than [`MAX_IN_FLIGHT`] blocks are given and not taken: judges the
    /// oldest block not started meanwhile, or waits for a block judged elsewhere to be taken.
    fn make_room(&self) {
        loop {
            {
                let order = self.lock_order();
                if order.given < MAX_IN_FLIGHT {
                    return;
                }
                // Only the reader adds to the queue: empty now, it stays empty while it waits.
                let idle = self
                    .queue
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .is_empty();
                if idle {
                    drop(
                        self.taken
                            .wait(order)
                            .unwrap_or_else(std::sync::PoisonError::into_inner),
                    );
                    continue;
                }
            }
            self.judge_oldest();
        }
    }

    /// Judges the oldest block given and not started, if any (`false` when none waits), and
    /// keeps its buffers for the reader.
    fn judge_oldest(&self) -> bool {
        let oldest = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop_front();
        let Some(oldest) = oldest else {
            return false;
        };
        self.judge_and_take(&oldest);
        self.spare
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(oldest);
        true
    }

    /// Counts a block given.
    fn give_one(&self) {
        let mut order = self.lock_order();
        order.given += 1;
        #[cfg(test)]
        {
            order.most_given = order.most_given.max(order.given);
        }
    }

    fn lock_order(&self) -> std::sync::MutexGuard<'_, InOrder> {
        self.blocks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn judge_and_take(&self, lines: &input::Lines) {
        let judged = self.judge_lines(lines);
        self.take(judged);
    }

    /// A block's records made and judged on this worker.
    fn judge_lines(&self, lines: &input::Lines) -> Block {
        let mut block = Block {
            seq: lines.seq(),
            rows: Vec::with_capacity(lines.lines() * self.width),
            anonymous: Vec::new(),
            aside: join::Aside::default(),
            records: 0,
        };
        let mut shapes = [0u64; SHAPES];
        lines.records(self.source, &mut |rec| {
            shapes[rec.shape as usize] += 1;
            let Some(rec) = block.aside.take(rec) else {
                return;
            };
            block.records += 1;
            let start = block.rows.len();
            let anonymous = input::ErrorCap::anonymous(&rec.repo, &rec.body);
            let (number, shape) = (rec.record, rec.shape);
            // Past the cap such a record is only counted (`take`): no rows to make.
            if anonymous.is_none() || !self.capped.load(Ordering::Acquire) {
                self.audit.rows(rec, &mut block.rows);
            }
            if let Some(code) = anonymous {
                block
                    .anonymous
                    .push((number, code, shape, start..block.rows.len()));
            }
        });
        for (shape, n) in shapes.iter().enumerate() {
            if *n > 0 {
                self.read[shape].fetch_add(*n, Ordering::Relaxed);
            }
        }
        block
    }

    /// Takes a judged block in the file's order: those before it first, it and the ones after
    /// it that wait once they are taken. A block that waits holds its rows only, and counts as
    /// given until taken, so at most [`MAX_IN_FLIGHT`] blocks (and one the reader judges alone)
    /// ever wait.
    fn take(&self, block: Block) {
        let mut order = self.lock_order();
        order.waiting.insert(block.seq, block);
        #[cfg(test)]
        {
            order.most_waiting = order.most_waiting.max(order.waiting.len());
        }
        let before = order.next;
        loop {
            let next = order.next;
            let Some(mut block) = order.waiting.remove(&next) else {
                break;
            };
            order.next += 1;
            // Past the file's first `ANONYMOUS_ERRORS`, error records that name no repository
            // are counted into one, not rows: their rows go.
            let mut gone = Vec::new();
            for (number, code, shape, rows) in block.anonymous.drain(..) {
                if order.cap.takes(number, code) {
                    block.records -= 1;
                    self.read[shape as usize].fetch_sub(1, Ordering::Relaxed);
                    gone.push(rows);
                }
            }
            if !gone.is_empty() {
                let mut at = 0;
                let mut spans = gone.iter().peekable();
                block.rows.retain(|_| {
                    while spans.next_if(|r| r.end <= at).is_some() {}
                    let keep = spans.peek().is_none_or(|r| !r.contains(&at));
                    at += 1;
                    keep
                });
            }
            order.records += block.records;
            order.aside.append(block.aside);
            if !block.rows.is_empty() {
                order.groups.push(block.rows);
            }
            order.given -= 1;
        }
        if order.cap.full() {
            self.capped.store(true, Ordering::Release);
        }
        if order.next != before {
            self.taken.notify_all();
        }
    }

    /// Whether some batch was handed over (its rows may still be in the making).
    fn used(&self) -> bool {
        self.used.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The batches' rows in record order: each batch is a run of consecutive records whose
    /// rows are in order, so ordering the groups by their first record orders every row,
    /// without gathering or sorting the rows themselves. With them, the blocks' records
    /// counted and set aside, and the closing record of the file's capped errors.
    fn into_groups(self) -> (Vec<Vec<Row>>, u64, join::Aside, Option<Record>) {
        let mut groups = self
            .done
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let order = self
            .blocks
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        debug_assert!(order.waiting.is_empty());
        groups.extend(order.groups);
        groups.retain(|g| !g.is_empty());
        groups.sort_by_key(|g| g[0].record);
        let summary = order.cap.summary(self.source);
        (groups, order.records, order.aside, summary)
    }
}

/// What a worker keeps from one source to the next it reads: what its reader keeps (see
/// [`input::Reader`]) and the vector records are gathered in (emptied, not freed: a file of one
/// record would otherwise allocate it and free it again).
#[derive(Default)]
struct Worker {
    reader: input::Reader,
    batch: Vec<Record>,
}

/// The rows of one source: most files give a few, a large file a group per batch.
enum Made {
    One(Vec<Row>),
    Groups(Vec<Vec<Row>>),
}

/// What the first pass gives per source: its rows, how many records they came from, and what
/// few sources have (see [`Rare`]).
type FirstPass = (Made, u64, Shapes, Option<Box<Rare>>);

/// The records of one source counted by shape: most files hold records of one shape only,
/// counted here and added up once a chunk is read (an atomic counter shared by the workers,
/// added to for each record, bounced between their caches); a record of a second shape is
/// counted in `read` at once.
#[derive(Clone, Copy, Default)]
struct Shapes(Option<(Shape, u64)>);

impl Shapes {
    /// Counts a record of `shape`; `false` when the source already counts another shape.
    fn count(&mut self, shape: Shape) -> bool {
        match &mut self.0 {
            Some((s, n)) if *s == shape => *n += 1,
            Some(_) => return false,
            None => self.0 = Some((shape, 1)),
        }
        true
    }
}

/// What few sources give besides rows: a skip note, records set aside for the joins, and
/// (standard input only) its records, kept in case a registry policy applies to them.
struct Rare {
    skipped: Option<String>,
    aside: join::Aside,
    kept: Vec<Record>,
    /// Every record of standard input, when the request keeps them.
    stdin: Vec<Record>,
}

/// Discovers, reads and judges everything under `paths` for `pullers`, and returns the rows
/// sorted as the reports list them, without writing anything but skip notes (standard error).
/// `scan` and `gitpod` (which cross-checks images against these verdicts) share it; the work is
/// done on `pool` (see [`pool`](crate::run::pool)).
pub fn run(req: &Request<'_>, pool: &rayon::ThreadPool) -> Result<Judged, RunError> {
    let Request {
        paths,
        pullers,
        progress,
        keep_stdin,
        registry_scope,
    } = *req;
    // A single folder is walked on a thread of its own while the workers judge what it has
    // found so far; other inputs are discovered first (they are few, or need a global sort).
    let folder = input::single_folder(paths);
    let mut sources = match folder {
        Some(_) => Vec::new(),
        None => input::discover(paths)?,
    };
    let bar = progress_bar(progress, sources.len() as u64);
    // Whether anything is drawn: a hidden bar is left alone, not updated for each file.
    let shown = !bar.is_hidden();
    let audit = Audit::new(pullers);
    let records_done = std::sync::atomic::AtomicU64::new(0);
    let read: [AtomicU64; SHAPES] = std::array::from_fn(|_| AtomicU64::new(0));

    let one_source = |worker: &mut Worker, src: &Source| -> FirstPass {
        // Most files hold one record: room for exactly its rows, not a growth step's.
        let mut rows = Vec::with_capacity(pullers.len());
        let mut records = 0u64;
        let mut shapes = Shapes::default();
        let mut aside = join::Aside::default();
        // Standard input cannot be read twice: keep its records in case a registry
        // policy turns out to apply to them (see `join`).
        let mut kept = Vec::new();
        let mut stdin = Vec::new();
        let handoff = Handoff::new(&audit, pullers.len(), src, &read);
        let Worker { reader, batch } = worker;
        let outcome = rayon::scope(|scope| {
            let outcome = input::read_source_in_blocks(
                src,
                reader,
                &mut |rec| {
                    if !shapes.count(rec.shape) {
                        read[rec.shape as usize].fetch_add(1, Ordering::Relaxed);
                    }
                    if keep_stdin && src.path().is_none() {
                        stdin.push(rec.clone());
                    }
                    if let Some(rec) = aside.take(rec) {
                        records += 1;
                        // Only a record of a known registry can be covered by a registry
                        // policy.
                        if src.path().is_none() && rec.repo.registry.is_some() {
                            kept.push(rec.clone());
                        }
                        batch.push(rec);
                        if batch.len() == BATCH {
                            // A file of this many records has more: the next batch gets its
                            // room at once (growing it copied each record ten times over).
                            let full = std::mem::replace(batch, Vec::with_capacity(BATCH));
                            handoff.judge(full, scope);
                        }
                    }
                },
                &mut |lines| handoff.lines(lines, scope),
            );
            // What is left of the last batch is judged here.
            if handoff.used() {
                handoff.judge_here(std::mem::take(batch));
            } else {
                for r in batch.drain(..) {
                    audit.rows(r, &mut rows);
                }
            }
            outcome
        });
        let made = if handoff.used() {
            let (mut groups, n, a, summary) = handoff.into_groups();
            records += n;
            aside.append(a);
            // Past the cap, a file's anonymous error records close with one that counts them.
            if let Some(summary) = summary {
                records += 1;
                read[summary.shape as usize].fetch_add(1, Ordering::Relaxed);
                let mut last = Vec::with_capacity(pullers.len());
                audit.rows(summary, &mut last);
                groups.push(last);
            }
            match groups.len() {
                // A small JSON Lines file: one block, judged here.
                0 | 1 => Made::One(groups.pop().unwrap_or_default()),
                _ => Made::Groups(groups),
            }
        } else {
            rows.shrink_to_fit();
            Made::One(rows)
        };
        if shown {
            let done = records_done.fetch_add(records, std::sync::atomic::Ordering::Relaxed);
            // The file first, then its records: the display never counts records ahead of
            // files. The display is redrawn a few times a second: the count's message is
            // renewed (a lock and a `format!`) when it passes a hundred, not for every file.
            bar.inc(1);
            if (done + records) / 100 != done / 100 {
                bar.set_message(format!("{} records", done + records));
            }
        }
        // A million sources wait here until the last is read: only what most have
        // (rows, a count) is held inline; the rare rest is boxed.
        let skipped = match outcome {
            Outcome::Skipped(note) => Some(note),
            Outcome::Read => None,
        };
        let rare =
            (skipped.is_some() || !aside.is_empty() || !kept.is_empty() || !stdin.is_empty()).then(
                || {
                    Box::new(Rare {
                        skipped,
                        aside,
                        kept,
                        stdin,
                    })
                },
            );
        (made, records, shapes, rare)
    };

    // Sources are judged a chunk at a time: each chunk's rows are gathered into one vector, so
    // a million one-row files do not each keep a vector of their own, and gathering never
    // holds more than a chunk twice.
    let mut rows = Rows::new();
    let mut aside = join::Aside::default();
    let mut kept: Vec<(usize, Vec<Record>)> = Vec::new();
    let mut stdin: Vec<Record> = Vec::new();
    let mut records = 0;
    let mut skipped = 0u64;
    // The first pass of a chunk, on the pool.
    let judge = |chunk: &[Source]| -> Vec<FirstPass> {
        chunk
            .par_iter()
            .map_init(Worker::default, one_source)
            .collect()
    };
    // A chunk's first pass gathered, in order: `at` is the place of its first source among all.
    // One thread's work, done while the pool judges the next chunk (see `judge_chunk`).
    let mut gather = |at: usize, first: Vec<FirstPass>| {
        let small = first
            .iter()
            .map(|f| match &f.0 {
                Made::One(r) if r.len() <= BATCH => r.len(),
                _ => 0,
            })
            .sum();
        let mut gathered = Vec::with_capacity(small);
        for (i, (made, n, shapes, rare)) in first.into_iter().enumerate() {
            records += n;
            if let Shapes(Some((shape, count))) = shapes {
                read[shape as usize].fetch_add(count, Ordering::Relaxed);
            }
            match made {
                Made::One(r) if r.len() <= BATCH => gathered.extend(r),
                // A large file's rows are groups of their own: no copy of them.
                Made::One(r) => {
                    rows.push_group(std::mem::take(&mut gathered));
                    rows.push_group(r);
                }
                Made::Groups(groups) => {
                    rows.push_group(std::mem::take(&mut gathered));
                    for g in groups {
                        rows.push_group(g);
                    }
                }
            }
            let Some(rare) = rare else { continue };
            let Rare {
                skipped: note,
                aside: a,
                kept: k,
                stdin: s,
            } = *rare;
            stdin.extend(s);
            aside.append(a);
            if !k.is_empty() {
                kept.push((at + i, k));
            }
            if let Some(note) = note {
                // Folders often hold many unrelated YAML files: name a few, count the rest.
                skipped += 1;
                if skipped <= SKIP_NOTES_SHOWN {
                    crate::say!("note: {note}");
                }
            }
        }
        rows.push_group(gathered);
    };
    // Each chunk is judged while the one before it is gathered: gathered alone, between chunks,
    // the pool would wait for it (a tenth of a tree's scan). `at` is the chunk's place.
    let mut pending: Option<(usize, Vec<FirstPass>)> = None;
    let mut judge_chunk = |at: usize, chunk: &[Source]| {
        let before = pending.take();
        let first = pool.install(|| {
            rayon::join(
                || {
                    if let Some((at, first)) = before {
                        gather(at, first);
                    }
                },
                || judge(chunk),
            )
            .1
        });
        pending = Some((at, first));
    };
    match folder {
        Some(folder) => std::thread::scope(|scope| {
            // Each chunk says whether the walk is over: from then on the total is known, and
            // the display turns from counts into a bar.
            let (tx, rx) = std::sync::mpsc::sync_channel::<(Vec<Source>, bool)>(2);
            scope.spawn(move || {
                // The first chunks are small, so that the workers start soon after the walk;
                // then each is twice the one before, up to CHUNK.
                let mut size = FIRST_CHUNK;
                let mut found = Vec::with_capacity(size);
                input::walk_folder(folder, &mut |src| {
                    found.push(src);
                    if found.len() == size {
                        size = (size * 2).min(CHUNK);
                        // The receiver only goes away when the scan does.
                        let full = std::mem::replace(&mut found, Vec::with_capacity(size));
                        let _ = tx.send((full, false));
                    }
                });
                let _ = tx.send((found, true));
            });
            for (chunk, last) in rx {
                bar.inc_length(chunk.len() as u64);
                if last && shown {
                    if let Some(style) = crate::progress::style(true) {
                        bar.set_style(style);
                    }
                }
                judge_chunk(sources.len(), &chunk);
                sources.extend(chunk);
            }
        }),
        None => {
            for (c, chunk) in sources.chunks(CHUNK).enumerate() {
                judge_chunk(c * CHUNK, chunk);
            }
        }
    }
    if let Some((at, first)) = pending {
        gather(at, first);
    }
    // The walk hands sources over in report order but for rare walk errors on folders; the
    // rows are checked and sorted below (`Rows::sort`), the sources here.
    if !sources.is_sorted_by(|a, b| a.display <= b.display) {
        sources.sort_by(|a, b| a.display.cmp(&b.display));
    }
    bar.finish_and_clear();
    if skipped > SKIP_NOTES_SHOWN {
        crate::say!(
            "note: {} more YAML or CSV files that hold no export were skipped",
            skipped - SKIP_NOTES_SHOWN
        );
    }
    let mut extra = Vec::new();
    let mut folded = [0u64; SHAPES];
    let scopes = join::Scopes {
        records: &aside.scopes,
        default: registry_scope,
    };
    let (registries, n) = join::registry_policies(
        &audit,
        aside.registry_policies,
        scopes,
        &mut extra,
        &mut folded,
    );
    // A registry setting is never a row of its own: it tells how its registry's policy applies.
    for s in &aside.scopes {
        folded[s.shape as usize] += 1;
    }
    records += n;
    join::second_pass(pool, &audit, &sources, &registries, &mut rows, &kept);
    rows.push_group(extra);
    records += join::inventory(&audit, &registries, aside.inventory, &mut rows, &mut folded);
    rows.sort();
    let duplicates = pool.install(|| join::duplicates(&mut rows));
    join::unreadable_registry_policies(&mut rows, &registries, scopes);
    // The verdict cache holds up to 8 MiB of policy texts in many small pieces: freeing them
    // one by one cost 2 % of a scan of distinct policies, on the path the user waits on, and
    // freed on a thread of its own while the report was written it took a core from the
    // report's workers (8 % of a distinct scan's instructions). It goes out with the rows.
    let cache = Garbage(Box::new(audit.into_cache()));
    let tally = Tally {
        files: sources.len() as u64,
        skipped,
        read: read.map(AtomicU64::into_inner),
        folded,
        duplicates,
    };
    Ok(Judged {
        rows,
        records,
        tally,
        sources,
        skipped,
        registries,
        stdin,
        cache,
    })
}

/// The progress display: a bar and an ETA when the files are known up front (`len` > 0),
/// counts and a rate while a folder is walked (its total grows as the walk goes); on a
/// non-terminal with `always`, a plain line every few seconds.
fn progress_bar(mode: Progress, len: u64) -> ProgressBar {
    let show = match mode {
        Progress::Never => false,
        Progress::Always => true,
        Progress::Auto => io::stderr().is_terminal(),
    };
    if !show {
        return ProgressBar::hidden();
    }
    let target = if io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        crate::progress::log_lines()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Some(style) = crate::progress::style(len > 0) {
        bar.set_style(style);
    }
    bar.set_message("0 records");
    bar
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::Arc;

    const ACCOUNT: &str = "111122223333";

    /// A JSON Lines file of every kind of line: policies that differ, garbage (past the file's
    /// cap on anonymous errors), blank lines and lines blank only to `str::trim`, a line that is
    /// not UTF-8, an export script's marker, registry policies, a scope setting and inventories
    /// (set aside for the joins), a byte order mark on the first line.
    pub(crate) fn mixed_lines(n: usize) -> Vec<u8> {
        let mut out = b"\xEF\xBB\xBF".to_vec();
        for k in 0..n {
            let line = match k % 10 {
                0..=2 => {
                    let effect = if k % 3 == 0 { "Deny" } else { "Allow" };
                    let policy = format!(
                        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"S{k}","Effect":"{effect}","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":["ecr:BatchGetImage","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer"],"Condition":{{"StringEquals":{{"aws:PrincipalOrgID":"o-{k}"}}}}}}]}}"#
                    );
                    let literal = serde_json::to_string(&policy).expect("json");
                    format!(
                        r#"{{"registryId":"444455556666","repositoryName":"repo-{k}","policyText":{literal}}}"#
                    )
                    .into_bytes()
                }
                3..=6 => format!("[{k}, \"not a record\"]").into_bytes(),
                7 => match k % 40 {
                    7 => Vec::new(),
                    17 => " \u{3000}\u{0B}\t".as_bytes().to_vec(),
                    27 => b"{\"repositoryName\": \"caf\xE9\"}".to_vec(),
                    _ => b"{\"Version\": ".to_vec(),
                },
                8 if k % 20 == 8 => format!(
                    r#"{{"__type":"RepositoryPolicyNotFoundException","registryId":"444455556666","repositoryName":"none-{k}","message":"no"}}"#
                )
                .into_bytes(),
                8 => format!(
                    r#"{{"repositories":[{{"repositoryArn":"arn:aws:ecr:us-east-1:444455556666:repository/inv-{k}","registryId":"444455556666","repositoryName":"inv-{k}"}},{{"repositoryArn":"arn:aws:ecr:us-east-1:444455556666:repository/repo-{}","registryId":"444455556666","repositoryName":"repo-{}"}}]}}"#,
                    k - 8,
                    k - 8
                )
                .into_bytes(),
                _ => match k % 30 {
                    9 => br#"{"registryId":"444455556666","policyText":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"111122223333\"},\"Action\":\"ecr:*\"}]}"}"#.to_vec(),
                    19 => br#"{"name":"REGISTRY_POLICY_SCOPE","value":"V2","registryId":"444455556666"}"#.to_vec(),
                    _ => b"garbage".to_vec(),
                },
            };
            out.extend_from_slice(&line);
            out.extend_from_slice(if k % 5 == 0 { b"\r\n" } else { b"\n" });
        }
        out
    }

    /// What one source gave: its rows in report order, its records, what it set aside and its
    /// records counted by shape.
    type Read = (Vec<Row>, u64, String, [u64; SHAPES]);

    /// `source` read by one reader that makes every record: the route of every file that is not
    /// JSON Lines.
    fn as_records(source: &Source, audit: &Audit) -> Read {
        let mut rows = Vec::new();
        let mut aside = join::Aside::default();
        let (mut records, mut read) = (0, [0u64; SHAPES]);
        input::read_source(source, &mut |rec| {
            read[rec.shape as usize] += 1;
            if let Some(rec) = aside.take(rec) {
                records += 1;
                audit.rows(rec, &mut rows);
            }
        });
        rows.sort_by_key(|r| r.record);
        (rows, records, set_aside(aside), read)
    }

    /// What was set aside, as the joins see it (an inventory's chunks flattened).
    fn set_aside(aside: join::Aside) -> String {
        let inventory: Vec<_> = aside.inventory.iter().flatten().collect();
        format!(
            "{:?} {:?} {inventory:?}",
            aside.registry_policies, aside.scopes
        )
    }

    /// `source` read in blocks of lines made and judged on `pool`'s workers, as `run` does: what
    /// it gave, how many blocks it was read in, and the most blocks that were ever given and not
    /// taken, or waited to be taken.
    fn in_blocks(source: &Source, audit: &Audit, pool: &rayon::ThreadPool) -> (Read, usize, usize) {
        let read: [AtomicU64; SHAPES] = std::array::from_fn(|_| AtomicU64::new(0));
        let handoff = Handoff::new(audit, 1, source, &read);
        let mut lone = Vec::new();
        let (mut blocks, mut given_back) = (0, 0);
        pool.install(|| {
            rayon::scope(|scope| {
                input::read_source_in_blocks(
                    source,
                    &mut input::Reader::default(),
                    &mut |rec| lone.push(rec),
                    &mut |lines| {
                        blocks += 1;
                        let back = handoff.lines(lines, scope);
                        given_back += usize::from(back.is_some());
                        back
                    },
                );
            });
        });
        assert!(given_back > 0, "no block was given back to read into");
        let most_waiting = {
            let order = handoff.lock_order();
            order.most_waiting.max(order.most_given)
        };
        let (groups, records, aside, summary) = handoff.into_groups();
        let mut rows: Vec<Row> = groups.into_iter().flatten().collect();
        let mut counted = read.map(AtomicU64::into_inner);
        let mut records = records;
        for rec in lone.into_iter().chain(summary) {
            counted[rec.shape as usize] += 1;
            records += 1;
            audit.rows(rec, &mut rows);
        }
        rows.sort_by_key(|r| r.record);
        (
            (rows, records, set_aside(aside), counted),
            blocks,
            most_waiting,
        )
    }

    /// One audited account, and a pool of `threads` workers.
    fn setup(threads: usize) -> ([Puller; 1], rayon::ThreadPool) {
        let pullers = [Puller {
            account: ACCOUNT.into(),
            ..Puller::default()
        }];
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        (pullers, pool)
    }

    /// A JSON Lines file handed to the workers in blocks gives what one reader reading it from
    /// start to end gives: the same rows in the same order, the same records counted and set
    /// aside, and the cap on anonymous errors counted in the file's order (the blocks finish in
    /// any order), whole or gzip'd, cut short or not.
    #[test]
    fn lines_judged_in_blocks_give_what_one_reader_gives() {
        let (pullers, pool) = setup(3);
        let dir = tempfile::tempdir().expect("dir");
        let lines = mixed_lines(24_000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&lines).expect("gzip");
        let gz = gz.finish().expect("gzip");
        let cut = gz[..gz.len() * 2 / 3].to_vec();
        let cases: [(&str, Vec<u8>); 5] = [
            ("mixed.jsonl", lines),
            ("mixed.jsonl.gz", gz),
            ("cut.jsonl.gz", cut),
            ("few.jsonl", mixed_lines(40)),
            ("blank.ndjson", b"\n \r\n\t\n".to_vec()),
        ];
        for (name, bytes) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).expect("write");
            let source = Source::file(path, Arc::from(name), None, true, None);
            // A fresh audit for each route: its caches start empty either way.
            let expected = as_records(&source, &Audit::new(&pullers));
            let (got, blocks, _) = in_blocks(&source, &Audit::new(&pullers), &pool);
            assert_eq!(got.1, expected.1, "{name}: records");
            assert_eq!(got.2, expected.2, "{name}: set aside");
            assert_eq!(got.3, expected.3, "{name}: counted by shape");
            assert_eq!(got.0.len(), expected.0.len(), "{name}: rows");
            for (g, e) in got.0.iter().zip(&expected.0) {
                assert_eq!(g, e, "{name}");
            }
            match name {
                "mixed.jsonl" | "mixed.jsonl.gz" => {
                    assert!(blocks > 40, "{name}: {blocks} blocks");
                    let counted = expected
                        .0
                        .iter()
                        .filter(|r| r.detail().contains("more records of this file"))
                        .count();
                    assert_eq!(counted, 1, "{name}");
                }
                "cut.jsonl.gz" => assert!(
                    expected
                        .0
                        .iter()
                        .any(|r| r.detail().contains("damaged gzip data at line")),
                    "{name}"
                ),
                "blank.ndjson" => assert!(expected.0[0].detail().contains("file is empty")),
                _ => assert_eq!(blocks, 1, "{name}"),
            }
        }
    }

    /// With every other worker busy (reading files of its own), nobody starts the blocks the
    /// reader hands over: it judges the oldest itself, so the blocks that wait to be taken in
    /// order stay a handful, not the whole file with its rows (a file of garbage held
    /// 195,904 rows so before the cap counted them away).
    #[test]
    fn blocks_wait_for_their_turn_in_a_bounded_number_when_no_worker_is_free() {
        let (pullers, pool) = setup(2);
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("garbage.jsonl");
        std::fs::write(&path, "garbage\n".repeat(60_000)).expect("write");
        let source = Source::file(path, Arc::from("garbage.jsonl"), None, true, None);
        let expected = as_records(&source, &Audit::new(&pullers));
        // One worker is held until the reading is done.
        let (hold, release) = std::sync::mpsc::channel::<()>();
        let (started, running) = std::sync::mpsc::channel::<()>();
        pool.spawn(move || {
            started.send(()).expect("send");
            let _ = release.recv();
        });
        running.recv().expect("held");
        let (got, blocks, most_waiting) = in_blocks(&source, &Audit::new(&pullers), &pool);
        drop(hold);
        assert!(blocks > 100, "{blocks} blocks");
        assert!(
            most_waiting <= MAX_IN_FLIGHT + 1,
            "{most_waiting} blocks waited"
        );
        assert_eq!(got.0, expected.0);
        assert_eq!((got.1, &got.3), (expected.1, &expected.3));
        assert_eq!(got.0.len(), 10_001);
    }
}

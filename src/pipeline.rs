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

/// Spreads the judging of a large file's records over the pool while its reader goes on: a
/// single JSON Lines file would otherwise be judged on one core. Files of fewer than [`BATCH`]
/// records never hand anything off.
struct Handoff<'a> {
    audit: &'a Audit<'a>,
    done: std::sync::Mutex<Vec<Vec<Row>>>,
    in_flight: std::sync::atomic::AtomicUsize,
    used: std::sync::atomic::AtomicBool,
}

impl<'a> Handoff<'a> {
    fn new(audit: &'a Audit<'a>) -> Self {
        Handoff {
            audit,
            done: std::sync::Mutex::new(Vec::new()),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
            used: std::sync::atomic::AtomicBool::new(false),
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

    /// Whether some batch was handed over (its rows may still be in the making).
    fn used(&self) -> bool {
        self.used.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The batches' rows in record order: each batch is a run of consecutive records whose
    /// rows are in order, so ordering the groups by their first record orders every row,
    /// without gathering or sorting the rows themselves.
    fn into_groups(self) -> Vec<Vec<Row>> {
        let mut groups = self
            .done
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        groups.retain(|g| !g.is_empty());
        groups.sort_by_key(|g| g[0].record);
        groups
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
        let handoff = Handoff::new(&audit);
        let Worker { reader, batch } = worker;
        let outcome = rayon::scope(|scope| {
            let outcome = input::read_source_in(src, reader, &mut |rec| {
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
                        // A file of this many records has more: the next batch gets its room
                        // at once (growing it copied each record ten times over).
                        let full = std::mem::replace(batch, Vec::with_capacity(BATCH));
                        handoff.judge(full, scope);
                    }
                }
            });
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
            Made::Groups(handoff.into_groups())
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

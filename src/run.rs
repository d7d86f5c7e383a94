//! Runs a scan: discover the sources, read and judge them on many workers, order the rows, and
//! hand them to one writer. Problems with an input become rows; only a missing path named on
//! the command line, or failing to write the report, ends the run early.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::audit::{Audit, Row, Rows};
use crate::config::{Progress, ScanConfig};
use crate::evidence;
use crate::input::{self, MissingPath, Outcome, Source};
use crate::join;
use crate::record::Record;
use crate::report::{self, Meta};

/// How many "skipped" notes are printed one by one before the rest are only counted.
const SKIP_NOTES_SHOWN: usize = 3;

/// What a scan came to.
#[derive(Debug)]
pub struct ScanOutcome {
    /// Some row is at or above `--fail-on`.
    pub failed: bool,
    pub rows: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A path named on the command line does not exist (usage error).
    #[error(transparent)]
    MissingPath(#[from] MissingPath),
    #[error("cannot start {0} worker threads: {1}")]
    Threads(usize, String),
    #[error("cannot write the report to {path}: {source}")]
    Output { path: String, source: io::Error },
}

/// The rows of a scan, in report order, how many records they came from, and the sources read.
#[derive(Debug)]
pub struct Collected {
    pub rows: Rows,
    pub records: u64,
    pub sources: Vec<Source>,
}

pub fn scan(cfg: &ScanConfig) -> Result<ScanOutcome, RunError> {
    let start = Instant::now();
    let workers = pool(cfg.run.jobs)?;
    let Collected {
        rows,
        records,
        sources,
    } = collect(&cfg.paths, &cfg.run.pullers, &workers, cfg.run.progress)?;
    let failed = rows.iter().any(|r| cfg.run.fail_on.trips(r.status));
    let evidence = if cfg.evidence {
        Some(workers.install(|| evidence::of(&sources)))
    } else {
        None
    };
    let meta = Meta {
        accounts: cfg.run.pullers.iter().map(|p| p.account.clone()).collect(),
        inputs: cfg.paths.clone(),
        records,
        elapsed: start.elapsed(),
        generated: generated_at(),
        evidence,
    };
    // Reports format their rows on the workers too (`-j` holds for writing as for reading).
    workers.install(|| write_report(cfg, &rows, &meta))?;
    let n = rows.len();
    // Freeing a million rows one by one costs time the user waits for after the report is
    // out; a thread of its own does it while the process ends.
    // (Should no thread be had, the closure is dropped here and the rows with it.)
    let _ = std::thread::Builder::new().spawn(move || drop((rows, sources)));
    Ok(ScanOutcome { failed, rows: n })
}

/// A worker pool of `jobs` threads (all cores when `None`): one per run, for reading, judging,
/// hashing and writing.
pub fn pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, RunError> {
    let jobs = jobs.unwrap_or(0);
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| RunError::Threads(jobs, e.to_string()))
}

/// Sources judged together before their rows are gathered (see [`collect`]).
const CHUNK: usize = 4096;

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

/// The rows of one source: most files give a few, a large file a group per batch.
enum Made {
    One(Vec<Row>),
    Groups(Vec<Vec<Row>>),
}

/// What the first pass gives per source: its rows, how many records they came from, and what
/// few sources have (see [`Rare`]).
type FirstPass = (Made, u64, Option<Box<Rare>>);

/// What few sources give besides rows: a skip note, records set aside for the joins, and
/// (standard input only) its records, kept in case a registry policy applies to them.
struct Rare {
    skipped: Option<String>,
    aside: join::Aside,
    kept: Vec<Record>,
}

/// When the report is made: `SOURCE_DATE_EPOCH` (seconds) when set, for reproducible reports,
/// else now; UTC, to the second.
fn generated_at() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| jiff::Timestamp::now().as_second());
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Discovers, reads and judges everything under `paths` for `pullers`, and returns the rows
/// sorted as the reports list them, without writing anything but skip notes (standard error).
/// `scan` and `gitpod` (which cross-checks images against these verdicts) share it; the work is
/// done on `pool` (see [`pool`]).
pub fn collect(
    paths: &[String],
    pullers: &[crate::eval::Puller],
    pool: &rayon::ThreadPool,
    progress: Progress,
) -> Result<Collected, RunError> {
    // A single folder is walked on a thread of its own while the workers judge what it has
    // found so far; other inputs are discovered first (they are few, or need a global sort).
    let folder = input::single_folder(paths);
    let mut sources = match folder {
        Some(_) => Vec::new(),
        None => input::discover(paths)?,
    };
    let bar = progress_bar(progress, sources.len() as u64);
    let audit = Audit::new(pullers);
    let records_done = std::sync::atomic::AtomicU64::new(0);

    let one_source = |src: &Source| -> FirstPass {
        // Most files hold one record: room for exactly its rows, not a growth step's.
        let mut rows = Vec::with_capacity(pullers.len());
        let mut records = 0u64;
        let mut aside = join::Aside::default();
        // Standard input cannot be read twice: keep its records in case a registry
        // policy turns out to apply to them (see `join`).
        let mut kept = Vec::new();
        let handoff = Handoff::new(&audit);
        let outcome = rayon::scope(|scope| {
            let mut batch = Vec::new();
            let outcome = input::read_source(src, &mut |rec| {
                if let Some(rec) = aside.take(rec) {
                    records += 1;
                    // Only a record of a known registry can be covered by a registry
                    // policy.
                    if src.path().is_none() && rec.repo.registry.is_some() {
                        kept.push(rec.clone());
                    }
                    batch.push(rec);
                    if batch.len() == BATCH {
                        handoff.judge(std::mem::take(&mut batch), scope);
                    }
                }
            });
            // What is left of the last batch is judged here.
            if handoff.used() {
                handoff.judge_here(std::mem::take(&mut batch));
            } else {
                for r in batch {
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
        let done = records_done.fetch_add(records, std::sync::atomic::Ordering::Relaxed);
        if !bar.is_hidden() {
            bar.set_message(format!("{} records", done + records));
        }
        bar.inc(1);
        // A million sources wait here until the last is read: only what most have
        // (rows, a count) is held inline; the rare rest is boxed.
        let skipped = match outcome {
            Outcome::Skipped(note) => Some(note),
            Outcome::Read => None,
        };
        let rare = (skipped.is_some() || !aside.is_empty() || !kept.is_empty()).then(|| {
            Box::new(Rare {
                skipped,
                aside,
                kept,
            })
        });
        (made, records, rare)
    };

    // Sources are judged a chunk at a time: each chunk's rows are gathered into one vector, so
    // a million one-row files do not each keep a vector of their own, and gathering never
    // holds more than a chunk twice.
    let mut rows = Rows::new();
    let mut aside = join::Aside::default();
    let mut kept: Vec<(usize, Vec<Record>)> = Vec::new();
    let mut records = 0;
    let mut skipped = 0usize;
    let mut judge_chunk = |c: usize, chunk: &[Source]| {
        let first: Vec<FirstPass> = pool.install(|| chunk.par_iter().map(one_source).collect());
        let small = first
            .iter()
            .map(|f| match &f.0 {
                Made::One(r) if r.len() <= BATCH => r.len(),
                _ => 0,
            })
            .sum();
        let mut gathered = Vec::with_capacity(small);
        for (i, (made, n, rare)) in first.into_iter().enumerate() {
            records += n;
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
            } = *rare;
            aside.append(a);
            if !k.is_empty() {
                kept.push((c * CHUNK + i, k));
            }
            if let Some(note) = note {
                // Folders often hold many unrelated YAML files: name a few, count the rest.
                skipped += 1;
                if skipped <= SKIP_NOTES_SHOWN {
                    eprintln!("note: {note}");
                }
            }
        }
        rows.push_group(gathered);
    };
    match folder {
        Some(folder) => std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Source>>(2);
            scope.spawn(move || {
                let mut found = Vec::with_capacity(CHUNK);
                input::walk_folder(folder, &mut |src| {
                    found.push(src);
                    if found.len() == CHUNK {
                        // The receiver only goes away when the scan does.
                        let _ = tx.send(std::mem::replace(&mut found, Vec::with_capacity(CHUNK)));
                    }
                });
                let _ = tx.send(found);
            });
            for (c, chunk) in rx.into_iter().enumerate() {
                bar.inc_length(chunk.len() as u64);
                judge_chunk(c, &chunk);
                sources.extend(chunk);
            }
        }),
        None => {
            for (c, chunk) in sources.chunks(CHUNK).enumerate() {
                judge_chunk(c, chunk);
            }
        }
    }
    // The walk hands sources over in report order but for rare walk errors on folders; the
    // rows are checked and sorted below (`Rows::sort`), the sources here.
    if !sources.is_sorted_by(|a, b| a.display <= b.display) {
        sources.sort_by(|a, b| a.display.cmp(&b.display));
    }
    bar.finish_and_clear();
    if skipped > SKIP_NOTES_SHOWN {
        eprintln!(
            "note: {} more YAML or CSV files that hold no export were skipped",
            skipped - SKIP_NOTES_SHOWN
        );
    }
    let mut extra = Vec::new();
    let (registries, n) = join::registry_policies(&audit, aside.registry_policies, &mut extra);
    records += n;
    join::second_pass(pool, &audit, &sources, &registries, &mut rows, &kept);
    rows.push_group(extra);
    records += join::inventory(&audit, &registries, aside.inventory, &mut rows);
    rows.sort();
    Ok(Collected {
        rows,
        records,
        sources,
    })
}

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
        crate::progress::forced_stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {pos}/{len} files, {msg} [{bar:30}] {per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn write_report(cfg: &ScanConfig, rows: &Rows, meta: &Meta) -> Result<(), RunError> {
    emit(cfg.run.output.as_deref(), cfg.run.color, |out, color| {
        report::write(cfg.format, rows, meta, color, out)
    })
}

/// Writes a report to `output` (atomically, never coloured) or to standard output (coloured if
/// `color`), where a closed pipe ends the report quietly.
pub(crate) fn emit(
    output: Option<&Path>,
    color: bool,
    body: impl FnOnce(&mut dyn Write, bool) -> io::Result<()>,
) -> Result<(), RunError> {
    match output {
        Some(path) => {
            write_atomically(path, |out| body(out, false)).map_err(|source| RunError::Output {
                path: path.display().to_string(),
                source,
            })
        }
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let res = body(&mut out, color).and_then(|()| out.flush());
            match res {
                // `| head` closed the pipe: the reader has what it wanted.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                Err(source) => Err(RunError::Output {
                    path: "standard output".into(),
                    source,
                }),
                Ok(()) => Ok(()),
            }
        }
    }
}

/// Writes to a temporary file beside `path`, then renames it over `path`, so a reader never sees
/// a half-written report.
fn write_atomically(
    path: &Path,
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    {
        let mut out = BufWriter::new(tmp.as_file_mut());
        body(&mut out)?;
        out.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

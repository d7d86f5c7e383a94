//! `ecr-audit scan`: the pipeline's rows (see [`crate::pipeline`]) handed to one writer, and
//! what every command shares to run: the worker pool, the run's errors, atomic report files.
//! Problems with an input become rows; only a missing path named on the command line, nothing
//! to audit, or failing to write the report ends the run early.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use crate::audit::Rows;
use crate::config::ScanConfig;
use crate::evidence;
use crate::input::MissingPath;
use crate::pipeline::{self, Judged, Request};
use crate::report::{self, Meta};
use crate::suppress;

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
    /// `--baseline` names no readable JSON report (usage error).
    #[error(transparent)]
    Baseline(#[from] crate::diff::DiffError),
    /// The inputs hold no record to judge: no report may claim a verdict (usage error).
    #[error("{0}")]
    NothingToAudit(String),
    #[error("cannot write the report to {path}: {source}")]
    Output { path: String, source: io::Error },
}

pub fn scan(cfg: &ScanConfig) -> Result<ScanOutcome, RunError> {
    let start = Instant::now();
    let workers = pool(cfg.run.jobs)?;
    let Judged {
        mut rows,
        records,
        sources,
        tally,
        ..
    } = {
        let judged = pipeline::run(
            &Request {
                paths: &cfg.paths,
                pullers: &cfg.run.pullers,
                progress: cfg.run.progress,
                keep_stdin: false,
                registry_scope: cfg.run.registry_scope,
            },
            &workers,
        )?;
        judged.require_rows()?;
        judged
    };
    // Accepted findings (issue 15) no longer count toward a row's status or the exit code.
    let applied = suppress::apply(&mut rows, &cfg.run.suppress, suppress::today());
    for s in applied.stale(&cfg.run.suppress) {
        eprintln!(
            "warning: the suppression at {} matched no finding; remove it if it is no longer needed",
            s.source
        );
    }
    // `--repository`: the audit's scope narrowed to some repositories.
    if !cfg.repositories.is_empty() {
        rows.retain(|r| {
            let label = r.repo.label();
            cfg.repositories
                .iter()
                .any(|g| crate::policy::glob::matches(g, &label, false))
        });
    }
    let baseline = match &cfg.baseline {
        Some(path) => {
            let old = crate::diff::Snapshot::load(path)?;
            let now = crate::diff::snapshot_of(&rows, &meta_accounts(cfg));
            let marks = crate::diff::Marks::new(&old, &now);
            let n = |c| crate::diff::count(&marks.changes, c);
            use crate::diff::Change as C;
            eprintln!(
                "baseline {}: {} new, {} worsened, {} fixed, {} improved, {} removed, {} unchanged",
                path.display(),
                n(C::New),
                n(C::Worsened),
                n(C::Fixed),
                n(C::Improved),
                n(C::Removed),
                n(C::Unchanged)
            );
            Some(std::sync::Arc::new(marks))
        }
        None => None,
    };
    let failed = match (&baseline, cfg.fail_on_new) {
        (Some(marks), true) => rows.iter().any(|r| {
            cfg.run.fail_on.trips(r.status)
                && matches!(
                    marks.of(r),
                    crate::diff::Change::New | crate::diff::Change::Worsened
                )
        }),
        _ => rows.iter().any(|r| cfg.run.fail_on.trips(r.status)),
    };
    // `--only`: the report shows some statuses; its summary counts every row.
    let counts = (!cfg.only.is_empty()).then(|| {
        let all = report::Counts::of(&rows);
        rows.retain(|r| cfg.only.contains(&r.status));
        all
    });
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
        tally,
        counts,
        baseline,
        suppressions: applied.uses(&cfg.run.suppress),
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

fn meta_accounts(cfg: &ScanConfig) -> Vec<String> {
    cfg.run.pullers.iter().map(|p| p.account.clone()).collect()
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

/// When the report is made: `SOURCE_DATE_EPOCH` (seconds) when set, for reproducible reports,
/// else now; UTC, to the second.
pub(crate) fn generated_at() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| jiff::Timestamp::now().as_second());
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_default()
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

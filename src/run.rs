//! Runs a scan: discover the sources, read and judge them on many workers, order the rows, and
//! hand them to one writer. Problems with an input become rows; only a missing path named on
//! the command line, or failing to write the report, ends the run early.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::audit::{Audit, Row};
use crate::config::{Progress, ScanConfig};
use crate::input::{self, MissingPath, Outcome};
use crate::join;
use crate::record::Record;
use crate::report::{self, Meta};

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

pub fn scan(cfg: &ScanConfig) -> Result<ScanOutcome, RunError> {
    let start = Instant::now();
    let sources = input::discover(&cfg.paths)?;
    let jobs = cfg.jobs.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| RunError::Threads(jobs, e.to_string()))?;
    let bar = progress_bar(cfg.progress, sources.len() as u64);
    let audit = Audit::new(&cfg.pullers);

    let first: Vec<FirstPass> = pool.install(|| {
        sources
            .par_iter()
            .map(|src| {
                let mut rows = Vec::new();
                let mut records = 0u64;
                let mut aside = join::Aside::default();
                // Standard input cannot be read twice: keep its records in case a registry
                // policy turns out to apply to them (see `join`).
                let mut kept = Vec::new();
                let outcome = input::read_source(src, &mut |rec| {
                    if let Some(rec) = aside.take(rec) {
                        records += 1;
                        // Only a record of a known registry can be covered by a registry policy.
                        if src.path.is_none() && rec.repo.registry.is_some() {
                            kept.push(rec.clone());
                        }
                        audit.rows(rec, &mut rows);
                    }
                });
                bar.inc(1);
                (rows, records, outcome, aside, kept)
            })
            .collect()
    });
    bar.finish_and_clear();

    let mut aside = join::Aside::default();
    let mut per_source: Vec<(Vec<Row>, Vec<Record>)> = Vec::with_capacity(first.len());
    let mut records = 0;
    for (r, n, outcome, a, kept) in first {
        records += n;
        aside.append(a);
        per_source.push((r, kept));
        if let Outcome::Skipped(note) = outcome {
            eprintln!("note: {note}");
        }
    }
    let mut extra = Vec::new();
    let (registries, n) = join::registry_policies(&audit, aside.registry_policies, &mut extra);
    records += n;
    join::second_pass(&pool, &audit, &sources, &registries, &mut per_source);

    let mut rows = Vec::with_capacity(per_source.iter().map(|p| p.0.len()).sum());
    for (r, _) in per_source {
        rows.extend(r);
    }
    rows.extend(extra);
    records += join::inventory(&audit, &registries, aside.inventory, &mut rows);
    // Sources come sorted and each gives its rows in record then account order; the stable
    // sort makes the order a property of this function rather than of the input layer.
    rows.sort_by(|a, b| (&a.source, a.record).cmp(&(&b.source, b.record)));

    let failed = rows.iter().any(|r| cfg.fail_on.trips(r.status));
    let meta = Meta {
        accounts: cfg.pullers.iter().map(|p| p.account.clone()).collect(),
        inputs: cfg.paths.clone(),
        records,
        elapsed: start.elapsed(),
    };
    write_report(cfg, &rows, &meta)?;
    Ok(ScanOutcome {
        failed,
        rows: rows.len(),
    })
}

/// What the first pass gives per source: its rows, how many records they came from, the
/// outcome, the records set aside for the joins, and (standard input only) its records.
type FirstPass = (Vec<Row>, u64, Outcome, join::Aside, Vec<Record>);

fn progress_bar(mode: Progress, len: u64) -> ProgressBar {
    let show = match mode {
        Progress::Never => false,
        Progress::Always => true,
        Progress::Auto => io::stderr().is_terminal(),
    };
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {pos}/{len} files [{bar:30}] {per_sec} eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn write_report(cfg: &ScanConfig, rows: &[Row], meta: &Meta) -> Result<(), RunError> {
    match &cfg.output {
        Some(path) => write_atomically(path, |out| {
            report::write(cfg.format, rows, meta, false, out)
        })
        .map_err(|source| RunError::Output {
            path: path.display().to_string(),
            source,
        }),
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let res = report::write(cfg.format, rows, meta, cfg.color, &mut out)
                .and_then(|()| out.flush());
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

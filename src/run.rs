//! `ecr-audit scan`: the pipeline's rows (see [`crate::pipeline`]) handed to one writer, and
//! what every command shares to run: the worker pool, the run's errors, atomic report files.
//! Problems with an input become rows; only a missing path named on the command line, nothing
//! to audit, or failing to write the report ends the run early.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::audit::Rows;
use crate::config::{Format, ScanConfig};
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
    check_output(cfg.run.output.as_deref())?;
    let workers = pool(cfg.run.jobs)?;
    let Judged {
        mut rows,
        mut records,
        sources,
        tally,
        cache,
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
        crate::say!(
            "warning: the suppression at {} matched no finding; remove it if it is no longer needed",
            s.source
        );
    }
    // `--repository`: the audit's scope narrowed to some repositories.
    if !cfg.repositories.is_empty() {
        let before = rows.len();
        rows.retain(|r| {
            let label = r.repo.label();
            cfg.repositories
                .iter()
                .any(|g| crate::policy::glob::matches(g, &label, false))
        });
        // A filter that leaves nothing is nothing audited, never a pass (issue 10).
        if rows.is_empty() {
            return Err(RunError::NothingToAudit(format!(
                "nothing to audit: no repository matches --repository {} (among {before} rows); no report was written",
                cfg.repositories.join(", ")
            )));
        }
        // The report's record count is the audited records', as rows = records × accounts.
        let mut last = None;
        records = rows
            .iter()
            .filter(|r| {
                let at = Some((r.source.clone(), r.record));
                let new = at != last;
                last = at;
                new
            })
            .count() as u64;
    }
    let baseline = match &cfg.baseline {
        Some(path) => {
            let old = crate::diff::Snapshot::load(path)?;
            let now = crate::diff::snapshot_of(&rows, &meta_accounts(cfg));
            let marks = crate::diff::Marks::new(&old, &now);
            let n = |c| crate::diff::count(&marks.changes, c);
            use crate::diff::Change as C;
            crate::say!(
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
    let output = destination(cfg.run.output.as_deref());
    if !cfg.run.quiet && (output.is_some() || cfg.format != Format::Table) {
        crate::say!(
            "{}",
            summary(&rows, start.elapsed(), &target_name(output), cfg.format)
        );
    }
    // Freeing a million rows (and the verdict cache) one by one costs time the user waits for
    // after the report is out; a thread of its own does it while the process ends.
    // (Should no thread be had, the closure is dropped here and the rows with it.)
    let _ = std::thread::Builder::new().spawn(move || drop((rows, sources, cache)));
    Ok(ScanOutcome { failed, rows: n })
}

/// The line on standard error that tells a CI log what a run whose report went elsewhere came to:
/// `ecr-audit: 42 rows: 16 pass, 8 warn, 16 fail, 2 error in 0.05 s; json report written to x`.
pub(crate) fn summary(
    rows: &Rows,
    elapsed: std::time::Duration,
    target: &str,
    format: Format,
) -> String {
    let c = report::Counts::of(rows);
    format!(
        "ecr-audit: {} row{}: {} pass, {} warn, {} fail, {} error in {:.2} s; {} report written to {target}",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        c.pass,
        c.warn,
        c.fail,
        c.error,
        elapsed.as_secs_f64(),
        format.name()
    )
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
    let width = table_width(cfg.run.output.as_deref());

    emit(cfg.run.output.as_deref(), cfg.run.color, |out, color| {
        report::write(cfg.format, rows, meta, color, width, out)
    })
}

/// The width to lay a table out to: the terminal's, when the report goes to standard output and
/// that is a terminal; `None` (plain lines) otherwise.
pub(crate) fn table_width(output: Option<&Path>) -> Option<usize> {
    match destination(output) {
        None => terminal_width(),
        Some(_) => None,
    }
}

/// The width of the terminal standard output is, if it is one: `COLUMNS` when set (as shells
/// and `COLUMNS=100 ecr-audit …` tell it), else what the terminal says, else 80.
fn terminal_width() -> Option<usize> {
    use std::io::IsTerminal;
    if !io::stdout().is_terminal() {
        return None;
    }
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    Some(
        columns
            .or_else(|| comfy_table::Table::new().width().map(usize::from))
            .unwrap_or(80),
    )
}

/// Where a report goes: `-o FILE`, or standard output (no `-o`, or `-o -`).
pub(crate) fn destination(output: Option<&Path>) -> Option<&Path> {
    output.filter(|p| p.as_os_str() != "-")
}

/// Checks, before any work, that the report can be written where it is to go: the folder of an
/// output file exists (and takes a file), or standard output is open. The error names the
/// target as given.
pub(crate) fn check_output(output: Option<&Path>) -> Result<(), RunError> {
    let res = match destination(output) {
        None => stdout_open(),
        Some(path) => check_file_target(path),
    };
    res.map_err(|source| RunError::Output {
        path: target_name(output),
        source,
    })
}

fn target_name(output: Option<&Path>) -> String {
    match destination(output) {
        Some(path) => path.display().to_string(),
        None => "standard output".into(),
    }
}

/// Whether standard output is open. A program started with standard output closed (`>&-`) does
/// not see it closed: Rust's runtime opens `/dev/null` in its place (read-write), so the report
/// would vanish without a word. On Linux, `/proc/self` tells that descriptor from a `/dev/null`
/// the user chose (`>/dev/null` opens it write-only); elsewhere a closed descriptor is caught
/// when duplicating it fails.
fn stdout_open() -> io::Result<()> {
    let closed = || {
        io::Error::new(
            io::ErrorKind::BrokenPipe,
            "standard output is closed; redirect it to a file or use -o FILE",
        )
    };
    #[cfg(target_os = "linux")]
    {
        let is_null = fs::read_link("/proc/self/fd/1").is_ok_and(|p| p == Path::new("/dev/null"));
        if is_null {
            let flags = fs::read_to_string("/proc/self/fdinfo/1").unwrap_or_default();
            let read_write = flags
                .lines()
                .find_map(|l| l.strip_prefix("flags:"))
                .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
                .is_some_and(|f| f & 0o3 == 0o2);
            if read_write {
                return Err(closed());
            }
        }
    }
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if io::stdout().as_fd().try_clone_to_owned().is_err() {
            return Err(closed());
        }
    }
    Ok(())
}

fn check_file_target(path: &Path) -> io::Result<()> {
    let target = resolve_links(path)?;
    let dir = folder_of(&target);
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a folder", dir.display()),
            ));
        }
        Err(e) => {
            return Err(io::Error::new(
                e.kind(),
                format!("folder {}: {e}", dir.display()),
            ));
        }
    }
    if fs::metadata(&target).is_ok_and(|m| m.is_dir()) {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a folder",
        ));
    }
    Ok(())
}

/// Writes a report to `output` (atomically, never coloured) or to standard output (coloured if
/// `color`; also for `-o -`), where a closed pipe ends the report quietly.
pub(crate) fn emit(
    output: Option<&Path>,
    color: bool,
    body: impl FnOnce(&mut dyn Write, bool) -> io::Result<()>,
) -> Result<(), RunError> {
    match destination(output) {
        Some(path) => {
            write_atomically(path, |out| body(out, false)).map_err(|source| RunError::Output {
                path: path.display().to_string(),
                source,
            })
        }
        None => {
            stdout_open().map_err(|source| RunError::Output {
                path: "standard output".into(),
                source,
            })?;
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

/// The file `path` names once symbolic links are followed (a link's target may not exist yet),
/// so that `-o link` replaces the link's target and keeps the link.
fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    // As many links as Linux follows (ELOOP past 40).
    for _ in 0..40 {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = fs::read_link(&p)?;
                p = if to.is_absolute() {
                    to
                } else {
                    folder_of(&p).join(to)
                };
            }
            _ => return Ok(p),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// What a temporary report file is called: beside the target, hidden, recognisably this tool's,
/// and naming the process that writes it, so that a later run can tell an abandoned one.
const TMP_MARK: &str = ".ecr-audit-tmp.";

fn temp_name(target_name: &str, pid: u32) -> String {
    format!(".{target_name}{TMP_MARK}{pid}")
}

/// Removes the temporary files of this target that runs which no longer exist left behind (a
/// run killed while writing). Only files named as [`temp_name`] makes them are touched.
fn remove_stale(dir: &Path, target_name: &str) {
    let prefix = format!(".{target_name}{TMP_MARK}");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || !process_alive(pid) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether process `pid` runs, where `/proc` tells; elsewhere it is assumed to run, and its
/// file is left alone.
fn process_alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Removes the temporary file unless the report was renamed over the target.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Writes to a temporary file beside the target, then renames it over the target, so a reader
/// never sees a half-written report. The new file's mode is the replaced file's, or else what
/// the umask leaves of 0666 (as any program's new file); `path` may be a symbolic link, whose
/// target is written.
fn write_atomically(
    path: &Path,
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let target = resolve_links(path)?;
    // A device, a FIFO or a socket (`-o /dev/null`, `-o /dev/stderr`, a named pipe) is written
    // into, never replaced: renaming a file over `/dev/null` would turn it into a regular file
    // for every program on the machine.
    if fs::metadata(&target).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let file = fs::OpenOptions::new().write(true).open(&target)?;
        let mut out = BufWriter::new(file);
        body(&mut out)?;
        return out.flush();
    }
    let dir = folder_of(&target);
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?
        .to_owned();
    remove_stale(dir, &name);
    let tmp = TempFile {
        path: dir.join(temp_name(&name, std::process::id())),
        keep: false,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o666);
    }
    let file = options.open(&tmp.path)?;
    if let Ok(old) = fs::metadata(&target) {
        file.set_permissions(old.permissions())?;
    }
    {
        let mut out = BufWriter::new(&file);
        body(&mut out)?;
        out.flush()?;
    }
    file.sync_all()?;
    fs::rename(&tmp.path, &target)?;
    let mut tmp = tmp;
    tmp.keep = true;
    Ok(())
}

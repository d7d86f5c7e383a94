//! The validated run configuration. The command line (`cli.rs`, in the binary) is converted into
//! this once; nothing downstream sees clap.

use std::path::PathBuf;

use crate::eval::Puller;
use crate::finding::Status;

/// Report format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Table,
    Csv,
    Json,
    Markdown,
    Sarif,
    /// One self-contained page for a browser (scan only).
    Html,
}

impl Format {
    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Sarif => "sarif",
            Format::Html => "html",
        }
    }
}

/// `--fail-on`: the status at or above which the run exits 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FailOn {
    #[default]
    Fail,
    Warn,
    Never,
}

impl FailOn {
    /// Whether a row of this status makes the run fail (`error` counts as `fail`).
    pub fn trips(self, status: Status) -> bool {
        match self {
            FailOn::Fail => status >= Status::Fail,
            FailOn::Warn => status >= Status::Warn,
            FailOn::Never => false,
        }
    }
}

/// `--progress`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Progress {
    #[default]
    Auto,
    Always,
    Never,
}

/// How a report run goes, for `scan` and `gitpod` alike: who is audited, where the report goes,
/// when the run fails, and how it runs.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// One per audited account, in the order given (duplicates removed).
    pub pullers: Vec<Puller>,
    /// Write the report here (atomically) instead of standard output.
    pub output: Option<PathBuf>,
    pub fail_on: FailOn,
    /// Worker threads; `None` = all cores.
    pub jobs: Option<usize>,
    pub progress: Progress,
    /// Colour the table's status column.
    pub color: bool,
    /// `--registry-policy-scope`: the scope of registry policies the export gives no setting of.
    pub registry_scope: Option<crate::record::ScopeV>,
    /// `--quiet`: no summary line on standard error.
    pub quiet: bool,
    /// The configuration file's `[[suppress]]` entries (issue 15), in the file's order.
    pub suppress: Vec<crate::suppress::Suppression>,
}

/// Everything a scan needs, validated.
#[derive(Clone, Debug)]
pub struct ScanConfig {
    /// Files, folders, or `-` for standard input.
    pub paths: Vec<String>,
    pub format: Format,
    /// Add the SHA-256 of every input file to the JSON and Markdown reports.
    pub evidence: bool,
    pub run: RunConfig,
    /// `--only`: the statuses the report shows (empty: all); the summary counts every row.
    pub only: Vec<Status>,
    /// `--repository GLOB`: only rows whose `registry/region/name` matches one (empty: all).
    pub repositories: Vec<String>,
    /// `--baseline OLD.json`: mark each row's change since that report.
    pub baseline: Option<PathBuf>,
    /// `--fail-on-new`: exit 1 only for new or worsened rows at or above `--fail-on`.
    pub fail_on_new: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_on_thresholds() {
        assert!(FailOn::Fail.trips(Status::Error));
        assert!(FailOn::Fail.trips(Status::Fail));
        assert!(!FailOn::Fail.trips(Status::Warn));
        assert!(FailOn::Warn.trips(Status::Warn));
        assert!(!FailOn::Warn.trips(Status::Pass));
        assert!(!FailOn::Never.trips(Status::Error));
    }
}

//! `ecr-audit diff OLD.json NEW.json` (issue 15): what changed between two snapshot reports.
//! Rows are matched by repository identity (registry, region, name) and account — never by the
//! file they were read from, which changes between exports. Reports of this version and of the
//! previous one (without `inputs` and `summary.duplicates`) are read alike: only the fields both
//! have are used. `scan --baseline OLD.json` uses the same comparison.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::finding::Status;

/// How a row changed between the old and the new snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    /// Only in the new snapshot.
    New,
    /// Its status got worse (e.g. pass → fail).
    Worsened,
    /// It was warn, fail or error and now passes.
    Fixed,
    /// Its status got better but it does not pass yet (e.g. fail → warn).
    Improved,
    /// Only in the old snapshot.
    Removed,
    Unchanged,
}

impl Change {
    pub const ALL: [Change; 6] = [
        Change::New,
        Change::Worsened,
        Change::Fixed,
        Change::Improved,
        Change::Removed,
        Change::Unchanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Worsened => "worsened",
            Change::Fixed => "fixed",
            Change::Improved => "improved",
            Change::Removed => "removed",
            Change::Unchanged => "unchanged",
        }
    }

    /// The change from `old` to `new` (either absent).
    pub fn of(old: Option<Status>, new: Option<Status>) -> Change {
        match (old, new) {
            (None, _) => Change::New,
            (Some(_), None) => Change::Removed,
            (Some(o), Some(n)) if n > o => Change::Worsened,
            (Some(o), Some(n)) if n < o && n == Status::Pass => Change::Fixed,
            (Some(o), Some(n)) if n < o => Change::Improved,
            _ => Change::Unchanged,
        }
    }
}

/// A row's identity across snapshots: registry, region, repository name, account.
pub type Key = (Option<String>, Option<String>, Option<String>, String);

/// The part of a JSON report (schema version 1, this version's or the previous one's) a diff
/// reads.
#[derive(Deserialize)]
struct ReportIn {
    schema_version: u32,
    #[serde(default)]
    tool: Option<ToolIn>,
    #[serde(default)]
    accounts: Vec<String>,
    results: Vec<ResultIn>,
}

#[derive(Deserialize, Serialize, Clone)]
struct ToolIn {
    name: String,
    version: String,
}

#[derive(Deserialize)]
struct ResultIn {
    #[serde(default)]
    source: String,
    #[serde(default)]
    record: u64,
    registry: Option<String>,
    region: Option<String>,
    repository: Option<String>,
    account: String,
    status: String,
    #[serde(default)]
    findings: Vec<FindingIn>,
}

#[derive(Deserialize)]
struct FindingIn {
    code: String,
    /// This version's reports mark accepted findings; the previous one's have no such field.
    #[serde(default)]
    suppressed: Option<serde_json::Value>,
}

/// One snapshot: its rows by key (a repository two records name is judged by its worst row).
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub path: String,
    pub schema_version: u32,
    pub tool_version: Option<String>,
    pub accounts: Vec<String>,
    pub rows: BTreeMap<Key, (Status, BTreeSet<String>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: io::Error },
    #[error("{path} is not an ecr-audit JSON report: {message}")]
    Format { path: String, message: String },
    #[error("cannot write the diff to {path}: {source}")]
    Output { path: String, source: io::Error },
}

impl Snapshot {
    /// Reads a JSON report written by `scan --format json`.
    pub fn load(path: &Path) -> Result<Snapshot, DiffError> {
        let shown = path.display().to_string();
        let text = std::fs::read(path).map_err(|source| DiffError::Read {
            path: shown.clone(),
            source,
        })?;
        Snapshot::parse(&shown, &text)
    }

    pub fn parse(path: &str, text: &[u8]) -> Result<Snapshot, DiffError> {
        let bad = |message: String| DiffError::Format {
            path: path.to_owned(),
            message,
        };
        let report: ReportIn = serde_json::from_slice(text).map_err(|e| bad(e.to_string()))?;
        if report.schema_version != 1 {
            return Err(bad(format!(
                "schema_version {} is not one this version reads (1)",
                report.schema_version
            )));
        }
        let mut rows: BTreeMap<Key, (Status, BTreeSet<String>)> = BTreeMap::new();
        for r in report.results {
            let status = Status::ALL
                .into_iter()
                .find(|s| s.as_str() == r.status)
                .ok_or_else(|| bad(format!("`{}` is not a row status", r.status)))?;
            let codes: BTreeSet<String> = r
                .findings
                .into_iter()
                .filter(|f| f.suppressed.as_ref().is_none_or(serde_json::Value::is_null))
                .map(|f| f.code)
                .collect();
            let key = key(
                r.registry,
                r.region,
                r.repository,
                r.account,
                &r.source,
                r.record,
            );
            let slot = rows.entry(key).or_insert((status, BTreeSet::new()));
            slot.0 = slot.0.max(status);
            slot.1.extend(codes);
        }
        Ok(Snapshot {
            path: path.to_owned(),
            schema_version: report.schema_version,
            tool_version: report.tool.map(|t| t.version),
            accounts: report.accounts,
            rows,
        })
    }
}

/// The key of a scan's row, as a JSON report would give it.
pub fn key_of(r: &crate::audit::Row) -> Key {
    key(
        r.repo.registry.as_deref().map(str::to_owned),
        r.repo.region.as_deref().map(str::to_owned),
        r.repo.repository.as_deref().map(str::to_owned),
        r.account.to_string(),
        &r.source,
        r.record,
    )
}

/// A row's key: its repository's identity and the account. A row that names no repository at
/// all (an error row of a file that could not be read) has nothing else to be known by than
/// where it was found: its file's name and record (`FILE:N`, not the path, which changes with
/// the folder an export is kept in), so that two broken files stay two rows.
fn key(
    registry: Option<String>,
    region: Option<String>,
    repository: Option<String>,
    account: String,
    source: &str,
    record: u64,
) -> Key {
    let repository = match (&registry, &region, repository) {
        (None, None, None) => {
            let file = Path::new(source)
                .file_name()
                .map_or_else(|| source.to_owned(), |f| f.to_string_lossy().into_owned());
            Some(format!("{file}:{record}"))
        }
        (_, _, name) => name,
    };
    (registry, region, repository, account)
}

/// A scan's rows as a snapshot (for `scan --baseline`), suppressed findings left out.
pub fn snapshot_of(rows: &crate::audit::Rows, accounts: &[String]) -> Snapshot {
    let mut map: BTreeMap<Key, (Status, BTreeSet<String>)> = BTreeMap::new();
    for r in rows.iter() {
        let slot = map.entry(key_of(r)).or_insert((r.status, BTreeSet::new()));
        slot.0 = slot.0.max(r.status);
        slot.1.extend(
            r.findings
                .iter()
                .filter(|f| f.suppressed.is_none())
                .map(|f| f.code.id().to_owned()),
        );
    }
    Snapshot {
        path: "-".into(),
        schema_version: 1,
        tool_version: Some(env!("CARGO_PKG_VERSION").into()),
        accounts: accounts.to_vec(),
        rows: map,
    }
}

/// Each row's change since a baseline (`scan --baseline`).
#[derive(Clone, Debug, Default)]
pub struct Marks {
    by_key: std::collections::HashMap<Key, Change>,
    pub changes: Vec<RowChange>,
}

impl Marks {
    pub fn new(baseline: &Snapshot, now: &Snapshot) -> Marks {
        let changes = compare(baseline, now);
        Marks {
            by_key: changes.iter().map(|c| (c.key.clone(), c.change)).collect(),
            changes,
        }
    }

    /// The change of the repository `r` is a row of (`new` for a row the baseline lacks).
    pub fn of(&self, r: &crate::audit::Row) -> Change {
        self.by_key.get(&key_of(r)).copied().unwrap_or(Change::New)
    }
}

/// One row's change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowChange {
    pub change: Change,
    pub key: Key,
    pub old: Option<(Status, BTreeSet<String>)>,
    pub new: Option<(Status, BTreeSet<String>)>,
}

/// Every row of either snapshot with its change, in key order.
pub fn compare(old: &Snapshot, new: &Snapshot) -> Vec<RowChange> {
    let keys: BTreeSet<&Key> = old.rows.keys().chain(new.rows.keys()).collect();
    keys.into_iter()
        .map(|k| {
            let (o, n) = (old.rows.get(k).cloned(), new.rows.get(k).cloned());
            RowChange {
                change: Change::of(o.as_ref().map(|x| x.0), n.as_ref().map(|x| x.0)),
                key: k.clone(),
                old: o,
                new: n,
            }
        })
        .collect()
}

/// Changes counted.
pub fn count(changes: &[RowChange], c: Change) -> u64 {
    changes.iter().filter(|r| r.change == c).count() as u64
}

/// Output format of `diff`: the reports' one format type; `diff` writes table, CSV, JSON and
/// Markdown.
pub type DiffFormat = crate::config::Format;

#[derive(Serialize)]
struct DocOut<'a> {
    schema_version: u32,
    tool: crate::report::json::Tool,
    old: SideOut<'a>,
    new: SideOut<'a>,
    summary: BTreeMap<&'static str, u64>,
    changes: Vec<ChangeOut<'a>>,
}

#[derive(Serialize)]
struct SideOut<'a> {
    path: &'a str,
    schema_version: u32,
    tool_version: Option<&'a str>,
    accounts: &'a [String],
    rows: usize,
}

#[derive(Serialize)]
struct ChangeOut<'a> {
    change: &'static str,
    registry: Option<&'a str>,
    region: Option<&'a str>,
    repository: Option<&'a str>,
    account: &'a str,
    old_status: Option<&'static str>,
    new_status: Option<&'static str>,
    old_findings: Option<Vec<&'a str>>,
    new_findings: Option<Vec<&'a str>>,
}

fn side(s: &Snapshot) -> SideOut<'_> {
    SideOut {
        path: &s.path,
        schema_version: s.schema_version,
        tool_version: s.tool_version.as_deref(),
        accounts: &s.accounts,
        rows: s.rows.len(),
    }
}

fn codes_of(x: &Option<(Status, BTreeSet<String>)>) -> Option<Vec<&str>> {
    x.as_ref()
        .map(|(_, c)| c.iter().map(String::as_str).collect())
}

fn change_out(r: &RowChange) -> ChangeOut<'_> {
    let codes = codes_of;
    ChangeOut {
        change: r.change.as_str(),
        registry: r.key.0.as_deref(),
        region: r.key.1.as_deref(),
        repository: r.key.2.as_deref(),
        account: &r.key.3,
        old_status: r.old.as_ref().map(|x| x.0.as_str()),
        new_status: r.new.as_ref().map(|x| x.0.as_str()),
        old_findings: codes(&r.old),
        new_findings: codes(&r.new),
    }
}

/// `registry/region/name` as the scan reports print it.
fn label(k: &Key) -> String {
    [k.0.as_deref(), k.1.as_deref(), k.2.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("/")
}

/// Everything `ecr-audit diff` needs, validated.
#[derive(Clone, Debug)]
pub struct DiffConfig {
    pub old: std::path::PathBuf,
    pub new: std::path::PathBuf,
    pub format: DiffFormat,
    pub output: Option<std::path::PathBuf>,
    /// With `fail_on_new`: exit 1 when a new or worsened row is at or above this.
    pub fail_on: crate::config::FailOn,
    pub fail_on_new: bool,
}

/// Runs `diff`: reads both reports, writes the changes. `Ok(true)` when `--fail-on-new` trips.
pub fn run(cfg: &DiffConfig) -> Result<bool, DiffError> {
    let old = Snapshot::load(&cfg.old)?;
    let new = Snapshot::load(&cfg.new)?;
    let changes = compare(&old, &new);
    crate::run::emit(cfg.output.as_deref(), false, |out, _| {
        write(cfg.format, &old, &new, &changes, out)
    })
    .map_err(|e| match e {
        crate::run::RunError::Output { path, source } => DiffError::Output { path, source },
        other => DiffError::Output {
            path: "standard output".into(),
            source: io::Error::other(other.to_string()),
        },
    })?;
    Ok(cfg.fail_on_new && gate(&changes, cfg.fail_on))
}

/// Whether some new or worsened row is at or above `fail_on` (the `--fail-on-new` gate).
pub fn gate(changes: &[RowChange], fail_on: crate::config::FailOn) -> bool {
    changes.iter().any(|r| {
        matches!(r.change, Change::New | Change::Worsened)
            && r.new.as_ref().is_some_and(|(s, _)| fail_on.trips(*s))
    })
}

/// Writes the diff. The table and Markdown list only rows that changed; CSV and JSON list
/// every row (unchanged ones too), so that a script sees the whole picture.
pub fn write(
    format: DiffFormat,
    old: &Snapshot,
    new: &Snapshot,
    changes: &[RowChange],
    out: &mut dyn Write,
) -> io::Result<()> {
    let summary: BTreeMap<&'static str, u64> = Change::ALL
        .into_iter()
        .map(|c| (c.as_str(), count(changes, c)))
        .collect();
    let st = |x: &Option<(Status, BTreeSet<String>)>| x.as_ref().map_or("-", |x| x.0.as_str());
    let codes = |x: &Option<(Status, BTreeSet<String>)>| {
        x.as_ref()
            .map(|x| x.1.iter().map(String::as_str).collect::<Vec<_>>().join(";"))
            .unwrap_or_default()
    };
    match format {
        DiffFormat::Sarif => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "diff writes table, CSV, JSON, Markdown or HTML",
        )),
        DiffFormat::Html => html(old, new, changes, &summary, out),
        DiffFormat::Json => {
            let doc = DocOut {
                schema_version: 1,
                tool: crate::report::json::Tool::this(),
                old: side(old),
                new: side(new),
                summary,
                changes: changes.iter().map(change_out).collect(),
            };
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            out.write_all(b"\n")
        }
        DiffFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "change",
                "registry",
                "region",
                "repository",
                "account",
                "old_status",
                "new_status",
                "old_findings",
                "new_findings",
            ])?;
            for r in changes {
                let clean = |s: &str| crate::report::csv::neutralise(s).into_owned();
                w.write_record([
                    r.change.as_str().to_owned(),
                    clean(r.key.0.as_deref().unwrap_or("")),
                    clean(r.key.1.as_deref().unwrap_or("")),
                    clean(r.key.2.as_deref().unwrap_or("")),
                    clean(&r.key.3),
                    r.old.as_ref().map_or("", |x| x.0.as_str()).to_owned(),
                    r.new.as_ref().map_or("", |x| x.0.as_str()).to_owned(),
                    clean(&codes(&r.old)),
                    clean(&codes(&r.new)),
                ])?;
            }
            w.flush()
        }
        DiffFormat::Markdown => {
            writeln!(out, "# ecr-audit diff\n")?;
            writeln!(
                out,
                "Old: `{}` ({} rows). New: `{}` ({} rows).\n",
                old.path.replace('`', "'"),
                old.rows.len(),
                new.path.replace('`', "'"),
                new.rows.len()
            )?;
            let counts: Vec<String> = summary.iter().map(|(k, v)| format!("{k} {v}")).collect();
            writeln!(out, "{}\n", counts.join(", "))?;
            writeln!(
                out,
                "| change | repository | account | old | new | old findings | new findings |"
            )?;
            writeln!(out, "|---|---|---|---|---|---|---|")?;
            for r in changes.iter().filter(|r| r.change != Change::Unchanged) {
                let md = |s: &str| crate::report::sanitize::markdown(s);
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    r.change.as_str(),
                    md(&label(&r.key)),
                    md(&r.key.3),
                    st(&r.old),
                    st(&r.new),
                    md(&codes(&r.old)),
                    md(&codes(&r.new))
                )?;
            }
            Ok(())
        }
        DiffFormat::Table => {
            let width = changes
                .iter()
                .filter(|r| r.change != Change::Unchanged)
                .map(|r| label(&r.key).chars().count())
                .max()
                .unwrap_or(10)
                .max(10);
            writeln!(
                out,
                "{:<9}  {:<width$}  {:<12}  {:<5} -> {:<5}  findings (new)",
                "change", "repository", "account", "old", "new"
            )?;
            for r in changes.iter().filter(|r| r.change != Change::Unchanged) {
                let name = crate::report::sanitize::clean(&label(&r.key));
                writeln!(
                    out,
                    "{:<9}  {:<width$}  {:<12}  {:<5} -> {:<5}  {}",
                    r.change.as_str(),
                    name,
                    crate::report::sanitize::clean(&r.key.3),
                    st(&r.old),
                    st(&r.new),
                    crate::report::sanitize::clean(&codes(&r.new))
                )?;
            }
            let counts: Vec<String> = summary.iter().map(|(k, v)| format!("{v} {k}")).collect();
            writeln!(out, "\n{}", counts.join(", "))
        }
    }
}

/// One self-contained page, with the scan report's style sheet, filter script and
/// Content-Security-Policy (allowed by hash) and its escaping: the counts per change, then every
/// row that changed, new and worsened first; the filter narrows them by change, the search box
/// by text.
fn html(
    old: &Snapshot,
    new: &Snapshot,
    changes: &[RowChange],
    summary: &BTreeMap<&'static str, u64>,
    out: &mut dyn Write,
) -> io::Result<()> {
    use crate::report::html::{end, esc, head};
    head(out, "ecr-audit diff")?;
    writeln!(out, "<h1>What changed between two audits</h1>")?;
    // The headline is what `--fail-on-new` gates on by default: new or worsened rows that fail.
    let failing = changes
        .iter()
        .filter(|r| matches!(r.change, Change::New | Change::Worsened))
        .filter(|r| r.new.as_ref().is_some_and(|(s, _)| *s >= Status::Fail))
        .count();
    let (class, text) = if failing > 0 {
        ("fail", format!("{failing} new or worsened row(s) fail"))
    } else {
        ("pass", "No new or worsened row fails".to_owned())
    };
    writeln!(out, "<div class=\"verdict {class}\">{text}</div>")?;
    writeln!(out, "<table class=\"meta\">")?;
    for (k, s) in [("Old report", old), ("New report", new)] {
        writeln!(
            out,
            "<tr><th>{k}</th><td><code>{}</code> ({} rows; accounts {})</td></tr>",
            esc(&s.path),
            s.rows.len(),
            esc(&s.accounts.join(", "))
        )?;
    }
    writeln!(out, "</table>\n<div class=\"tiles\">")?;
    let order = [
        Change::New,
        Change::Worsened,
        Change::Fixed,
        Change::Improved,
        Change::Removed,
        Change::Unchanged,
    ];
    for c in order {
        let c = c.as_str();
        writeln!(
            out,
            "<div class=\"tile {c}\"><span class=\"n\">{}</span>{c}</div>",
            summary.get(c).copied().unwrap_or(0)
        )?;
    }
    writeln!(out, "</div>")?;
    let shown: Vec<&RowChange> = order
        .iter()
        .filter(|c| **c != Change::Unchanged)
        .flat_map(|c| changes.iter().filter(move |r| r.change == *c))
        .collect();
    writeln!(
        out,
        "<div class=\"controls\" id=\"controls\" hidden><strong>Show</strong>"
    )?;
    for c in order.iter().filter(|c| **c != Change::Unchanged) {
        let c = c.as_str();
        writeln!(
            out,
            "<label><input type=\"checkbox\" name=\"status\" value=\"{c}\" checked> <span class=\"st {c}\">{c}</span></label>"
        )?;
    }
    writeln!(
        out,
        "<input type=\"search\" id=\"q\" placeholder=\"Search repository, account, finding…\" aria-label=\"Search\"> <span class=\"muted\"><span id=\"shown\">{0}</span> of {0} rows shown</span></div>",
        shown.len()
    )?;
    writeln!(
        out,
        "<section data-rows>\n<h2>Rows that changed ({})</h2>\n<table class=\"rows\">\n<thead><tr><th class=\"c-st\">Change</th><th class=\"c-repo\">Repository</th><th class=\"c-acct\">Account</th><th class=\"c-act\">Status</th><th>Findings before → after</th></tr></thead>\n<tbody>",
        shown.len()
    )?;
    let st = |x: &Option<(Status, BTreeSet<String>)>| x.as_ref().map_or("–", |x| x.0.as_str());
    let codes = |x: &Option<(Status, BTreeSet<String>)>| {
        x.as_ref().map_or_else(String::new, |x| {
            x.1.iter().map(|c| esc(c)).collect::<Vec<_>>().join(", ")
        })
    };
    for r in shown {
        let c = r.change.as_str();
        writeln!(
            out,
            "<tr data-status=\"{c}\"><td><span class=\"st {c}\">{c}</span></td><td><div class=\"repo\">{}</div></td><td><code class=\"nw\">{}</code></td><td>{} → {}</td><td>{} → {}</td></tr>",
            esc(&label(&r.key)),
            esc(&r.key.3),
            st(&r.old),
            st(&r.new),
            codes(&r.old),
            codes(&r.new)
        )?;
    }
    writeln!(
        out,
        "</tbody>\n</table>\n<p class=\"none-shown muted\" hidden>No row matches the filter.</p>\n</section>\n<footer>Made by ecr-audit {} offline from the two JSON reports named above.</footer>",
        env!("CARGO_PKG_VERSION")
    )?;
    end(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows that name no repository (error rows of unreadable files) are told apart by file and
    /// record, never merged into one, and match across exports kept in other folders.
    #[test]
    fn rows_without_a_repository_are_known_by_file_and_record() {
        let doc = |root: &str| {
            serde_json::to_vec(&serde_json::json!({
                "schema_version": 1,
                "results": [
                    {"source": format!("{root}/broken/a.json"), "record": 1, "registry": null,
                     "region": null, "repository": null, "account": "111122223333",
                     "status": "error", "findings": [{"code": "invalid-json"}]},
                    {"source": format!("{root}/broken/b.json.gz"), "record": 1, "registry": null,
                     "region": null, "repository": null, "account": "111122223333",
                     "status": "error", "findings": [{"code": "unreadable"}]},
                ]
            }))
            .expect("json")
        };
        let old = Snapshot::parse("old.json", &doc("2025-q4")).expect("old");
        let new = Snapshot::parse("new.json", &doc("2026-q1")).expect("new");
        assert_eq!(old.rows.len(), 2, "two broken files stay two rows");
        let changes = compare(&old, &new);
        assert!(
            changes.iter().all(|c| c.change == Change::Unchanged),
            "{changes:?}"
        );
    }

    fn report(rows: &[(&str, &str, &str, &[&str])]) -> Vec<u8> {
        let results: Vec<serde_json::Value> = rows
            .iter()
            .map(|(source, name, status, codes)| {
                serde_json::json!({
                    "source": source, "record": 1, "registry": "444455556666",
                    "region": "us-east-1", "repository": name, "account": "111122223333",
                    "status": status,
                    "findings": codes.iter().map(|c| serde_json::json!({"code": c})).collect::<Vec<_>>(),
                })
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "schema_version": 1,
            "tool": {"name": "ecr-audit", "version": "0.0.9"},
            "accounts": ["111122223333"],
            "summary": {"records": rows.len(), "pass": 0, "warn": 0, "fail": 0, "error": 0},
            "results": results,
        }))
        .expect("json")
    }

    #[test]
    fn rows_are_matched_by_identity_not_by_path() {
        let old = Snapshot::parse(
            "old.json",
            &report(&[
                ("a/one.json", "team/fixed", "fail", &["no-policy"]),
                ("a/two.json", "team/broken", "pass", &[]),
                ("a/three.json", "team/moved", "warn", &["excess-access"]),
                (
                    "a/four.json",
                    "team/better",
                    "fail",
                    &["public-access", "excess-access"],
                ),
                ("a/five.json", "team/gone", "pass", &[]),
            ]),
        )
        .expect("old");
        let new = Snapshot::parse(
            "new.json",
            &report(&[
                ("b/one.json", "team/fixed", "pass", &[]),
                ("b/two.json", "team/broken", "fail", &["public-access"]),
                ("b/elsewhere.json", "team/moved", "warn", &["excess-access"]),
                ("b/four.json", "team/better", "warn", &["excess-access"]),
                ("b/six.json", "team/added", "pass", &[]),
            ]),
        )
        .expect("new");
        let changes = compare(&old, &new);
        let got: BTreeMap<&str, &str> = changes
            .iter()
            .map(|c| (c.key.2.as_deref().unwrap_or(""), c.change.as_str()))
            .collect();
        assert_eq!(
            got,
            BTreeMap::from([
                ("team/added", "new"),
                ("team/better", "improved"),
                ("team/broken", "worsened"),
                ("team/fixed", "fixed"),
                ("team/gone", "removed"),
                ("team/moved", "unchanged"),
            ])
        );
    }

    #[test]
    fn a_report_of_another_schema_is_refused() {
        let e = Snapshot::parse("x.json", br#"{"schema_version": 2, "results": []}"#);
        assert!(matches!(e, Err(DiffError::Format { .. })));
        let e = Snapshot::parse("x.json", b"{}");
        assert!(matches!(e, Err(DiffError::Format { .. })));
    }

    #[test]
    fn suppressed_findings_are_not_listed_as_findings() {
        let text = br#"{"schema_version": 1, "results": [{"registry": null, "region": null,
            "repository": "a", "account": "111122223333", "status": "pass",
            "findings": [{"code": "public-access", "suppressed": {"reason": "ok"}},
                         {"code": "legacy-version", "suppressed": null}]}]}"#;
        let s = Snapshot::parse("x.json", text).expect("parse");
        let (_, codes) = s.rows.values().next().expect("row");
        assert_eq!(codes.iter().collect::<Vec<_>>(), vec!["legacy-version"]);
    }
}

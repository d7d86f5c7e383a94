//! Markdown report, to paste into or attach to a compliance ticket: a title, what was audited
//! and when, totals, then the failing and error rows with what to do, the warnings, and a compact
//! list of passing repositories.
//!
//! It sticks to the Markdown that GitHub, GitLab and Jira render alike: ATX headings, pipe
//! tables, bullet lists, bold and code spans. Text that comes from the input (paths, names, Sids
//! in messages) goes through the one sanitiser, `report::sanitize::markdown` (here [`text`]), which
//! `gitpod`'s Markdown report uses too. No line starts with input text.

use std::io::{self, Write};

use crate::audit::{Row, Rows};
use crate::eval::ActionState;
use crate::finding::{Severity, Status};

pub use super::sanitize::markdown as text;
use super::{Counts, Meta};

/// Groups listed per breakdown; the rest are summed on one line.
const BREAKDOWN_GROUPS: usize = 20;

pub fn write(rows: &Rows, meta: &Meta, out: &mut dyn Write) -> io::Result<()> {
    let c = meta.counts.unwrap_or_else(|| Counts::of(rows));
    writeln!(out, "# ECR repository policy audit\n")?;
    writeln!(out, "| Field | Value |")?;
    writeln!(out, "|---|---|")?;
    writeln!(out, "| Generated (UTC) | {} |", text(&meta.generated))?;
    writeln!(
        out,
        "| Tool | ecr-audit {} |",
        text(env!("CARGO_PKG_VERSION"))
    )?;
    writeln!(out, "| Audited accounts | {} |", list(&meta.accounts))?;
    writeln!(out, "| Inputs | {} |", list(&meta.inputs))?;
    writeln!(out, "| Records | {} ({} rows) |", meta.records, rows.len())?;
    writeln!(out, "| Verdict | {} |", verdict(c))?;
    if meta.tally.duplicates > 0 {
        writeln!(
            out,
            "| Duplicate records | {} (records naming a repository that another record names too; see `duplicate-record`) |",
            meta.tally.duplicates
        )?;
    }
    if let Some(e) = &meta.evidence {
        writeln!(out, "| Inputs digest (SHA-256) | `{}` |", e.digest)?;
    }

    writeln!(out, "\n## Totals\n")?;
    writeln!(out, "| Status | Rows |")?;
    writeln!(out, "|---|---:|")?;
    for s in [Status::Error, Status::Fail, Status::Warn, Status::Pass] {
        writeln!(out, "| {} | {} |", s.as_str(), c.get(s))?;
    }
    writeln!(out, "| **total** | {} |", rows.len())?;

    // Records never vanish (issue 10): what each shape gave, and what a join folded into
    // another row; every other record is one row per audited account.
    let t = &meta.tally;
    writeln!(out, "\n## Inputs\n")?;
    writeln!(
        out,
        "{} files read, {} skipped (no export shape); {} records read, {} folded into another row by a join.\n",
        t.files,
        t.skipped,
        t.records_read(),
        t.records_folded()
    )?;
    writeln!(out, "| Shape | Records read | Folded by a join |")?;
    writeln!(out, "|---|---:|---:|")?;
    for (shape, read, folded) in t.shapes() {
        writeln!(out, "| {} | {read} | {folded} |", shape.name())?;
    }

    if let Some((counts, worse)) = super::since_baseline(rows, meta) {
        writeln!(out, "\n## Since the baseline\n")?;
        let counts: Vec<String> = counts
            .iter()
            .map(|(c, n)| format!("{n} {}", c.as_str()))
            .collect();
        writeln!(out, "{}.\n", counts.join(", "))?;
        if worse.is_empty() {
            writeln!(out, "No row is new or worse.")?;
        } else {
            writeln!(out, "| Change | Status | Repository | Account | Source |")?;
            writeln!(out, "|---|---|---|---|---|")?;
            for (c, r) in worse {
                writeln!(
                    out,
                    "| {} | **{}** | {} | {} | {} |",
                    c.as_str(),
                    r.status.as_str(),
                    repository(r),
                    text(&r.account),
                    source(r)
                )?;
            }
        }
    }

    let mut failing: Vec<&Row> = rows.iter().filter(|r| r.status >= Status::Fail).collect();
    // Errors first (nothing could be judged), then failures; report order within each.
    failing.sort_by_key(|r| std::cmp::Reverse(r.status));
    writeln!(out, "\n## Failing and error rows ({})\n", failing.len())?;
    if failing.is_empty() {
        writeln!(out, "None.")?;
    } else {
        writeln!(
            out,
            "| # | Status | Repository | Account | Source | Missing | Denied | What to do |"
        )?;
        writeln!(out, "|---:|---|---|---|---|---|---|---|")?;
        for (i, r) in failing.iter().enumerate() {
            writeln!(
                out,
                "| {} | **{}** | {} | {} | {} | {} | {} | {} |",
                i + 1,
                r.status.as_str(),
                repository(r),
                text(&r.account),
                source(r),
                actions(r, ActionState::Missing),
                actions(r, ActionState::Denied),
                text(&super::what_to_do(r))
            )?;
        }
    }

    let warnings: Vec<&Row> = rows.iter().filter(|r| r.status == Status::Warn).collect();
    writeln!(out, "\n## Warnings ({})\n", warnings.len())?;
    if warnings.is_empty() {
        writeln!(out, "None.")?;
    } else {
        writeln!(
            out,
            "| # | Repository | Account | Source | Findings | What to do |"
        )?;
        writeln!(out, "|---:|---|---|---|---|---|")?;
        for (i, r) in warnings.iter().enumerate() {
            let codes: Vec<&str> = r
                .codes()
                .into_iter()
                .filter(|c| c.severity() == Severity::Warn)
                .map(|c| c.id())
                .collect();
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                i + 1,
                repository(r),
                text(&r.account),
                source(r),
                text(&codes.join(", ")),
                text(&super::what_to_do(r))
            )?;
        }
    }

    let passing: Vec<&Row> = rows.iter().filter(|r| r.status == Status::Pass).collect();
    writeln!(out, "\n## Passing ({})\n", passing.len())?;
    if passing.is_empty() {
        writeln!(out, "None.")?;
    }
    for r in passing {
        let notes: Vec<&str> = r.codes().into_iter().map(|c| c.id()).collect();
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" (notes: {})", text(&notes.join(", ")))
        };
        writeln!(
            out,
            "- pass: {} for {} in {}{notes}",
            repository(r),
            text(&r.account),
            source(r)
        )?;
    }

    writeln!(out, "\n## Summary by account, registry and region")?;
    for b in super::breakdowns(rows, BREAKDOWN_GROUPS) {
        writeln!(out, "\n| {} | Rows | error | fail | warn | pass |", b.title)?;
        writeln!(out, "|---|---:|---:|---:|---:|---:|")?;
        let line = |out: &mut dyn Write, name: &str, c: &Counts| {
            writeln!(
                out,
                "| {name} | {} | {} | {} | {} | {} |",
                c.total(),
                c.error,
                c.fail,
                c.warn,
                c.pass
            )
        };
        for (name, c) in &b.groups {
            line(out, &text(name), c)?;
        }
        if let Some((n, c)) = &b.more {
            line(out, &format!("{n} more"), c)?;
        }
    }

    // Accepted findings (issue 15), each with its reason; only when there are some, so that a
    // report without a configuration file is unchanged.
    let accepted: Vec<(&Row, &crate::finding::Finding)> = rows
        .iter()
        .flat_map(|r| r.findings.iter().map(move |f| (r, f)))
        .filter(|(_, f)| f.suppressed.is_some())
        .collect();
    if !accepted.is_empty() {
        writeln!(out, "\n## Suppressed findings ({})\n", accepted.len())?;
        writeln!(
            out,
            "| Repository | Account | Finding | Reason | Ticket | Expires | Suppressed by |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|---|")?;
        for (r, f) in accepted {
            if let Some(s) = &f.suppressed {
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    repository(r),
                    text(&r.account),
                    f.code.id(),
                    text(&s.reason),
                    text(s.ticket.as_deref().unwrap_or("")),
                    text(s.expires.as_deref().unwrap_or("")),
                    text(&s.source)
                )?;
            }
        }
    }

    if let Some(e) = &meta.evidence {
        writeln!(out, "\n## Evidence\n")?;
        writeln!(
            out,
            "Inputs digest (SHA-256 of the `sha256sum` listing of the files below, in this order): `{}`\n",
            e.digest
        )?;
        writeln!(out, "| SHA-256 | File |")?;
        writeln!(out, "|---|---|")?;
        for f in &e.files {
            match &f.sha256 {
                Some(h) => writeln!(out, "| `{h}` | {} |", text(&f.path))?,
                None => writeln!(
                    out,
                    "| not hashed: {} | {} |",
                    text(f.note.as_deref().unwrap_or("")),
                    text(&f.path)
                )?,
            }
        }
    }
    Ok(())
}

/// One line for the ticket: the run's overall outcome.
fn verdict(c: Counts) -> String {
    if c.fail + c.error > 0 {
        format!(
            "**FAIL**: {} row(s) fail, {} row(s) could not be judged",
            c.fail, c.error
        )
    } else if c.warn > 0 {
        format!(
            "**WARN**: every repository can be pulled; {} row(s) need a look",
            c.warn
        )
    } else {
        "**PASS**: every repository can be pulled".into()
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        return "—".into();
    }
    items.iter().map(|s| text(s)).collect::<Vec<_>>().join(", ")
}

fn repository(r: &Row) -> String {
    let label = r.repo.label();
    if label.is_empty() {
        "—".into()
    } else {
        text(&label)
    }
}

fn source(r: &Row) -> String {
    text(&format!("{}:{}", r.source, r.record))
}

fn actions(r: &Row, state: ActionState) -> String {
    let names: Vec<&str> = r
        .actions_in(state)
        .map(|a| a.trim_start_matches("ecr:"))
        .collect();
    if names.is_empty() {
        "—".into()
    } else {
        names.join(", ")
    }
}

//! Terminal table for people: one line per row, the status coloured when allowed, and a closing
//! summary line. Text from the input is stripped of control and escape characters, so a crafted
//! repository name cannot move the cursor or recolour the terminal.

use std::io::{self, Write};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ColumnConstraint, ContentArrangement, Table, Width};

use crate::audit::{Row, Rows};
use crate::catalog::REQUIRED;
use crate::eval::ActionState;
use crate::finding::Status;

pub(crate) use super::sanitize::clean;
use super::{Counts, Meta, write_in_waves};

/// A terminal table in the house style, styled only when `color` (scan and gitpod share it).
pub(crate) fn new_table(color: bool) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

/// Rows per table. A table is built whole in memory before it is printed (a table of 100,000
/// rows took 440 MB and more than a second), so a large scan prints consecutive tables of this
/// many rows, each with its header, made on every worker a few at a time.
const BLOCK: usize = 1000;

pub fn write(rows: &Rows, meta: &Meta, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let all: Vec<&Row> = rows.iter().collect();
    let blocks: Vec<&[&Row]> = all.chunks(BLOCK).collect();
    write_in_waves(&blocks, out, |_, block| {
        Ok::<_, io::Error>(format!("{}\n", table(block, color)).into_bytes())
    })?;
    writeln!(out, "{}", summary_line(rows, meta))
}

fn table(rows: &[&Row], color: bool) -> Table {
    let mut t = new_table(color);
    t.set_header([
        "Source",
        "Repository",
        "Account",
        "Status",
        "Actions",
        "Findings",
        "Detail",
    ]);
    // Paths and names may be long; the detail is what a person acts on, so it keeps the room.
    for (column, percent) in [(0, 22), (1, 18)] {
        if let Some(c) = t.column_mut(column) {
            c.set_constraint(ColumnConstraint::UpperBoundary(Width::Percentage(percent)));
        }
    }
    for r in rows {
        let mut status = Cell::new(r.status.as_str());
        if color {
            status = status.fg(match r.status {
                Status::Pass => Color::Green,
                Status::Warn => Color::Yellow,
                Status::Fail => Color::Red,
                Status::Error => Color::Magenta,
            });
        }
        t.add_row(vec![
            Cell::new(clean(&format!("{}:{}", r.source, r.record))),
            Cell::new(clean(&r.repo.label())),
            Cell::new(&*r.account),
            status,
            Cell::new(actions(r)),
            Cell::new(
                r.codes()
                    .iter()
                    .map(|c| c.id())
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Cell::new(clean(&r.detail())),
        ]);
    }
    t
}

/// The states that need attention, e.g. `missing: BatchGetImage`; `all allowed` otherwise.
fn actions(r: &Row) -> String {
    if r.actions.is_none() {
        return "-".into();
    }
    let mut parts = Vec::new();
    for state in [
        ActionState::Denied,
        ActionState::Missing,
        ActionState::Conditional,
    ] {
        let names: Vec<&str> = r
            .actions_in(state)
            .map(|a| a.trim_start_matches("ecr:"))
            .collect();
        if names.len() == REQUIRED.len() {
            // All three alike: say so, and leave the width to the detail.
            return format!("all {}", state.as_str());
        }
        if !names.is_empty() {
            parts.push(format!("{}: {}", state.as_str(), names.join(", ")));
        }
    }
    if parts.is_empty() {
        "all allowed".into()
    } else {
        parts.join("\n")
    }
}

/// The closing line: counts per status and the elapsed time.
pub fn summary_line(rows: &Rows, meta: &Meta) -> String {
    let c = meta.counts.unwrap_or_else(|| Counts::of(rows));
    let accounts = meta.accounts.len();
    format!(
        "{} record{} × {} account{} = {} row{}: {} pass, {} warn, {} fail, {} error ({:.2} s)",
        meta.records,
        plural(meta.records),
        accounts,
        plural(accounts as u64),
        rows.len(),
        plural(rows.len() as u64),
        c.get(Status::Pass),
        c.get(Status::Warn),
        c.get(Status::Fail),
        c.get(Status::Error),
        meta.elapsed.as_secs_f64()
    )
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_scan_is_printed_as_tables_of_a_block_each_with_every_row_in_order() {
        use crate::audit::RowRepo;
        use crate::finding::{Code, Finding};
        use std::sync::Arc;
        let findings: Arc<[Finding]> = vec![Finding::new(Code::NoPolicy, "none")].into();
        let n = BLOCK * crate::report::WAVE + BLOCK + 7;
        let mut rows = Rows::new();
        rows.push_group(
            (1..=n as u64)
                .map(|record| Row {
                    source: Arc::from("s.jsonl"),
                    record,
                    repo: RowRepo::default(),
                    account: Arc::from("111122223333"),
                    status: Status::Fail,
                    actions: Some([ActionState::Missing; 3]),
                    findings: Arc::clone(&findings),
                })
                .collect(),
        );
        let meta = Meta {
            accounts: vec!["111122223333".into()],
            inputs: vec!["s.jsonl".into()],
            records: n as u64,
            elapsed: std::time::Duration::ZERO,
            generated: String::new(),
            counts: None,
            baseline: None,
            suppressions: Vec::new(),
            evidence: None,
            tally: Default::default(),
        };
        let mut out = Vec::new();
        write(&rows, &meta, false, &mut out).expect("write");
        let text = String::from_utf8(out).expect("utf-8");
        let headers = text
            .lines()
            .filter(|l| l.contains("Source") && l.contains("Detail"))
            .count();
        assert_eq!(headers, n.div_ceil(BLOCK));
        let records: Vec<u64> = text
            .lines()
            .filter_map(|l| l.split("s.jsonl:").nth(1))
            .filter_map(|rest| {
                rest.split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse()
                    .ok()
            })
            .collect();
        assert_eq!(records, (1..=n as u64).collect::<Vec<_>>());
        assert!(
            text.trim_end().ends_with("error (0.00 s)"),
            "{}",
            &text[text.len() - 200..]
        );
    }
}

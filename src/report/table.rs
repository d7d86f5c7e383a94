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

use super::{Counts, Meta};

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

pub fn write(rows: &Rows, meta: &Meta, color: bool, out: &mut dyn Write) -> io::Result<()> {
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
            Cell::new(clean(&repository(r))),
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
    if !rows.is_empty() {
        writeln!(out, "{t}")?;
    }
    writeln!(out, "{}", summary_line(rows, meta))
}

/// `registry/region/name`, leaving out what is unknown.
fn repository(r: &Row) -> String {
    r.repo
        .parts()
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("/")
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
    let c = Counts::of(rows);
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

/// Removes control characters (which include ESC and the C1 controls) and bidirectional
/// overrides from input-derived text.
pub(crate) fn clean(s: &str) -> String {
    s.chars().filter(|c| !is_hidden(*c)).collect()
}

/// Characters a report never shows from the input: control characters (ESC and the C1 controls
/// among them) and the bidirectional controls that reorder what a reader sees ("Trojan Source").
pub(crate) fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_strips_escape_sequences_and_controls() {
        assert_eq!(clean("repo\u{1b}[31mred\r\n\u{9b}x"), "repo[31mredx");
        assert_eq!(clean("abc\u{202e}fed\u{2066}"), "abcfed");
    }
}

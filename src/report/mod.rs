//! Reports: one module per format. Each builds its output from report-only types or columns, so
//! the engine can be refactored without changing a column.

use std::io::{self, Write};
use std::time::Duration;

use rayon::prelude::*;

use crate::audit::Rows;
use crate::config::Format;
use crate::finding::Status;

pub mod csv;
pub mod json;
pub mod markdown;
pub mod sanitize;
pub mod sarif;
pub mod table;

pub use crate::evidence::Evidence;
pub use crate::pipeline::Tally;

/// Pieces formatted at a time by [`write_in_waves`].
pub(crate) const WAVE: usize = 4;

/// Formats `pieces` on every worker, a wave of [`WAVE`] at a time, and writes them in order:
/// formatting is most of writing a large report, and a wave at a time bounds the bytes held.
/// `format` gets each piece's place among all of them.
pub(crate) fn write_in_waves<T: Sync, E: From<io::Error> + Send>(
    pieces: &[T],
    out: &mut dyn Write,
    format: impl Fn(usize, &T) -> Result<Vec<u8>, E> + Sync,
) -> Result<(), E> {
    for (w, wave) in pieces.chunks(WAVE).enumerate() {
        let formatted: Vec<Result<Vec<u8>, E>> = wave
            .par_iter()
            .enumerate()
            .map(|(i, piece)| format(w * WAVE + i, piece))
            .collect();
        for bytes in formatted {
            out.write_all(&bytes?)?;
        }
    }
    Ok(())
}

/// What a report says about the run beyond its rows.
#[derive(Clone, Debug)]
pub struct Meta {
    /// The audited accounts, in the order given.
    pub accounts: Vec<String>,
    /// The paths as given on the command line.
    pub inputs: Vec<String>,
    /// How many records were found (rows = records × accounts).
    pub records: u64,
    pub elapsed: Duration,
    /// When the report was made, UTC, RFC 3339 to the second (`SOURCE_DATE_EPOCH` when set).
    pub generated: String,
    /// The inputs' digests, with `--evidence`.
    pub evidence: Option<Evidence>,
    /// Records read and folded, per shape.
    pub tally: Tally,
    /// With `--only` (issue 15): every row counted, not only those the report shows.
    pub counts: Option<Counts>,
    /// With `--baseline` (issue 15): each row's change since the baseline report.
    pub baseline: Option<std::sync::Arc<crate::diff::Marks>>,
    /// Each `[[suppress]]` entry and what it matched (issue 15); empty without a file's entries.
    pub suppressions: Vec<crate::suppress::Use>,
}

/// Rows counted per status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub pass: u64,
    pub warn: u64,
    pub fail: u64,
    pub error: u64,
}

impl Counts {
    pub fn of(rows: &Rows) -> Counts {
        let mut c = Counts::default();
        for r in rows {
            *c.slot(r.status) += 1;
        }
        c
    }

    fn slot(&mut self, s: Status) -> &mut u64 {
        match s {
            Status::Pass => &mut self.pass,
            Status::Warn => &mut self.warn,
            Status::Fail => &mut self.fail,
            Status::Error => &mut self.error,
        }
    }

    pub fn get(mut self, s: Status) -> u64 {
        *self.slot(s)
    }
}

/// Writes `rows` (already in report order) in `format`.
pub fn write(
    format: Format,
    rows: &Rows,
    meta: &Meta,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => table::write(rows, meta, color, out),
        Format::Csv => csv::write(rows, out),
        Format::Json => json::write(rows, meta, out),
        Format::Markdown => markdown::write(rows, meta, out),
        Format::Sarif => sarif::write(rows, out),
    }
}

/// `;`-joined list, the separator of the CSV list cells.
pub(crate) fn join<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut s = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            s.push(';');
        }
        s.push_str(item);
    }
    s
}

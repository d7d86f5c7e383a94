//! CSV report (RFC 4180): a header always, then one line per row in the SPEC 5 column order.

use std::io::{self, Write};

use crate::audit::Rows;
use crate::eval::ActionState;

use super::join;

/// The header, in the contract's order. Changing it is a breaking change of the public output.
pub const HEADER: [&str; 12] = [
    "source",
    "record",
    "registry",
    "region",
    "repository",
    "account",
    "status",
    "missing_actions",
    "denied_actions",
    "conditional_actions",
    "findings",
    "detail",
];

/// Spreadsheet formula injection (OWASP "CSV Injection"): a cell that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return may be run as a formula by Excel, LibreOffice or Google Sheets.
/// Such a cell gets a leading `'`, which spreadsheets show as text and do not display. Every cell
/// goes through this, whatever its column; to get the raw value back, drop a leading `'` that is
/// followed by one of those characters. A cell that is exactly `-` (the `source` of standard
/// input, SPEC 5) is no formula and is left alone.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell == "-" {
        return cell.into();
    }
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

pub fn write(rows: &Rows, out: &mut dyn Write) -> io::Result<()> {
    write_rows(rows, out).map_err(into_io)
}

/// Keeps the I/O error's kind (a closed pipe must stay recognisable as one).
fn into_io(e: ::csv::Error) -> io::Error {
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn write_rows(rows: &Rows, out: &mut dyn Write) -> Result<(), ::csv::Error> {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(HEADER)?;
    for r in rows {
        let record = r.record.to_string();
        let codes = r.codes();
        let cells: [&str; 12] = [
            &r.source,
            &record,
            r.repo.registry.as_deref().unwrap_or(""),
            r.repo.region.as_deref().unwrap_or(""),
            r.repo.repository.as_deref().unwrap_or(""),
            &r.account,
            r.status.as_str(),
            &join(r.actions_in(ActionState::Missing)),
            &join(r.actions_in(ActionState::Denied)),
            &join(r.actions_in(ActionState::Conditional)),
            &join(codes.iter().map(|c| c.id())),
            &r.detail(),
        ];
        w.write_record(cells.map(neutralise).iter().map(|c| c.as_bytes()))?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_neutralised() {
        for bad in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(bad), format!("'{bad}"));
        }
        for ok in ["team/app", "", "111122223333", "a=b", "'quoted", "-"] {
            assert_eq!(neutralise(ok), ok);
        }
    }
}

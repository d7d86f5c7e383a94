//! CSV report (RFC 4180): a header always, then one line per row in the SPEC 5 column order.

use std::io::{self, Write};

use crate::audit::Row;
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

pub fn write(rows: &[Row], out: &mut dyn Write) -> io::Result<()> {
    write_rows(rows, out).map_err(into_io)
}

/// Keeps the I/O error's kind (a closed pipe must stay recognisable as one).
fn into_io(e: ::csv::Error) -> io::Error {
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn write_rows(rows: &[Row], out: &mut dyn Write) -> Result<(), ::csv::Error> {
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
            &r.detail,
        ];
        w.write_record(cells)?;
    }
    w.flush()?;
    Ok(())
}

//! CSV report (RFC 4180): a header always, then one line per row in the SPEC 5 column order.

use std::io::{self, Write};

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::audit::{Row, Rows};
use crate::eval::ActionState;
use crate::finding::Status;

use super::{join, write_in_waves};

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

/// Rows formatted together by one worker.
const SLICE: usize = 4096;

fn write_rows(rows: &Rows, out: &mut dyn Write) -> Result<(), ::csv::Error> {
    let mut w = writer(&mut *out);
    w.write_record(HEADER)?;
    w.flush()?;
    drop(w);
    let slices: Vec<&[Row]> = rows.slices(SLICE).collect();
    write_in_waves(&slices, out, |_, rows| format(rows))
}

fn writer<W: Write>(out: W) -> ::csv::Writer<W> {
    ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .has_headers(false)
        .from_writer(out)
}

/// Appends one cell as the `csv` crate's writer (quoting only where needed, RFC 4180) writes
/// it: in double quotes, each `"` doubled, when it holds a comma, a quote, a carriage return or
/// a line feed; else as it is. Those bytes are looked for eight at a time ([`needs_quotes`]),
/// where the crate's writer looks at every byte through a table: that was a third of writing a
/// row (the detail cell is hundreds of bytes). `tests::cells_are_written_as_the_csv_crate_writes_them`
/// holds the two to the same bytes.
fn push_cell(out: &mut Vec<u8>, cell: &[u8]) {
    if !needs_quotes(cell) {
        out.extend_from_slice(cell);
        return;
    }
    out.push(b'"');
    let mut rest = cell;
    while let Some(q) = memchr::memchr(b'"', rest) {
        out.extend_from_slice(&rest[..=q]);
        out.push(b'"');
        rest = &rest[q + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

/// Whether `cell` holds a comma, a quote, a carriage return or a line feed: eight bytes at a
/// time (most cells are a few words long, too short for a `memchr` call to pay).
fn needs_quotes(cell: &[u8]) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    // Some byte of `x` is `c` (the "haszero" bit trick on `x ^ c`, exact for the question
    // whether any byte is).
    fn has(x: u64, c: u8) -> bool {
        let y = x ^ (ONES * u64::from(c));
        y.wrapping_sub(ONES) & !y & (ONES * 0x80) != 0
    }
    let mut words = cell.chunks_exact(8);
    for word in &mut words {
        let x = u64::from_le_bytes(word.try_into().unwrap_or_default());
        if has(x, b',') || has(x, b'"') || has(x, b'\r') || has(x, b'\n') {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|c| matches!(c, b',' | b'"' | b'\r' | b'\n'))
}

/// The bytes a row took in the last slice formatted (any worker's), to size the next slice's
/// buffer once instead of doubling it a few times.
static ROW_BYTES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(256);

/// The CSV lines of `rows`. Rows that share a verdict share their findings list, so the cells
/// derived from it are made once per list and account.
fn format(rows: &[Row]) -> Result<Vec<u8>, ::csv::Error> {
    use std::fmt::Write as _;
    use std::sync::atomic::Ordering::Relaxed;
    // At most 1 KiB a row ahead of time (a wave holds four slices): a slice of a few huge rows
    // must not make the next slice reserve thousands of times their size.
    let row = (ROW_BYTES.load(Relaxed) * 9 / 8 + 16).min(1024);
    let mut out = Vec::with_capacity(rows.len() * row);
    // What rows with the same verdict share, made once: the codes, the advice and the three
    // action lists (estates repeat their verdicts).
    type Key = (usize, usize, Status);
    let mut derived: FxHashMap<Key, [String; 2]> = FxHashMap::default();
    // The three action lists depend on the states alone: 28 possible, made once each.
    let mut lists: FxHashMap<Option<[ActionState; 3]>, [String; 3]> = FxHashMap::default();
    let mut record = String::new();
    let mut unpacked = super::Unpacked::default();
    for r in rows {
        let key = (
            Arc::as_ptr(&r.findings).cast::<()>() as usize,
            Arc::as_ptr(&r.account).cast::<()>() as usize,
            r.status,
        );
        let [codes, detail] = &*derived.entry(key).or_insert_with(|| {
            let codes = r.codes();
            [
                join(codes.iter().map(|c| c.id())),
                super::what_to_do_with(r, &mut unpacked),
            ]
        });
        let [missing, denied, conditional] = &*lists.entry(r.actions).or_insert_with(|| {
            [
                join(r.actions_in(ActionState::Missing)),
                join(r.actions_in(ActionState::Denied)),
                join(r.actions_in(ActionState::Conditional)),
            ]
        });
        record.clear();
        let _ = write!(record, "{}", r.record);
        let cells: [&str; 12] = [
            &r.source,
            &record,
            r.repo.registry.as_deref().unwrap_or(""),
            r.repo.region.as_deref().unwrap_or(""),
            r.repo.repository.as_deref().unwrap_or(""),
            &r.account,
            r.status.as_str(),
            missing,
            denied,
            conditional,
            codes,
            detail,
        ];
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_cell(&mut out, neutralise(cell).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
    if !rows.is_empty() {
        ROW_BYTES.store(out.len() / rows.len(), Relaxed);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_formatted_in_parallel_come_out_whole_and_in_order() {
        use crate::audit::RowRepo;
        use crate::finding::{Code, Finding};
        let findings: Arc<[Finding]> = vec![Finding::new(Code::NoPolicy, "none")].into();
        let row = |record: u64, status| Row {
            source: Arc::from("s.jsonl"),
            record,
            repo: RowRepo::default(),
            account: Arc::from("111122223333"),
            status,
            actions: None,
            findings: Arc::clone(&findings),
        };
        // Groups of uneven sizes, more rows than a wave of slices holds.
        let mut rows = Rows::new();
        let mut n = 0u64;
        for size in [1usize, 5000, 4096, 70_000, 3] {
            rows.push_group(
                (0..size)
                    .map(|_| {
                        n += 1;
                        row(
                            n,
                            if n % 2 == 0 {
                                Status::Fail
                            } else {
                                Status::Error
                            },
                        )
                    })
                    .collect(),
            );
        }
        let mut out = Vec::new();
        write(&rows, &mut out).expect("write");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines[0], HEADER.join(","));
        assert_eq!(lines.len() as u64, n + 1);
        for (i, line) in lines[1..].iter().enumerate() {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells[1], (i + 1).to_string(), "{line}");
            let status = if (i + 1) % 2 == 0 { "fail" } else { "error" };
            assert_eq!(cells[6], status, "{line}");
        }
    }

    #[test]
    fn cells_are_written_as_the_csv_crate_writes_them() {
        let cells = [
            "",
            "plain",
            "a,b",
            "say \"hi\"",
            "\"",
            "\"\"",
            "line\nbreak",
            "cr\rhere",
            "tab\there",
            "é, \"ü\"",
            "ends with \"",
            ",",
            "  spaced  ",
            "#comment",
            "'quoted",
        ];
        // Every cell alone and every pair in one record.
        for a in cells {
            for b in cells {
                let mut expected = writer(Vec::new());
                expected.write_record([a, b, "x"]).expect("write");
                let expected = expected.into_inner().expect("flush");
                let mut ours = Vec::new();
                for (i, cell) in [a, b, "x"].into_iter().enumerate() {
                    if i > 0 {
                        ours.push(b',');
                    }
                    push_cell(&mut ours, cell.as_bytes());
                }
                ours.extend_from_slice(b"\r\n");
                assert_eq!(
                    String::from_utf8_lossy(&ours),
                    String::from_utf8_lossy(&expected),
                    "{a:?} {b:?}"
                );
            }
        }
    }

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

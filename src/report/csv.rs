//! CSV report (RFC 4180): a header always, then one line per row in the SPEC 5 column order.

use std::io::{self, Write};

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::audit::{Row, Rows};
use crate::eval::ActionState;
use crate::finding::Status;

use super::{join, write_in_waves_of};

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
    if runs(cell.as_bytes()) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// Whether a spreadsheet could run `cell` as a formula (see [`neutralise`]).
fn runs(cell: &[u8]) -> bool {
    matches!(
        cell.first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    ) && cell != b"-"
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

/// Rows formatted together by one worker, and slices formatted at a time: a wave of 16,384
/// rows (about 9 MB of CSV when policies differ) in slices small enough that the workers
/// finish a wave together (slices of 4,096 in waves of four left one core formatting the last
/// slice of 50,000 rows alone).
const SLICE: usize = 1024;
const WAVE: usize = 16;

fn write_rows(rows: &Rows, out: &mut dyn Write) -> Result<(), ::csv::Error> {
    let mut w = writer(&mut *out);
    w.write_record(HEADER)?;
    w.flush()?;
    drop(w);
    let slices: Vec<&[Row]> = rows.slices(SLICE).collect();
    write_in_waves_of(&slices, WAVE, out, |_, rows| format(rows))
}

fn writer<W: Write>(out: W) -> ::csv::Writer<W> {
    ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .has_headers(false)
        .from_writer(out)
}

/// Appends one cell as the `csv` crate's writer (quoting only where needed, RFC 4180) writes
/// it: in double quotes, each `"` doubled, when it holds a comma, a quote, a carriage return or
/// a line feed; else as it is. Those bytes are looked for sixteen at a time ([`specials`]),
/// where the crate's writer looks at every byte through a table: that was a third of writing a
/// row (the detail cell is hundreds of bytes). `tests::cells_are_written_as_the_csv_crate_writes_them`
/// holds the two to the same bytes.
#[inline]
fn push_cell(out: &mut Vec<u8>, cell: &[u8]) {
    if needs_quotes(cell) {
        push_quoted(out, cell);
    } else {
        out.extend_from_slice(cell);
    }
}

/// [`push_cell`] of a cell that needs quotes.
#[inline(never)]
fn push_quoted(out: &mut Vec<u8>, cell: &[u8]) {
    out.reserve(cell.len() + 8);
    out.push(b'"');
    // Each quote doubled: the runs between quotes copied whole; a block of sixteen bytes is
    // looked into only when it holds a quote (a `memchr` call costs more than the few bytes
    // between a Sid's quotes).
    let mut run = 0;
    let mut at = 0;
    for block in cell.chunks(BLOCK) {
        let quoted = match block.try_into() {
            Ok(block) => any(block, |b| b == b'"'),
            Err(_) => true,
        };
        if quoted {
            for (i, &b) in block.iter().enumerate() {
                if b == b'"' {
                    out.extend_from_slice(&cell[run..=at + i]);
                    out.push(b'"');
                    run = at + i + 1;
                }
            }
        }
        at += block.len();
    }
    out.extend_from_slice(&cell[run..]);
    out.push(b'"');
}

/// Bytes looked at together by [`needs_quotes`] and [`push_cell`].
const BLOCK: usize = 16;

/// Whether some byte of `block` is one `is` picks: written so that the compiler makes it a few
/// vector compares and one test (no branch per byte).
#[inline(always)]
fn any(block: &[u8; BLOCK], is: impl Fn(u8) -> bool) -> bool {
    block.iter().fold(false, |found, &b| found | is(b))
}

/// A byte that makes a cell quoted: a comma, a quote, a carriage return or a line feed.
#[inline(always)]
fn special(b: u8) -> bool {
    (b == b',') | (b == b'"') | (b == b'\r') | (b == b'\n')
}

/// Whether `cell` holds a comma, a quote, a carriage return or a line feed: sixteen bytes at a
/// time, the last block overlapping the one before (a byte looked at twice answers the same);
/// a cell shorter than a block is looked at as its first and last few bytes gathered into one
/// block (most cells are a few words long, too short for a `memchr` call to pay).
#[inline]
fn needs_quotes(cell: &[u8]) -> bool {
    let n = cell.len();
    let mut block = [0u8; BLOCK];
    if n >= BLOCK {
        let mut blocks = cell.chunks_exact(BLOCK);
        return blocks.any(|b| b.try_into().is_ok_and(|b| any(b, special)))
            || (!blocks.remainder().is_empty()
                && cell[n - BLOCK..].try_into().is_ok_and(|b| any(b, special)));
    } else if n >= 8 {
        block[..8].copy_from_slice(&cell[..8]);
        block[8..].copy_from_slice(&cell[n - 8..]);
    } else if n >= 4 {
        block[..4].copy_from_slice(&cell[..4]);
        block[4..8].copy_from_slice(&cell[n - 4..]);
    } else {
        return cell.iter().any(|&b| special(b));
    }
    // The bytes not taken from the cell are zero, which is no special byte.
    any(&block, special)
}

/// The bytes a row took in the last slice formatted (any worker's), to size the next slice's
/// buffer once instead of doubling it a few times.
static ROW_BYTES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(256);

/// `n` in decimal, appended (a record number: no cell of digits is quoted or neutralised).
fn push_number(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(crate::message::decimal(n, &mut [0; 20]));
}

/// A cell as the row writes it: neutralised (see [`neutralise`]) and quoted where needed.
#[inline]
fn push_text_cell(out: &mut Vec<u8>, cell: &[u8]) {
    if runs(cell) {
        let mut neutral = Vec::with_capacity(cell.len() + 1);
        neutral.push(b'\'');
        neutral.extend_from_slice(cell);
        push_cell(out, &neutral);
    } else {
        push_cell(out, cell);
    }
}

/// A text cell written by `write` straight into `out`, then neutralised and quoted in place:
/// the bytes [`push_text_cell`] appends for the same text, without a buffer of its own and the
/// copy out of it (the detail cell, unpacked from a row's messages, is hundreds of bytes). A
/// cell that needs quotes is moved up once, from its end back, each `"` doubled on the way.
/// `tests::a_cell_written_in_place_is_the_cell_written_from_a_buffer` holds the two together.
fn push_text_cell_with(out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    write(out);
    if runs(&out[start..]) {
        // A formula's `'` goes first (rare: a report's sentences start with a letter or `(`).
        let text = out.split_off(start);
        push_text_cell(out, &text);
        return;
    }
    if !needs_quotes(&out[start..]) {
        return;
    }
    let end = out.len();
    let quotes = memchr::memchr_iter(b'"', &out[start..]).count();
    out.resize(end + quotes + 2, b'"');
    // The text after the last quote not yet moved goes to its place, then that quote twice; the
    // run before the first quote moves up by one, behind the opening quote.
    let (mut from, mut to) = (end, out.len() - 1);
    while let Some(q) = memchr::memrchr(b'"', &out[start..from]) {
        let q = start + q;
        let run = from - (q + 1);
        out.copy_within(q + 1..from, to - run);
        to -= run + 2;
        out[to] = b'"';
        out[to + 1] = b'"';
        from = q;
    }
    out.copy_within(start..from, start + 1);
    out[start] = b'"';
}

/// A cell whose text rows share (by `Arc`): where the last row's is in the buffer.
#[derive(Default)]
struct Shared {
    /// The text's address, and where its cell was written.
    last: Option<(usize, std::ops::Range<usize>)>,
}

impl Shared {
    /// Appends the cell of `text`: copied from the last row's when the text is the same `Arc`
    /// (which lives while the rows are held), else written.
    fn push(&mut self, out: &mut Vec<u8>, text: &Arc<str>) {
        let at = Arc::as_ptr(text).cast::<u8>() as usize;
        let start = out.len();
        match &self.last {
            Some((last, range)) if *last == at => out.extend_from_within(range.clone()),
            _ => push_text_cell(out, text.as_bytes()),
        }
        self.last = Some((at, start..out.len()));
    }
}

/// The CSV lines of `rows`. Rows that share a verdict share their findings list, so the cells
/// derived from it are written once per list and account, and copied after.
fn format(rows: &[Row]) -> Result<Vec<u8>, ::csv::Error> {
    use std::sync::atomic::Ordering::Relaxed;
    // At most 1 KiB a row ahead of time (a wave holds four slices): a slice of a few huge rows
    // must not make the next slice reserve thousands of times their size.
    let row = (ROW_BYTES.load(Relaxed) * 9 / 8 + 16).min(1024);
    let mut out = Vec::with_capacity(rows.len() * row);
    // What rows with the same verdict share, written once: the codes and the advice, as the
    // line holds them (neutralised, quoted), found again in `out` itself.
    type Key = (usize, usize, Status);
    let mut derived: FxHashMap<Key, std::ops::Range<usize>> = FxHashMap::default();
    // The three action lists depend on the states alone: 28 possible, written once each (the
    // three cells with the commas between them).
    let mut lists: FxHashMap<Option<[ActionState; 3]>, Vec<u8>> = FxHashMap::default();
    let mut unpacked = super::Unpacked::default();
    // The source and the account cells of the row before, where `out` holds them: the rows of
    // a source share its `Arc`, and most rows the account's, so their cells are copied.
    let mut source = Shared::default();
    let mut account = Shared::default();
    for r in rows {
        source.push(&mut out, &r.source);
        out.push(b',');
        push_number(&mut out, r.record);
        for text in [
            r.repo.registry.as_deref().unwrap_or(""),
            r.repo.region.as_deref().unwrap_or(""),
            r.repo.repository.as_deref().unwrap_or(""),
        ] {
            out.push(b',');
            push_text_cell(&mut out, text.as_bytes());
        }
        out.push(b',');
        account.push(&mut out, &r.account);
        out.push(b',');
        push_text_cell(&mut out, r.status.as_str().as_bytes());
        out.push(b',');
        let three = lists.entry(r.actions).or_insert_with(|| {
            let mut three = Vec::new();
            for (i, state) in [
                ActionState::Missing,
                ActionState::Denied,
                ActionState::Conditional,
            ]
            .into_iter()
            .enumerate()
            {
                if i > 0 {
                    three.push(b',');
                }
                push_text_cell(&mut three, join(r.actions_in(state)).as_bytes());
            }
            three
        });
        out.extend_from_slice(three);
        out.push(b',');
        let key = (
            Arc::as_ptr(&r.findings).cast::<()>() as usize,
            Arc::as_ptr(&r.account).cast::<()>() as usize,
            r.status,
        );
        match derived.get(&key) {
            Some(range) => out.extend_from_within(range.clone()),
            None => {
                let start = out.len();
                push_text_cell_with(&mut out, |out| {
                    for (i, code) in r.codes().iter().enumerate() {
                        if i > 0 {
                            out.push(b';');
                        }
                        out.extend_from_slice(code.id().as_bytes());
                    }
                });
                out.push(b',');
                push_text_cell_with(&mut out, |out| {
                    super::what_to_do_into(r, &mut unpacked, out);
                });
                derived.insert(key, start..out.len());
            }
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
    fn cells_copied_from_the_row_before_are_the_rows_own() {
        use crate::audit::RowRepo;
        use crate::finding::{Code, Finding};
        let findings: Arc<[Finding]> = vec![Finding::new(Code::NoPolicy, "none")].into();
        let sources: [Arc<str>; 3] = ["a,b.jsonl".into(), "=x.jsonl".into(), "a,b.jsonl".into()];
        let accounts: [Arc<str>; 2] = ["111122223333".into(), "-1".into()];
        let rows: Vec<Row> = (0..40u64)
            .map(|n| Row {
                source: Arc::clone(&sources[(n / 3 % 3) as usize]),
                record: n + 1,
                repo: RowRepo::default(),
                account: Arc::clone(&accounts[(n / 5 % 2) as usize]),
                status: Status::Error,
                actions: None,
                findings: Arc::clone(&findings),
            })
            .collect();
        let text = String::from_utf8(format(&rows).expect("format")).expect("UTF-8");
        let mut read = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        for (r, record) in rows.iter().zip(read.records()) {
            let record = record.expect("a CSV record");
            assert_eq!(&record[0], neutralise(&r.source), "{record:?}");
            assert_eq!(&record[1], r.record.to_string(), "{record:?}");
            assert_eq!(&record[5], neutralise(&r.account), "{record:?}");
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
    fn a_cell_written_in_place_is_the_cell_written_from_a_buffer() {
        let cells = [
            "",
            "plain",
            "a,b",
            "say \"hi\"",
            "\"",
            "\"\"",
            "\"\"\"x\"\"",
            "line\nbreak",
            "crlf\r\n",
            "é, \"ü\" — ß",
            "=HYPERLINK(\"x\")",
            "-",
            "-1,2",
            "\ttab",
            "(1) statement 0 (Sid \"S0\") allows ecr:BatchGetImage, only. (2) statement 0 (Sid \"S0\") allows ecr:BatchGetImage, only.",
        ];
        // After whatever the line holds already, and at every length of a long cell.
        let long = cells.concat().repeat(3);
        let mut texts: Vec<&str> = cells.to_vec();
        texts.extend(
            (0..long.len())
                .filter(|&n| long.is_char_boundary(n))
                .map(|n| &long[..n]),
        );
        for before in ["", "x,", "\"a\"\",\""] {
            for text in &texts {
                let mut expected = before.as_bytes().to_vec();
                push_text_cell(&mut expected, text.as_bytes());
                let mut ours = before.as_bytes().to_vec();
                push_text_cell_with(&mut ours, |out| out.extend_from_slice(text.as_bytes()));
                assert_eq!(
                    String::from_utf8_lossy(&ours),
                    String::from_utf8_lossy(&expected),
                    "{before:?} {text:?}"
                );
            }
        }
    }

    #[test]
    fn the_detail_cell_is_the_advice_written_by_the_csv_crate() {
        use crate::audit::RowRepo;
        use crate::finding::{Code, Finding};
        use crate::message::Message;
        // Messages a row repeats (one shared copy and an equal one of its own), with quotes,
        // commas, line ends and non-ASCII text; rows of one, two and three findings in turn,
        // so that the lists kept from row to row are seen to start empty.
        let shared = Message::new("statement 0 (Sid \"S0\") allows ecr:BatchGetImage, only.");
        let lists: Vec<Vec<Finding>> = vec![
            vec![
                Finding::new(Code::LegacyVersion, "old \"2008\" ✓,\r\nsee"),
                Finding::new(Code::CrossAccountWrite, shared.clone()),
                Finding::new(Code::ExcessAccess, shared.text().into_owned()),
            ],
            vec![Finding::new(Code::NoPolicy, "=no policy, \"none\"")],
            vec![
                Finding::new(Code::PublicAccess, "  é \"x\"\n. "),
                Finding::new(Code::ConditionalAllow, shared.clone()),
            ],
            vec![
                Finding::new(Code::ExcessAccess, shared.clone()),
                Finding::new(Code::CrossAccountWrite, shared.clone()),
            ],
            vec![],
        ];
        let rows: Vec<Row> = (0..20u64)
            .map(|n| Row {
                source: Arc::from("s.jsonl"),
                record: n + 1,
                repo: RowRepo::default(),
                account: Arc::from("111122223333"),
                status: Status::Fail,
                actions: None,
                findings: lists[n as usize % lists.len()].clone().into(),
            })
            .collect();
        let text = format(&rows).expect("format");
        let mut expected = writer(Vec::new());
        for r in &rows {
            let codes: Vec<&str> = r.codes().iter().map(|c| c.id()).collect();
            let detail = super::super::what_to_do(r);
            expected
                .write_record([
                    &*neutralise(&r.source),
                    &r.record.to_string(),
                    "",
                    "",
                    "",
                    &*neutralise(&r.account),
                    "fail",
                    "",
                    "",
                    "",
                    &*neutralise(&codes.join(";")),
                    &*neutralise(&detail),
                ])
                .expect("write");
        }
        let expected = expected.into_inner().expect("flush");
        // The numbered advice of many findings is among the cells, a repeated message once.
        let line = String::from_utf8_lossy(&text);
        assert!(line.contains("(2) ") && !line.contains("(3) "), "{line}");
        assert_eq!(
            String::from_utf8_lossy(&text),
            String::from_utf8_lossy(&expected)
        );
    }

    #[test]
    fn a_cell_needs_quotes_exactly_when_a_byte_asks_for_them() {
        // Every length around the block sizes, with a special byte at every place, and none.
        for n in 0..50 {
            let plain: Vec<u8> = (0..n).map(|i| b"ab (Sid)x/:;'"[i % 13]).collect();
            assert!(!needs_quotes(&plain), "{n}");
            for at in 0..n {
                for c in [b',', b'"', b'\r', b'\n'] {
                    let mut cell = plain.clone();
                    cell[at] = c;
                    assert!(needs_quotes(&cell), "{n} {at} {c}");
                    let mut ours = Vec::new();
                    push_cell(&mut ours, &cell);
                    let mut expected = writer(Vec::new());
                    expected.write_record([&cell]).expect("write");
                    let expected = expected.into_inner().expect("flush");
                    assert_eq!(ours, expected[..expected.len() - 2], "{n} {at} {c}");
                }
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

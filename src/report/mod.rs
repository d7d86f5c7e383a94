//! Reports: one module per format. Each builds its output from report-only types or columns, so
//! the engine can be refactored without changing a column.

use std::io::{self, Write};
use std::time::Duration;

use rayon::prelude::*;

use crate::audit::{Row, Rows};
use crate::config::Format;
use crate::finding::Finding;
use crate::finding::Status;

pub mod csv;
pub mod html;
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
    write_in_waves_of(pieces, WAVE, out, format)
}

/// [`write_in_waves`], `wave` pieces at a time: many small pieces keep every worker busy to
/// the end of a wave (the last piece of a wave of few large ones was formatted on one core
/// while the others waited).
pub(crate) fn write_in_waves_of<T: Sync, E: From<io::Error> + Send>(
    pieces: &[T],
    wave: usize,
    out: &mut dyn Write,
    format: impl Fn(usize, &T) -> Result<Vec<u8>, E> + Sync,
) -> Result<(), E> {
    let wave = wave.max(1);
    for (w, pieces_of_wave) in pieces.chunks(wave).enumerate() {
        let formatted: Vec<Result<Vec<u8>, E>> = pieces_of_wave
            .par_iter()
            .enumerate()
            .map(|(i, piece)| format(w * wave + i, piece))
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

    pub fn total(self) -> u64 {
        self.pass + self.warn + self.fail + self.error
    }

    fn add(&mut self, other: Counts) {
        self.pass += other.pass;
        self.warn += other.warn;
        self.fail += other.fail;
        self.error += other.error;
    }
}

/// Rows per status for each value of one dimension (account, registry or region): how the
/// table, the Markdown and the HTML report close.
#[derive(Clone, Debug)]
pub(crate) struct Breakdown {
    /// `By account`, `By registry`, `By region`.
    pub title: &'static str,
    /// The groups with the most rows first (ties by name), at most the limit asked for.
    pub groups: Vec<(String, Counts)>,
    /// How many groups were left out, and their rows summed.
    pub more: Option<(usize, Counts)>,
}

/// The breakdowns by account, registry and region (`(unknown)` where the input does not say),
/// each listing at most `limit` groups.
pub(crate) fn breakdowns(rows: &Rows, limit: usize) -> [Breakdown; 3] {
    use std::collections::HashMap;
    let mut maps: [HashMap<&str, Counts>; 3] = Default::default();
    for r in rows.iter() {
        let keys = [
            &*r.account,
            r.repo.registry.as_deref().unwrap_or(UNKNOWN),
            r.repo.region.as_deref().unwrap_or(UNKNOWN),
        ];
        for (map, key) in maps.iter_mut().zip(keys) {
            *map.entry(key).or_default().slot(r.status) += 1;
        }
    }
    let [a, g, r] = maps.map(|m| {
        let mut groups: Vec<(String, Counts)> =
            m.into_iter().map(|(k, c)| (k.to_owned(), c)).collect();
        groups.sort_by(|a, b| b.1.total().cmp(&a.1.total()).then_with(|| a.0.cmp(&b.0)));
        let more = if groups.len() > limit {
            let rest = groups.split_off(limit.saturating_sub(1));
            let mut sum = Counts::default();
            for (_, c) in &rest {
                sum.add(*c);
            }
            Some((rest.len(), sum))
        } else {
            None
        };
        (groups, more)
    });
    [
        Breakdown {
            title: "By account",
            groups: a.0,
            more: a.1,
        },
        Breakdown {
            title: "By registry",
            groups: g.0,
            more: g.1,
        },
        Breakdown {
            title: "By region",
            groups: r.0,
            more: r.1,
        },
    ]
}

/// The name of a registry or region the input does not give.
pub(crate) const UNKNOWN: &str = "(unknown)";

/// Writes `rows` (already in report order) in `format`.
/// `width`: the terminal's width when the table goes to a terminal (`None`: plain lines).
pub fn write(
    format: Format,
    rows: &Rows,
    meta: &Meta,
    color: bool,
    width: Option<usize>,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => table::write(rows, meta, color, width, out),
        Format::Csv => csv::write(rows, out),
        Format::Json => json::write(rows, meta, out),
        Format::Markdown => markdown::write(rows, meta, out),
        Format::Sarif => sarif::write(rows, out),
        Format::Html => html::write(rows, meta, out),
    }
}

/// What to do about a row, for the reports' `detail`: with one finding (or none), its sentence
/// (the row's [`Row::detail`]); with more, every finding's sentence, most severe first (then in
/// catalog order), numbered — so the advice of a warning is not lost when the row also fails.
pub(crate) fn what_to_do(r: &Row) -> String {
    let mut text = Vec::new();
    what_to_do_into(r, &mut Unpacked::default(), &mut text);
    // Messages unpack to whole UTF-8 and every cut is at an ASCII byte.
    String::from_utf8(text).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Messages already unpacked by a report that writes many rows: the text of each message that
/// rows share (most are: the findings memo hands out one copy of a message per worker), kept
/// by the address of its packed bytes while the rows are held.
#[derive(Default)]
pub(crate) struct Unpacked {
    text: Vec<u8>,
    at: rustc_hash::FxHashMap<usize, std::ops::Range<usize>>,
    /// [`what_to_do_into`]'s lists, kept for the next row (two allocations a row less).
    order: Vec<usize>,
    shown: Vec<std::ops::Range<usize>>,
}

impl Unpacked {
    /// Appends `m`'s text to `out`: copied from a shared message's earlier unpacking, else
    /// unpacked (and kept, when other holders share `m`).
    fn append(&mut self, m: &crate::message::Message, out: &mut Vec<u8>) {
        if !m.is_shared() {
            m.unpack_into(out);
            return;
        }
        let range = match self.at.get(&m.address()) {
            Some(range) => range.clone(),
            None => {
                let start = self.text.len();
                m.unpack_into(&mut self.text);
                self.at.insert(m.address(), start..self.text.len());
                start..self.text.len()
            }
        };
        out.extend_from_slice(&self.text[range]);
    }
}

/// [`what_to_do`], appended to `text`, with the messages unpacked so far (a report that
/// gathers its lines in one buffer writes the advice without a `String` of its own).
pub(crate) fn what_to_do_into(r: &Row, unpacked: &mut Unpacked, text: &mut Vec<u8>) {
    // The registry-policy note tells what was judged, and asks nothing; accepted findings are
    // said last, with their reason.
    let counted =
        |f: &&Finding| f.code != crate::finding::Code::RegistryPolicy && f.suppressed.is_none();
    if r.findings.iter().filter(counted).nth(1).is_none() {
        r.detail_into(text);
        return;
    }
    // The findings' places, most severe first (a stable sort, as of the findings themselves).
    let mut order = std::mem::take(&mut unpacked.order);
    order.clear();
    order.extend((0..r.findings.len()).filter(|&i| counted(&&r.findings[i])));
    order.sort_by_key(|&i| {
        (
            std::cmp::Reverse(r.findings[i].severity()),
            r.findings[i].code,
        )
    });
    // Written into the buffer: each message unpacked straight into it (trimmed, and without
    // its final full stop), a repeated one taken out again.
    let base = text.len();
    text.reserve(320 * order.len());
    let mut shown = std::mem::take(&mut unpacked.shown);
    shown.clear();
    for &i in &order {
        let f = &r.findings[i];
        let before = text.len();
        if !shown.is_empty() {
            text.push(b' ');
        }
        text.push(b'(');
        push_decimal(text, shown.len() + 1);
        text.extend_from_slice(b") ");
        let start = text.len();
        unpacked.append(&f.message, text);
        let m = trimmed(&text[start..]);
        let m = start + m.start..start + m.end;
        if shown.iter().any(|r| text[r.clone()] == text[m.clone()]) {
            text.truncate(before);
            continue;
        }
        text.truncate(m.end);
        text.drain(start..m.start);
        shown.push(start..text.len());
        text.push(b'.');
    }
    let many = shown.len() > 1;
    unpacked.order = order;
    unpacked.shown = shown;
    if !many {
        text.truncate(base);
        r.detail_into(text);
        return;
    }
    if let Some(accepted) = crate::audit::accepted(&r.findings) {
        text.push(b' ');
        text.extend_from_slice(accepted.as_bytes());
    }
}

/// `n` in decimal, appended.
fn push_decimal(out: &mut Vec<u8>, n: usize) {
    if n >= 10 {
        push_decimal(out, n / 10);
    }
    out.push(b'0' + (n % 10) as u8);
}

/// Where `message.trim().trim_end_matches('.')` lies in `message` (whole UTF-8): on the bytes
/// when what is left starts and ends with ASCII, else on the text (other whitespace is not
/// ASCII).
fn trimmed(message: &[u8]) -> std::ops::Range<usize> {
    let space = |b: &u8| crate::jsonscan::is_ascii_space(*b);
    let start = message
        .iter()
        .position(|b| !space(b))
        .unwrap_or(message.len());
    let end = message
        .iter()
        .rposition(|b| !space(b))
        .map_or(start, |e| e + 1);
    if message[start..end].first().is_none_or(u8::is_ascii)
        && message[start..end].last().is_none_or(u8::is_ascii)
    {
        let dots = message[start..end]
            .iter()
            .rev()
            .take_while(|b| **b == b'.')
            .count();
        return start..end - dots;
    }
    let text = String::from_utf8_lossy(message);
    let lead = text.len() - text.trim_start().len();
    lead..lead + text.trim().trim_end_matches('.').len()
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

/// What a row's required actions come to, for the reports that summarise them (table, HTML):
/// not judged, all three in one state, or the states that need attention with their actions
/// (`ecr:` left out), denied first.
pub(crate) enum ActionSummary {
    NotJudged,
    All(crate::eval::ActionState),
    Parts(Vec<(crate::eval::ActionState, Vec<&'static str>)>),
}

impl ActionSummary {
    pub(crate) fn of(r: &crate::audit::Row) -> ActionSummary {
        use crate::eval::ActionState;
        if r.actions.is_none() {
            return ActionSummary::NotJudged;
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
            if names.len() == crate::catalog::REQUIRED.len() {
                return ActionSummary::All(state);
            }
            if !names.is_empty() {
                parts.push((state, names));
            }
        }
        if parts.is_empty() {
            ActionSummary::All(ActionState::Allowed)
        } else {
            ActionSummary::Parts(parts)
        }
    }

    /// `denied: BatchGetImage` lines joined with `sep`.
    pub(crate) fn join_parts(parts: &[(crate::eval::ActionState, Vec<&str>)], sep: &str) -> String {
        parts
            .iter()
            .map(|(state, names)| format!("{}: {}", state.as_str(), names.join(", ")))
            .collect::<Vec<_>>()
            .join(sep)
    }
}

/// Rows per change since the baseline, and the rows that are new or worse.
pub(crate) type SinceBaseline<'r> = (
    Vec<(crate::diff::Change, u64)>,
    Vec<(crate::diff::Change, &'r crate::audit::Row)>,
);

/// With `scan --baseline` (issue 15): how many rows changed each way since the baseline report,
/// and the rows that are new or worse, in report order — for the Markdown and HTML sections
/// that say so (JSON marks every row).
pub(crate) fn since_baseline<'r>(rows: &'r Rows, meta: &Meta) -> Option<SinceBaseline<'r>> {
    use crate::diff::Change;
    let marks = meta.baseline.as_deref()?;
    let mut counts: Vec<(Change, u64)> = Change::ALL.iter().map(|c| (*c, 0)).collect();
    let mut worse = Vec::new();
    for r in rows {
        let c = marks.of(r);
        if let Some(slot) = counts.iter_mut().find(|(k, _)| *k == c) {
            slot.1 += 1;
        }
        if matches!(c, Change::New | Change::Worsened) {
            worse.push((c, r));
        }
    }
    // Rows of the baseline that are gone have no row here; the marks count them.
    if let Some(slot) = counts.iter_mut().find(|(k, _)| *k == Change::Removed) {
        slot.1 = crate::diff::count(&marks.changes, Change::Removed);
    }
    Some((counts, worse))
}

#[cfg(test)]
mod trim_tests {
    #[test]
    fn a_shared_message_is_unpacked_once_and_copied_after() {
        use crate::message::Message;
        let shared = Message::new("statement 1 denies ecr:BatchGetImage to account 111122223333");
        let holder = shared.clone();
        let alone = Message::new("the registry's owner 444455556666");
        let mut unpacked = super::Unpacked::default();
        let mut out = Vec::new();
        for m in [&shared, &alone, &holder, &shared] {
            unpacked.append(m, &mut out);
        }
        let expected = [&shared, &alone, &holder, &shared]
            .map(|m| m.text().into_owned())
            .concat();
        assert_eq!(String::from_utf8(out).expect("UTF-8"), expected);
        assert_eq!(unpacked.at.len(), 1, "only the shared message is kept");
        assert_eq!(unpacked.text, shared.text().as_bytes());
    }

    #[test]
    fn messages_are_trimmed_as_text_trims_them() {
        for m in [
            "",
            " ",
            "a",
            "a.",
            " a. ",
            "a...",
            "\u{a0}a\u{a0}",
            " \u{a0}a. \u{2003}",
            "a \u{a0}.",
            "\u{85}",
            "é.",
            ". ",
            "\x0b a \x0c",
            "...",
            " é ",
        ] {
            let r = super::trimmed(m.as_bytes());
            assert_eq!(&m[r], m.trim().trim_end_matches('.'), "{m:?}");
        }
    }
}

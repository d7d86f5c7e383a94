//! JSON Lines files (`.jsonl`, `.ndjson`, optionally `.gz`) are streamed: read line by line
//! through one bounded buffer, so a file of any size — hundreds of MB, or a gzip bomb — costs
//! the same memory. A bad line is its own error record; the others are still read.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::common::{At, Ctx, Each, Emit, Input, Kind, Probe, bare, error, invalid};
use super::csvexport;
use super::kind::Shape;
use super::marker::CLI_ERROR;
use super::read::{self, Line, LineReader, MAX_LINE, MAX_STREAM, MAX_WHOLE, human};
use super::shape;
use super::{Outcome, Source};
use crate::finding::Code;
use crate::record::RepoId;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The limits of a streamed file.
pub(crate) struct Caps {
    /// The largest document held whole (`read::MAX_WHOLE`): a larger one is streamed.
    pub whole: u64,
    /// The longest line kept, and the largest element (or value beside the list) of a streamed
    /// document.
    pub line: usize,
    /// The most decompressed bytes a gzip'd file may give.
    pub stream: u64,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            whole: MAX_WHOLE,
            line: MAX_LINE,
            stream: MAX_STREAM,
        }
    }
}

impl Caps {
    /// Caps derived from a (test's) file-size cap, so that tests trip them with kilobytes.
    #[cfg(test)]
    pub fn scaled(limit: u64) -> Caps {
        Caps {
            whole: limit,
            line: usize::try_from(limit).unwrap_or(MAX_LINE).min(MAX_LINE),
            stream: limit,
        }
    }
}

/// Streams `source` as JSON Lines. `None` when it should be read whole instead (a UTF-16 byte
/// order mark: PowerShell's `>`; such files are small).
pub(crate) fn lines(source: &Source, caps: &Caps, emit: &mut Emit) -> Option<Outcome> {
    let ctx = Ctx {
        label: source.label(),
        json_lines: true,
    };
    let (mut inner, gz) = match read::open_stream(source) {
        Ok(opened) => opened,
        Err(message) => {
            emit(
                1,
                Shape::Unrecognised,
                RepoId::default(),
                error(Code::Unreadable, message),
            );
            return Some(Outcome::Read);
        }
    };
    match inner.fill_buf() {
        Ok([0xFF, 0xFE, ..] | [0xFE, 0xFF, ..]) if !gz && source.path().is_some() => return None,
        _ => {}
    }
    let capped = CapRead {
        inner,
        left: if gz { caps.stream } else { u64::MAX },
        cap: caps.stream,
    };
    read_lines(
        io::BufReader::with_capacity(64 << 10, capped),
        gz,
        &ctx,
        caps,
        emit,
    );
    Some(Outcome::Read)
}

/// Reads JSON Lines from `input`, one record a line (see [`lines`]).
fn read_lines(input: impl BufRead, gz: bool, ctx: &Ctx, caps: &Caps, emit: &mut Emit) {
    let mut reader = LineReader::new(input, caps.line);
    let mut any = false;
    let mut i = 0usize;
    loop {
        let n = i as u64 + 1;
        match reader.next_line() {
            Ok(None) => break,
            Ok(Some(Line::TooLong { len })) => {
                any = true;
                emit(
                    n,
                    Shape::Unrecognised,
                    RepoId::default(),
                    error(
                        Code::InvalidJson,
                        format!(
                            "line {n} is {len} bytes long, over the {} one record may have; skipped",
                            human(caps.line as u64)
                        ),
                    ),
                );
            }
            Ok(Some(Line::Bytes(bytes))) => {
                let bytes = if i == 0 {
                    bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes)
                } else {
                    bytes
                };
                match std::str::from_utf8(bytes) {
                    Ok(text) => {
                        any |= !text.trim().is_empty();
                        shape::line(i, text, ctx, emit);
                    }
                    Err(e) => {
                        any = true;
                        emit(
                            n,
                            Shape::Unrecognised,
                            RepoId::default(),
                            error(
                                Code::Unreadable,
                                format!(
                                    "line {n} is not UTF-8 at byte {} of the line; JSON exports must be UTF-8 text",
                                    e.valid_up_to()
                                ),
                            ),
                        );
                    }
                }
            }
            Err(e) => {
                any = true;
                let what = if gz {
                    "damaged gzip data"
                } else {
                    "cannot read the file"
                };
                emit(
                    n,
                    Shape::Unrecognised,
                    RepoId::default(),
                    error(
                        Code::Unreadable,
                        if n == 1 {
                            format!("{what}: {e}")
                        } else {
                            format!("{what} at line {n}: {e}; the lines before it were read")
                        },
                    ),
                );
                break;
            }
        }
        i += 1;
    }
    if !any {
        emit(
            1,
            Shape::Unrecognised,
            RepoId::default(),
            error(Code::InvalidJson, "file is empty".to_owned()),
        );
    }
}

/// The decompressed size went over the cap (the gzip bomb guard).
#[derive(Debug, thiserror::Error)]
#[error("decompressed size exceeds {}; the rest of the file is not read", human(*.0))]
struct OverCap(u64);

/// Fails the read once more than `cap` bytes came through: the gzip bomb guard.
struct CapRead<R> {
    inner: R,
    left: u64,
    cap: u64,
}

impl<R: Read> Read for CapRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::other(OverCap(self.cap)));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// How many top-level keys of a streamed object are remembered for recognising its shape. Every
/// streamed shape has a handful; an object with more is a map of something else.
const MAX_KEYS: usize = 1024;

/// No key the shapes are recognised by is longer (`baseConfigurationItems`).
const LONGEST_KEY: usize = 32;

/// Streams a document too large to hold (over `MAX_WHOLE`), from its start, in one pass: a
/// top-level array element by element (each read as an element of a bulk export), an object
/// whose shape reads one array of it (AWS Config's `configurationItems`/`Results`,
/// `repositories`, Steampipe's `rows`) element by element with each element handed to the same
/// code the whole-document path uses (`Format::list`), lines that are each a JSON value as JSON
/// Lines. Memory is one element (at most `caps.line`) and the reader's buffers, whatever the
/// size of the document.
///
/// A document that breaks midway keeps the records of the elements before the break, and gets
/// one error record more, numbered after them, that says where and why. `None` when the
/// document is none of these shapes: the caller refuses it (it is never held).
pub(crate) fn document(
    reader: Box<dyn Read + Send>,
    gz: bool,
    source: &Source,
    caps: &Caps,
    emit: &mut Emit,
) -> Option<Outcome> {
    let meter = Meter::default();
    let capped = CapRead {
        inner: reader,
        left: if gz { caps.stream } else { u64::MAX },
        cap: caps.stream,
    };
    let mut metered = Metered {
        inner: capped,
        meter: meter.clone(),
    };
    let ctx = Ctx {
        label: source.label(),
        json_lines: false,
    };
    let unreadable = |message: String, emit: &mut Emit| {
        emit(
            1,
            Shape::Unrecognised,
            RepoId::default(),
            error(Code::Unreadable, message),
        );
        Some(Outcome::Read)
    };
    let head = match sniff(&mut metered) {
        Ok(Sniffed::Head(head)) => head,
        Ok(Sniffed::Empty) => {
            emit(
                1,
                Shape::Unrecognised,
                RepoId::default(),
                error(Code::InvalidJson, "file is empty".to_owned()),
            );
            return Some(Outcome::Read);
        }
        Ok(Sniffed::Utf16) => {
            return unreadable(
                format!(
                    "the file is UTF-16 text of more than {}; a file this large is read only as UTF-8 (convert it, e.g. `iconv -f UTF-16 -t UTF-8`)",
                    human(caps.whole)
                ),
                emit,
            );
        }
        Err(e) => return unreadable(failure(&e, gz), emit),
    };
    let first = head[0];
    let oriented = line_oriented(&head);
    let csv = !matches!(first, b'[' | b'{') && {
        let text = match std::str::from_utf8(&head) {
            Ok(text) => text,
            // Cut inside a character, or not UTF-8: what is.
            Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
        };
        csvexport::looks_like_export(text)
    };
    // The meter sees what the buffer pulls: a smaller buffer keeps the element cap close.
    let buffer = (64usize << 10).min(caps.line.max(64));
    let input = io::BufReader::with_capacity(buffer, io::Cursor::new(head).chain(metered));
    if oriented {
        read_lines(input, gz, &ctx, caps, emit);
        return Some(Outcome::Read);
    }
    if csv {
        // Steampipe's or CloudQuery's CSV: row by row, each at most the element cap.
        let cap = caps.line as u64;
        csvexport::read_from(input, &ctx, emit, &mut || meter.allow(cap));
        return Some(Outcome::Read);
    }
    let mut de = serde_json::Deserializer::from_reader(input);
    let mut progress = Progress::default();
    let cap = caps.line as u64;
    let result = if first == b'[' {
        de.deserialize_seq(List {
            each: bulk_record,
            progress: &mut progress,
            meter: &meter,
            cap,
            ctx: &ctx,
            emit,
        })
        .map(|_| ())
    } else if first == b'{' {
        let mut keys = Keys::default();
        let done = de.deserialize_map(Document {
            keys: &mut keys,
            progress: &mut progress,
            meter: &meter,
            cap,
            ctx: &ctx,
            emit,
        });
        if keys.refused {
            return None;
        }
        match done.map(|()| keys.verdict(&progress, caps.whole)) {
            Ok(Verdict::Read) => Ok(()),
            Ok(Verdict::Refused) => return None,
            Ok(Verdict::Broken(message)) => {
                emit(
                    progress.count as u64 + 1,
                    Shape::Unrecognised,
                    RepoId::default(),
                    error(Code::InvalidJson, message),
                );
                return Some(Outcome::Read);
            }
            Err(e) => Err(e),
        }
    } else {
        return None;
    };
    // Trailing blanks are no element: no cap.
    meter.allow(u64::MAX);
    if let Err(e) = result.and_then(|()| de.end()) {
        let (code, message) = broken(&e, &progress, caps, gz);
        emit(
            progress.count as u64 + 1,
            Shape::Unrecognised,
            RepoId::default(),
            error(code, message),
        );
    }
    Some(Outcome::Read)
}

/// The start of a streamed document.
enum Sniffed {
    /// Its first bytes, from the first that is not JSON whitespace (after a UTF-8 byte-order
    /// mark): never empty.
    Head(Vec<u8>),
    /// Nothing but blanks.
    Empty,
    /// A UTF-16 byte-order mark.
    Utf16,
}

/// Reads the start of a document: up to 64 KiB from its first byte that is not a blank.
fn sniff(reader: &mut impl Read) -> io::Result<Sniffed> {
    let mut head = Vec::with_capacity(64 << 10);
    let mut start = true;
    loop {
        head.clear();
        reader.by_ref().take(64 << 10).read_to_end(&mut head)?;
        if head.is_empty() {
            return Ok(Sniffed::Empty);
        }
        if start {
            if matches!(head.as_slice(), [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..]) {
                return Ok(Sniffed::Utf16);
            }
            if head.starts_with(UTF8_BOM) {
                head.drain(..UTF8_BOM.len());
            }
            start = false;
        }
        let blank = head.iter().take_while(|b| b" \t\r\n".contains(b)).count();
        if blank < head.len() {
            head.drain(..blank);
            return Ok(Sniffed::Head(head));
        }
    }
}

/// Whether the start of a document (`head`, after blanks) is a line that is a JSON value of its
/// own, followed by more: several values, one a line (JSON Lines without the name), as the
/// whole-document path reads them; or an AWS CLI error line.
fn line_oriented(head: &[u8]) -> bool {
    if head.starts_with(CLI_ERROR.as_bytes()) {
        return true;
    }
    let Some(end) = memchr::memchr(b'\n', head) else {
        return false;
    };
    let rest = &head[end..];
    serde_json::from_slice::<IgnoredAny>(&head[..end]).is_ok()
        && rest.iter().any(|b| !b" \t\r\n".contains(b))
}

/// What a failed read says: the decompressed cap, gzip damage, or the system's error.
fn failure(e: &io::Error, gz: bool) -> String {
    if let Some(over) = e.get_ref().and_then(|r| r.downcast_ref::<OverCap>()) {
        return over.to_string();
    }
    if gz {
        format!("damaged gzip data: {e}")
    } else {
        format!("cannot read the file: {e}")
    }
}

/// The code and message of the error record of a document that broke after `progress`.
fn broken(e: &serde_json::Error, progress: &Progress, caps: &Caps, gz: bool) -> (Code, String) {
    let n = progress.count + 1;
    let text = bare(e);
    let (code, what) = if e.is_io() && text == TOO_LONG {
        (
            Code::InvalidJson,
            format!(
                "{} is longer than {}, more than one record may have; the rest of the file is not read",
                progress.subject(n),
                human(caps.line as u64)
            ),
        )
    } else if e.is_io() {
        let io = io::Error::other(text);
        (Code::Unreadable, failure(&io, gz))
    } else if e.is_data() {
        (
            Code::InvalidJson,
            format!("{text}; the rest of the file is not read"),
        )
    } else {
        (Code::InvalidJson, invalid(At::File, e))
    };
    if progress.count == 0 {
        return (code, what);
    }
    (
        code,
        format!(
            "{what}; the file is over {} and read in one pass: the {} {} before it are rows",
            human(caps.whole),
            progress.count,
            progress.plural()
        ),
    )
}

/// What the meter's error says (and how [`broken`] knows it).
const TOO_LONG: &str = "a record is longer than a record may be";

/// Counts the bytes the buffer pulls, and fails the read once a value being read (from the point
/// `stop` was set) runs past the cap: a streamed document holds one element at a time, and no
/// element may be larger than a record can be.
#[derive(Clone)]
struct Meter {
    pulled: Rc<Cell<u64>>,
    stop: Rc<Cell<u64>>,
}

impl Default for Meter {
    fn default() -> Self {
        Meter {
            pulled: Rc::default(),
            stop: Rc::new(Cell::new(u64::MAX)),
        }
    }
}

impl Meter {
    /// Lets the next `cap` bytes (and what the buffer already holds) be read.
    fn allow(&self, cap: u64) {
        self.stop.set(self.pulled.get().saturating_add(cap));
    }

    /// Whether the last read failed on the cap.
    fn tripped(&self) -> bool {
        self.pulled.get() >= self.stop.get()
    }
}

struct Metered<R> {
    inner: R,
    meter: Meter,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let pulled = self.meter.pulled.get();
        if pulled >= self.meter.stop.get() {
            return Err(io::Error::other(TOO_LONG));
        }
        let n = self.inner.read(buf)?;
        self.meter.pulled.set(pulled + n as u64);
        Ok(n)
    }
}

/// How far a streamed document got: the elements handed over, and of which list.
#[derive(Default)]
struct Progress {
    count: usize,
    /// The key of the object's list; `None` for a top-level array.
    list: Option<String>,
}

impl Progress {
    /// `record 7`, `element 7 of `rows``.
    fn subject(&self, n: usize) -> String {
        match &self.list {
            None => format!("record {n}"),
            Some(key) => format!("element {n} of `{key}`"),
        }
    }

    fn plural(&self) -> String {
        match &self.list {
            None => "records".to_owned(),
            Some(key) => format!("elements of `{key}`"),
        }
    }
}

/// An element of a top-level array: one record of a bulk export, as the whole-document path
/// reads it.
fn bulk_record(i: usize, raw: &RawValue, ctx: &Ctx, emit: &mut Emit) {
    shape::part(raw.get(), At::part("record", i), ctx, emit);
}

/// Reads an array element by element, handing each to `each`; any other value is drained and
/// its JSON type returned (a key that turned out not to hold the list).
struct List<'x, 'e> {
    each: Each,
    progress: &'x mut Progress,
    meter: &'x Meter,
    cap: u64,
    ctx: &'x Ctx<'x>,
    emit: &'x mut Emit<'e>,
}

impl<'de> DeserializeSeed<'de> for List<'_, '_> {
    type Value = Kind;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for List<'_, '_> {
    type Value = Kind;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        loop {
            self.meter.allow(self.cap);
            let Some(raw) = seq.next_element::<Box<RawValue>>()? else {
                break;
            };
            (self.each)(self.progress.count, &raw, self.ctx, self.emit);
            self.progress.count += 1;
        }
        Ok(Kind::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Kind, A::Error> {
        KindOf.visit_map(map)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Kind, E> {
        Ok(Kind::String)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Kind, E> {
        Ok(Kind::Bool)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Kind, E> {
        Ok(Kind::Number)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Kind, E> {
        Ok(Kind::Number)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Kind, E> {
        Ok(Kind::Number)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }
}

/// Drains a value, keeping only its JSON type (all that recognising a shape looks at).
struct KindOf;

impl<'de> DeserializeSeed<'de> for KindOf {
    type Value = Kind;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KindOf {
    type Value = Kind;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Kind::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Kind::Object)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Kind, E> {
        Ok(Kind::String)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Kind, E> {
        Ok(Kind::Bool)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Kind, E> {
        Ok(Kind::Number)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Kind, E> {
        Ok(Kind::Number)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Kind, E> {
        Ok(Kind::Number)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }
}

/// The top-level keys of a streamed object, for recognising its shape as the whole-document
/// path does (`shape::FORMATS`, first match wins) from the keys and the JSON types of their
/// values alone, which is all any format's `detect` looks at.
#[derive(Default)]
struct Keys {
    /// The keys (those short enough to be any shape's), in order, with their values' types.
    seen: Vec<(String, Kind)>,
    /// The index in `seen` of the list that was streamed.
    streamed: Option<usize>,
    /// Given up before any list was streamed: the document is refused.
    refused: bool,
}

/// What a streamed object came to.
enum Verdict {
    Read,
    Refused,
    Broken(String),
}

impl Keys {
    /// The list the whole-document path would read, were `seen` all the keys: its index in
    /// `seen` and what reads its elements. `Err` when a key repeats (the whole-document path
    /// refuses the file).
    fn chosen(&self) -> Result<Option<(usize, Each)>, serde_json::Error> {
        // A stand-in object: the same keys, each with an empty value of its type.
        let mut text = String::from("{");
        let mut starts = Vec::with_capacity(self.seen.len());
        for (i, (key, kind)) in self.seen.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&serde_json::to_string(key)?);
            text.push(':');
            starts.push(text.len());
            text.push_str(match kind {
                Kind::Object => "{}",
                Kind::Array => "[]",
                Kind::String => "\"\"",
                Kind::Null => "null",
                Kind::Bool => "false",
                Kind::Number => "0",
            });
        }
        text.push('}');
        let probe: Probe = serde_json::from_str(&text)?;
        let input = Input::Object {
            probe: &probe,
            raw: &text,
        };
        let Some(format) = shape::FORMATS.iter().find(|f| f.detect(&input, At::File)) else {
            return Ok(None);
        };
        Ok(format.list(&probe).and_then(|(raw, each)| {
            let at = raw.get().as_ptr() as usize - text.as_ptr() as usize;
            starts.iter().position(|s| *s == at).map(|i| (i, each))
        }))
    }

    fn verdict(&self, progress: &Progress, whole: u64) -> Verdict {
        let mixed = |chosen: &str| {
            Verdict::Broken(format!(
                "the file's keys make `{chosen}` the list to read, but a file over {} is read in one pass and {} was read as it came ({} {}); split the file",
                human(whole),
                self.streamed
                    .map(|i| format!("`{}`", self.seen[i].0))
                    .unwrap_or_else(|| "none".to_owned()),
                progress.count,
                progress.plural()
            ))
        };
        match self.chosen() {
            Err(e) => Verdict::Broken(format!("the file repeats a key: {}", bare(&e))),
            Ok(Some((i, _))) if Some(i) == self.streamed => Verdict::Read,
            Ok(Some((i, _))) => mixed(&self.seen[i].0),
            Ok(None) if self.streamed.is_some() => Verdict::Broken(format!(
                "the file's keys make it no shape read in parts, though its {} were read ({}); split the file",
                progress.plural(),
                progress.count
            )),
            Ok(None) => Verdict::Refused,
        }
    }
}

/// Reads a top-level object: its keys, streaming the one list the shape reads.
struct Document<'x, 'e> {
    keys: &'x mut Keys,
    progress: &'x mut Progress,
    meter: &'x Meter,
    cap: u64,
    ctx: &'x Ctx<'x>,
    emit: &'x mut Emit<'e>,
}

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        loop {
            self.meter.allow(self.cap);
            let key = match map.next_key::<String>() {
                Ok(Some(key)) => key,
                Ok(None) => break,
                Err(e) => {
                    self.keys.refused = self.keys.streamed.is_none() && self.meter.tripped();
                    return Err(e);
                }
            };
            let known = key.len() <= LONGEST_KEY;
            if known && self.keys.seen.len() >= MAX_KEYS {
                self.keys.refused = self.keys.streamed.is_none();
                return Err(de::Error::custom(format!(
                    "the file's object has more than {MAX_KEYS} keys; no shape read in parts has"
                )));
            }
            let at = self.keys.seen.len();
            let list = if known && self.keys.streamed.is_none() {
                self.keys.seen.push((key.clone(), Kind::Array));
                let chosen = self.keys.chosen().ok().flatten();
                self.keys.seen.pop();
                chosen.filter(|(i, _)| *i == at).map(|(_, each)| each)
            } else {
                None
            };
            self.meter.allow(self.cap);
            let value = match list {
                Some(each) => {
                    self.progress.list = Some(key.clone());
                    map.next_value_seed(List {
                        each,
                        progress: self.progress,
                        meter: self.meter,
                        cap: self.cap,
                        ctx: self.ctx,
                        emit: self.emit,
                    })
                }
                None => map.next_value_seed(KindOf),
            };
            let kind = match value {
                Ok(kind) => kind,
                Err(e) => {
                    self.keys.refused = self.keys.streamed.is_none()
                        && self.progress.count == 0
                        && self.meter.tripped();
                    return Err(e);
                }
            };
            if list.is_some() {
                if kind == Kind::Array {
                    self.keys.streamed = Some(at);
                } else {
                    self.progress.list = None;
                }
            }
            if known {
                self.keys.seen.push((key, kind));
            }
        }
        Ok(())
    }
}

//! Reading without holding the file. JSON Lines files (`.jsonl`, `.ndjson`, optionally `.gz`)
//! are read line by line through one bounded buffer, so a file of any size — hundreds of MB, or
//! a gzip bomb — costs the same memory; a bad line is its own error record, the others are still
//! read. A document too large to hold (`read::MAX_WHOLE`) is read element by element when its
//! shape allows ([`document`]) and refused otherwise, after reading only its start.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::common::{At, Ctx, Each, Emit, Input, Kind, Probe, bare, error, kind_of_bytes};
use super::csvexport;
use super::kind::Shape;
use super::marker::CLI_ERROR;
use super::read::{self, Appended, LineReader, MAX_LINE, MAX_STREAM, human};
use super::shape;
use super::{Outcome, Source};
use crate::finding::Code;
use crate::record::RepoId;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The limits of a streamed file.
pub(crate) struct Caps {
    /// The largest document held whole (`read::MAX_WHOLE`): a larger one is streamed.
    pub whole: u64,
    /// The longest line kept, and the largest element of a streamed document (a value beside
    /// its list is at most [`MAX_BESIDE`] of it).
    pub line: usize,
    /// The most decompressed bytes a gzip'd file may give.
    pub stream: u64,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            whole: read::max_whole(),
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
/// order mark: PowerShell's `>`; such files are small). Blocks of lines go to `give` where
/// given (see [`Lines`]); their records are made here otherwise.
pub(crate) fn lines(
    source: &Source,
    caps: &Caps,
    emit: &mut Emit,
    give: Option<&mut Give>,
) -> Option<Outcome> {
    let ctx = Ctx {
        label: source.label(),
        json_lines: true,
        judged_here: true,
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
        give,
    );
    Some(Outcome::Read)
}

/// How many lines a block of a JSON Lines file holds at most (see [`Lines`]).
const BLOCK_LINES: usize = 512;
/// A block is handed on once it holds this many bytes, whatever its count of lines.
const BLOCK_BYTES: usize = 1 << 20;
/// The room a block's buffer starts with (it grows to about [`BLOCK_BYTES`]; most files of a
/// folder are small).
const BLOCK_START: usize = 64 << 10;

/// What a line of a block holds.
enum Held {
    /// The line's bytes end here in the block's buffer (they start where the line before ends).
    Bytes(usize),
    /// Longer than the cap (its length): read and dropped.
    TooLong(u64),
    /// The file could not be read further: the error's message.
    Failed(String),
}

/// A run of consecutive lines of a JSON Lines file, as read: the reader hands each block to a
/// worker that makes its records and judges them on the same thread, so that a record is made,
/// judged and freed where it was read (see `pipeline`), and the reader's thread does little but
/// read.
pub struct Lines {
    /// The 0-based index of the block's first line in the file.
    first: usize,
    /// The block's place among the file's blocks (0-based).
    seq: usize,
    /// Whether no line of the file comes after the block's.
    last: bool,
    bytes: Vec<u8>,
    held: Vec<Held>,
    gz: bool,
    /// The longest line kept (`Caps::line`), for the message of a longer one.
    max_line: usize,
}

impl Lines {
    fn new(first: usize, seq: usize, gz: bool, max_line: usize) -> Lines {
        Lines {
            first,
            seq,
            last: false,
            bytes: Vec::with_capacity(BLOCK_START),
            held: Vec::with_capacity(BLOCK_LINES.min(64)),
            gz,
            max_line,
        }
    }

    /// The block's place among the file's blocks (0-based).
    pub fn seq(&self) -> usize {
        self.seq
    }

    /// Whether no line of the file comes after the block's.
    pub fn last(&self) -> bool {
        self.last
    }

    /// How many lines the block holds.
    pub fn lines(&self) -> usize {
        self.held.len()
    }

    /// How many bytes its lines hold.
    pub fn bytes(&self) -> usize {
        self.bytes.len()
    }

    /// This block's buffers, emptied, for the block of lines from `first` on, `seq`-th of its
    /// file (buffers of a megabyte, allocated for each block, were a tenth of a templated
    /// scan's system time).
    fn reused(mut self, first: usize, seq: usize) -> Lines {
        // A block that held a long line (up to `Caps::line`) does not keep its room.
        if self.bytes.capacity() > 2 * BLOCK_BYTES {
            self.bytes = Vec::with_capacity(BLOCK_START);
        }
        self.bytes.clear();
        self.held.clear();
        Lines {
            first,
            seq,
            last: false,
            ..self
        }
    }

    fn full(&self) -> bool {
        self.held.len() >= BLOCK_LINES || self.bytes.len() >= BLOCK_BYTES
    }

    /// Makes the block's records, in line order, and hands them to `emit`: a line is one
    /// record (or none when blank), numbered by its line.
    pub(crate) fn read(&self, ctx: &Ctx, emit: &mut Emit) {
        let mut start = 0;
        for (k, held) in self.held.iter().enumerate() {
            let i = self.first + k;
            let n = i as u64 + 1;
            match held {
                Held::Bytes(end) => {
                    let bytes = &self.bytes[start..*end];
                    start = *end;
                    match std::str::from_utf8(bytes) {
                        Ok(text) => shape::line(i, text, ctx, emit),
                        Err(e) => emit(
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
                        ),
                    }
                }
                Held::TooLong(len) => emit(
                    n,
                    Shape::Unrecognised,
                    RepoId::default(),
                    error(
                        Code::InvalidJson,
                        format!(
                            "line {n} is {len} bytes long, over the {} one record may have; skipped",
                            human(self.max_line as u64)
                        ),
                    ),
                ),
                Held::Failed(e) => {
                    let what = if self.gz {
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
                }
            }
        }
    }
}

/// Whether a line (its bytes as read, a UTF-8 byte order mark removed) is blank: nothing but
/// whitespace as `str::trim` sees it. A line that is not UTF-8 is not blank. Most lines start
/// with `{`: one byte tells.
fn blank(bytes: &[u8]) -> bool {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => true,
        // `str::trim` also trims the vertical tab, and Unicode's spaces.
        Some(b) if b.is_ascii() && *b != 0x0B => false,
        Some(_) => std::str::from_utf8(bytes).is_ok_and(|t| t.trim().is_empty()),
    }
}

/// Takes a block of lines; may give back a block it is done with, whose buffers the next block
/// reuses.
pub(crate) type Give<'g> = dyn FnMut(Lines) -> Option<Lines> + 'g;

/// Reads JSON Lines from `input`, one record a line (see [`lines`]), in blocks of lines (see
/// [`Lines`]): each block goes to `give` where given, else its records are made here.
fn read_lines(
    input: impl BufRead,
    gz: bool,
    ctx: &Ctx,
    caps: &Caps,
    emit: &mut Emit,
    give: Option<&mut Give>,
) {
    let mut here = |block: Lines| {
        block.read(ctx, emit);
        Some(block)
    };
    let give: &mut Give = match give {
        Some(give) => give,
        None => &mut here,
    };
    let mut reader = LineReader::new(input, caps.line);
    let mut any = false;
    let mut i = 0usize;
    let mut block = Lines::new(0, 0, gz, caps.line);
    loop {
        if block.full() {
            let seq = block.seq + 1;
            block = match give(block) {
                Some(done) => done.reused(i, seq),
                None => Lines::new(i, seq, gz, caps.line),
            };
        }
        // The line is read into the block: a long one is held once, not once by the reader and
        // again by the block.
        let start = block.bytes.len();
        match reader.next_line_into(&mut block.bytes) {
            Ok(None) => break,
            Ok(Some(Appended::TooLong { len })) => {
                any = true;
                block.held.push(Held::TooLong(len));
            }
            Ok(Some(Appended::Line)) => {
                if i == 0 && block.bytes[start..].starts_with(UTF8_BOM) {
                    block.bytes.drain(start..start + UTF8_BOM.len());
                }
                any = any || !blank(&block.bytes[start..]);
                block.held.push(Held::Bytes(block.bytes.len()));
            }
            Err(e) => {
                any = true;
                block.held.push(Held::Failed(e.to_string()));
                break;
            }
        }
        i += 1;
    }
    block.last = true;
    give(block);
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

/// The largest value beside a streamed list (or before it, while the shape is not known).
const MAX_BESIDE: usize = 1 << 20;

/// No key the shapes are recognised by is longer (`baseConfigurationItems`).
const LONGEST_KEY: usize = 32;

/// Streams a document too large to hold (over `MAX_WHOLE`), from its start, in one pass: a
/// top-level array element by element (each read as an element of a bulk export), an object
/// whose shape reads one array of it (AWS Config's `configurationItems`/`Results`,
/// `repositories`, Steampipe's `rows`) element by element with each element handed to the same
/// code the whole-document path uses (`Format::list`), lines that are each a JSON value as JSON
/// Lines, a Steampipe or CloudQuery CSV row by row. Elements are found by framing (see
/// [`Framer`]) and each parsed on its own. Memory is one element (at most `caps.line`) and the
/// reader's buffers, whatever the size of the document.
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
        judged_here: false,
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
    let (head, skipped) = match sniff(&mut metered) {
        Ok(Sniffed::Head(head, skipped)) => (head, skipped),
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
    let input = io::BufReader::with_capacity(buffer, read::Prefixed::new(head, metered));
    if oriented {
        read_lines(input, gz, &ctx, caps, emit, None);
        return Some(Outcome::Read);
    }
    if csv {
        // Steampipe's or CloudQuery's CSV: row by row, each at most the element cap.
        let cap = caps.line as u64;
        csvexport::read_from(input, &ctx, emit, &mut || meter.allow(cap));
        return Some(Outcome::Read);
    }
    let mut framer = Framer {
        input,
        at: skipped,
        buf: Vec::new(),
        cap: caps.line,
    };
    let mut progress = Progress::default();
    let mut keys = Keys::default();
    let result = match first {
        b'[' => framer
            .list(bulk_record, &mut progress, &ctx, emit)
            .and_then(|()| framer.end()),
        b'{' => framer
            .object(&mut keys, &mut progress, &ctx, emit)
            .and_then(|()| framer.end()),
        _ => return None,
    };
    let stop = match result {
        Ok(()) if first == b'[' => return Some(Outcome::Read),
        Ok(()) => match keys.verdict(&progress, caps.whole) {
            Verdict::Read => return Some(Outcome::Read),
            Verdict::Refused => return None,
            Verdict::Broken(message) => {
                // The message says what was read.
                emit(
                    progress.count as u64 + 1,
                    Shape::Unrecognised,
                    RepoId::default(),
                    error(Code::InvalidJson, message),
                );
                return Some(Outcome::Read);
            }
        },
        Err(Stop::Refused) => return None,
        // A value too large before any list started: the document is no shape read in parts.
        Err(Stop::TooLong(_)) if first == b'{' && progress.list.is_none() => return None,
        Err(stop) => stop.said(caps, gz),
    };
    let (code, message) = if progress.count == 0 {
        stop
    } else {
        (
            stop.0,
            format!(
                "{}; the file is over {} and read in one pass: the {} {} before it are rows",
                stop.1,
                human(caps.whole),
                progress.count,
                progress.plural()
            ),
        )
    };
    emit(
        progress.count as u64 + 1,
        Shape::Unrecognised,
        RepoId::default(),
        error(code, message),
    );
    Some(Outcome::Read)
}

/// Why a streamed document stopped before its end.
enum Stop {
    /// The reader failed: damaged gzip, the decompressed cap, the system.
    Io(io::Error),
    /// Not JSON: what was found, and the byte (from the start of the file) where.
    Syntax(String, u64),
    /// A value longer than one record may be; what it was.
    TooLong(String),
    /// No shape read in parts (too many keys).
    Refused,
}

impl Stop {
    /// The error record's code and message.
    fn said(self, caps: &Caps, gz: bool) -> (Code, String) {
        match self {
            Stop::Io(e) => (Code::Unreadable, failure(&e, gz)),
            Stop::Syntax(what, at) => (
                Code::InvalidJson,
                format!("the file is not valid JSON: {what} at byte {at}"),
            ),
            Stop::TooLong(what) => (
                Code::InvalidJson,
                format!(
                    "{what} is longer than {}, more than one record may have; the rest of the file is not read",
                    human(caps.line as u64)
                ),
            ),
            Stop::Refused => (Code::UnsupportedInput, "no shape read in parts".to_owned()),
        }
    }
}

/// Reads the structure of a streamed document: the top-level array or object, its keys, and
/// each value's bytes, found by framing alone (strings, escapes, nesting) at the speed of a
/// byte scan; each value is then parsed (and so checked) by serde_json on its own, as the
/// whole-document path would parse it. Memory is one value, at most `cap` bytes.
struct Framer<R> {
    input: R,
    /// Bytes consumed, from the start of the file.
    at: u64,
    /// The last value read.
    buf: Vec<u8>,
    cap: usize,
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

impl<R: BufRead> Framer<R> {
    fn consume(&mut self, n: usize) {
        self.input.consume(n);
        self.at += n as u64;
    }

    /// The next byte that is not a blank (not consumed); `None` at the end.
    fn peek(&mut self) -> Result<Option<u8>, Stop> {
        loop {
            let chunk = self.input.fill_buf().map_err(Stop::Io)?;
            if chunk.is_empty() {
                return Ok(None);
            }
            let blank = chunk.iter().take_while(|b| is_blank(**b)).count();
            let next = chunk.get(blank).copied();
            self.consume(blank);
            if next.is_some() {
                return Ok(next);
            }
        }
    }

    /// Consumes the next byte that is not a blank, one of `bytes`.
    fn expect(&mut self, bytes: &[u8], what: &str) -> Result<u8, Stop> {
        match self.peek()? {
            Some(b) if bytes.contains(&b) => {
                self.consume(1);
                Ok(b)
            }
            Some(_) => Err(Stop::Syntax(format!("expected {what}"), self.at)),
            None => Err(Stop::Syntax(format!("EOF while expecting {what}"), self.at)),
        }
    }

    /// Nothing but blanks after the document.
    fn end(&mut self) -> Result<(), Stop> {
        match self.peek()? {
            None => Ok(()),
            Some(_) => Err(Stop::Syntax(
                "trailing characters after the document".to_owned(),
                self.at,
            )),
        }
    }

    /// Reads the next value's bytes into `buf`. `what` names it if it is too long.
    fn value(&mut self, what: &dyn Fn() -> String) -> Result<(), Stop> {
        self.buf.clear();
        let Some(first) = self.peek()? else {
            return Err(Stop::Syntax(
                "EOF while parsing a value".to_owned(),
                self.at,
            ));
        };
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let chunk = self.input.fill_buf().map_err(Stop::Io)?;
            if chunk.is_empty() {
                if scalar && !self.buf.is_empty() {
                    return Ok(());
                }
                return Err(Stop::Syntax(
                    "EOF while parsing a value".to_owned(),
                    self.at,
                ));
            }
            let mut end = None;
            if scalar {
                end = chunk
                    .iter()
                    .position(|b| matches!(b, b',' | b']' | b'}') || is_blank(*b));
                if end == Some(0) && self.buf.is_empty() {
                    return Err(Stop::Syntax("expected a value".to_owned(), self.at));
                }
            } else {
                let mut i = 0;
                while i < chunk.len() {
                    let b = chunk[i];
                    if in_string {
                        if escaped {
                            escaped = false;
                        } else if b == b'\\' {
                            escaped = true;
                        } else if b == b'"' {
                            in_string = false;
                            if depth == 0 {
                                end = Some(i + 1);
                                break;
                            }
                        } else {
                            // Skip to the next quote or backslash.
                            match memchr::memchr2(b'"', b'\\', &chunk[i..]) {
                                Some(k) => {
                                    i += k;
                                    continue;
                                }
                                // The rest of the chunk is inside the string.
                                None => break,
                            }
                        }
                    } else {
                        match b {
                            b'"' => in_string = true,
                            b'{' | b'[' => depth += 1,
                            b'}' | b']' => {
                                depth = depth.saturating_sub(1);
                                if depth == 0 {
                                    end = Some(i + 1);
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    i += 1;
                }
            }
            let take = end.unwrap_or(chunk.len());
            if self.buf.len() + take > self.cap {
                return Err(Stop::TooLong(what()));
            }
            self.buf.extend_from_slice(&chunk[..take]);
            self.consume(take);
            if end.is_some() {
                return Ok(());
            }
        }
    }

    /// Reads an array element by element, handing each to `each` (an element that is not JSON
    /// is an error record of its own: the framing found where it ends).
    fn list(
        &mut self,
        each: Each,
        progress: &mut Progress,
        ctx: &Ctx,
        emit: &mut Emit,
    ) -> Result<(), Stop> {
        self.expect(b"[", "`[`")?;
        if self.peek()? == Some(b']') {
            self.consume(1);
            return Ok(());
        }
        loop {
            let n = progress.count + 1;
            self.value(&|| progress.subject(n))?;
            let subject = || progress.subject(n);
            match std::str::from_utf8(&self.buf) {
                Err(e) => emit(
                    n as u64,
                    Shape::Unrecognised,
                    RepoId::default(),
                    error(
                        Code::Unreadable,
                        format!(
                            "{} is not UTF-8 at byte {} of it; JSON exports must be UTF-8 text",
                            subject(),
                            e.valid_up_to()
                        ),
                    ),
                ),
                Ok(text) => match serde_json::from_str::<&RawValue>(text) {
                    Ok(raw) => each(progress.count, raw, ctx, emit),
                    Err(e) => emit(
                        n as u64,
                        Shape::Unrecognised,
                        RepoId::default(),
                        error(
                            Code::InvalidJson,
                            format!(
                                "{} is not valid JSON: {} at line {} column {} of it",
                                subject(),
                                bare(&e),
                                e.line(),
                                e.column()
                            ),
                        ),
                    ),
                },
            }
            progress.count += 1;
            if self.expect(b",]", "`,` or `]`")? == b']' {
                return Ok(());
            }
        }
    }

    /// Reads a top-level object: its keys, streaming the one list its shape reads (see
    /// [`Keys`]); every other value is read (at most `cap` bytes), checked and dropped.
    fn object(
        &mut self,
        keys: &mut Keys,
        progress: &mut Progress,
        ctx: &Ctx,
        emit: &mut Emit,
    ) -> Result<(), Stop> {
        self.expect(b"{", "`{`")?;
        if self.peek()? == Some(b'}') {
            self.consume(1);
            return Ok(());
        }
        loop {
            if self.peek()? != Some(b'"') {
                return Err(Stop::Syntax(
                    "expected a key (a string)".to_owned(),
                    self.at,
                ));
            }
            let at = self.at;
            self.value(&|| "a key".to_owned())?;
            let key: String = serde_json::from_slice(&self.buf)
                .map_err(|e| Stop::Syntax(format!("a bad key ({})", bare(&e)), at))?;
            self.expect(b":", "`:`")?;
            let known = key.len() <= LONGEST_KEY;
            if known && keys.seen.len() >= MAX_KEYS {
                return Err(if keys.streamed.is_none() {
                    Stop::Refused
                } else {
                    Stop::Syntax(format!("more than {MAX_KEYS} keys"), self.at)
                });
            }
            let index = keys.seen.len();
            let list = if known && keys.streamed.is_none() {
                keys.seen.push((key.clone(), Kind::Array));
                let chosen = keys.chosen().ok().flatten();
                keys.seen.pop();
                chosen.filter(|(i, _)| *i == index).map(|(_, each)| each)
            } else {
                None
            };
            let kind = match (list, self.peek()?) {
                (Some(each), Some(b'[')) => {
                    progress.list = Some(key.clone());
                    self.list(each, progress, ctx, emit)?;
                    keys.streamed = Some(index);
                    Kind::Array
                }
                _ => {
                    let at = self.at;
                    // A value beside the list is small (`fileVersion`, `columns`,
                    // `nextToken`); a large one makes the document no shape read in parts,
                    // found without holding much of it.
                    let beside = self.cap.min(MAX_BESIDE);
                    let cap = std::mem::replace(&mut self.cap, beside);
                    let read = self.value(&|| format!("the value of `{key}`"));
                    self.cap = cap;
                    read?;
                    if let Err(e) = serde_json::from_slice::<IgnoredAny>(&self.buf) {
                        return Err(Stop::Syntax(
                            format!("the value of `{key}`: {}", bare(&e)),
                            at,
                        ));
                    }
                    kind_of_bytes(&self.buf)
                }
            };
            if known {
                keys.seen.push((key, kind));
            }
            if self.expect(b",}", "`,` or `}`")? == b'}' {
                return Ok(());
            }
        }
    }
}

/// The start of a streamed document.
enum Sniffed {
    /// Its first bytes, from the first that is not JSON whitespace (after a UTF-8 byte-order
    /// mark), never empty; and how many bytes came before them.
    Head(Vec<u8>, u64),
    /// Nothing but blanks.
    Empty,
    /// A UTF-16 byte-order mark.
    Utf16,
}

/// Reads the start of a document: up to 64 KiB from its first byte that is not a blank.
fn sniff(reader: &mut impl Read) -> io::Result<Sniffed> {
    let mut head = Vec::with_capacity(64 << 10);
    let mut start = true;
    let mut skipped = 0u64;
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
                skipped += UTF8_BOM.len() as u64;
            }
            start = false;
        }
        let blank = head.iter().take_while(|b| is_blank(**b)).count();
        skipped += blank as u64;
        if blank < head.len() {
            head.drain(..blank);
            return Ok(Sniffed::Head(head, skipped));
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

/// Counts the bytes the buffer pulls, and fails the read once a row being read (from the point
/// `stop` was set) runs past the cap: a streamed CSV holds one row at a time, and no row may be
/// larger than a record can be (the framing of JSON documents caps its own buffer).
#[derive(Clone)]
struct Meter {
    pulled: Rc<Cell<u64>>,
    stop: Rc<Cell<u64>>,
    cap: Rc<Cell<u64>>,
}

impl Default for Meter {
    fn default() -> Self {
        Meter {
            pulled: Rc::default(),
            stop: Rc::new(Cell::new(u64::MAX)),
            cap: Rc::default(),
        }
    }
}

impl Meter {
    /// Lets the next `cap` bytes (and what the buffer already holds) be read.
    fn allow(&self, cap: u64) {
        self.stop.set(self.pulled.get().saturating_add(cap));
        self.cap.set(cap);
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
            return Err(io::Error::other(format!(
                "the row is longer than {}, more than one record may have",
                human(self.meter.cap.get())
            )));
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

/// The top-level keys of a streamed object, for recognising its shape as the whole-document
/// path does (`shape::FORMATS`, first match wins) from the keys and the JSON types of their
/// values alone, which is all any format's `detect` looks at.
#[derive(Default)]
struct Keys {
    /// The keys (those short enough to be any shape's), in order, with their values' types.
    seen: Vec<(String, Kind)>,
    /// The index in `seen` of the list that was streamed.
    streamed: Option<usize>,
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

//! Bytes to text: opening a source, gunzipping it (by magic bytes, every member), capping its
//! size, and decoding it (UTF-8 with or without BOM; UTF-16 with BOM). Every failure is a
//! one-sentence message for an `unreadable` record.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::sync::{Condvar, Mutex, PoisonError};

use flate2::read::MultiGzDecoder;

use super::{Folders, Source};

/// The largest document held whole, as read and after decompression. A larger one is streamed
/// (`stream::document`) when its shape allows (a top-level array, JSON Lines, AWS Config's
/// `configurationItems`/`Results`, `repositories`, Steampipe's `rows`) and refused otherwise.
/// Holding a document costs about 3 times its size, 12–17 times for CloudFormation and Terraform
/// (a tree of small values): 24 MiB keeps that under 512 MiB.
/// The default of [`max_whole`].
pub(crate) const MAX_WHOLE: u64 = 24 << 20;

/// The environment variable that sets `max_whole` in MiB, for a larger document of a shape not
/// read in parts (a big Terraform state) on a machine with the memory for it.
pub const MAX_DOCUMENT_VAR: &str = "ECR_AUDIT_MAX_DOCUMENT_MIB";

/// `ECR_AUDIT_MAX_DOCUMENT_MIB` as bytes: `None` when unset, `Err` when it is not a whole number
/// of MiB from 1 to 65,536.
pub fn max_document_setting() -> Result<Option<u64>, String> {
    let Ok(value) = std::env::var(MAX_DOCUMENT_VAR) else {
        return Ok(None);
    };
    match value.trim().parse::<u64>() {
        Ok(mib @ 1..=65_536) => Ok(Some(mib << 20)),
        _ => Err(format!(
            "{MAX_DOCUMENT_VAR}={value:?} is not a size in MiB from 1 to 65536 (the default is {})",
            human(MAX_WHOLE)
        )),
    }
}

/// The largest document held whole: [`MAX_WHOLE`], or `ECR_AUDIT_MAX_DOCUMENT_MIB` (the
/// command line refuses a bad value before any reading).
pub(crate) fn max_whole() -> u64 {
    static WHOLE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *WHOLE.get_or_init(|| max_document_setting().ok().flatten().unwrap_or(MAX_WHOLE))
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The buffer a file is first read into.
const SMALL_FILE: u64 = 8 << 10;

/// A document smaller than this is held without asking the budget (see [`Turn`]).
const TURN_FREE: u64 = 1 << 20;

/// Bytes of documents of at least [`TURN_FREE`] held whole at once across workers, so that
/// `--jobs` does not multiply the peak memory of several large documents: at most
/// [`MAX_WHOLE`] in all, or one document.
static BUDGET: (Mutex<u64>, Condvar) = (Mutex::new(0), Condvar::new());

/// A share of the budget of documents held whole, given back when dropped: held until the
/// document's records are made.
pub(crate) struct Turn(u64);

impl Turn {
    fn take(size: u64) -> Turn {
        if size < TURN_FREE {
            return Turn(0);
        }
        let (used, freed) = &BUDGET;
        // A worker that panicked holding a share gave it back on unwinding: the lock guards a
        // count, never data left half-changed.
        let mut used = used.lock().unwrap_or_else(PoisonError::into_inner);
        while *used > 0 && *used + size > max_whole() {
            used = freed.wait(used).unwrap_or_else(PoisonError::into_inner);
        }
        *used += size;
        Turn(size)
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if self.0 > 0 {
            let (used, freed) = &BUDGET;
            let mut used = used.lock().unwrap_or_else(PoisonError::into_inner);
            *used -= self.0;
            freed.notify_all();
        }
    }
}

/// What reading a source gave.
pub(crate) enum Loaded {
    /// The whole document (decompressed), with its share of the budget.
    Whole(Vec<u8>, Turn),
    /// A document over the cap, to be streamed from its start: the bytes read so far, then the
    /// rest. `gz`: it is inflated on the way.
    Large {
        reader: Box<dyn Read + Send>,
        gz: bool,
    },
}

/// Reads the whole source, gunzipped when it starts with the gzip magic bytes, if it is at most
/// `limit` bytes (read and inflated); a larger one is handed back as a reader from its start,
/// never held whole: the refusal of a gzip bomb holds at most `limit` bytes.
/// A small file is read into `spare` (emptied, its capacity kept from an earlier file) when it
/// has the room.
pub(crate) fn load(
    source: &Source,
    limit: u64,
    folders: &mut Folders,
    spare: Vec<u8>,
) -> Result<Loaded, String> {
    let cannot = |e: io::Error| format!("cannot read the file: {e}");
    let raw = match source.path() {
        None => {
            let mut stdin = io::stdin();
            match read_capped(&mut stdin, spare, 0, limit, || None) {
                Ok(raw) => raw,
                Err(Capped::Io(e)) => return Err(cannot(e)),
                Err(Capped::TooLarge(head)) => return Ok(large(head, stdin)),
            }
        }
        Some(path) => {
            let file = folders
                .open(path)
                .map_err(|e| format!("cannot open the file: {e}"))?;
            // No `stat` up front: exports are mostly small files, which one read of a
            // page-sized buffer takes whole (a syscall less per file); a larger one is sized by
            // `stat` once the first read fills the buffer.
            let size = || file.metadata().ok().map(|m| m.len());
            match read_capped(&mut &file, spare, SMALL_FILE, limit, size) {
                Ok(raw) => raw,
                Err(Capped::Io(e)) => return Err(cannot(e)),
                Err(Capped::TooLarge(head)) => return Ok(large(head, file)),
            }
        }
    };
    if !raw.starts_with(&GZIP_MAGIC) {
        let turn = Turn::take(raw.len() as u64);
        return Ok(Loaded::Whole(raw, turn));
    }
    let hint = raw.len() as u64 * 4;
    // `MultiGzDecoder`: `cat a.gz b.gz` (and pigz/bgzip output) is several members; the plain
    // decoder would silently stop after the first.
    let mut gz = MultiGzDecoder::new(io::Cursor::new(raw));
    match read_capped(&mut gz, Vec::new(), hint, limit, || None) {
        Ok(bytes) => {
            let turn = Turn::take(bytes.len() as u64);
            Ok(Loaded::Whole(bytes, turn))
        }
        Err(Capped::Io(e)) => Err(format!("damaged gzip data: {e}")),
        Err(Capped::TooLarge(head)) => Ok(Loaded::Large {
            reader: Box::new(Prefixed::new(head, gz)),
            gz: true,
        }),
    }
}

/// A source over the cap: what was read of it (`head`), then the rest; inflated when it is gzip.
fn large(head: Vec<u8>, rest: impl Read + Send + 'static) -> Loaded {
    let gz = head.starts_with(&GZIP_MAGIC);
    let reader = Prefixed::new(head, rest);
    if gz {
        Loaded::Large {
            reader: Box::new(MultiGzDecoder::new(io::BufReader::with_capacity(
                64 << 10,
                reader,
            ))),
            gz,
        }
    } else {
        Loaded::Large {
            reader: Box::new(reader),
            gz,
        }
    }
}

/// `head`, then `rest`; `head` is freed once read (it may be the whole-document cap's worth of
/// bytes, not to be held while the rest streams).
pub(crate) struct Prefixed<R> {
    head: Vec<u8>,
    at: usize,
    rest: R,
}

impl<R> Prefixed<R> {
    pub fn new(head: Vec<u8>, rest: R) -> Self {
        Prefixed { head, at: 0, rest }
    }

    /// The head's capacity still held, for tests.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.head.capacity()
    }
}

impl<R: Read> Read for Prefixed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at < self.head.len() {
            let n = (self.head.len() - self.at).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.at..self.at + n]);
            self.at += n;
            if self.at == self.head.len() {
                self.head = Vec::new();
                self.at = 0;
            }
            return Ok(n);
        }
        self.rest.read(buf)
    }
}

enum Capped {
    /// Over the limit: what was read, from the start.
    TooLarge(Vec<u8>),
    Io(io::Error),
}

/// Reads at most `limit` bytes. `size` is asked once, when the first buffer (`hint`) is full:
/// the size the whole input will have, if known (a file's length), so that an input over the cap
/// is handed back without reading more of it, and one under it is read into a buffer of its size.
/// Otherwise the buffer grows by doubling but never past `limit` + 1 (one byte over the limit
/// tells "exactly at the limit" from "over it").
fn read_capped(
    reader: &mut impl Read,
    start: Vec<u8>,
    hint: u64,
    limit: u64,
    size: impl FnOnce() -> Option<u64>,
) -> Result<Vec<u8>, Capped> {
    let most = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    let capacity = usize::try_from(hint.min(limit)).unwrap_or(0);
    // `start` (an empty buffer kept from an earlier file) is used when it has the room the first
    // read asks for, and is read into only up to `most` (so the room a small cap allows is the
    // same whatever its capacity).
    let first = capacity.saturating_add(1).min(most);
    let mut buf = start;
    buf.clear();
    if buf.capacity() < first {
        buf = Vec::with_capacity(first);
    }
    let mut size = Some(size);
    loop {
        if buf.len() >= buf.capacity().min(most) {
            if buf.len() >= most {
                break;
            }
            let known = size.take().and_then(|f| f());
            if known.is_some_and(|k| k > limit) {
                return Err(Capped::TooLarge(buf));
            }
            let grown = match known {
                // Its size and one byte more, to see the end (or that it grew meanwhile).
                Some(k) if k as usize >= buf.len() => (k as usize).saturating_add(1).min(most),
                _ => buf
                    .capacity()
                    .saturating_mul(2)
                    .clamp(SMALL_FILE as usize, most),
            };
            buf.reserve_exact(grown - buf.len());
        }
        // Read into the room there is: `read_to_end` of a reader that ends at the capacity
        // never grows the buffer itself.
        let room = buf.capacity().min(most) - buf.len();
        let n = (&mut *reader)
            .take(room as u64)
            .read_to_end(&mut buf)
            .map_err(Capped::Io)?;
        if n < room {
            break;
        }
    }
    if buf.len() as u64 > limit {
        return Err(Capped::TooLarge(buf));
    }
    Ok(buf)
}

/// `1073741824` → `1 GiB`.
pub(crate) fn human(bytes: u64) -> String {
    for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= size && bytes % size == 0 {
            return format!("{} {unit}", bytes / size);
        }
    }
    format!("{bytes} bytes")
}

/// Decoded text and how many bytes of byte-order mark preceded it.
pub(crate) struct Text {
    pub text: String,
    pub bom: usize,
}

impl Text {
    pub fn body(&self) -> &str {
        &self.text[self.bom..]
    }
}

/// Decodes bytes as UTF-8 (a UTF-8 BOM is accepted), or as UTF-16 when a UTF-16 BOM says so
/// (Windows PowerShell 5 writes `>` redirects as UTF-16LE with a BOM).
pub(crate) fn decode(bytes: Vec<u8>) -> Result<Text, String> {
    match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => match String::from_utf8(bytes) {
            Ok(text) => {
                // Kept in place and skipped by `body`: no copy of a large file to drop 3 bytes.
                let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
                Ok(Text { text, bom })
            }
            Err(e) => Err(format!(
                "not UTF-8 at byte {}; JSON exports must be UTF-8 text",
                e.utf8_error().valid_up_to()
            )),
        },
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<Text, String> {
    if bytes.len() % 2 != 0 {
        return Err(format!(
            "not UTF-16 at byte {}: the file has a UTF-16 byte-order mark but an odd length",
            bytes.len() + 1
        ));
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut text = String::with_capacity(bytes.len() / 2);
    let mut offset = 2; // after the byte-order mark
    for ch in char::decode_utf16(units) {
        match ch {
            Ok(ch) => {
                text.push(ch);
                offset += 2 * ch.len_utf16();
            }
            Err(_) => {
                return Err(format!(
                    "not UTF-16 at byte {offset}: an unpaired surrogate"
                ));
            }
        }
    }
    Ok(Text { text, bom: 0 })
}

/// The longest line a streamed JSON Lines file may have: one line is one record, and a
/// repository policy is at most 10 KiB, so anything near this is not a record.
pub(crate) const MAX_LINE: usize = 16 << 20;

/// How many decompressed bytes a streamed gzip'd JSON Lines file may give in all. Memory does
/// not depend on it (lines are read one at a time); it bounds the time a gzip bomb can take.
pub(crate) const MAX_STREAM: u64 = 16 << 30;

/// One line of a streamed file, as [`LineReader::next_line`] lends it.
#[cfg(test)]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    /// The line's bytes, without the line ending (`\n` or `\r\n`).
    Bytes(&'a [u8]),
    /// Longer than the cap: its bytes were read and dropped (memory stays bounded); `len` is how
    /// long it was.
    TooLong { len: u64 },
}

/// What [`LineReader::next_line_into`] appended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Appended {
    /// The line's bytes, without the line ending (`\n` or `\r\n`), at the end of the buffer.
    Line,
    /// Longer than the cap: its bytes were read and dropped (memory stays bounded), nothing was
    /// appended; `len` is how long it was.
    TooLong { len: u64 },
}

/// Reads lines into a buffer of the caller's, through the underlying reader's buffer: memory
/// is what the caller keeps (at most `max_line` a line) and that buffer, whatever the size of
/// the file.
pub(crate) struct LineReader<R> {
    inner: R,
    /// The line [`LineReader::next_line`] lends (tests).
    #[cfg(test)]
    buf: Vec<u8>,
    max_line: usize,
}

impl<R: io::BufRead> LineReader<R> {
    pub fn new(inner: R, max_line: usize) -> Self {
        LineReader {
            inner,
            #[cfg(test)]
            buf: Vec::new(),
            max_line,
        }
    }

    /// The buffer's capacity: what this reader holds, for tests that memory does not scale with
    /// the file.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.buf.capacity()
    }

    /// The next line, or `None` at the end.
    #[cfg(test)]
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let read = self.next_line_into(&mut buf);
        self.buf = buf;
        Ok(match read? {
            None => None,
            Some(Appended::Line) => Some(Line::Bytes(&self.buf)),
            Some(Appended::TooLong { len }) => Some(Line::TooLong { len }),
        })
    }

    /// Appends the next line to `out`, or gives `None` at the end. A line longer than the cap
    /// appends nothing, and `out` gives back the room it took.
    pub fn next_line_into(&mut self, out: &mut Vec<u8>) -> io::Result<Option<Appended>> {
        loop {
            match self.inner.fill_buf() {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        let start = out.len();
        let max_line = self.max_line;
        // A line that lies whole in the reader's buffer is copied at once.
        let chunk = self.inner.fill_buf()?;
        if let Some(end) = memchr::memchr(b'\n', chunk).filter(|end| *end <= max_line) {
            let line = &chunk[..end];
            out.extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
            self.inner.consume(end + 1);
            return Ok(Some(Appended::Line));
        }
        let mut len: u64 = 0;
        let mut started = false;
        let mut too_long = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                if !started {
                    return Ok(None);
                }
                break;
            }
            started = true;
            let (part, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (&chunk[..i], Some(i + 1)),
                None => (chunk, None),
            };
            len += part.len() as u64;
            if !too_long && out.len() - start + part.len() <= max_line {
                out.extend_from_slice(part);
            } else if !too_long {
                too_long = true;
                // Give the memory back: the rest of the line is counted, not kept.
                out.truncate(start);
                out.shrink_to(start);
            }
            let used = done.unwrap_or(chunk.len());
            self.inner.consume(used);
            if done.is_some() {
                break;
            }
        }
        if too_long {
            return Ok(Some(Appended::TooLong { len }));
        }
        if out.len() > start && out.last() == Some(&b'\r') {
            out.pop();
        }
        Ok(Some(Appended::Line))
    }
}

/// Opens a source for streaming: gunzipped (every member) when it starts with the gzip magic
/// bytes (the decompressed total is capped by the caller).
pub(crate) fn open_stream(source: &Source) -> Result<(Box<dyn BufRead + Send>, bool), String> {
    let file: Box<dyn Read + Send> = match source.path() {
        None => Box::new(io::stdin()),
        Some(path) => Box::new(File::open(path).map_err(|e| format!("cannot open the file: {e}"))?),
    };
    let mut reader = io::BufReader::with_capacity(64 << 10, file);
    let head = reader
        .fill_buf()
        .map_err(|e| format!("cannot read the file: {e}"))?;
    if head.starts_with(&GZIP_MAGIC) {
        let gz = MultiGzDecoder::new(reader);
        Ok((Box::new(io::BufReader::with_capacity(64 << 10, gz)), true))
    } else {
        Ok((Box::new(reader), false))
    }
}

//! Bytes to text: opening a source, gunzipping it (by magic bytes, every member), capping its
//! size, and decoding it (UTF-8 with or without BOM; UTF-16 with BOM). Every failure is a
//! one-sentence message for an `unreadable` record.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::sync::{Mutex, MutexGuard, PoisonError};

use flate2::read::MultiGzDecoder;

use super::Source;

/// The most bytes held for one file, before and after decompression: a gzip bomb or a runaway
/// file must not take the machine's memory. Exports are far smaller (a policy is at most 10 KiB).
pub(crate) const MAX_BYTES: u64 = 1 << 30;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The buffer a file is first read into.
const SMALL_FILE: u64 = 8 << 10;

/// Deflate inflates at most about 1,032 times: a gzip smaller than this many bytes cannot inflate
/// past 64 MiB, so it is inflated at once; a larger one is first inflated into nothing to learn
/// its size, so that one over the cap (a gzip bomb) is refused without holding any of it.
const GZIP_ONE_PASS: usize = 64 << 10;

/// A document of at least this many bytes (read, or inflated) is a large one: one worker at a time
/// holds such a document, so that `--jobs` does not multiply the peak memory of several.
pub(crate) const LARGE_DOCUMENT: u64 = 32 << 20;

static LARGE: Mutex<()> = Mutex::new(());

/// Held while a large document is read and its records made (see [`LARGE_DOCUMENT`]).
pub(crate) type LargeTurn = Option<MutexGuard<'static, ()>>;

fn large_turn(turn: &mut LargeTurn, size: u64, limit: u64) {
    if turn.is_none() && size >= LARGE_DOCUMENT && size <= limit {
        // A worker that panicked holding it leaves nothing half-done behind: the lock guards
        // no data.
        *turn = Some(LARGE.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// Reads the whole source, gunzipped when it starts with the gzip magic bytes. The turn, when
/// there is one, is to be held until the document's records are made.
pub(crate) fn load(source: &Source, limit: u64) -> Result<(Vec<u8>, LargeTurn), String> {
    let mut turn: LargeTurn = None;
    let raw = match source.path() {
        None => read_capped(io::stdin().lock(), 0, limit, || None),
        Some(path) => {
            let file = File::open(path).map_err(|e| format!("cannot open the file: {e}"))?;
            // No `stat` up front: exports are mostly small files, which one read of a
            // page-sized buffer takes whole (a syscall less per file); a larger one is sized by
            // `stat` once the first read fills the buffer.
            let size = || {
                let size = file.metadata().ok().map(|m| m.len());
                large_turn(&mut turn, size.unwrap_or(0), limit);
                size
            };
            read_capped(&file, SMALL_FILE, limit, size)
        }
    }
    .map_err(|e| match e {
        Capped::TooLarge => format!("file size exceeds {}", human(limit)),
        Capped::Io(e) => format!("cannot read the file: {e}"),
    })?;
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok((raw, turn));
    }
    let too_large = || format!("decompressed size exceeds {}", human(limit));
    let damaged = |e: io::Error| format!("damaged gzip data: {e}");
    // `MultiGzDecoder`: `cat a.gz b.gz` (and pigz/bgzip output) is several members; the plain
    // decoder would silently stop after the first.
    let size = if raw.len() < GZIP_ONE_PASS {
        None
    } else {
        let inflated = io::copy(
            &mut MultiGzDecoder::new(raw.as_slice()).take(limit.saturating_add(1)),
            &mut io::sink(),
        )
        .map_err(damaged)?;
        if inflated > limit {
            return Err(too_large());
        }
        large_turn(&mut turn, inflated, limit);
        Some(inflated)
    };
    read_capped(
        MultiGzDecoder::new(raw.as_slice()),
        size.unwrap_or(raw.len() as u64 * 4),
        limit,
        || size,
    )
    .map(|bytes| (bytes, turn))
    .map_err(|e| match e {
        Capped::TooLarge => too_large(),
        Capped::Io(e) => damaged(e),
    })
}

enum Capped {
    TooLarge,
    Io(io::Error),
}

/// Reads at most `limit` bytes. `size` is asked once, when the first buffer (`hint`) is full:
/// the size the whole input will have, if known (a file's length), so that an input over the cap
/// is refused without reading it and one under it is read into a buffer of its size. Otherwise
/// the buffer grows by doubling but never past `limit` + 1 (one byte over the limit tells
/// "exactly at the limit" from "over it").
fn read_capped(
    mut reader: impl Read,
    hint: u64,
    limit: u64,
    size: impl FnOnce() -> Option<u64>,
) -> Result<Vec<u8>, Capped> {
    let most = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    let capacity = usize::try_from(hint.min(limit)).unwrap_or(0);
    let mut buf: Vec<u8> = Vec::with_capacity(capacity.saturating_add(1).min(most));
    let mut size = Some(size);
    loop {
        if buf.len() == buf.capacity() {
            if buf.len() >= most {
                break;
            }
            let known = size.take().and_then(|f| f());
            if known.is_some_and(|k| k > limit) {
                return Err(Capped::TooLarge);
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
        let room = buf.capacity() - buf.len();
        let n = (&mut reader)
            .take(room as u64)
            .read_to_end(&mut buf)
            .map_err(Capped::Io)?;
        if n < room {
            break;
        }
    }
    if buf.len() as u64 > limit {
        return Err(Capped::TooLarge);
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

/// One line of a streamed file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    /// The line's bytes, without the line ending (`\n` or `\r\n`).
    Bytes(&'a [u8]),
    /// Longer than the cap: its bytes were read and dropped (memory stays bounded); `len` is how
    /// long it was.
    TooLong { len: u64 },
}

/// Reads lines through one reused, bounded buffer: memory is the buffer (at most `max_line`
/// plus the underlying reader's own buffer), whatever the size of the file.
pub(crate) struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    max_line: usize,
    /// Bytes of the reader's buffer that the last line, lent from it, still holds.
    lent: usize,
}

impl<R: io::BufRead> LineReader<R> {
    pub fn new(inner: R, max_line: usize) -> Self {
        LineReader {
            inner,
            buf: Vec::new(),
            max_line,
            lent: 0,
        }
    }

    /// The buffer's capacity: what this reader holds, for tests that memory does not scale with
    /// the file.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.buf.capacity()
    }

    /// The next line, or `None` at the end.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.inner.consume(std::mem::take(&mut self.lent));
        // A line that lies whole in the reader's buffer is lent from it, not copied.
        loop {
            match self.inner.fill_buf() {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        let max_line = self.max_line;
        let whole = memchr::memchr(b'\n', self.inner.fill_buf()?).filter(|end| *end <= max_line);
        if let Some(end) = whole {
            self.lent = end + 1;
            // The buffer holds data: this returns it again without reading.
            let line = &self.inner.fill_buf()?[..end];
            return Ok(Some(Line::Bytes(line.strip_suffix(b"\r").unwrap_or(line))));
        }
        self.buf.clear();
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
            if !too_long && self.buf.len() + part.len() <= self.max_line {
                self.buf.extend_from_slice(part);
            } else if !too_long {
                too_long = true;
                // Give the memory back: the rest of the line is counted, not kept.
                self.buf = Vec::new();
            }
            let used = done.unwrap_or(chunk.len());
            self.inner.consume(used);
            if done.is_some() {
                break;
            }
        }
        if too_long {
            return Ok(Some(Line::TooLong { len }));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(Some(Line::Bytes(&self.buf)))
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

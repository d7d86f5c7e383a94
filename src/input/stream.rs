//! JSON Lines files (`.jsonl`, `.ndjson`, optionally `.gz`) are streamed: read line by line
//! through one bounded buffer, so a file of any size — hundreds of MB, or a gzip bomb — costs
//! the same memory. A bad line is its own error record; the others are still read.

use std::io::{self, BufRead, Read};

use serde::{Deserialize, Deserializer};

use super::common::{At, Ctx, Emit, error};
use super::kind::Shape;
use super::read::{self, Line, LineReader, MAX_LINE, MAX_STREAM, human};
use super::shape;
use super::{Outcome, Source};
use crate::finding::Code;
use crate::record::RepoId;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The limits of a streamed file.
pub(crate) struct Caps {
    /// The longest line kept.
    pub line: usize,
    /// The most decompressed bytes a gzip'd file may give.
    pub stream: u64,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            line: MAX_LINE,
            stream: MAX_STREAM,
        }
    }
}

impl Caps {
    /// Caps derived from a (test's) file-size cap, so that tests trip them with kilobytes.
    pub fn scaled(limit: u64) -> Caps {
        Caps {
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
    let mut reader = LineReader::new(io::BufReader::with_capacity(64 << 10, capped), caps.line);
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
                        shape::line(i, text, &ctx, emit);
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
    Some(Outcome::Read)
}

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
            return Err(io::Error::other(format!(
                "decompressed size exceeds {}; the rest of the file is not read",
                human(self.cap)
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Streams a large JSON document that is a top-level array (a bulk export of records), element
/// by element, so that memory holds one element at a time, not the document. A first pass only
/// checks the whole document (nothing is kept), so that a broken one is read whole as before and
/// gets the same single error record; the second hands each element to the shape reader exactly
/// as the whole-document path does. `None` when the source is not such a document: not a file
/// of at least `threshold` bytes (a gzip of at least a sixteenth of it), over the cap `limit`
/// (read or inflated: the whole-document path refuses it), not starting with `[`, or not valid
/// JSON.
pub(crate) fn array(
    source: &Source,
    threshold: u64,
    limit: u64,
    emit: &mut Emit,
) -> Option<Outcome> {
    let size = std::fs::metadata(source.path()?).ok()?.len();
    if size > limit || size < threshold / 16 {
        return None;
    }
    let open = || -> Option<io::BufReader<CapRead<Box<dyn BufRead + Send>>>> {
        let (inner, gz) = read::open_stream(source).ok()?;
        if !gz && size < threshold {
            return None;
        }
        let mut reader = io::BufReader::with_capacity(
            64 << 10,
            CapRead {
                inner,
                left: limit,
                cap: limit,
            },
        );
        let head = reader.fill_buf().ok()?;
        let first = head.iter().find(|b| !b" \t\r\n".contains(b))?;
        (*first == b'[').then_some(reader)
    };
    let mut check = serde_json::Deserializer::from_reader(open()?);
    serde::de::IgnoredAny::deserialize(&mut check).ok()?;
    check.end().ok()?;
    let ctx = Ctx {
        label: source.label(),
        json_lines: false,
    };
    let mut each = |i: usize, raw: &str| shape::part(raw, At::part("record", i), &ctx, emit);
    let mut de = serde_json::Deserializer::from_reader(open()?);
    // Checked above; a file changed meanwhile ends the stream where it breaks.
    let _ = de.deserialize_seq(Elements(&mut each));
    Some(Outcome::Read)
}

/// Hands each element of a JSON array, as raw text, to the closure with its index.
struct Elements<'a, F>(&'a mut F);

impl<'de, F: FnMut(usize, &str)> serde::de::Visitor<'de> for Elements<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(raw) = seq.next_element::<Box<serde_json::value::RawValue>>()? {
            (self.0)(i, raw.get());
            i += 1;
        }
        Ok(())
    }
}

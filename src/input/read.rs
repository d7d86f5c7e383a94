//! Bytes to text: opening a source, gunzipping it (by magic bytes, every member), capping its
//! size, and decoding it (UTF-8 with or without BOM; UTF-16 with BOM). Every failure is a
//! one-sentence message for an `unreadable` record.

use std::fs::File;
use std::io::{self, Read};

use flate2::read::MultiGzDecoder;

use super::Source;

/// The most bytes held for one file, before and after decompression: a gzip bomb or a runaway
/// file must not take the machine's memory. Exports are far smaller (a policy is at most 10 KiB).
pub(crate) const MAX_BYTES: u64 = 1 << 30;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads the whole source, gunzipped when it starts with the gzip magic bytes.
pub(crate) fn load(source: &Source, limit: u64) -> Result<Vec<u8>, String> {
    let raw = match &source.path {
        None => read_capped(io::stdin().lock(), 0, limit),
        Some(path) => {
            let file = File::open(path).map_err(|e| format!("cannot open the file: {e}"))?;
            let hint = file.metadata().map(|m| m.len()).unwrap_or(0);
            read_capped(file, hint, limit)
        }
    }
    .map_err(|e| match e {
        Capped::TooLarge => format!("file size exceeds {}", human(limit)),
        Capped::Io(e) => format!("cannot read the file: {e}"),
    })?;
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    // `MultiGzDecoder`: `cat a.gz b.gz` (and pigz/bgzip output) is several members; the plain
    // decoder would silently stop after the first.
    read_capped(
        MultiGzDecoder::new(raw.as_slice()),
        raw.len() as u64 * 4,
        limit,
    )
    .map_err(|e| match e {
        Capped::TooLarge => format!("decompressed size exceeds {}", human(limit)),
        Capped::Io(e) => format!("damaged gzip data: {e}"),
    })
}

enum Capped {
    TooLarge,
    Io(io::Error),
}

fn read_capped(reader: impl Read, hint: u64, limit: u64) -> Result<Vec<u8>, Capped> {
    let capacity = usize::try_from(hint.min(limit)).unwrap_or(0);
    let mut buf = Vec::with_capacity(capacity.saturating_add(1));
    // One byte over the limit tells "exactly at the limit" from "over it".
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(Capped::Io)?;
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

//! A finding's message, kept packed: rows hold their findings until the report is written, and
//! in an estate whose policies differ (a Sid, an account, a key per repository) each row's
//! message is its own — a million rows held a million sentences of about 280 bytes, most of it
//! the same fixed text.
//!
//! Packing replaces each known phrase (the fixed text of the tool's messages, generated into
//! `phrases.rs` by `scripts/phrases.py`, plus the ECR action names and IAM's global condition
//! keys) by two bytes: a marker byte of `0xF8..=0xFF` — bytes that never occur in UTF-8 — and an
//! index. Everything else is kept as it is, so any text packs and unpacks exactly (a message the
//! table does not know only packs less tightly), and two messages are equal exactly when their
//! packed bytes are (the packing is a function of the text, and unpacking inverts it).

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

mod phrases;

/// The first marker byte; a phrase's code is `(FIRST + index / 256, index % 256)`.
const FIRST: u8 = 0xF8;
/// How many phrases the table holds at most: three marker bytes' worth (`0xF8..=0xFA`), so that
/// unpacking finds the next code with one `memchr3`.
const MAX_PHRASES: usize = 3 * 256;

/// The phrases and, for each first four bytes, the phrases that start with them, longest
/// first (every phrase has four bytes or more).
struct Table {
    phrases: Vec<&'static str>,
    /// The first four bytes of a phrase → the range of `order` holding its phrases.
    starts: rustc_hash::FxHashMap<u32, (u16, u16)>,
    order: Vec<u16>,
    /// Bit `b[0] << 8 | b[1]` is set when some phrase starts with the bytes `b`: most places
    /// are passed over by this test alone.
    pairs: Box<[u64; 1024]>,
    /// Each phrase → its index: the fixed parts of a message written with `format_args!` are
    /// whole phrases, found by one lookup each (see [`Packer`]).
    whole: rustc_hash::FxHashMap<&'static str, u16>,
    /// Bit [`whole_bit`] of each phrase is set: a part whose bit is clear (most accounts, Sids
    /// and numbers) is no phrase, without a look-up in `whole`.
    wholes: Box<[u64; 1024]>,
}

/// A part's bit in [`Table::wholes`], from its first four bytes and its length (`b` has four
/// bytes or more).
fn whole_bit(b: &[u8]) -> usize {
    let first = prefix(b).unwrap_or_default() ^ (b.len() as u32).wrapping_mul(0x9E37_79B9);
    (first.wrapping_mul(0x85EB_CA6B) >> 16) as usize
}

/// The first four bytes of `b`, as one number.
fn prefix(b: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(..4)?.try_into().ok()?))
}

static TABLE: OnceLock<Table> = OnceLock::new();

/// The table: a load and a test once made (the making is kept out of line, so that the
/// callers, which pack a part in a few dozen instructions, do not carry its frame).
#[inline]
fn table() -> &'static Table {
    match TABLE.get() {
        Some(t) => t,
        None => make_table(),
    }
}

#[cold]
#[inline(never)]
fn make_table() -> &'static Table {
    TABLE.get_or_init(|| {
        let mut phrases: Vec<&'static str> = phrases::PHRASES.to_vec();
        phrases.extend(crate::catalog::REQUIRED);
        phrases.extend(crate::catalog::ACTIONS.iter().map(|a| a.name));
        phrases.extend(crate::eval::keys::GLOBAL_KEYS.iter().copied());
        phrases.retain(|p| p.len() >= 4);
        let mut seen = std::collections::HashSet::new();
        phrases.retain(|p| seen.insert(*p));
        phrases.truncate(MAX_PHRASES);
        let key = |i: u16| prefix(phrases[usize::from(i)].as_bytes()).unwrap_or_default();
        let mut order: Vec<u16> = (0..phrases.len() as u16).collect();
        order.sort_by_key(|&i| (key(i), std::cmp::Reverse(phrases[usize::from(i)].len())));
        let mut starts = rustc_hash::FxHashMap::default();
        for (pos, &i) in order.iter().enumerate() {
            let range = starts.entry(key(i)).or_insert((pos as u16, 0));
            range.1 += 1;
        }
        let mut pairs = Box::new([0u64; 1024]);
        for p in &phrases {
            let pair = usize::from(p.as_bytes()[0]) << 8 | usize::from(p.as_bytes()[1]);
            pairs[pair >> 6] |= 1 << (pair & 63);
        }
        let whole = phrases
            .iter()
            .enumerate()
            .map(|(i, p)| (*p, i as u16))
            .collect();
        let mut wholes = Box::new([0u64; 1024]);
        for p in &phrases {
            let bit = whole_bit(p.as_bytes());
            wholes[bit >> 6] |= 1 << (bit & 63);
        }
        Table {
            phrases,
            starts,
            order,
            pairs,
            whole,
            wholes,
        }
    })
}

/// A message, packed (see the module's documentation). Cheap to clone: rows with the same
/// findings share one copy.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Message(Arc<[u8]>);

impl Message {
    pub fn new(text: &str) -> Message {
        Message(pack(text).into())
    }

    /// The text.
    pub fn text(&self) -> Cow<'_, str> {
        if memchr::memchr3(FIRST, FIRST + 1, FIRST + 2, &self.0).is_none() {
            // Only whole UTF-8 text is ever copied in (see `pack`).
            return String::from_utf8_lossy(&self.0);
        }
        let mut out = Vec::with_capacity(self.0.len() * 3);
        self.unpack_into(&mut out);
        // Plain runs lie between phrases, which start and end on character bounds: whole UTF-8.
        Cow::Owned(
            String::from_utf8(out)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        )
    }

    /// Whether another holder shares this copy already (a message remembered by the findings'
    /// memo, say): sharing it again gains nothing.
    pub(crate) fn is_shared(&self) -> bool {
        Arc::strong_count(&self.0) > 1
    }

    /// Where the packed bytes are: the same for every clone, for as long as one is held.
    pub(crate) fn address(&self) -> usize {
        self.0.as_ptr() as usize
    }

    /// Whether the text contains `pattern`.
    pub fn contains(&self, pattern: &str) -> bool {
        self.text().contains(pattern)
    }

    /// The packed bytes (how much a message takes).
    #[cfg(test)]
    fn packed(&self) -> &[u8] {
        &self.0
    }

    /// The text's bytes (whole UTF-8), appended to `out`: each code replaced by its phrase (one
    /// pass over the packed bytes; a plain run is copied whole). For a writer that gathers many
    /// messages into one buffer, without a `String` for each.
    pub(crate) fn unpack_into(&self, out: &mut Vec<u8>) {
        let table = table();
        let packed: &[u8] = &self.0;
        let (mut i, mut run) = (0, 0);
        const ONES: u64 = u64::from_le_bytes([1; 8]);
        while i < packed.len() {
            // Plain bytes are passed over eight at a time: a byte of 0xF8 or more (a code's
            // first byte) is one whose top five bits are all set ("haszero" on the complement;
            // the lowest marked byte is exact).
            if let Some(word) = packed[i..].first_chunk::<8>() {
                let y = !u64::from_le_bytes(*word) & (ONES * 0xF8);
                let found = y.wrapping_sub(ONES) & !y & (ONES * 0x80);
                if found == 0 {
                    i += 8;
                    continue;
                }
                i += (found.trailing_zeros() / 8) as usize;
            } else if packed[i] < FIRST {
                i += 1;
                continue;
            }
            let b = packed[i];
            out.extend_from_slice(&packed[run..i]);
            let index =
                usize::from(b - FIRST) << 8 | usize::from(packed.get(i + 1).copied().unwrap_or(0));
            out.extend_from_slice(
                table
                    .phrases
                    .get(index)
                    .copied()
                    .unwrap_or("\u{FFFD}")
                    .as_bytes(),
            );
            i += 2;
            run = i.min(packed.len());
        }
        out.extend_from_slice(&packed[run..]);
    }
}

/// `text` with each known phrase replaced by its two-byte code: at each place the longest phrase
/// that starts there, else the byte as it is.
fn pack(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 2 + 8);
    pack_into(text, &mut out);
    out
}

/// [`pack`], appending to `out`.
fn pack_into(text: &str, out: &mut Vec<u8>) {
    let table = table();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let pair = usize::from(bytes[i]) << 8 | usize::from(bytes.get(i + 1).copied().unwrap_or(0));
        let found = (table.pairs[pair >> 6] & 1 << (pair & 63) != 0)
            .then(|| prefix(&bytes[i..]))
            .flatten()
            .and_then(|k| table.starts.get(&k))
            .and_then(|&(start, n)| {
                table.order[usize::from(start)..usize::from(start + n)]
                    .iter()
                    .find(|&&p| bytes[i..].starts_with(table.phrases[usize::from(p)].as_bytes()))
            });
        match found {
            Some(&p) => {
                out.push(FIRST + (p >> 8) as u8);
                out.push(p as u8);
                i += table.phrases[usize::from(p)].len();
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
}

/// Packs a message as `format_args!` writes it, a part at a time: a fixed part of the format
/// string that is a phrase becomes its code by one lookup, a short part (a number, a name) is
/// kept as it is, and a long one is packed like any text. The same text written another way
/// may pack to other bytes (equality of messages is of their packed bytes: what sharing them
/// needs), but always unpacks to itself.
///
/// A message written often (`cross-account-write`, whose accounts differ per record) is written
/// without `fmt` machinery, through [`Write`]: its fixed parts are packed once per place in the
/// code ([`phrase!`]) and copied, the same bytes a look-up would give.
pub(crate) struct Packer {
    out: Vec<u8>,
}

/// Parts shorter than this are kept as they are unless they are a phrase.
const SHORT: usize = 16;

thread_local! {
    /// A worker's buffer for the message being packed: a message is copied out of it into its
    /// own allocation once written, so that writing one allocates once, not a buffer, its
    /// growth and then the message.
    static SCRATCH: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A buffer larger than this is not kept for the next message.
const SCRATCH_KEPT: usize = 1 << 16;

impl Packer {
    /// A packer (its buffer the worker's, emptied, with room for `bytes`).
    pub(crate) fn with_capacity(bytes: usize) -> Packer {
        let mut out = SCRATCH.take();
        out.clear();
        out.reserve(bytes);
        Packer { out }
    }

    /// The message written.
    pub(crate) fn finish(self) -> Message {
        let m = Message(Arc::from(self.out.as_slice()));
        if self.out.capacity() <= SCRATCH_KEPT {
            SCRATCH.set(self.out);
        }
        m
    }

    /// One part, packed as [`fmt::Write::write_str`] of a `Packer` packs it.
    fn part(&mut self, s: &str) {
        let bytes = s.as_bytes();
        if bytes.len() >= 4 {
            let table = table();
            // No phrase of this length starts with these four bytes (an account id, a Sid):
            // no look-up.
            let bit = whole_bit(bytes);
            let maybe = table.wholes[bit >> 6] & 1 << (bit & 63) != 0;
            if let Some(&p) = maybe.then(|| table.whole.get(s)).flatten() {
                self.out.push(FIRST + (p >> 8) as u8);
                self.out.push(p as u8);
                return;
            }
            if s.len() >= SHORT {
                pack_into(s, &mut self.out);
                return;
            }
        }
        self.out.extend_from_slice(s.as_bytes());
    }
}

impl fmt::Write for Packer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.part(s);
        Ok(())
    }
}

/// `text` packed as one part is packed (what [`phrase!`] keeps for a fixed part).
pub(crate) fn packed_part(text: &str) -> Box<[u8]> {
    let mut p = Packer {
        out: Vec::with_capacity(text.len().min(SHORT)),
    };
    p.part(text);
    p.out.into_boxed_slice()
}

/// Where a message's parts go: a [`fmt::Formatter`] (the text) or a [`Packer`] (the packed
/// message). Pieces of messages written through it (a statement's label, the accounts of
/// `cross-account-write`) serve both their `Display` and the packer, with the same parts.
pub(crate) trait Write: fmt::Write {
    /// Fixed parts `parts`; `packed` gives their bytes as [`packed_part`] packs each (see
    /// [`phrase!`]), which a packer copies instead of looking each part up.
    fn known(&mut self, parts: &[&str], packed: impl FnOnce() -> &'static [u8]) -> fmt::Result {
        let _ = packed;
        parts.iter().try_for_each(|p| self.write_str(p))
    }

    /// `n` in decimal, as one part (as `{}` of a number writes it: one `write_str`).
    fn number(&mut self, n: u64) -> fmt::Result {
        let mut buf = [0u8; 20];
        self.write_str(std::str::from_utf8(decimal(n, &mut buf)).unwrap_or_default())
    }
}

/// `n` in decimal, written at the end of `buf` (20 bytes hold any `u64`): what `{}` writes,
/// without the formatting machinery.
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

impl Write for fmt::Formatter<'_> {}

impl Write for String {}

impl Write for Packer {
    #[inline]
    fn known(&mut self, _: &[&str], packed: impl FnOnce() -> &'static [u8]) -> fmt::Result {
        match *packed() {
            // A phrase's code (most fixed parts): two pushes, no copy call.
            [a, b] => {
                self.out.push(a);
                self.out.push(b);
            }
            ref bytes => self.out.extend_from_slice(bytes),
        }
        Ok(())
    }

    fn number(&mut self, n: u64) -> fmt::Result {
        // Fewer than four digits are no phrase: kept as they are, as `part` keeps them.
        if n < 1000 {
            if n >= 100 {
                self.out.push(b'0' + (n / 100) as u8);
            }
            if n >= 10 {
                self.out.push(b'0' + (n / 10 % 10) as u8);
            }
            self.out.push(b'0' + (n % 10) as u8);
            return Ok(());
        }
        self.part(&n.to_string());
        Ok(())
    }
}

/// Writes the literal `$text` to `$w` (a [`Write`]) as a fixed part: packed once, the first time
/// this place is reached, and copied after.
macro_rules! phrase {
    ($w:expr, $text:literal) => {{
        static PACKED: std::sync::OnceLock<Box<[u8]>> = std::sync::OnceLock::new();
        $crate::message::Write::known($w, &[$text], || {
            &**PACKED.get_or_init(|| $crate::message::packed_part($text))
        })
    }};
}
pub(crate) use phrase;

impl From<fmt::Arguments<'_>> for Message {
    fn from(args: fmt::Arguments<'_>) -> Message {
        if let Some(text) = args.as_str() {
            return Message::new(text);
        }
        let mut packer = Packer::with_capacity(64);
        // Writing to a vector cannot fail, and no argument's Display fails.
        let _ = fmt::write(&mut packer, args);
        packer.finish()
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Message {
        Message::new(text)
    }
}

impl From<String> for Message {
    fn from(text: String) -> Message {
        Message::new(&text)
    }
}

impl From<&String> for Message {
    fn from(text: &String) -> Message {
        Message::new(text)
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text(), f)
    }
}

impl serde::Serialize for Message {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

impl PartialEq<str> for Message {
    fn eq(&self, other: &str) -> bool {
        self.text() == other
    }
}

impl PartialEq<&str> for Message {
    fn eq(&self, other: &&str) -> bool {
        self.text() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decimal_writes_what_display_writes() {
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            999,
            1000,
            123_456_789,
            u64::MAX - 1,
            u64::MAX,
        ] {
            assert_eq!(decimal(n, &mut [0; 20]), n.to_string().as_bytes(), "{n}");
        }
    }

    #[test]
    fn the_phrases_fit_two_bytes_and_none_is_repeated() {
        let t = table();
        assert!(t.phrases.len() <= MAX_PHRASES);
        assert!(t.phrases.len() > 400, "{}", t.phrases.len());
        let mut seen = std::collections::HashSet::new();
        assert!(t.phrases.iter().all(|p| seen.insert(*p)));
        // No phrase holds a marker byte (they are UTF-8 text).
        assert!(t.phrases.iter().all(|p| p.bytes().all(|b| b < FIRST)));
    }

    #[test]
    fn a_message_of_known_phrases_packs_small_and_unpacks_exactly() {
        let text = "statement 0 (Sid \"S0\") allows ecr:BatchCheckLayerAvailability, \
            ecr:BatchGetImage and ecr:GetDownloadUrlForLayer only depending on the condition key \
            aws:PrincipalOrgID, which cannot be decided offline; pass the facts with --context \
            KEY=VALUE or grant the account without them";
        let m = Message::new(text);
        assert_eq!(m.text(), text);
        assert_eq!(m.to_string(), text);
        assert!(
            m.packed().len() * 4 < text.len(),
            "{} bytes",
            m.packed().len()
        );
        assert!(m.contains("aws:PrincipalOrgID"));
        assert!(!m.contains("aws:SourceVpce"));
    }

    #[test]
    fn text_without_phrases_is_kept_as_it_is() {
        for text in ["", "x", "é", "plain words", "\u{FFFD}\u{10FFFF}", "ab\0cd"] {
            let m = Message::new(text);
            assert_eq!(m.text(), text);
            assert!(matches!(m.text(), Cow::Borrowed(_)) || m.packed().iter().any(|&b| b >= FIRST));
        }
    }

    #[test]
    fn equal_texts_pack_equal_and_different_texts_differently() {
        let a = Message::new("the condition key aws:SourceVpce");
        let b = Message::from(String::from("the condition key aws:SourceVpce"));
        let c = Message::new("the condition key aws:SourceVpc");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, "the condition key aws:SourceVpce");
    }

    #[test]
    fn json_and_debug_show_the_text() {
        let m = Message::new("statement 1 (Sid \"x\") grants account 123");
        assert_eq!(
            serde_json::to_string(&m).expect("serialises"),
            r#""statement 1 (Sid \"x\") grants account 123""#
        );
        assert_eq!(
            format!("{m:?}"),
            r#""statement 1 (Sid \"x\") grants account 123""#
        );
    }

    #[test]
    fn a_message_written_in_parts_packs_its_fixed_parts_and_reads_the_same() {
        let (label, account, owner) = ("statement 1", "100000000007", "444455556666");
        // The fixed parts of the cross-account-write message (eval/findings.rs).
        let text = format!(
            "{label} grants account {account} beyond pulling, to an account that is neither \
             the audited account 111122223333 nor the registry's owner {owner}; grant it only \
             what it needs"
        );
        let m = Message::from(format_args!(
            "{} grants {} beyond pulling, to {} neither the audited account {} nor {}; grant {} only what {} needs",
            label,
            format_args!("account {account}"),
            "an account that is",
            "111122223333",
            format_args!("the registry's owner {owner}"),
            "it",
            "it"
        ));
        assert_eq!(m.text(), text);
        assert!(
            m.packed().len() * 2 < text.len(),
            "{} bytes",
            m.packed().len()
        );
        // A literal alone, and a long part the table does not hold, read back the same.
        assert_eq!(
            Message::from(format_args!("plain words")).text(),
            "plain words"
        );
        let long = "x".repeat(40) + "ecr:BatchGetImage";
        assert_eq!(
            Message::from(format_args!("{long}: {}", 1)).text(),
            format!("{long}: 1")
        );
    }

    #[test]
    fn every_phrase_written_as_a_part_is_its_code() {
        // `Table::wholes` lets no phrase pass unlooked-up.
        let t = table();
        for (i, p) in t.phrases.iter().enumerate() {
            assert_eq!(&*packed_part(p), [FIRST + (i >> 8) as u8, i as u8], "{p:?}");
        }
    }

    #[test]
    fn numbers_and_fixed_parts_pack_as_the_same_parts_written_as_text() {
        use std::fmt::Write as _;
        for n in [0u64, 7, 10, 99, 100, 999, 1000, 2012, 65_535, u64::MAX] {
            let mut a = Packer::with_capacity(0);
            Write::number(&mut a, n).expect("a packer takes any part");
            let mut b = Packer::with_capacity(0);
            write!(b, "{n}").expect("a packer takes any part");
            let (a, b) = (a.finish(), b.finish());
            assert_eq!(a, b, "{n}");
            assert_eq!(a.text(), n.to_string());
        }
        let mut a = Packer::with_capacity(0);
        phrase!(&mut a, "the registry's owner ").expect("a packer takes any part");
        phrase!(&mut a, "ab").expect("a packer takes any part");
        phrase!(
            &mut a,
            "a part longer than sixteen bytes, ecr:BatchGetImage"
        )
        .expect("a packer takes any part");
        let a = a.finish();
        let b = Message::from(format_args!(
            "{}{}{}",
            "the registry's owner ", "ab", "a part longer than sixteen bytes, ecr:BatchGetImage"
        ));
        assert_eq!(a, b);
        let mut text = String::new();
        phrase!(&mut text, "the registry's owner ").expect("a string takes any part");
        Write::number(&mut text, 42).expect("a string takes any part");
        assert_eq!(text, "the registry's owner 42");
    }

    fn phrase_soup() -> impl Strategy<Value = String> {
        let n = table().phrases.len();
        proptest::collection::vec(
            prop_oneof![
                (0..n).prop_map(|i| table().phrases[i].to_owned()),
                any::<String>(),
                "[a-z :,.\"()]{0,6}",
            ],
            0..12,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn any_text_written_in_parts_round_trips(a in phrase_soup(), b in phrase_soup(), n in any::<u32>()) {
            let m = Message::from(format_args!("{a}{n}{b}: {}", a.len()));
            prop_assert_eq!(m.text(), format!("{a}{n}{b}: {}", a.len()));
        }

        #[test]
        fn any_text_round_trips(text in phrase_soup()) {
            let m = Message::new(&text);
            prop_assert_eq!(m.text(), text.as_str());
            prop_assert_eq!(m.to_string(), text.clone());
            prop_assert_eq!(Message::new(&m.text()), m);
        }
    }
}

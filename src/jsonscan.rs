//! Scanning JSON text by bytes, for the hand-written readers that take the common shapes in one
//! pass and leave everything else to serde_json (`input/quick.rs`, `policy/plain.rs`, the
//! statement split in `policy/validate.rs`, `record::decode_literal`): JSON whitespace, and the
//! bytes a plain string stops at (a quote, a backslash, a control character), eight at a time.

const ONES: u64 = u64::from_le_bytes([1; 8]);
const HIGH: u64 = ONES * 0x80;

/// The byte a two-character JSON escape `\c` stands for, by `c`; 0 where `\c` is none (`\u`
/// included: the readers here leave it to serde_json).
pub(crate) const ESCAPES: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'/' as usize] = b'/';
    t[b'b' as usize] = 0x08;
    t[b'f' as usize] = 0x0c;
    t[b'n' as usize] = b'\n';
    t[b'r' as usize] = b'\r';
    t[b't' as usize] = b'\t';
    t
};

/// Whether the ASCII byte `b` is a character `char::is_whitespace` takes: tab to carriage
/// return, and space (`u8::is_ascii_whitespace` leaves out the vertical tab). For readers that
/// test text by bytes where it is ASCII; every other whitespace character is not.
pub(crate) fn is_ascii_space(b: u8) -> bool {
    matches!(b, b'\t'..=b'\r' | b' ')
}

/// Whether a string stops being plain at `c`: a quote, a backslash or a control character
/// (serde_json rejects the last in a string).
pub(crate) fn is_special(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

/// The special bytes (see [`is_special`]) of `word` as a mask with the high bit of each byte:
/// the lowest bit set is exact, so `trailing_zeros() / 8` is the first one's position (bytes
/// above it may be marked wrongly: a borrow runs upwards). Zero when there is none.
pub(crate) fn special(word: [u8; 8]) -> u64 {
    // The bit-twiddling hack "hasless": `(y - n·ONES) & !y & HIGH` marks the bytes of `y` below
    // `n` (n <= 0x80); a quote is a byte of `x ^ '"'·ONES` below 1. The three tests share their
    // `!y & HIGH`, which is `!x & HIGH` for each (a quote, a backslash and 0x20 have the high
    // bit clear), so it is applied once.
    // Little-endian: the first byte is the lowest.
    let x = u64::from_le_bytes(word);
    let quote = (x ^ (ONES * u64::from(b'"'))).wrapping_sub(ONES);
    let backslash = (x ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES);
    let control = x.wrapping_sub(ONES * 0x20);
    (quote | backslash | control) & !x & HIGH
}

/// The first index from `j` whose byte is special (see [`is_special`]), or `b.len()`: eight
/// bytes at a time (a statement's strings are tens of bytes; a byte loop costs several
/// instructions a byte), the last few one by one. Taken as an index, not a slice, and inlined:
/// through a slice and a call a short string cost `quick`'s string test 79 instructions.
#[inline]
pub(crate) fn next_special(b: &[u8], mut j: usize) -> usize {
    while let Some(word) = b.get(j..).and_then(<[u8]>::first_chunk::<8>) {
        let found = special(*word);
        if found != 0 {
            return j + (found.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while b.get(j).is_some_and(|&c| !is_special(c)) {
        j += 1;
    }
    j
}

/// The index after the closing quote of the string whose contents start at `j`, escapes
/// followed (the byte after a backslash is skipped with it); control characters are not looked
/// for (a caller that only splits text leaves them to serde_json). Eight bytes at a time, a
/// word test of two bytes, not three.
pub(crate) fn string_end(b: &[u8], mut j: usize) -> Option<usize> {
    loop {
        while let Some(word) = b.get(j..).and_then(<[u8]>::first_chunk::<8>) {
            let x = u64::from_le_bytes(*word);
            // As in `special`: each test's `!y & HIGH` is `!x & HIGH`.
            let quote = (x ^ (ONES * u64::from(b'"'))).wrapping_sub(ONES);
            let backslash = (x ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES);
            let found = (quote | backslash) & !x & HIGH;
            if found != 0 {
                j += (found.trailing_zeros() / 8) as usize;
                break;
            }
            j += 8;
        }
        match *b.get(j)? {
            b'"' => return Some(j + 1),
            b'\\' => j += 2,
            _ => j += 1,
        }
    }
}

/// The first index from `i` that is not JSON whitespace (RFC 8259: space, tab, line feed,
/// carriage return).
pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// The string literal at `i` when it has no escape and no control character: its contents and
/// the index after its closing quote.
pub(crate) fn plain_string(text: &str, i: usize) -> Option<(&str, usize)> {
    let next = plain_end(text.as_bytes(), i)?;
    Some((&text[i + 1..next - 1], next))
}

/// [`plain_string`]'s end alone: the index after the closing quote.
pub(crate) fn plain_end(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    plain_close::<false>(b, i + 1)
}

/// The index after the closing quote of a string whose contents start at `j`, when they have
/// no escape and no control character: the quote is `"`, or with `E` (a document inside a JSON
/// string literal, see [`escaped`]) `\"`.
pub(crate) fn plain_close<const E: bool>(b: &[u8], j: usize) -> Option<usize> {
    let k = next_special(b, j);
    if E {
        (b.get(k) == Some(&b'\\') && b.get(k + 1) == Some(&b'"')).then_some(k + 2)
    } else {
        (b.get(k) == Some(&b'"')).then_some(k + 1)
    }
}

/// The index after the closing quote of the JSON string literal at `i` (its opening quote),
/// when it is of the kind [`crate::record::decode_literal`] decodes: every escape one of the
/// two-character ones in [`ESCAPES`] (no `\u`), no control character. `None` otherwise. It
/// copies nothing: a policy kept as its literal is then read in place
/// ([`crate::policy::parse_text`]).
///
/// A policy's literal has an escape every eight bytes or so (`\"` around every string). Taking
/// each word's special bytes one after the other from an exact mask, an escape straddling two
/// words carried into the next, cost 5 % more than this loop; judging a word whole from its
/// masks (the bytes after its backslashes escaped, its first quote not escaped the end) cost
/// 10 % more: the exact masks of eight bytes take more instructions than the stops they save.
pub(crate) fn checked_string_end(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        j = next_special(b, j);
        match *b.get(j)? {
            b'"' => return Some(j + 1),
            b'\\' if ESCAPES[usize::from(*b.get(j + 1)?)] != 0 => j += 2,
            _ => return None,
        }
    }
}

/// Reading a policy document in place, inside the JSON string literal that holds it (the
/// literal's contents, between its quotes, as [`checked_string_end`] accepts them): the document's
/// quotes are written `\"`, and the whitespace between its tokens is a space or one of the
/// escapes `\n`, `\t`, `\r`. A reader in this mode takes only documents whose strings hold no
/// escape of their own (what the plain readers take too); anything else is left to the decoded
/// text.
pub(crate) mod escaped {
    /// The first index from `i` that is not whitespace of the document: a space, or an escape
    /// `\n`, `\t`, `\r` (a raw control byte cannot be in the literal).
    pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
        loop {
            match b.get(i) {
                Some(b' ') => i += 1,
                Some(b'\\') if matches!(b.get(i + 1), Some(b'n' | b't' | b'r')) => i += 2,
                _ => return i,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The next of a xorshift sequence: pseudo-random bytes for the tests, the same each run.
    fn next(seed: &mut u64) {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
    }

    /// The end of a string found eight bytes at a time is the end found byte by byte.
    #[test]
    fn a_string_ends_at_its_first_unescaped_quote() {
        let naive = |b: &[u8], mut j: usize| loop {
            match *b.get(j)? {
                b'"' => return Some(j + 1),
                b'\\' => j += 2,
                _ => j += 1,
            }
        };
        let alphabet = [
            0u8, 0x1f, b' ', b'"', b'\\', b'{', b'}', b'a', 0x7f, 0x80, 0xdc, 0xff, b'a', b'b',
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..50_000 {
            next(&mut seed);
            let len = (seed % 40) as usize;
            let b: Vec<u8> = (0..len)
                .map(|k| alphabet[((seed >> (k % 16 * 4)) as usize ^ k) % alphabet.len()])
                .collect();
            for j in 0..=len.min(3) {
                assert_eq!(string_end(&b, j), naive(&b, j), "{b:?} {j}");
            }
        }
        assert_eq!(string_end(br#""abc" x"#, 1), Some(5));
        assert_eq!(string_end(br#""a\"bcdefghij" x"#, 1), Some(14));
        assert_eq!(string_end(br#""abcdefgh\"#, 1), None);
        assert_eq!(string_end(br#""abcdefgh\\" x"#, 1), Some(12));
    }

    /// The checked end, found by the eight-bytes-at-a-time scan, is the one found byte by byte;
    /// and it is where serde_json's string ends, when serde_json reads the string (which it may
    /// also do with `\u`, which this leaves to it).
    #[test]
    fn a_checked_string_ends_where_a_byte_loop_and_serde_json_say() {
        let naive = |b: &[u8]| {
            if b.first() != Some(&b'"') {
                return None;
            }
            let mut j = 1;
            loop {
                match *b.get(j)? {
                    b'"' => return Some(j + 1),
                    b'\\' if ESCAPES[usize::from(*b.get(j + 1)?)] != 0 => j += 2,
                    c if c < 0x20 || c == b'\\' => return None,
                    _ => j += 1,
                }
            }
        };
        let alphabet = [
            b'"', b'\\', b'\\', b'\\', b'n', b'u', b'x', b'/', b't', 0u8, 0x1f, b' ', b'a', 0x7f,
            0x80, 0xc3, 0xa9, b'{',
        ];
        let mut seed = 0x853c_49e6_748f_ea9bu64;
        for _ in 0..100_000 {
            next(&mut seed);
            let len = (seed % 30) as usize;
            let mut b = vec![b'"'];
            // Mostly plain bytes, so that strings run over several words.
            b.extend((0..len).map(|k| {
                let r = (seed >> (k % 20 * 3)) as usize ^ (k * 7);
                if r % 3 == 0 {
                    alphabet[r / 3 % alphabet.len()]
                } else {
                    b'a'
                }
            }));
            let found = checked_string_end(&b, 0);
            assert_eq!(found, naive(&b), "{b:?}");
            if let Some(end) = found {
                if let Ok(text) = std::str::from_utf8(&b[..end]) {
                    assert!(serde_json::from_str::<String>(text).is_ok(), "{text:?}");
                }
            }
        }
        // An escape across the border of the first eight bytes.
        assert_eq!(checked_string_end(br#""abcdefg\\"x"#, 0), Some(11));
        assert_eq!(checked_string_end(br#""abcdefg\"x"#, 0), None);
        assert_eq!(checked_string_end(br#""abcdefg\"xyzabcdef" "#, 0), Some(20));
        assert_eq!(checked_string_end(br#""abcdefg\n" "#, 0), Some(11));
        assert_eq!(checked_string_end(br#""abcdefg\u0041""#, 0), None);
        assert_eq!(checked_string_end(br#""abcdefg\xabcdefgh""#, 0), None);
        assert_eq!(checked_string_end(b"\"abcdefghij\tk\"", 0), None);
        assert_eq!(checked_string_end(br#"x"a""#, 0), None);
    }

    #[test]
    fn an_ascii_space_is_what_char_whitespace_takes() {
        for b in 0u8..0x80 {
            assert_eq!(is_ascii_space(b), char::from(b).is_whitespace(), "{b:#x}");
        }
    }

    #[test]
    fn a_plain_string_is_found_with_its_end_or_not_at_all() {
        assert_eq!(plain_string(r#"  "abc" x"#, 2), Some(("abc", 7)));
        assert_eq!(plain_string(r#""""#, 0), Some(("", 2)));
        assert_eq!(plain_string(r#""a\"b""#, 0), None);
        assert_eq!(plain_string("\"a\tb\"", 0), None);
        assert_eq!(plain_string(r#""abc"#, 0), None);
        assert_eq!(plain_string(r#"x"abc""#, 0), None);
        assert_eq!(skip_ws(b" \t\r\n x", 0), 5);
        assert_eq!(skip_ws(b"  ", 1), 2);
    }

    /// The shared form of the word test marks exactly the bytes the three tests written out
    /// apart mark.
    #[test]
    fn the_word_test_is_the_three_tests_together() {
        fn below(x: u64, n: u8) -> u64 {
            x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH
        }
        let apart = |x: u64| {
            below(x ^ (ONES * u64::from(b'"')), 1)
                | below(x ^ (ONES * u64::from(b'\\')), 1)
                | below(x, 0x20)
        };
        let alphabet = [
            0u8, 1, 0x1f, 0x20, 0x21, b'"', b'#', b'[', b'\\', b']', 0x7f, 0x80, 0xa2, 0xdc, 0xff,
            b'a',
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..50_000 {
            next(&mut seed);
            let word: [u8; 8] =
                std::array::from_fn(|k| alphabet[(seed >> (k * 4)) as usize % alphabet.len()]);
            assert_eq!(special(word), apart(u64::from_le_bytes(word)), "{word:?}");
            assert_eq!(special(seed.to_le_bytes()), apart(seed), "{seed:#x}");
        }
    }

    #[test]
    fn next_special_stops_at_the_first_quote_backslash_or_control_character() {
        let naive = |b: &[u8]| {
            b.iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                .unwrap_or(b.len())
        };
        for len in 0..40 {
            let base: Vec<u8> = (0..len).map(|i| b' ' + (i % 90) as u8).collect();
            let base: Vec<u8> = base
                .into_iter()
                .map(|c| if c == b'"' || c == b'\\' { b'a' } else { c })
                .collect();
            assert_eq!(next_special(&base, 0), len);
            for at in 0..len {
                for special in [
                    b'"', b'\\', 0, 0x1f, b' ', 0x7f, 0x80, 0xff, b'!', b'#', b'[', b']',
                ] {
                    let mut b = base.clone();
                    b[at] = special;
                    assert_eq!(next_special(&b, 0), naive(&b), "{b:?}");
                }
            }
        }
        // Many special bytes, in every order: a pseudo-random walk over bytes near the
        // borders (0x1f/0x20, '"' and '\\' and their neighbours, 0x7f/0x80, 0xff).
        let alphabet = [
            0u8, 1, 0x1f, 0x20, 0x21, b'"', b'#', b'[', b'\\', b']', 0x7f, 0x80, 0xa2, 0xdc, 0xff,
            b'a',
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            next(&mut seed);
            let len = (seed % 24) as usize;
            let b: Vec<u8> = (0..len)
                .map(|k| alphabet[((seed >> (k * 2 % 60)) as usize ^ k) % alphabet.len()])
                .collect();
            assert_eq!(next_special(&b, 0), naive(&b), "{b:?}");
        }
    }
}

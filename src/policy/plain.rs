//! A hand-written reader for a statement object of the common shape, which serde_json would read
//! token by token through the loose visitors of [`raw`](super::raw) at several times the cost.
//!
//! It takes only JSON it can read exactly as serde_json does, and gives the same
//! [`RawStatement`]: the known statement keys (case-sensitive, each value of the type the model
//! wants: a string, a list of strings, a principal object, a condition object of objects),
//! strings without escapes or control characters (borrowed from the text), JSON whitespace, and
//! nothing after the object. Anything else — an escape, a number, `null`, an unknown key, a value
//! of another type, a syntax error — is `None`, and the caller reads the text with serde_json,
//! which also says what is wrong. A test compares the two readers on mutated statements.

use std::borrow::Cow;

use super::raw::{
    CondValues, Items, RawConditionBlock, RawOperatorBody, RawPrincipal, RawStatement, Strings,
    Text, set,
};

struct Reader<'a> {
    text: &'a str,
    i: usize,
}

impl<'a> Reader<'a> {
    /// The next byte after JSON whitespace (RFC 8259: space, tab, line feed, carriage return).
    fn peek(&mut self) -> Option<u8> {
        let b = self.text.as_bytes();
        while let Some(&c) = b.get(self.i) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(c);
            }
            self.i += 1;
        }
        None
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// A string without escapes or control characters (serde_json rejects the latter), as its
    /// contents.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let b = self.text.as_bytes();
        let start = self.i;
        let end = start + plain_len(&b[start..]);
        if b.get(end) != Some(&b'"') {
            return None;
        }
        self.i = end + 1;
        Some(&self.text[start..end])
    }

    /// An object, `entry` reading the value of each key.
    fn object(&mut self, mut entry: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            entry(self, key)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A string, or an array of them; `bools`: `true` and `false` too, as condition values,
    /// which IAM (and the loose reader) take as the strings "true" and "false".
    fn strings(&mut self, bools: bool) -> Option<Items> {
        if self.peek()? != b'[' {
            return Some(Items::one(self.item(bools)?));
        }
        self.i += 1;
        let mut strings = Vec::with_capacity(4);
        if self.peek()? == b']' {
            self.i += 1;
        } else {
            loop {
                strings.push(self.item(bools)?);
                match self.peek()? {
                    b',' => self.i += 1,
                    b']' => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        Some(Items {
            strings,
            wrong: Vec::new(),
        })
    }

    fn item(&mut self, bools: bool) -> Option<String> {
        if bools && self.peek()? != b'"' {
            let rest = &self.text.as_bytes()[self.i..];
            for word in ["true", "false"] {
                if rest.starts_with(word.as_bytes()) {
                    // What follows is checked by the caller (a separator, or `None`).
                    self.i += word.len();
                    return Some(word.to_owned());
                }
            }
        }
        self.string().map(str::to_owned)
    }

    fn principal(&mut self) -> Option<RawPrincipal<'a>> {
        if self.peek()? == b'"' {
            return Some(RawPrincipal::Str(Cow::Borrowed(self.string()?)));
        }
        let mut entries = Vec::with_capacity(1);
        self.object(|r, kind| {
            entries.push((Cow::Borrowed(kind), Strings::List(r.strings(false)?)));
            Some(())
        })?;
        Some(RawPrincipal::Map(entries))
    }

    fn condition(&mut self) -> Option<RawConditionBlock<'a>> {
        let mut operators = Vec::with_capacity(1);
        self.object(|r, operator| {
            let mut keys = Vec::with_capacity(1);
            r.object(|r, key| {
                keys.push((Cow::Borrowed(key), CondValues::List(r.strings(true)?)));
                Some(())
            })?;
            operators.push((Cow::Borrowed(operator), RawOperatorBody::Map(keys)));
            Some(())
        })?;
        Some(RawConditionBlock::Map(operators))
    }
}

/// How many bytes at the start of `b` are neither `"`, `\\` nor a control character: eight at a
/// time (a statement's strings are tens of bytes; a byte loop costs several instructions a
/// byte), the last few one by one.
pub(super) fn plain_len(b: &[u8]) -> usize {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    // The high bit of each byte of `x` below `n` (n <= 0x80), and maybe of bytes above the
    // first such byte (a borrow runs upwards), never below it: the lowest bit set is exact (the
    // bit-twiddling hack "hasless").
    fn below(x: u64, n: u8) -> u64 {
        x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH
    }
    let mut i = 0;
    while let Some(word) = b[i..].first_chunk::<8>() {
        // Little-endian: the first byte is the lowest.
        let x = u64::from_le_bytes(*word);
        let found = below(x ^ (ONES * u64::from(b'"')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1)
            | below(x, 0x20);
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + b[i..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .unwrap_or(b.len() - i)
}

/// The statement object `text` holds, read as serde_json would read it, or `None` when it is not
/// of the common shape.
pub(super) fn statement(text: &str) -> Option<RawStatement<'_>> {
    let mut r = Reader { text, i: 0 };
    let mut s = RawStatement::default();
    r.object(|r, key| {
        let dup = &mut s.duplicate_keys;
        match key {
            "Sid" => set(
                &mut s.sid,
                Text::Str(Cow::Borrowed(r.string()?)),
                dup,
                "Sid",
            ),
            "Effect" => set(
                &mut s.effect,
                Text::Str(Cow::Borrowed(r.string()?)),
                dup,
                "Effect",
            ),
            "Principal" => set(&mut s.principal, r.principal()?, dup, "Principal"),
            "NotPrincipal" => set(&mut s.not_principal, r.principal()?, dup, "NotPrincipal"),
            "Action" => set(
                &mut s.action,
                Strings::List(r.strings(false)?),
                dup,
                "Action",
            ),
            "NotAction" => set(
                &mut s.not_action,
                Strings::List(r.strings(false)?),
                dup,
                "NotAction",
            ),
            "Resource" => set(
                &mut s.resource,
                Strings::List(r.strings(false)?),
                dup,
                "Resource",
            ),
            "NotResource" => set(
                &mut s.not_resource,
                Strings::List(r.strings(false)?),
                dup,
                "NotResource",
            ),
            "Condition" => set(&mut s.condition, r.condition()?, dup, "Condition"),
            _ => return None,
        }
        Some(())
    })?;
    (r.peek().is_none()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::plain_len;

    #[test]
    fn plain_len_stops_at_the_first_quote_backslash_or_control_character() {
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
            assert_eq!(plain_len(&base), len);
            for at in 0..len {
                for special in [
                    b'"', b'\\', 0, 0x1f, b' ', 0x7f, 0x80, 0xff, b'!', b'#', b'[', b']',
                ] {
                    let mut b = base.clone();
                    b[at] = special;
                    assert_eq!(plain_len(&b), naive(&b), "{b:?}");
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
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 24) as usize;
            let b: Vec<u8> = (0..len)
                .map(|k| alphabet[((seed >> (k * 2 % 60)) as usize ^ k) % alphabet.len()])
                .collect();
            assert_eq!(plain_len(&b), naive(&b), "{b:?}");
        }
    }
}

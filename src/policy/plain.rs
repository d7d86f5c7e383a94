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

use crate::jsonscan::{plain_string, skip_ws};

use super::raw::{
    CondValues, Items, List, RawConditionBlock, RawOperatorBody, RawPrincipal, RawStatement,
    Strings, Text, set,
};

struct Reader<'a> {
    text: &'a str,
    i: usize,
}

impl<'a> Reader<'a> {
    /// The next byte after JSON whitespace (RFC 8259: space, tab, line feed, carriage return).
    fn peek(&mut self) -> Option<u8> {
        let b = self.text.as_bytes();
        self.i = skip_ws(b, self.i);
        b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// A string without escapes or control characters (serde_json rejects the latter), as its
    /// contents.
    fn string(&mut self) -> Option<&'a str> {
        self.peek()?;
        let (s, next) = plain_string(self.text, self.i)?;
        self.i = next;
        Some(s)
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
    fn strings(&mut self, bools: bool) -> Option<Items<'a>> {
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
            strings: List::Many(strings),
            wrong: Vec::new(),
        })
    }

    fn item(&mut self, bools: bool) -> Option<Cow<'a, str>> {
        if bools && self.peek()? != b'"' {
            let rest = &self.text.as_bytes()[self.i..];
            for word in ["true", "false"] {
                if rest.starts_with(word.as_bytes()) {
                    // What follows is checked by the caller (a separator, or `None`).
                    self.i += word.len();
                    return Some(Cow::Borrowed(word));
                }
            }
        }
        self.string().map(Cow::Borrowed)
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

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

use crate::jsonscan::{plain_close, skip_ws};

use super::operator::{Family, Operator};
use super::raw::{
    CondValues, Items, List, RawConditionBlock, RawOperatorBody, RawPrincipal, RawStatement,
    Strings, Text, set,
};
use super::validate::{action_facts_of, typed, valid_aws_principal};
use super::{ConditionAt, Effect, ListAt, PrincipalKind, Span, StatementBody, ValueAt, WhoAt};

/// Reads `text`; with `E`, a statement written inside a JSON string literal
/// ([`crate::jsonscan::escaped`]): its quotes are `\"`, and its strings must hold no escape.
struct Reader<'a, const E: bool> {
    text: &'a str,
    i: usize,
}

impl<'a, const E: bool> Reader<'a, E> {
    /// The next byte after JSON whitespace (RFC 8259: space, tab, line feed, carriage return).
    /// With `E`, a quote `\"` is `"`, and `i` is left at its second byte, which is where a
    /// string starts for [`Reader::end`]; another escape, or a bare quote (the literal's end),
    /// is a backslash, which nothing takes.
    fn peek(&mut self) -> Option<u8> {
        let b = self.text.as_bytes();
        if E {
            // `escaped::skip_ws` and the quote test in one look at each backslash.
            let mut i = self.i;
            loop {
                match *b.get(i)? {
                    b' ' => i += 1,
                    b'\\' => match b.get(i + 1) {
                        Some(b'"') => {
                            self.i = i + 1;
                            return Some(b'"');
                        }
                        Some(b'n' | b't' | b'r') => i += 2,
                        _ => break,
                    },
                    _ => break,
                }
            }
            self.i = i;
            // A bare quote ends the literal: it is no token of the document. (The quote of a
            // `\"`, where an earlier look left `i`, is the one a backslash comes before.)
            return b.get(i).map(|&c| match c {
                b'"' if i == 0 || b[i - 1] != b'\\' => b'\\',
                c => c,
            });
        }
        self.i = skip_ws(b, self.i);
        b.get(self.i).copied()
    }

    /// For the string whose opening quote is at `i` (after [`Reader::peek`]), when it has no
    /// escape and no control character: where its contents end, and the index after its
    /// closing quote.
    fn end(&self, i: usize) -> Option<(usize, usize)> {
        let b = self.text.as_bytes();
        if b.get(i) != Some(&b'"') {
            return None;
        }
        // With `E`, the quote of a `\"` (where `peek` leaves `i`), never a bare one.
        if E && (i == 0 || b[i - 1] != b'\\') {
            return None;
        }
        let next = plain_close::<E>(b, i + 1)?;
        Some((next - if E { 2 } else { 1 }, next))
    }

    /// Whether the string `"name"` (quotes as the mode writes them) comes next, which is then
    /// eaten.
    fn quoted(&mut self, name: &[u8]) -> bool {
        if self.peek() != Some(b'"') {
            return false;
        }
        let rest = &self.text.as_bytes()[self.i + 1..];
        let close: &[u8] = if E { b"\\\"" } else { b"\"" };
        let found = rest.starts_with(name) && rest[name.len()..].starts_with(close);
        if found {
            self.i += 1 + name.len() + close.len();
        }
        found
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// A string without escapes or control characters (serde_json rejects the latter), as its
    /// contents.
    fn string(&mut self) -> Option<&'a str> {
        self.peek()?;
        let (end, next) = self.end(self.i)?;
        let s = &self.text[self.i + 1..end];
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
    let mut r = Reader::<false> { text, i: 0 };
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

/// The strings and lists of a statement read by [`body`], kept as they are read: spans of the
/// statement's text, which the buffer will start with, and of `extra`, which follows it there.
struct Parts {
    /// The strings that are not spans of the text (lower-cased condition keys), their spans
    /// counted from the start of `extra` until the statement's end is known.
    extra: String,
    /// Bit `n` set: the `key_lower` of condition `n` is a span of `extra` (at most 64
    /// conditions: [`Reader::conditions`] takes at most eight operators of eight keys).
    lowered: u64,
    spans: Vec<Span>,
    values: Vec<ValueAt>,
    conditions: Vec<ConditionAt>,
}

impl<'a, const E: bool> Reader<'a, E> {
    /// A string without escapes or control characters, as its place in the text.
    fn span(&mut self) -> Option<Span> {
        self.peek()?;
        let (end, next) = self.end(self.i)?;
        let start = self.i + 1;
        self.i = next;
        Some(Span { start, end })
    }

    /// A statement key (written without escapes), as its index in [`STATEMENT_KEYS`]: found by
    /// its first letter (the fifth for `Not…`), then compared whole.
    fn statement_key(&mut self) -> Option<usize> {
        if self.peek()? != b'"' {
            return None;
        }
        let rest = &self.text.as_bytes()[self.i + 1..];
        // Each comparison with a constant, which the compiler writes as a few word loads.
        let (k, len) = match *rest.first()? {
            b'S' if rest.starts_with(b"Sid") => (0, 3),
            b'E' if rest.starts_with(b"Effect") => (1, 6),
            b'P' if rest.starts_with(b"Principal") => (2, 9),
            b'N' if rest.starts_with(b"NotPrincipal") => (3, 12),
            b'A' if rest.starts_with(b"Action") => (4, 6),
            b'N' if rest.starts_with(b"NotAction") => (5, 9),
            b'R' if rest.starts_with(b"Resource") => (6, 8),
            b'N' if rest.starts_with(b"NotResource") => (7, 11),
            b'C' if rest.starts_with(b"Condition") => (8, 9),
            _ => return None,
        };
        debug_assert_eq!(STATEMENT_KEYS[k].len(), len);
        // The closing quote.
        let close = if E {
            rest.get(len..len + 2) == Some(b"\\\"")
        } else {
            rest.get(len) == Some(&b'"')
        };
        if !close {
            return None;
        }
        self.i += 1 + len + if E { 2 } else { 1 };
        Some(k)
    }

    fn at(&self, s: Span) -> &'a str {
        &self.text[s.range()]
    }

    /// The separator after an element of an object or array: `Some(true)` after a comma (more
    /// follows), `Some(false)` at `close`, which is eaten.
    fn more(&mut self, close: u8) -> Option<bool> {
        let c = self.peek()?;
        self.i += 1;
        if c == b',' {
            Some(true)
        } else {
            (c == close).then_some(false)
        }
    }

    /// A string or a non-empty array of strings, its spans pushed as one run.
    fn list(&mut self, spans: &mut Vec<Span>) -> Option<Span> {
        let start = spans.len();
        if self.peek()? == b'[' {
            self.i += 1;
            loop {
                // An empty array is an error: `]` is no string.
                spans.push(self.span()?);
                if !self.more(b']')? {
                    break;
                }
            }
        } else {
            spans.push(self.span()?);
        }
        Some(Span {
            start,
            end: spans.len(),
        })
    }

    /// `Principal` / `NotPrincipal`: `"*"`, or a non-empty object of principal kinds, each once,
    /// whose `AWS` values IAM accepts.
    fn who(&mut self, p: &mut Parts) -> Option<WhoAt> {
        let mut who = WhoAt::default();
        if self.peek()? == b'"' {
            // A string must be "*" (written so, without an escape).
            who.star = self.quoted(b"*");
            return who.star.then_some(who);
        }
        self.eat(b'{')?;
        let mut kinds = 0u8;
        loop {
            let k = if self.quoted(b"AWS") {
                0
            } else {
                let key = self.string()?;
                PrincipalKind::ALL.iter().position(|k| k.as_str() == key)?
            };
            self.eat(b':')?;
            if kinds & (1 << k) != 0 {
                return None;
            }
            kinds |= 1 << k;
            let kind = PrincipalKind::ALL[k];
            let run = self.list(&mut p.spans)?;
            let values = &p.spans[run.range()];
            if kind == PrincipalKind::Aws {
                if !values.iter().all(|&v| valid_aws_principal(self.at(v))) {
                    return None;
                }
                who.aws = run;
            } else {
                who.others.extend(values.iter().map(|v| (kind, *v)));
            }
            if !self.more(b'}')? {
                return Some(who);
            }
        }
    }

    /// `Condition`: a non-empty object of known operators, each once, each a non-empty object
    /// of keys (each once, ignoring ASCII case) with their values.
    fn conditions(&mut self, p: &mut Parts) -> Option<()> {
        /// More operators or keys in one object go the long way (which finds a name given
        /// twice through a set).
        const FEW: usize = 8;
        self.eat(b'{')?;
        // Room for the usual one or two conditions at once (a first push would grow from
        // nothing, a slower path of the allocator).
        p.conditions = Vec::with_capacity(4);
        p.values = Vec::with_capacity(4);
        let mut operators = [Span::default(); FEW];
        for n in 0..=FEW {
            let name = self.span()?;
            self.eat(b':')?;
            if n == FEW || operators[..n].iter().any(|&o| self.at(o) == self.at(name)) {
                return None;
            }
            operators[n] = name;
            let operator = Operator::parse(self.at(name))?;
            let family = operator.base.family();
            self.eat(b'{')?;
            let mut keys = [Span::default(); FEW];
            for n in 0..=FEW {
                let key = self.span()?;
                self.eat(b':')?;
                let k = self.at(key);
                if n == FEW
                    || keys[..n]
                        .iter()
                        .any(|&o| self.at(o).eq_ignore_ascii_case(k))
                {
                    return None;
                }
                keys[n] = key;
                let start = p.values.len();
                if self.peek()? == b'[' {
                    self.i += 1;
                    loop {
                        self.value(p, family)?;
                        if !self.more(b']')? {
                            break;
                        }
                    }
                } else {
                    self.value(p, family)?;
                }
                // Key names are case-insensitive: a lower-cased copy when it differs.
                let key_lower = if k.bytes().any(|c| c.is_ascii_uppercase()) {
                    p.lowered |= 1 << p.conditions.len();
                    let start = p.extra.len();
                    p.extra.push_str(k);
                    p.extra[start..].make_ascii_lowercase();
                    Span {
                        start,
                        end: p.extra.len(),
                    }
                } else {
                    key
                };
                p.conditions.push(ConditionAt {
                    operator,
                    key,
                    key_lower,
                    values: Span {
                        start,
                        end: p.values.len(),
                    },
                });
                if !self.more(b'}')? {
                    break;
                }
            }
            if !self.more(b'}')? {
                return Some(());
            }
        }
        None
    }

    /// One condition value: a string, or `true` / `false`, which IAM takes as those strings.
    fn value(&mut self, p: &mut Parts, family: Family) -> Option<()> {
        let text = if self.peek()? == b'"' {
            self.span()?
        } else {
            let rest = &self.text.as_bytes()[self.i..];
            let len = if rest.starts_with(b"true") {
                4
            } else if rest.starts_with(b"false") {
                5
            } else {
                return None;
            };
            let start = self.i;
            // What follows is checked by the caller (a separator, or `None`).
            self.i += len;
            Span { start, end: self.i }
        };
        let typed = typed(family, self.at(text));
        p.values.push(ValueAt { text, typed });
        Some(())
    }
}

/// A statement of the common shape read and validated in one pass, its strings kept as spans
/// of `text` (which its buffer starts with): the same [`StatementBody`] as
/// [`statement`] then validation would make, without the [`RawStatement`] between. Anything
/// unusual — what [`statement`] does not take, and any problem validation would report, or
/// a rare shape (an empty `Condition`, more than a few operators or keys) — is `None`, and the
/// caller takes the long way, which says what is wrong.
pub(super) fn body(text: &str) -> Option<StatementBody> {
    let (body, end) = read::<false>(text, true)?;
    (skip_ws(text.as_bytes(), end) == text.len()).then_some(body)
}

/// [`body`] of the statement at the start of `text` written inside a JSON string literal (see
/// [`crate::jsonscan::escaped`]; `text` runs on to the end of the document), and the index
/// after its closing brace: the same statement as [`body`] reads in the decoded text, its
/// strings kept as spans of its text as found (a string without escapes is the same bytes
/// either way). `None` for anything [`body`] would not take, and for any escape in a string.
pub(super) fn body_escaped(text: &str) -> Option<(StatementBody, usize)> {
    read::<true>(text, false)
}

/// The statement object at the start of `text`, and the index after its closing brace (what
/// follows is the caller's to check); its buffer starts with its text: all of `text` when
/// `whole`, else up to there.
fn read<const E: bool>(text: &str, whole: bool) -> Option<(StatementBody, usize)> {
    let mut r = Reader::<E> { text, i: 0 };
    let mut p = Parts {
        extra: String::new(),
        lowered: 0,
        spans: Vec::with_capacity(8),
        values: Vec::new(),
        conditions: Vec::new(),
    };
    let (mut sid, mut effect, mut who, mut actions, mut resources) = (None, None, None, None, None);
    let mut seen = 0u16;
    r.eat(b'{')?;
    loop {
        let k = r.statement_key()?;
        r.eat(b':')?;
        if seen & (1 << k) != 0 {
            return None;
        }
        seen |= 1 << k;
        // Principal and NotPrincipal, Action and NotAction, Resource and NotResource are
        // neighbours: each pair is exclusive.
        let not = k % 2 == 1;
        match STATEMENT_KEYS[k] {
            "Sid" => sid = Some(r.span()?),
            "Effect" => {
                effect = Some(if r.quoted(b"Allow") {
                    Effect::Allow
                } else if r.quoted(b"Deny") {
                    Effect::Deny
                } else {
                    return None;
                })
            }
            "Principal" | "NotPrincipal" if who.is_none() => {
                who = Some(WhoAt {
                    not,
                    ..r.who(&mut p)?
                })
            }
            "Action" | "NotAction" if actions.is_none() => {
                r.peek()?;
                let start = r.i;
                let items = r.list(&mut p.spans)?;
                actions = Some((ListAt { not, items }, start..r.i));
            }
            "Resource" | "NotResource" if resources.is_none() => {
                resources = Some(ListAt {
                    not,
                    items: r.list(&mut p.spans)?,
                })
            }
            "Condition" => r.conditions(&mut p)?,
            _ => return None,
        }
        if !r.more(b'}')? {
            break;
        }
    }
    let end = r.i;
    let kept = if whole { text.len() } else { end };
    let (effect, who, (actions, written)) = (effect?, who?, actions?);
    // NotPrincipal only with Deny (AWS).
    if who.not && effect == Effect::Allow {
        return None;
    }
    let (covers, unknown_actions) = action_facts_of(
        &text[written],
        p.spans[actions.items.range()].iter().map(|s| r.at(*s)),
        actions.not,
    );
    // The buffer: the statement's text, then `extra`, whose spans move up behind the text.
    let mut buf = String::with_capacity(kept + p.extra.len());
    buf.push_str(&text[..kept]);
    buf.push_str(&p.extra);
    for (n, c) in p.conditions.iter_mut().enumerate() {
        if p.lowered & (1 << n) != 0 {
            c.key_lower.start += kept;
            c.key_lower.end += kept;
        }
    }
    Some((
        StatementBody {
            text_len: kept,
            buf,
            spans: p.spans,
            sid,
            effect,
            who,
            actions,
            resources,
            conditions: p.conditions,
            values: p.values,
            covers,
            unknown_actions,
        },
        end,
    ))
}

/// The keys of a statement, in the order [`body`] relies on (each negated key after its
/// positive one): the policy elements after a document's own three.
const STATEMENT_KEYS: &[&str] = super::raw::ELEMENTS.split_at(3).1;

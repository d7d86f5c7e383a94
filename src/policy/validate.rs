//! Raw → validated: checks a loosely read document against the IAM policy grammar, collecting
//! every problem with its place, and builds the typed model only when there is none.

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use crate::catalog::{self, ACTIONS};
use crate::finding::{Code, Finding, StatementRef};

use super::glob;
use super::operator::{Family, Operator};
use super::raw::{
    CondValues, Document, Items, RawConditionBlock, RawOperatorBody, RawPolicy, RawPrincipal,
    RawStatement, StatementSlot, Statements, Strings, Text,
};
use super::{
    ConditionAt, Effect, ListAt, Policy, PrincipalKind, Span, Statement, StatementBody, Typed,
    UnknownAction, ValueAt, Version, WhoAt, label, value,
};

const STATEMENT_KEYS: &str =
    "Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource and Condition";

pub(super) fn parse(text: &str) -> Result<Policy, Vec<Finding>> {
    // A leading byte-order mark is common in files saved by Windows tools; JSON itself has none.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match known::parse(text) {
        Some(policy) => Ok(policy),
        None => parse_whole(text),
    }
}

/// [`parse`] of a document written inside a JSON string literal, read in place: `None` when it
/// must be decoded first (see `known::parse_escaped`).
pub(super) fn parse_escaped(text: &str) -> Option<Policy> {
    known::parse_escaped(text)
}

/// [`parse_escaped`] of the document at the start of `text`, which runs on past it: the policy
/// and the index after the document and the whitespace after it (see
/// `known::parse_escaped_prefix`).
pub(super) fn parse_escaped_prefix(text: &str) -> Option<(Policy, usize)> {
    known::parse_escaped_prefix(text)
}

/// The document `text` when the short way reads it (`known::parse`): a JSON object of
/// `Version`, `Id` and `Statement` only, each once, valid JSON throughout, whose policy is valid.
/// `None` for anything else, which [`parse`] reads the long way.
pub(super) fn parse_short(text: &str) -> Option<Policy> {
    known::parse(text)
}

/// Reads and validates the whole document, collecting every problem.
pub(super) fn parse_whole(text: &str) -> Result<Policy, Vec<Finding>> {
    // serde_json stops at 128 levels of nesting with an error, so deep input cannot overflow the
    // stack.
    let doc: Document = serde_json::from_str(text).map_err(|e| {
        let what = if e.to_string().starts_with("recursion limit exceeded") {
            "nesting too deep"
        } else {
            "not valid JSON"
        };
        vec![Finding::new(
            Code::InvalidJson,
            format!("the policy is {what}: {e}"),
        )]
    })?;
    let raw = match doc {
        Document::Object(p) => p,
        Document::Wrong(t) => {
            return Err(vec![Finding::new(
                Code::InvalidPolicy,
                format!(
                    "the policy must be a JSON object, found {}",
                    t.with_article()
                ),
            )]);
        }
    };
    let mut v = Validator::default();
    let policy = v.policy(raw);
    if v.errors.is_empty() {
        Ok(policy)
    } else {
        Err(v.errors)
    }
}

#[derive(Default)]
struct Validator {
    errors: Vec<Finding>,
}

/// Where a problem is: a statement (its `Sid` borrowed: it is copied only into an error).
#[derive(Clone, Copy)]
struct At<'a> {
    index: usize,
    sid: Option<&'a str>,
}

/// The element a list belongs to, for messages: `Action`, or `Principal.AWS` (formatted only
/// when there is a problem to report).
#[derive(Clone, Copy)]
struct Place<'a>(&'a str, Option<PrincipalKind>);

impl std::fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self.1 {
            None => f.write_str(self.0),
            Some(kind) => write!(f, "{}.{}", self.0, kind.as_str()),
        }
    }
}

impl Validator {
    fn doc_error(&mut self, message: String) {
        self.errors.push(Finding::new(Code::InvalidPolicy, message));
    }

    fn error(&mut self, at: &At, message: impl std::fmt::Display) {
        self.errors.push(Finding::at(
            Code::InvalidPolicy,
            format!("{}: {message}", label(at.index, at.sid)),
            StatementRef {
                index: at.index,
                sid: at.sid.map(str::to_owned),
                // An invalid document is judged on its own, never joined.
                registry_policy: false,
            },
        ));
    }

    fn policy(&mut self, raw: RawPolicy) -> Policy {
        for key in &raw.unknown_keys {
            self.doc_error(format!(
                "unknown top-level key {key:?}; a policy has only Version, Id and Statement"
            ));
        }
        for key in &raw.duplicate_keys {
            self.doc_error(format!("the top-level key {key:?} appears more than once"));
        }
        let version = match raw.version {
            None => Version::Missing,
            Some(Text::Str(s)) if s == "2012-10-17" => Version::V2012_10_17,
            Some(Text::Str(s)) if s == "2008-10-17" => Version::V2008_10_17,
            Some(Text::Str(s)) => {
                self.doc_error(format!(
                    "Version must be \"2012-10-17\" or \"2008-10-17\", found {s:?}"
                ));
                Version::Missing
            }
            Some(Text::Wrong(t)) => {
                self.doc_error(format!(
                    "Version must be the string \"2012-10-17\" or \"2008-10-17\", found {}",
                    t.with_article()
                ));
                Version::Missing
            }
        };
        let id = match raw.id {
            None => None,
            Some(Text::Str(s)) => Some(s.into_owned()),
            Some(Text::Wrong(t)) => {
                self.doc_error(format!("Id must be a string, found {}", t.with_article()));
                None
            }
        };
        let mut statements = Vec::new();
        match raw.statement {
            None => self.doc_error("the policy has no Statement".to_owned()),
            Some(Statements::Wrong(t)) => self.doc_error(format!(
                "Statement must be an object or an array of objects, found {}",
                t.with_article()
            )),
            Some(Statements::One(s)) => statements.extend(self.statement(0, *s)),
            Some(Statements::Many(slots)) => {
                statements.reserve(slots.len());
                for (index, slot) in slots.into_iter().enumerate() {
                    match slot {
                        StatementSlot::Statement(s) => statements.extend(self.statement(index, *s)),
                        StatementSlot::Wrong(t) => self.error(
                            &At { index, sid: None },
                            format_args!("must be an object, found {}", t.with_article()),
                        ),
                    }
                }
            }
        }
        Policy {
            version,
            id,
            statements,
        }
    }

    fn statement(&mut self, index: usize, raw: RawStatement) -> Option<Statement> {
        self.statement_of(index, raw, "")
    }

    /// [`Validator::statement`] of a statement read from `text` alone (its raw strings borrowed
    /// from it): the statement's buffer starts with `text`, so that a string borrowed from it is
    /// a span of it, not a copy, and the text is the key the statement is remembered by (see
    /// `known`). `""` for a statement of a whole document.
    fn statement_of(&mut self, index: usize, raw: RawStatement, text: &str) -> Option<Statement> {
        // Room for the lower-cased copies of condition keys, the usual addition.
        let mut buf = String::with_capacity(text.len() + if text.is_empty() { 0 } else { 64 });
        buf.push_str(text);
        let mut b = Builder {
            origin: text,
            buf,
            spans: Vec::with_capacity(8),
            values: Vec::new(),
        };
        let (sid, sid_type) = match raw.sid {
            Some(Text::Str(s)) => (Some(s), None),
            Some(Text::Wrong(t)) => (None, Some(t)),
            None => (None, None),
        };
        let at = At {
            index,
            sid: sid.as_deref(),
        };
        let before = self.errors.len();
        if let Some(t) = sid_type {
            self.error(
                &at,
                format_args!("Sid must be a string, found {}", t.with_article()),
            );
        }
        for key in &raw.unknown_keys {
            self.error(
                &at,
                format_args!("unknown statement key {key:?}; statement keys are {STATEMENT_KEYS}"),
            );
        }
        for key in &raw.duplicate_keys {
            self.error(&at, format_args!("the key {key:?} appears more than once"));
        }

        let effect = match &raw.effect {
            Some(Text::Str(s)) if s == "Allow" => Some(Effect::Allow),
            Some(Text::Str(s)) if s == "Deny" => Some(Effect::Deny),
            Some(Text::Str(s)) => {
                self.error(
                    &at,
                    format_args!("Effect must be \"Allow\" or \"Deny\", found {s:?}"),
                );
                None
            }
            Some(Text::Wrong(t)) => {
                self.error(
                    &at,
                    format_args!(
                        "Effect must be \"Allow\" or \"Deny\", found {}",
                        t.with_article()
                    ),
                );
                None
            }
            None => {
                self.error(&at, "Effect is missing; it must be \"Allow\" or \"Deny\"");
                None
            }
        };

        let who = match (raw.principal, raw.not_principal) {
            (Some(_), Some(_)) => {
                self.error(&at, "has both Principal and NotPrincipal; use exactly one");
                None
            }
            (None, None) => {
                self.error(
                    &at,
                    "has neither Principal nor NotPrincipal; use exactly one",
                );
                None
            }
            (Some(p), None) => self.principals(&mut b, &at, "Principal", p),
            (None, Some(p)) => {
                if effect == Some(Effect::Allow) {
                    self.error(
                        &at,
                        "NotPrincipal cannot be used with \"Allow\"; AWS supports it only with \"Deny\"",
                    );
                }
                self.principals(&mut b, &at, "NotPrincipal", p)
                    .map(|who| WhoAt { not: true, ..who })
            }
        };

        let actions = match (raw.action, raw.not_action) {
            (Some(_), Some(_)) => {
                self.error(&at, "has both Action and NotAction; use exactly one");
                None
            }
            (None, None) => {
                self.error(&at, "has neither Action nor NotAction; use exactly one");
                None
            }
            (Some(a), None) => self
                .strings(&mut b, &at, Place("Action", None), a)
                .map(|items| ListAt { not: false, items }),
            (None, Some(a)) => self
                .strings(&mut b, &at, Place("NotAction", None), a)
                .map(|items| ListAt { not: true, items }),
        };

        let resources = match (raw.resource, raw.not_resource) {
            (Some(_), Some(_)) => {
                self.error(&at, "has both Resource and NotResource; use at most one");
                None
            }
            (None, None) => None,
            (Some(r), None) => self
                .strings(&mut b, &at, Place("Resource", None), r)
                .map(|items| ListAt { not: false, items }),
            (None, Some(r)) => self
                .strings(&mut b, &at, Place("NotResource", None), r)
                .map(|items| ListAt { not: true, items }),
        };

        let conditions = match raw.condition {
            None => Vec::new(),
            Some(block) => self.conditions(&mut b, &at, block),
        };

        if self.errors.len() > before {
            return None;
        }
        let (effect, who, actions) = (effect?, who?, actions?);
        let (covers, unknown_actions) = action_facts(
            b.spans[actions.items.range()]
                .iter()
                .map(|s| &b.buf[s.range()]),
            actions.not,
        );
        let sid = sid.map(|s| b.text(&s));
        Some(Statement {
            index,
            registry: false,
            body: Arc::new(StatementBody {
                text_len: b.origin.len(),
                buf: b.buf,
                spans: b.spans,
                sid,
                effect,
                who,
                actions,
                resources,
                conditions,
                values: b.values,
                covers,
                unknown_actions,
            }),
        })
    }

    /// A one-or-many list of strings, kept in the statement's buffer as a run of its spans;
    /// `None` (with errors) if any item is not a string.
    fn strings(&mut self, b: &mut Builder, at: &At, what: Place, raw: Strings) -> Option<Span> {
        match raw {
            Strings::Wrong(t) => {
                self.error(
                    at,
                    format_args!(
                        "{what} must be a string or an array of strings, found {}",
                        t.with_article()
                    ),
                );
                None
            }
            Strings::List(items) if items.is_empty() => {
                self.error(at, format_args!("{what} is an empty array"));
                None
            }
            Strings::List(Items { strings, wrong }) => {
                for (i, t) in &wrong {
                    self.error(
                        at,
                        format_args!(
                            "{what} item {i} must be a string, found {}",
                            t.with_article()
                        ),
                    );
                }
                wrong
                    .is_empty()
                    .then(|| b.list(strings.iter().map(|s| s.as_ref())))
            }
        }
    }

    fn principals(
        &mut self,
        b: &mut Builder,
        at: &At,
        what: &str,
        raw: RawPrincipal,
    ) -> Option<WhoAt> {
        let mut p = WhoAt::default();
        match raw {
            RawPrincipal::Str(s) if s == "*" => p.star = true,
            RawPrincipal::Str(s) => {
                self.error(
                    at,
                    format_args!(
                        "{what} as a string must be \"*\", found {s:?}; name principals as {{\"AWS\": [...]}}"
                    ),
                );
                return None;
            }
            RawPrincipal::Wrong(t) => {
                self.error(
                    at,
                    format_args!(
                        "{what} must be \"*\" or an object of principals, found {}",
                        t.with_article()
                    ),
                );
                return None;
            }
            RawPrincipal::Map(entries) if entries.is_empty() => {
                self.error(at, format_args!("{what} is an empty object"));
                return None;
            }
            RawPrincipal::Map(entries) => {
                let mut ok = true;
                // A key given twice: IAM reads one of them, which one is not knowable.
                if let Some(key) = duplicate(entries.iter().map(|(k, _)| k.as_ref()), false) {
                    ok = false;
                    self.error(at, format_args!("{what} has the key {key:?} twice"));
                }
                for (key, values) in entries {
                    let Some(kind) = PrincipalKind::ALL
                        .iter()
                        .copied()
                        .find(|k| k.as_str() == key)
                    else {
                        ok = false;
                        self.error(
                            at,
                            format_args!(
                                "{what} key {key:?} is not one of AWS, Service, Federated or CanonicalUser"
                            ),
                        );
                        continue;
                    };
                    let place = Place(what, Some(kind));
                    let Some(values) = self.strings(b, at, place, values) else {
                        ok = false;
                        continue;
                    };
                    if kind != PrincipalKind::Aws {
                        p.others
                            .extend(b.spans[values.range()].iter().map(|v| (kind, *v)));
                        continue;
                    }
                    let before = self.errors.len();
                    for v in b.spans[values.range()].iter().map(|s| &b.buf[s.range()]) {
                        // IAM allows "*" on its own, never inside an ARN.
                        if v != "*" && has_wildcard(v) {
                            self.error(
                                at,
                                format_args!(
                                    "{place} {v:?} has a wildcard, which IAM allows only as \"*\" on its own"
                                ),
                            );
                        } else if let Err(why) = aws_principal(v) {
                            self.error(
                                at,
                                format_args!(
                                    "{place} {v:?} {why}; IAM accepts only \"*\", a 12-digit account id, an IAM or STS ARN (arn:aws:iam::<account>:root, …:user/…, …:role/…, arn:aws:sts::<account>:assumed-role/…) or an IAM unique id"
                                ),
                            );
                        }
                    }
                    if self.errors.len() > before {
                        ok = false;
                    } else if p.aws.start == p.aws.end {
                        p.aws = values;
                    } else {
                        // `AWS` twice is an error above: the statement is not built.
                        ok = false;
                    }
                }
                if !ok {
                    return None;
                }
            }
        }
        Some(p)
    }

    fn conditions(&mut self, b: &mut Builder, at: &At, raw: RawConditionBlock) -> Vec<ConditionAt> {
        let mut out = Vec::new();
        let entries = match raw {
            RawConditionBlock::Wrong(t) => {
                self.error(
                    at,
                    format_args!(
                        "Condition must be an object of operators, found {}",
                        t.with_article()
                    ),
                );
                return out;
            }
            RawConditionBlock::Map(entries) => entries,
        };
        if let Some(name) = duplicate(entries.iter().map(|(k, _)| k.as_ref()), false) {
            self.error(
                at,
                format_args!("Condition has the operator {name:?} twice"),
            );
        }
        for (name, body) in entries {
            let operator = Operator::parse(&name);
            if operator.is_none() {
                let hint = match Operator::suggest(&name) {
                    Some(s) if s != name => format!(" (did you mean {s:?}?)"),
                    _ => String::new(),
                };
                self.error(
                    at,
                    format_args!("unknown condition operator {name:?}{hint}"),
                );
            }
            let keys = match body {
                RawOperatorBody::Wrong(t) => {
                    self.error(
                        at,
                        format_args!(
                            "Condition operator {name:?} must map condition keys to values, found {}",
                            t.with_article()
                        ),
                    );
                    continue;
                }
                RawOperatorBody::Map(keys) => keys,
            };
            // Condition key names are case-insensitive, so `aws:SourceVpce` and `AWS:SOURCEVPCE`
            // under one operator are the same key twice.
            if let Some(key) = duplicate(keys.iter().map(|(k, _)| k.as_ref()), true) {
                self.error(
                    at,
                    format_args!("Condition operator {name:?} has the key {key:?} twice"),
                );
            }
            for (key, values) in keys {
                let values = self.cond_values(b, at, &name, &key, values, operator);
                if let (Some(operator), Some(values)) = (operator, values) {
                    let key_at = b.text(&key);
                    // Most keys are written in lower case after the service ("aws:SourceVpce"
                    // is not): the lower-cased copy only when it differs.
                    let key_lower = if key.bytes().any(|c| c.is_ascii_uppercase()) {
                        b.text(&key.to_ascii_lowercase())
                    } else {
                        key_at
                    };
                    out.push(ConditionAt {
                        operator,
                        key: key_at,
                        key_lower,
                        values,
                    });
                }
            }
        }
        out
    }

    fn cond_values(
        &mut self,
        b: &mut Builder,
        at: &At,
        op: &str,
        key: &str,
        raw: CondValues,
        operator: Option<Operator>,
    ) -> Option<Span> {
        let items = match raw {
            CondValues::Wrong(t) => {
                self.error(
                    at,
                    format_args!(
                        "Condition {op:?} key {key:?} must have a string, number or boolean value or an array of them, found {}",
                        t.with_article()
                    ),
                );
                return None;
            }
            CondValues::List(items) if items.is_empty() => {
                self.error(
                    at,
                    format_args!("Condition {op:?} key {key:?} has no values"),
                );
                return None;
            }
            CondValues::List(items) => items,
        };
        for (i, t) in &items.wrong {
            self.error(
                at,
                format_args!(
                    "Condition {op:?} key {key:?} value {i} must be a string, number or boolean, found {}",
                    t.with_article()
                ),
            );
        }
        if !items.wrong.is_empty() {
            return None;
        }
        let family = operator.map(|o| o.base.family());
        let start = b.values.len();
        for text in &items.strings {
            let typed = family.map_or(Typed::Text, |f| typed(f, text));
            let text = b.text(text);
            b.values.push(ValueAt { text, typed });
        }
        Some(Span {
            start,
            end: b.values.len(),
        })
    }
}

/// The buffer a statement's strings are kept in while it is validated, with the spans of its
/// lists and its condition values (see `StatementBody`).
struct Builder<'t> {
    /// The statement's own text, which `buf` starts with (or `""`).
    origin: &'t str,
    buf: String,
    spans: Vec<Span>,
    values: Vec<ValueAt>,
}

impl Builder<'_> {
    /// Where `s` is in the buffer: its place in the statement's text when it is borrowed from
    /// it (the buffer starts with a copy of that text), else a copy at the buffer's end.
    fn text(&mut self, s: &str) -> Span {
        // Addresses only compared, never dereferenced: a string inside the text is a range of
        // its bytes; any other (an unescaped copy, a `'static` word) is a live allocation of
        // its own, which cannot lie inside the text's.
        let offset = (s.as_ptr() as usize).wrapping_sub(self.origin.as_ptr() as usize);
        if offset <= self.origin.len() && s.len() <= self.origin.len() - offset {
            return Span {
                start: offset,
                end: offset + s.len(),
            };
        }
        let start = self.buf.len();
        self.buf.push_str(s);
        Span {
            start,
            end: self.buf.len(),
        }
    }

    /// The strings copied into the buffer, as a run of spans.
    fn list<'s>(&mut self, items: impl Iterator<Item = &'s str>) -> Span {
        let start = self.spans.len();
        for s in items {
            let span = self.text(s);
            self.spans.push(span);
        }
        Span {
            start,
            end: self.spans.len(),
        }
    }
}

/// Reads a policy value once for its operator; one that does not read never matches (IAM).
pub(super) fn typed(family: Family, text: &str) -> Typed {
    let read = match family {
        Family::Numeric => value::number(text).map(Typed::Number),
        Family::Date => value::date(text).map(Typed::Time),
        Family::Ip => value::network(text).map(Typed::Net),
        Family::Bool | Family::Null => value::boolean(text).map(Typed::Bool),
        Family::String | Family::Binary | Family::Arn => Some(Typed::Text),
    };
    read.unwrap_or(Typed::Invalid)
}

/// Whether a pattern has a wildcard (`*` or `?`; bytes, not chars: both are ASCII, which no
/// byte of a multi-byte UTF-8 character equals). `memchr2`: an ARN is tens of bytes.
pub(super) fn has_wildcard(s: &str) -> bool {
    memchr::memchr2(b'*', b'?', s.as_bytes()).is_some()
}

/// The first `:` of `s` splits it (a byte search: cheaper than `split_once` on the short
/// parts of an ARN or an action).
fn split_colon(s: &str) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == b':')?;
    Some((&s[..i], &s[i + 1..]))
}

/// The catalog actions one pattern matches (full `ecr:Name`, case-insensitively: IAM action
/// names are). Exports repeat the same few patterns (`ecr:BatchGetImage`, `ecr:*`) millions of
/// times, in statements that differ elsewhere: each pattern's mask is remembered per worker
/// thread, so no lock is shared.
fn pattern_mask(pattern: &str) -> u128 {
    if pattern == "*" {
        return all_actions();
    }
    PATTERN_MASKS.with_borrow_mut(|cache| {
        if let Some(&mask) = cache.get(pattern) {
            return mask;
        }
        let mask = match_mask(pattern);
        if cache.len() >= PATTERN_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(pattern.to_owned(), mask);
        mask
    })
}

/// [`pattern_mask`] without the cache.
fn match_mask(pattern: &str) -> u128 {
    if !has_wildcard(pattern) {
        // Most patterns name one action: look it up instead of matching all of them.
        return split_colon(pattern)
            .filter(|(service, _)| service.eq_ignore_ascii_case(catalog::SERVICE))
            .and_then(|(_, name)| {
                ACTIONS
                    .iter()
                    .position(|a| a.name.eq_ignore_ascii_case(name))
            })
            .map_or(0, |i| 1 << i);
    }
    if let Some((service, _)) = split_colon(pattern)
        && !has_wildcard(service)
        && !service.eq_ignore_ascii_case(catalog::SERVICE)
    {
        // Another service: no need to try every ECR action.
        return 0;
    }
    let mut mask = 0;
    for (i, full) in FULL_NAMES.iter().enumerate() {
        if glob::matches(pattern, full, true) {
            mask |= 1 << i;
        }
    }
    mask
}

/// Bounds the per-thread cache of patterns, whatever the input holds.
const PATTERN_CACHE_LIMIT: usize = 4096;

thread_local! {
    static PATTERN_MASKS: std::cell::RefCell<rustc_hash::FxHashMap<String, u128>> =
        std::cell::RefCell::new(rustc_hash::FxHashMap::default());
    /// [`action_facts_of`]: an action element's text → the actions it matches and its
    /// patterns that name none (bounded as the patterns are).
    static ACTION_LISTS: std::cell::RefCell<ActionLists> = std::cell::RefCell::default();
}

type ActionLists = rustc_hash::FxHashMap<Box<str>, (u128, Vec<UnknownAction>)>;

/// `ecr:Name` for each catalog action, built once.
static FULL_NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
    ACTIONS
        .iter()
        .map(|a| format!("{}:{}", catalog::SERVICE, a.name))
        .collect()
});

fn all_actions() -> u128 {
    u128::MAX >> (128 - ACTIONS.len())
}

/// What a statement's action element covers in the catalog, and its patterns that name no ECR
/// action.
fn action_facts<'p>(
    patterns: impl Iterator<Item = &'p str>,
    negated: bool,
) -> (u128, Vec<UnknownAction>) {
    let (union, unknown) = actions_matched(patterns);
    (covers(union, negated), unknown)
}

/// The catalog actions some pattern matches, and the patterns that name no ECR action.
fn actions_matched<'p>(patterns: impl Iterator<Item = &'p str>) -> (u128, Vec<UnknownAction>) {
    let mut union = 0;
    let mut unknown = Vec::new();
    for p in patterns {
        let mask = pattern_mask(p);
        union |= mask;
        if mask == 0 {
            unknown.push(unknown_action(p));
        }
    }
    (union, unknown)
}

/// What an action element whose patterns match `union` covers.
fn covers(union: u128, negated: bool) -> u128 {
    // NotAction covers every action that none of its patterns matches.
    if negated {
        all_actions() & !union
    } else {
        union
    }
}

/// [`action_facts`] of an action element written as `written` (its JSON text: a string or an
/// array of strings without escapes), whose patterns are `patterns`. Statements that differ in
/// their principals or conditions mostly repeat a few action lists word for word, so each
/// worker remembers what a list's text matches: one look-up a statement, not one a pattern.
pub(super) fn action_facts_of<'p>(
    written: &str,
    patterns: impl Iterator<Item = &'p str>,
    negated: bool,
) -> (u128, Vec<UnknownAction>) {
    let (union, unknown) = ACTION_LISTS.with_borrow_mut(|lists| {
        if let Some((union, unknown)) = lists.get(written) {
            // Usually none: no call to clone an empty vector.
            let unknown = if unknown.is_empty() {
                Vec::new()
            } else {
                unknown.clone()
            };
            return (*union, unknown);
        }
        let (union, unknown) = actions_matched(patterns);
        if lists.len() >= PATTERN_CACHE_LIMIT {
            lists.clear();
        }
        lists.insert(written.into(), (union, unknown.clone()));
        (union, unknown)
    });
    (covers(union, negated), unknown)
}

fn unknown_action(pattern: &str) -> UnknownAction {
    let (service, name) = match pattern.split_once(':') {
        Some((s, n)) => (s, n),
        None => ("", pattern),
    };
    let not_ecr = !glob::matches(service, catalog::SERVICE, true);
    let suggestion = if has_wildcard(pattern) {
        None
    } else {
        let lower = name.to_ascii_lowercase();
        ACTIONS
            .iter()
            .map(|a| {
                (
                    strsim::damerau_levenshtein(&a.name.to_ascii_lowercase(), &lower),
                    a.name,
                )
            })
            .filter(|(d, n)| *d <= 2.max(n.len() / 6))
            .min_by_key(|(d, _)| *d)
            .map(|(_, n)| format!("{}:{n}", catalog::SERVICE))
    };
    // A name of another service that happens to resemble an ECR action ("s3:GetImage") is not a
    // misspelling worth pointing at; a missing service prefix ("BatchGetImage") is.
    let suggestion = suggestion.filter(|_| !not_ecr || service.is_empty());
    UnknownAction {
        pattern: pattern.to_owned(),
        not_ecr,
        suggestion,
    }
}

/// The first name that `names` holds twice (ignoring ASCII case when `fold`). Linear in the
/// names: a few are compared directly, more go through a hash set (a statement may carry tens of
/// thousands of condition keys).
fn duplicate<'a>(names: impl Iterator<Item = &'a str>, fold: bool) -> Option<&'a str> {
    const FEW: usize = 8;
    // The first few on the stack: most objects have one or two keys.
    let mut seen: [&str; FEW] = [""; FEW];
    let mut count = 0;
    let mut set: rustc_hash::FxHashSet<Cow<'a, str>> = rustc_hash::FxHashSet::default();
    for n in names {
        #[cfg(test)]
        super::steps::add(1);
        if count < FEW {
            if seen[..count].iter().any(|s| {
                if fold {
                    s.eq_ignore_ascii_case(n)
                } else {
                    *s == n
                }
            }) {
                return Some(n);
            }
            seen[count] = n;
            count += 1;
            continue;
        }
        if set.is_empty() {
            set.extend(seen.iter().map(|s| folded(s, fold)));
        }
        if !set.insert(folded(n, fold)) {
            return Some(n);
        }
    }
    None
}

/// `name` as compared by [`duplicate`]: as is, or in ASCII lower case when `fold`.
fn folded(name: &str, fold: bool) -> Cow<'_, str> {
    if fold && name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// The short way for the common document: `Version`, maybe `Id`, and `Statement`, with
/// statements seen before word for word. An estate's policies are assembled from a few
/// templated statements, so each worker keeps the statements it has validated, by their exact
/// text, and a document made of known statements is only split, not read again. Anything
/// unusual — another key, a key twice, a value of another type, an escape in `Version` or
/// `Id`, a statement with a problem, deep nesting — gives `None`, and the whole document is
/// read and validated the long way, which also reports every problem.
mod known {
    use std::cell::RefCell;
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer};
    use serde_json::value::RawValue;

    use super::super::plain;
    use super::super::raw::LoneStatement;
    use super::super::{Policy, Statement, StatementBody, Version};
    use super::Validator;

    /// The bytes of statement text a worker remembers before it starts afresh.
    const REMEMBERED: usize = 1 << 20;
    /// How many hashes of statements seen once a worker remembers: one slot each, found by the
    /// hash's low bits (32 KiB, which stays in the processor's cache; a set that grew to 65,536
    /// hashes cost a cache miss an insertion, 2 % of a distinct scan's time).
    const SEEN: usize = 1 << 12;

    /// What a worker remembers of the statements it validated: those seen at least twice, found
    /// by their text, with the bytes of text held; and the hashes of those seen once.
    ///
    /// A statement is kept only the second time its text is seen (its hash is in its slot of
    /// `seen`): an estate whose statements differ (organisation IDs, VPC endpoints, accounts per
    /// repository) would otherwise fill the cache with statements never seen again, each kept
    /// until the cache starts afresh and its memory cold by then, while a repeated statement
    /// costs one validation more than before. A hash only says "seen": a statement is taken
    /// from the cache by its whole text.
    struct Remembered {
        known: hashbrown::HashTable<Known>,
        bytes: usize,
        /// A hash in its slot (`hash % SEEN`) was seen once; a later hash of the same slot
        /// takes the slot, so a statement that comes back after many others may need a third
        /// sight to be kept.
        seen: Box<[u64; SEEN]>,
        /// How looking up the statements of documents read inside their literal fared lately
        /// (see [`Remembered::looks_up`]): a try is a statement looked up, and pays when it is
        /// found.
        lately: super::super::Lately,
    }

    impl Default for Remembered {
        fn default() -> Self {
            Remembered {
                known: hashbrown::HashTable::new(),
                bytes: 0,
                seen: Box::new([0; SEEN]),
                lately: super::super::Lately::new(1024),
            }
        }
    }

    thread_local! {
        static KNOWN: RefCell<Remembered> = RefCell::default();
    }

    /// A validated statement, compared as its text (which its buffer starts with: the text is
    /// not kept twice), with the hash of its text, and whether that text is as found inside a
    /// JSON string literal ([`plain::body_escaped`]): the two kinds are kept apart.
    struct Known(Arc<StatementBody>, u64, bool);

    impl Known {
        fn text(&self) -> &str {
            &self.0.buf[..self.0.text_len]
        }
    }

    /// What the hash of a statement's text as found inside a JSON string literal is mixed with,
    /// to keep it apart from a decoded text's.
    const ESCAPED: u64 = 0x9e37_79b9_7f4a_7c15;

    fn hash(text: &str) -> u64 {
        use std::hash::BuildHasher;
        rustc_hash::FxBuildHasher.hash_one(text)
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc<'a> {
        #[serde(rename = "Version", default, borrow, deserialize_with = "present")]
        version: Option<&'a RawValue>,
        #[serde(rename = "Id", default, borrow, deserialize_with = "present")]
        id: Option<&'a RawValue>,
        #[serde(rename = "Statement", borrow)]
        statement: &'a RawValue,
    }

    /// Keeps `null` as a value (serde's `Option` would make it absent).
    fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
        <&'de RawValue>::deserialize(d).map(Some)
    }

    /// A JSON string without escapes, as its contents.
    fn plain(raw: &RawValue) -> Option<&str> {
        let s = raw.get().strip_prefix('"')?.strip_suffix('"')?;
        (!s.contains(['\\', '"'])).then_some(s)
    }

    /// The policy document written inside a JSON string literal (its contents, between the
    /// quotes, as [`crate::jsonscan::checked_string_end`] accepts them), read in place: the policy
    /// [`parse`] gives for the decoded text, or `None` when the document is not of the common
    /// shape in this form (an escape in one of its strings, say), and the caller decodes it.
    pub(in crate::policy) fn parse_escaped(text: &str) -> Option<Policy> {
        read_escaped(text, false).map(|(policy, _)| policy)
    }

    /// [`parse_escaped`] of the document at the start of `text`, which runs on past it (the
    /// rest of a line whose JSON string literal holds the document): the policy and the index
    /// after the document and the whitespace after it, where the literal's closing quote must
    /// be. A document read so lies inside a valid literal: the reader takes no bare quote, no
    /// control byte, and no escape but `\"`, `\n`, `\t`, `\r`.
    pub(in crate::policy) fn parse_escaped_prefix(text: &str) -> Option<(Policy, usize)> {
        read_escaped(text, true)
    }

    fn read_escaped(text: &str, prefix: bool) -> Option<(Policy, usize)> {
        // A byte-order mark, which `parse` strips from the decoded text, is a character here.
        let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let text = &text[bom..];
        let mut index = 0;
        let (doc, end) = KNOWN.with_borrow_mut(|r| {
            if r.looks_up() {
                // Each statement found by a split, then looked up among those this worker
                // validated before.
                split::read::<true, _>(text, prefix, |i| {
                    let end = split::object_end::<true>(text.as_bytes(), i)?;
                    let statement = Statement {
                        index,
                        registry: false,
                        body: r.body_escaped(&text[i..end])?,
                    };
                    index += 1;
                    Some((statement, end))
                })
            } else {
                // Each statement read as it comes, in one pass over the document.
                split::read::<true, _>(text, prefix, |i| {
                    let (body, len) = plain::body_escaped(&text[i..])?;
                    let statement = Statement {
                        index,
                        registry: false,
                        body: Arc::new(body),
                    };
                    index += 1;
                    Some((statement, i + len))
                })
            }
        })?;
        let version = match doc.version {
            None => Version::Missing,
            Some("2012-10-17") => Version::V2012_10_17,
            Some("2008-10-17") => Version::V2008_10_17,
            Some(_) => return None,
        };
        Some((
            Policy {
                version,
                id: doc.id.map(str::to_owned),
                statements: doc.statements,
            },
            bom + end,
        ))
    }

    pub(in crate::policy) fn parse(text: &str) -> Option<Policy> {
        // An object only: serde would also fill `Doc` from an array, field by field.
        if !text
            .trim_start_matches([' ', '\t', '\n', '\r'])
            .starts_with('{')
        {
            return None;
        }
        if let Some(doc) = split::document(text) {
            let version = match doc.version {
                None => Version::Missing,
                Some("2012-10-17") => Version::V2012_10_17,
                Some("2008-10-17") => Version::V2008_10_17,
                Some(_) => return None,
            };
            return assemble(version, doc.id.map(str::to_owned), doc.statements);
        }
        let doc: Doc = serde_json::from_str(text).ok()?;
        let version = match doc.version.map(plain) {
            None => Version::Missing,
            Some(Some("2012-10-17")) => Version::V2012_10_17,
            Some(Some("2008-10-17")) => Version::V2008_10_17,
            Some(_) => return None,
        };
        let id = match doc.id {
            None => None,
            Some(raw) => Some(plain(raw)?.to_owned()),
        };
        // Only what the hand-written split leaves comes here (escaped keys, say): rare, so the
        // statements are taken by a second pass.
        let raws: Vec<&str> = match doc.statement.get().as_bytes().first() {
            Some(b'[') => serde_json::from_str::<Vec<&RawValue>>(doc.statement.get())
                .ok()?
                .into_iter()
                .map(RawValue::get)
                .collect(),
            Some(b'{') => vec![doc.statement.get()],
            _ => return None,
        };
        assemble(version, id, raws)
    }

    /// The policy of these statement texts, each validated once per worker.
    fn assemble(version: Version, id: Option<String>, raws: Vec<&str>) -> Option<Policy> {
        let mut statements = Vec::with_capacity(raws.len());
        // The worker's statements looked up once a document, not twice a statement. Reading
        // a statement touches no policy cache of its own, so the borrow cannot be taken twice.
        KNOWN.with_borrow_mut(|r| {
            for (index, raw) in raws.into_iter().enumerate() {
                statements.push(Statement {
                    index,
                    registry: false,
                    body: r.body(raw)?,
                });
            }
            Some(())
        })?;
        Some(Policy {
            version,
            id,
            statements,
        })
    }

    /// A hand-written split of a document of the common shape into its `Version`, `Id` and
    /// statement texts, in one pass over the bytes (serde_json would scan the statements
    /// token by token only to skip them). It checks every byte outside the statements (JSON
    /// whitespace, the three keys once each, `Version` and `Id` as strings without escapes, the
    /// separators, nothing after the document) and finds where each statement object ends
    /// (strings, escapes and nesting followed, no control character in a string). A statement's
    /// own text is then either one validated before (the cache holds only texts serde_json read)
    /// or read by serde_json now, so a document it accepts is one serde_json accepts, split the
    /// same way. Anything else is `None`, and the serde_json path reads the document.
    ///
    /// With `E`, the document is read inside a JSON string literal ([`crate::jsonscan::escaped`]):
    /// quotes are `\"`, and a string with an escape of its own is `None` (the caller decodes).
    mod split {
        use crate::jsonscan::{escaped, plain_close, skip_ws, string_end};

        pub(super) struct Doc<'a, S> {
            pub version: Option<&'a str>,
            pub id: Option<&'a str>,
            pub statements: Vec<S>,
        }

        /// The index after the object that starts at `i`: braces counted outside strings
        /// (brackets and control characters need no look here: the text between is read by
        /// serde_json, or is one it read before). Between strings a statement holds a few
        /// bytes of punctuation, looked at one by one; a string is skipped eight bytes at a
        /// time (a `memchr` call per string and per brace cost more than the bytes between).
        ///
        /// With `E`, inside a JSON string literal (see [`crate::jsonscan::escaped`]): strings
        /// start and end with `\"` and hold no escape of their own (else `None`), whitespace
        /// may be `\n`, `\t`, `\r`, and a bare quote (the literal's end) is `None`.
        pub(super) fn object_end<const E: bool>(b: &[u8], i: usize) -> Option<usize> {
            if b.get(i) != Some(&b'{') {
                return None;
            }
            let mut depth = 0usize;
            let mut j = i;
            loop {
                let c = *b.get(j)?;
                j += 1;
                match c {
                    // A control character in a string is serde_json's to reject, not the
                    // split's.
                    b'"' if !E => {
                        j = string_end(b, j)?;
                        // The usual separators, `":"` and `","`, taken at once.
                        if let Some([b':' | b',', b'"']) = b.get(j..).and_then(<[u8]>::first_chunk)
                        {
                            j = string_end(b, j + 2)?;
                        }
                    }
                    b'"' => return None,
                    b'\\' if E => match *b.get(j)? {
                        b'"' => {
                            j = plain_close::<true>(b, j + 1)?;
                            // The same separators, `\":\"` and `\",\"`.
                            if let Some([b':' | b',', b'\\', b'"']) =
                                b.get(j..).and_then(<[u8]>::first_chunk)
                            {
                                j = plain_close::<true>(b, j + 3)?;
                            }
                        }
                        b'n' | b't' | b'r' => j += 1,
                        _ => return None,
                    },
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j);
                        }
                    }
                    _ => {}
                }
            }
        }

        /// JSON whitespace.
        fn ws<const E: bool>(b: &[u8], i: usize) -> usize {
            if E {
                escaped::skip_ws(b, i)
            } else {
                skip_ws(b, i)
            }
        }

        /// After the opening quote of a string at `i` (`\"` with `E`): where its contents
        /// start.
        fn open<const E: bool>(b: &[u8], i: usize) -> Option<usize> {
            if E {
                (b.get(i..i + 2) == Some(b"\\\"")).then_some(i + 2)
            } else {
                (b.get(i) == Some(&b'"')).then_some(i + 1)
            }
        }

        /// The string at `i` when it has no escape and no control character: its contents
        /// and the index after its closing quote.
        fn string<const E: bool>(text: &str, i: usize) -> Option<(&str, usize)> {
            let start = open::<E>(text.as_bytes(), i)?;
            let next = plain_close::<E>(text.as_bytes(), start)?;
            Some((&text[start..next - if E { 2 } else { 1 }], next))
        }

        /// The document's statement texts, each found by [`object_end`].
        pub(super) fn document(text: &str) -> Option<Doc<'_, &str>> {
            read::<false, _>(text, false, |i| {
                let end = object_end::<false>(text.as_bytes(), i)?;
                Some((&text[i..end], end))
            })
            .map(|(doc, _)| doc)
        }

        /// The document, each statement (whose `{` is at the index given) read by `statement`,
        /// which says where it ends.
        ///
        /// The document must end the text (JSON whitespace after it allowed), unless `prefix`:
        /// then what follows is the caller's. Also the index after the document and the
        /// whitespace after it.
        pub(super) fn read<const E: bool, S>(
            text: &str,
            prefix: bool,
            mut statement: impl FnMut(usize) -> Option<(S, usize)>,
        ) -> Option<(Doc<'_, S>, usize)> {
            let b = text.as_bytes();
            let ws = ws::<E>;
            let string = string::<E>;
            let mut statement_at = |i: usize| {
                if b.get(i) != Some(&b'{') {
                    return None;
                }
                statement(i)
            };
            let mut i = ws(b, 0);
            if b.get(i) != Some(&b'{') {
                return None;
            }
            i = ws(b, i + 1);
            let (mut version, mut id, mut statements) = (None, None, None);
            loop {
                // One of the three keys, written without escapes; anything else is `None`.
                let (key, next) = string(text, i)?;
                let key = match key {
                    "Version" => "Version",
                    "Statement" => "Statement",
                    "Id" => "Id",
                    _ => return None,
                };
                i = ws(b, next);
                if b.get(i) != Some(&b':') {
                    return None;
                }
                i = ws(b, i + 1);
                match key {
                    "Version" if version.is_none() => {
                        let (v, next) = string(text, i)?;
                        version = Some(v);
                        i = next;
                    }
                    "Id" if id.is_none() => {
                        let (v, next) = string(text, i)?;
                        id = Some(v);
                        i = next;
                    }
                    "Statement" if statements.is_none() => match b.get(i)? {
                        b'{' => {
                            let (one, end) = statement_at(i)?;
                            statements = Some(vec![one]);
                            i = end;
                        }
                        b'[' => {
                            let mut list = Vec::with_capacity(8);
                            i = ws(b, i + 1);
                            if b.get(i) == Some(&b']') {
                                i += 1;
                            } else {
                                loop {
                                    let (one, end) = statement_at(i)?;
                                    list.push(one);
                                    i = ws(b, end);
                                    match b.get(i)? {
                                        b',' => i = ws(b, i + 1),
                                        b']' => {
                                            i += 1;
                                            break;
                                        }
                                        _ => return None,
                                    }
                                }
                            }
                            statements = Some(list);
                        }
                        _ => return None,
                    },
                    _ => return None,
                }
                i = ws(b, i);
                match b.get(i)? {
                    b',' => i = ws(b, i + 1),
                    b'}' => break,
                    _ => return None,
                }
            }
            let end = ws(b, i + 1);
            (end == b.len() || prefix).then_some(())?;
            Some((
                Doc {
                    version,
                    id,
                    statements: statements?,
                },
                end,
            ))
        }
    }

    impl Remembered {
        /// The statement `text` says, validated once per worker.
        fn body(&mut self, text: &str) -> Option<Arc<StatementBody>> {
            let h = hash(text);
            if let Some(k) = self.known.find(h, |k| !k.2 && k.text() == text) {
                return Some(Arc::clone(&k.0));
            }
            // Depth needs no check of its own: read alone, a statement starts one or two levels
            // higher than in its document (serde_json stops at 128 either way), but one that
            // validates nests at most four levels (`Condition` → operator → key → values); anything
            // deeper is a value of the wrong type or under an unknown key, an error that sends the
            // whole document the long way, which measures depth from the document.
            // The common shape by hand; anything else (an escape, a number, a problem) as
            // serde_json reads it.
            let body = match plain::body(text) {
                Some(body) => Arc::new(body),
                None => long_way(text)?,
            };
            self.keep(h, text.len(), &body, false);
            Some(body)
        }

        /// Remembers `body`, of a text of `len` bytes whose hash is `h`, when that hash was
        /// seen before (see [`Remembered`]).
        fn keep(&mut self, h: u64, len: usize, body: &Arc<StatementBody>, escaped: bool) {
            let slot = &mut self.seen[h as usize % SEEN];
            if std::mem::replace(slot, h) == h {
                if self.bytes + len > REMEMBERED {
                    self.known.clear();
                    self.bytes = 0;
                }
                self.bytes += len;
                self.known
                    .insert_unique(h, Known(Arc::clone(body), h, escaped), |k| k.1);
            }
        }

        /// Whether the next document read inside its literal should have its statements looked
        /// up here (found by a split first, then each read unless found), rather than read in
        /// one pass. The split and the look-up cost about half of what reading a statement
        /// does, so they pay where half of the statements or more are found: texts that differ
        /// while their statements repeat (a templated policy whose `Sid` or `Resource` names
        /// the repository). Measured on every eighth document, and on all while they pay.
        fn looks_up(&mut self) -> bool {
            self.lately.take()
        }

        /// [`Remembered::body`] of a statement written inside a JSON string literal, `text`
        /// from its `{` to its `}`: found by its text as found, else read by
        /// [`plain::body_escaped`]. `None` when that does not read it.
        fn body_escaped(&mut self, text: &str) -> Option<Arc<StatementBody>> {
            let h = hash(text) ^ ESCAPED;
            if let Some(k) = self.known.find(h, |k| k.2 && k.text() == text) {
                let body = Arc::clone(&k.0);
                self.lately.count(true);
                return Some(body);
            }
            self.lately.count(false);
            let (body, end) = plain::body_escaped(text)?;
            (end == text.len()).then_some(())?;
            let body = Arc::new(body);
            self.keep(h, text.len(), &body, true);
            Some(body)
        }
    }

    /// The statement `text` says, read into a raw statement (by hand when it has the common
    /// shape, else as serde_json reads it) and then validated: what [`plain::body`] does not
    /// take in one pass.
    pub(in crate::policy) fn long_way(text: &str) -> Option<Arc<StatementBody>> {
        let raw = match plain::statement(text) {
            Some(raw) => raw,
            None => serde_json::from_str::<LoneStatement>(text).ok()?.0?,
        };
        let mut v = Validator::default();
        let statement = v.statement_of(0, raw, text)?;
        v.errors.is_empty().then_some(statement.body)
    }

    #[cfg(test)]
    pub(in crate::policy) fn forget() {
        KNOWN.with_borrow_mut(|r| *r = Remembered::default());
    }

    /// How many statements this worker keeps.
    #[cfg(test)]
    pub(in crate::policy) fn remembered() -> usize {
        KNOWN.with_borrow(|r| r.known.len())
    }
}

#[cfg(test)]
pub(super) use known::{
    forget as forget_known_statements, long_way as statement_the_long_way, parse as parse_known,
    remembered as remembered_statements,
};

/// Checks one `AWS` principal value as IAM does when the policy is set: `"*"`, a 12-digit
/// account id, an IAM ARN of the account root, a user or a role, an STS ARN of an assumed-role
/// or federated-user session, or an IAM unique id (which IAM shows in a stored policy in place
/// of a principal that was deleted). Sources: IAM User Guide, "AWS JSON policy elements:
/// Principal" and "IAM identifiers" (unique identifier prefixes).
pub(super) fn aws_principal(v: &str) -> Result<(), String> {
    if v == "*" {
        return Ok(());
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        return if v.len() == 12 {
            Ok(())
        } else {
            Err(format!(
                "has {} digits, and an AWS account id has 12",
                v.len()
            ))
        };
    }
    if is_unique_id(v) {
        return Ok(());
    }
    let Some(rest) = v.strip_prefix("arn:") else {
        return Err("is not an account id, an ARN or an IAM unique id".to_owned());
    };
    let parts = split_colon(rest).and_then(|(partition, rest)| {
        let (service, rest) = split_colon(rest)?;
        let (region, rest) = split_colon(rest)?;
        let (account, resource) = split_colon(rest)?;
        Some((partition, service, region, account, resource))
    });
    let Some((partition, service, region, account, resource)) = parts else {
        return Err(
            "is not an ARN of six parts (arn:partition:service:region:account:resource)".to_owned(),
        );
    };
    let partition_ok = partition == "aws"
        || partition.strip_prefix("aws-").is_some_and(|p| {
            !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        });
    if !partition_ok {
        return Err(format!(
            "has the partition {partition:?}, which is no AWS partition"
        ));
    }
    if service != "iam" && service != "sts" {
        return Err(format!(
            "is an ARN of the service {service:?}; an AWS principal is an IAM or STS ARN"
        ));
    }
    if !region.is_empty() {
        return Err("has a region, which IAM and STS ARNs do not".to_owned());
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "has the account {account:?}, which is not 12 digits"
        ));
    }
    let named = |prefix: &str| {
        resource
            .strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && !n.ends_with('/') && !has_whitespace(n))
    };
    let ok = match service {
        "iam" => resource == "root" || named("user/") || named("role/"),
        "sts" => {
            named("federated-user/")
                || resource
                    .strip_prefix("assumed-role/")
                    .and_then(|r| r.split_once('/'))
                    .is_some_and(|(role, session)| !role.is_empty() && !session.is_empty())
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "names {resource:?}, which is no principal (root, user/…, role/…, assumed-role/…/…, federated-user/…)"
        ))
    }
}

/// Whether validation takes `v` as an `AWS` principal: IAM allows `"*"` on its own, never a
/// wildcard inside an ARN, and otherwise what [`aws_principal`] accepts. The usual values (an
/// account id, `arn:aws:iam::<account>:root`, `…:role/<name>`, `…:user/<name>` with a name of
/// printable ASCII) are recognised directly, anything else the long way.
pub(super) fn valid_aws_principal(v: &str) -> bool {
    fn digits(b: &[u8]) -> bool {
        b.iter().all(u8::is_ascii_digit)
    }
    let b = v.as_bytes();
    let usual = match b.strip_prefix(b"arn:aws:iam::") {
        Some(rest) if rest.len() > 13 && rest[12] == b':' && digits(&rest[..12]) => {
            let resource = &rest[13..];
            resource == b"root"
                || [b"role/".as_slice(), b"user/"].iter().any(|kind| {
                    resource.strip_prefix(*kind).is_some_and(|name| {
                        // Printable ASCII: no whitespace; and no wildcard.
                        name.last().is_some_and(|&c| c != b'/')
                            && name
                                .iter()
                                .all(|&c| c.is_ascii_graphic() && c != b'*' && c != b'?')
                    })
                })
        }
        Some(_) => false,
        None => b.len() == 12 && digits(b),
    };
    usual || ((v == "*" || !has_wildcard(v)) && aws_principal(v).is_ok())
}

/// Whether `s` holds a whitespace character (`char::is_whitespace`), by bytes when `s` is ASCII
/// (principal names are).
fn has_whitespace(s: &str) -> bool {
    if s.is_ascii() {
        s.bytes().any(crate::jsonscan::is_ascii_space)
    } else {
        s.contains(char::is_whitespace)
    }
}

/// An IAM unique id: a four-letter prefix that says what it identifies (`AIDA` a user, `AROA` a
/// role, …), then upper-case letters and digits (IAM User Guide, "IAM identifiers").
fn is_unique_id(v: &str) -> bool {
    const PREFIXES: [&str; 12] = [
        "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "AKIA", "ANPA", "ANVA", "APKA", "AROA", "ASCA",
        "ASIA",
    ];
    // Every prefix starts with `A`: most values (ARNs, account ids) fail at the first byte.
    (16..=128).contains(&v.len())
        && v.starts_with('A')
        && PREFIXES.iter().any(|p| v.starts_with(p))
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod cache_tests {
    use super::{aws_principal, has_whitespace, has_wildcard, match_mask, pattern_mask};

    /// A remembered action element gives what matching its patterns gives, negated or not,
    /// the first time and every later time.
    #[test]
    fn remembered_action_lists_are_what_their_patterns_match() {
        let lists: [&[&str]; 4] = [
            &["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage"],
            &["ecr:BatchGetImages", "s3:GetObject", "ecr:Get*"],
            &["*"],
            &["BatchGetImage"],
        ];
        for round in 0..3 {
            for list in lists {
                let written = format!("{list:?}");
                for negated in [false, true] {
                    assert_eq!(
                        super::action_facts_of(&written, list.iter().copied(), negated),
                        super::action_facts(list.iter().copied(), negated),
                        "round {round}: {written} {negated}"
                    );
                }
            }
        }
    }

    /// The direct test of the usual `AWS` principals says what the whole check says, on the
    /// usual values and every one-character insertion and deletion of them.
    #[test]
    fn the_usual_aws_principals_are_recognised_as_the_whole_check_would() {
        let whole = |v: &str| (v == "*" || !has_wildcard(v)) && aws_principal(v).is_ok();
        let seeds = [
            "111122223333",
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::111122223333:role/team-ci",
            "arn:aws:iam::111122223333:user/a.b@c",
            "arn:aws:iam::111122223333:role/path/x",
            "arn:aws-cn:iam::111122223333:role/x",
            "arn:aws:sts::111122223333:assumed-role/r/s",
            "AIDAJQABLZS4A3QDU576Q",
            "*",
        ];
        let mut usual = 0;
        let mut check = |v: &str| {
            assert_eq!(super::valid_aws_principal(v), whole(v), "{v:?}");
            usual += usize::from(whole(v));
        };
        for seed in seeds {
            assert!(whole(seed), "{seed}");
            let cuts: Vec<usize> = (0..=seed.len())
                .filter(|&i| seed.is_char_boundary(i))
                .collect();
            for &i in &cuts {
                for insert in [
                    " ", "*", "?", "/", ":", "1", "a", "é", "\u{2003}", "\t", "\u{7f}",
                ] {
                    check(&format!("{}{insert}{}", &seed[..i], &seed[i..]));
                }
                if i < seed.len() {
                    check(&format!("{}{}", &seed[..i], &seed[i + 1..]));
                }
            }
        }
        assert!(usual > 150, "{usual}");
    }

    /// The byte test of ASCII text says what `char::is_whitespace` says, for every character
    /// below 0x100 inside a name.
    #[test]
    fn whitespace_by_bytes_is_char_whitespace() {
        for c in (0u32..0x100).filter_map(char::from_u32) {
            let name = format!("role{c}x");
            assert_eq!(has_whitespace(&name), c.is_whitespace(), "{c:?}");
        }
        assert!(has_whitespace("a\u{2003}b"));
        assert!(!has_whitespace("caf\u{e9}"));
    }

    /// The per-thread cache of pattern masks gives what matching gives, the first time and
    /// every later time, whatever the case of the pattern.
    #[test]
    fn remembered_pattern_masks_are_the_masks() {
        let patterns = [
            "ecr:BatchGetImage",
            "ECR:batchgetimage",
            "ecr:BatchGet*",
            "ecr:*",
            "ecr:Get?ownloadUrlForLayer",
            "s3:GetObject",
            "s3:*",
            "BatchGetImage",
            "ecr:NoSuchAction",
            "*:BatchGetImage",
            "ecr:é*",
        ];
        assert_ne!(match_mask("ecr:BatchGetImage"), 0);
        assert_eq!(match_mask("s3:GetObject"), 0);
        for round in 0..3 {
            for p in patterns {
                assert_eq!(pattern_mask(p), match_mask(p), "round {round}: {p}");
            }
        }
        assert_eq!(
            pattern_mask("ECR:batchgetimage"),
            pattern_mask("ecr:BatchGetImage")
        );
    }
}

//! The IAM policy model and its validation: raw JSON text in, a typed [`Policy`] that cannot hold
//! an invalid policy out, or every problem found (not only the first) as error findings.

pub mod glob;
pub mod operator;
mod plain;
mod raw;
mod validate;
pub mod value;

use std::sync::Arc;

use ipnet::IpNet;
use jiff::Timestamp;

use crate::catalog;
use crate::finding::{Finding, StatementRef};
use crate::record::PolicyText;

pub use operator::{Base, Family, Operator, Qualifier};

/// A validated repository policy document. Only [`parse`] makes one.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    version: Version,
    id: Option<String>,
    statements: Vec<Statement>,
}

impl Policy {
    pub fn version(&self) -> Version {
        self.version
    }

    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// A document with no statements: what a repository without a policy of its own is judged
    /// as when a registry policy applies to it.
    pub fn empty() -> Policy {
        Policy {
            version: Version::V2012_10_17,
            id: None,
            statements: Vec::new(),
        }
    }

    /// The same policy read as a **registry** policy: its statements are judged together with a
    /// repository's own (see `eval::judge_with_registry`) and messages name them as the registry
    /// policy's (`registry policy statement 0 (Sid "…")`).
    pub fn into_registry(mut self) -> Policy {
        for s in &mut self.statements {
            s.registry = true;
        }
        self
    }
}

/// The policy language version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// No `Version`: IAM reads the document as 2008-10-17.
    Missing,
    V2008_10_17,
    V2012_10_17,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// The kinds of principal IAM knows (the keys of a `Principal` object).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    Aws,
    Service,
    Federated,
    CanonicalUser,
}

impl PrincipalKind {
    pub const ALL: [PrincipalKind; 4] = [
        PrincipalKind::Aws,
        PrincipalKind::Service,
        PrincipalKind::Federated,
        PrincipalKind::CanonicalUser,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Aws => "AWS",
            PrincipalKind::Service => "Service",
            PrincipalKind::Federated => "Federated",
            PrincipalKind::CanonicalUser => "CanonicalUser",
        }
    }
}

/// Where one string of a statement lies in its body's buffer, or which run of the body's spans
/// one of its lists is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

/// The iterator of a list borrowed from a statement (`$list`: `Copy`, with a private
/// `view(self, &'a $at) -> $item`): it holds the list and an iterator over the body's `$at`
/// entries, and each item is the list's view of the next entry. The list is also written (`Debug`)
/// and compared (`PartialEq`) as the sequence of its items.
macro_rules! list_iter {
    ($list:ident, $iter:ident, $at:ty, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone)]
        pub struct $iter<'a> {
            of: $list<'a>,
            it: std::slice::Iter<'a, $at>,
        }

        impl<'a> Iterator for $iter<'a> {
            type Item = $item;
            fn next(&mut self) -> Option<$item> {
                self.it.next().map(|at| self.of.view(at))
            }
            fn size_hint(&self) -> (usize, Option<usize>) {
                self.it.size_hint()
            }
        }

        impl ExactSizeIterator for $iter<'_> {}

        impl DoubleEndedIterator for $iter<'_> {
            fn next_back(&mut self) -> Option<Self::Item> {
                self.it.next_back().map(|at| self.of.view(at))
            }
        }

        impl<'a> IntoIterator for $list<'a> {
            type Item = $item;
            type IntoIter = $iter<'a>;
            fn into_iter(self) -> $iter<'a> {
                self.iter()
            }
        }

        /// Written as a list of its items is (`["a", "b"]`).
        impl std::fmt::Debug for $list<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_list().entries(self.iter()).finish()
            }
        }

        /// Equal when the items are, in order.
        impl PartialEq for $list<'_> {
            fn eq(&self, other: &Self) -> bool {
                self.iter().eq(other.iter())
            }
        }
    };
}

/// A list of a statement's strings (actions, resources, principals), borrowed from the
/// statement: its strings are kept in one buffer per statement, not a `String` each.
#[derive(Clone, Copy)]
pub struct Strs<'a> {
    buf: &'a str,
    spans: &'a [Span],
}

impl<'a> Strs<'a> {
    pub fn len(self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(self) -> bool {
        self.spans.is_empty()
    }

    pub fn get(self, i: usize) -> Option<&'a str> {
        self.spans.get(i).map(|s| self.view(s))
    }

    pub fn iter(self) -> StrsIter<'a> {
        StrsIter {
            of: self,
            it: self.spans.iter(),
        }
    }

    pub fn to_vec(self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }

    fn view(self, s: &'a Span) -> &'a str {
        &self.buf[s.range()]
    }
}

list_iter!(
    Strs,
    StrsIter,
    Span,
    &'a str,
    "The strings of a [`Strs`], in order."
);

impl Eq for Strs<'_> {}

impl<const N: usize> PartialEq<[&str; N]> for Strs<'_> {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.iter().eq(other.iter().copied())
    }
}

/// The principals a `Principal` or `NotPrincipal` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Principals<'a> {
    /// Written `"Principal": "*"`.
    star: bool,
    /// The `AWS` values: `"*"`, account ids, ARNs (no wildcard inside an ARN).
    aws: Strs<'a>,
    /// `Service`, `Federated` and `CanonicalUser` values, which never name an account's role.
    others: Others<'a>,
}

impl<'a> Principals<'a> {
    /// Every principal: `"*"` or `{"AWS": "*"}`.
    pub fn is_everyone(&self) -> bool {
        self.star || self.aws.iter().any(|a| a == "*")
    }

    /// Whether it was written as the bare string `"*"`.
    pub fn is_star(&self) -> bool {
        self.star
    }

    pub fn aws(&self) -> Strs<'a> {
        self.aws
    }

    pub fn others(&self) -> Others<'a> {
        self.others
    }
}

/// The `Service`, `Federated` and `CanonicalUser` values of a principal, each with its kind.
#[derive(Clone, Copy)]
pub struct Others<'a> {
    buf: &'a str,
    items: &'a [(PrincipalKind, Span)],
}

impl<'a> Others<'a> {
    pub fn is_empty(self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(self) -> impl Iterator<Item = (PrincipalKind, &'a str)> + 'a {
        self.items
            .iter()
            .map(move |(k, s)| (*k, &self.buf[s.range()]))
    }
}

impl<'a> IntoIterator for Others<'a> {
    type Item = (PrincipalKind, &'a str);
    type IntoIter = Box<dyn Iterator<Item = (PrincipalKind, &'a str)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl std::fmt::Debug for Others<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Others<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Others<'_> {}

/// Who a statement is about. `NotPrincipal` only ever comes with `Deny` (AWS rejects it with
/// `Allow`; validation enforces it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who<'a> {
    Principal(Principals<'a>),
    NotPrincipal(Principals<'a>),
}

/// `Action` or `NotAction` patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actions<'a> {
    Action(Strs<'a>),
    NotAction(Strs<'a>),
}

/// `Resource` or `NotResource` patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resources<'a> {
    Resource(Strs<'a>),
    NotResource(Strs<'a>),
}

/// A condition value, read once for its operator's family.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CondValue<'a> {
    text: &'a str,
    typed: &'a Typed,
}

impl<'a> CondValue<'a> {
    pub fn text(&self) -> &'a str {
        self.text
    }

    pub fn typed(&self) -> &'a Typed {
        self.typed
    }
}

/// A condition value as its operator reads it. `Invalid`: it does not read, so every comparison
/// with it is false.
#[derive(Clone, Debug, PartialEq)]
pub enum Typed {
    Text,
    Number(f64),
    Time(Timestamp),
    Net(IpNet),
    Bool(bool),
    Invalid,
}

/// One operator applied to one key with its values (ORed).
#[derive(Clone, Copy)]
pub struct Condition<'a> {
    buf: &'a str,
    at: &'a ConditionAt,
    values: &'a [ValueAt],
}

impl<'a> Condition<'a> {
    pub fn operator(&self) -> Operator {
        self.at.operator
    }

    /// As written, for messages.
    pub fn key(&self) -> &'a str {
        &self.buf[self.at.key.range()]
    }

    /// Lower-cased: key names are case-insensitive.
    pub fn key_lower(&self) -> &'a str {
        &self.buf[self.at.key_lower.range()]
    }

    pub fn values(&self) -> CondValues<'a> {
        CondValues {
            buf: self.buf,
            values: self.values,
        }
    }
}

impl std::fmt::Debug for Condition<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Condition")
            .field("operator", &self.operator())
            .field("key", &self.key())
            .field("key_lower", &self.key_lower())
            .field("values", &self.values())
            .finish()
    }
}

impl PartialEq for Condition<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.operator() == other.operator()
            && self.key() == other.key()
            && self.key_lower() == other.key_lower()
            && self.values() == other.values()
    }
}

/// The values of a [`Condition`].
#[derive(Clone, Copy)]
pub struct CondValues<'a> {
    buf: &'a str,
    values: &'a [ValueAt],
}

impl<'a> CondValues<'a> {
    pub fn len(self) -> usize {
        self.values.len()
    }

    pub fn is_empty(self) -> bool {
        self.values.is_empty()
    }

    pub fn get(self, i: usize) -> Option<CondValue<'a>> {
        self.values.get(i).map(|v| self.view(v))
    }

    pub fn iter(self) -> CondValuesIter<'a> {
        CondValuesIter {
            of: self,
            it: self.values.iter(),
        }
    }

    fn view(self, v: &'a ValueAt) -> CondValue<'a> {
        CondValue {
            text: &self.buf[v.text.range()],
            typed: &v.typed,
        }
    }
}

/// A statement's conditions, in the order written.
#[derive(Clone, Copy)]
pub struct Conditions<'a> {
    buf: &'a str,
    conditions: &'a [ConditionAt],
    values: &'a [ValueAt],
}

impl<'a> Conditions<'a> {
    /// No conditions (what a statement without a `Condition` has).
    pub fn none() -> Conditions<'static> {
        Conditions {
            buf: "",
            conditions: &[],
            values: &[],
        }
    }

    pub fn len(self) -> usize {
        self.conditions.len()
    }

    pub fn is_empty(self) -> bool {
        self.conditions.is_empty()
    }

    pub fn get(self, i: usize) -> Option<Condition<'a>> {
        self.conditions.get(i).map(|c| self.view(c))
    }

    pub fn iter(self) -> ConditionsIter<'a> {
        ConditionsIter {
            of: self,
            it: self.conditions.iter(),
        }
    }

    fn view(self, c: &'a ConditionAt) -> Condition<'a> {
        Condition {
            buf: self.buf,
            at: c,
            values: &self.values[c.values.range()],
        }
    }
}

list_iter!(
    Conditions,
    ConditionsIter,
    ConditionAt,
    Condition<'a>,
    "The conditions of a [`Conditions`], in order."
);
list_iter!(
    CondValues,
    CondValuesIter,
    ValueAt,
    CondValue<'a>,
    "The values of a [`CondValues`], in order."
);

/// A condition of a [`StatementBody`]: its strings are spans of the body's buffer, its values a
/// run of the body's values.
#[derive(Clone, Debug)]
struct ConditionAt {
    operator: Operator,
    key: Span,
    key_lower: Span,
    values: Span,
}

/// A condition value of a [`StatementBody`].
#[derive(Clone, Debug)]
struct ValueAt {
    text: Span,
    typed: Typed,
}

/// Who a [`StatementBody`] is about.
#[derive(Clone, Debug, Default)]
struct WhoAt {
    not: bool,
    star: bool,
    /// A run of the body's spans.
    aws: Span,
    others: Vec<(PrincipalKind, Span)>,
}

/// `Action`/`NotAction` or `Resource`/`NotResource` of a [`StatementBody`]: whether negated,
/// and a run of the body's spans.
#[derive(Clone, Copy, Debug)]
struct ListAt {
    not: bool,
    items: Span,
}

/// An action pattern that names no ECR action, found once at parse time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownAction {
    pub pattern: String,
    /// The pattern's service is not `ecr`.
    pub not_ecr: bool,
    /// The nearest catalog action (full `ecr:` name), for a pattern without wildcards.
    pub suggestion: Option<String>,
}

/// A validated statement: where it is, and what it says. What it says does not depend on where
/// it is, so documents that repeat a statement word for word share one copy of it (see
/// `validate`).
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    index: usize,
    /// The statement comes from the registry policy, not the repository policy.
    registry: bool,
    body: Arc<StatementBody>,
}

/// What a statement says. Its strings are kept in one buffer (`buf`), which the model's views
/// borrow from: a statement costs a few allocations, not one per action, ARN and value.
struct StatementBody {
    /// The statement's text when it was read alone (see `validate::known`; empty for a
    /// statement of a whole document), then the strings that are not spans of it.
    buf: String,
    /// How many bytes of `buf` the statement's text is.
    text_len: usize,
    /// The strings of its lists, each list a run of it.
    spans: Vec<Span>,
    sid: Option<Span>,
    effect: Effect,
    who: WhoAt,
    actions: ListAt,
    resources: Option<ListAt>,
    conditions: Vec<ConditionAt>,
    values: Vec<ValueAt>,
    /// Bit `i` set: the statement's action element covers `catalog::ACTIONS[i]`. Actions do not
    /// depend on the puller, so they are matched once here.
    covers: u128,
    unknown_actions: Vec<UnknownAction>,
}

impl StatementBody {
    fn text(&self, s: Span) -> &str {
        &self.buf[s.range()]
    }

    fn strs(&self, run: Span) -> Strs<'_> {
        Strs {
            buf: &self.buf,
            spans: &self.spans[run.range()],
        }
    }

    fn sid(&self) -> Option<&str> {
        self.sid.map(|s| self.text(s))
    }

    fn who(&self) -> Who<'_> {
        let p = Principals {
            star: self.who.star,
            aws: self.strs(self.who.aws),
            others: Others {
                buf: &self.buf,
                items: &self.who.others,
            },
        };
        if self.who.not {
            Who::NotPrincipal(p)
        } else {
            Who::Principal(p)
        }
    }

    fn actions(&self) -> Actions<'_> {
        let items = self.strs(self.actions.items);
        if self.actions.not {
            Actions::NotAction(items)
        } else {
            Actions::Action(items)
        }
    }

    fn resources(&self) -> Option<Resources<'_>> {
        self.resources.map(|r| {
            let items = self.strs(r.items);
            if r.not {
                Resources::NotResource(items)
            } else {
                Resources::Resource(items)
            }
        })
    }

    fn conditions(&self) -> Conditions<'_> {
        Conditions {
            buf: &self.buf,
            conditions: &self.conditions,
            values: &self.values,
        }
    }
}

/// What it says, not where in the buffer it is kept.
impl PartialEq for StatementBody {
    fn eq(&self, other: &Self) -> bool {
        self.sid() == other.sid()
            && self.effect == other.effect
            && self.who() == other.who()
            && self.actions() == other.actions()
            && self.resources() == other.resources()
            && self.conditions() == other.conditions()
            && self.covers == other.covers
            && self.unknown_actions == other.unknown_actions
    }
}

impl std::fmt::Debug for StatementBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatementBody")
            .field("sid", &self.sid())
            .field("effect", &self.effect)
            .field("who", &self.who())
            .field("actions", &self.actions())
            .field("resources", &self.resources())
            .field("conditions", &self.conditions())
            .field("covers", &self.covers)
            .field("unknown_actions", &self.unknown_actions)
            .finish()
    }
}

// The coverage mask has one bit per catalog action.
const _: () = assert!(catalog::ACTIONS.len() <= 128);

impl Statement {
    /// 0-based position in the document.
    pub fn index(&self) -> usize {
        self.index
    }

    pub fn sid(&self) -> Option<&str> {
        self.body.sid()
    }

    pub fn effect(&self) -> Effect {
        self.body.effect
    }

    pub fn who(&self) -> Who<'_> {
        self.body.who()
    }

    pub fn actions(&self) -> Actions<'_> {
        self.body.actions()
    }

    pub fn resources(&self) -> Option<Resources<'_>> {
        self.body.resources()
    }

    pub fn conditions(&self) -> Conditions<'_> {
        self.body.conditions()
    }

    /// Whether the action element covers `catalog::ACTIONS[i]`.
    pub fn covers(&self, i: usize) -> bool {
        self.body.covers & (1 << i) != 0
    }

    /// The catalog actions the action element covers, as a mask over `catalog::ACTIONS`.
    pub fn coverage(&self) -> u128 {
        self.body.covers
    }

    pub fn unknown_actions(&self) -> &[UnknownAction] {
        &self.body.unknown_actions
    }

    /// The statement as findings name it.
    pub fn reference(&self) -> StatementRef {
        StatementRef {
            index: self.index,
            sid: self.body.sid().map(str::to_owned),
            registry_policy: self.registry,
        }
    }

    /// How messages name the statement: `statement 2 (Sid "Pull")`, or `registry policy
    /// statement 0 (Sid "Org")` for a statement of the registry policy.
    pub fn label(&self) -> String {
        let label = label(self.index, self.body.sid());
        if self.registry {
            format!("registry policy {label}")
        } else {
            label
        }
    }

    /// [`Statement::label`], written a part at a time (for messages packed as they are written,
    /// see `message`).
    pub fn label_parts(&self) -> impl std::fmt::Display + '_ {
        Label(self)
    }

    /// Whether the statement comes from the registry policy (its `index` is then its position
    /// in the registry policy).
    pub fn is_registry(&self) -> bool {
        self.registry
    }
}

/// [`Statement::label_parts`]: the same text as [`label`], in parts.
struct Label<'a>(&'a Statement);

impl std::fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.write_label(f)
    }
}

impl Statement {
    /// [`Statement::label_parts`], written to a message's parts (its fixed parts packed once:
    /// see `message::phrase!`).
    pub(crate) fn write_label<W: crate::message::Write>(&self, w: &mut W) -> std::fmt::Result {
        use crate::message::phrase;
        if self.registry {
            phrase!(w, "registry policy ")?;
        }
        phrase!(w, "statement ")?;
        w.number(self.index as u64)?;
        match self.body.sid() {
            Some(sid) if plain_sid(sid) => {
                phrase!(w, " (Sid \"")?;
                w.write_str(sid)?;
                phrase!(w, "\")")
            }
            Some(sid) => write!(w, " (Sid {sid:?})"),
            None => Ok(()),
        }
    }
}

/// A Sid of plain printable ASCII without quote or backslash, which `{:?}` would not escape.
fn plain_sid(s: &str) -> bool {
    s.bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
}

/// How messages name a statement: its 0-based index (as in `StatementRef`) and `Sid`.
pub(crate) fn label(index: usize, sid: Option<&str>) -> String {
    match sid {
        // `{:?}` quotes as Rust does; a Sid of plain printable ASCII (IAM allows only
        // letters and digits) needs no escape, so it is quoted directly, the same text.
        Some(s) if plain_sid(s) => {
            format!("statement {index} (Sid \"{s}\")")
        }
        Some(s) => format!("statement {index} (Sid {s:?})"),
        None => format!("statement {index}"),
    }
}

/// Parses and validates a policy document.
///
/// Errors are findings with code `invalid-json` (not JSON, too deep) or `invalid-policy` (every
/// problem found, each with its statement where it has one).
pub fn parse(text: &str) -> Result<Policy, Vec<Finding>> {
    validate::parse(text)
}

/// [`parse`] of a policy text as the input holds it: a text kept as the JSON string literal it
/// was found in is read in place when its document has the common shape in that form, and
/// decoded first otherwise. The same result as [`parse`] of [`PolicyText::text`].
///
/// An estate whose exports the in-place reader mostly declines (a tool that writes `/` as `\/`,
/// say, or policies with problems, which the long way reports) would pay for a partial read
/// before each decoding: where more than half of the documents tried lately were declined, only
/// one in eight is tried, to notice when that changes.
pub fn parse_text(text: &PolicyText) -> Result<Policy, Vec<Finding>> {
    if let Some(contents) = text.literal_contents() {
        let mut lately = IN_PLACE.get();
        let read = if lately.take() {
            let read = validate::parse_escaped(contents);
            lately.count(read.is_some());
            read
        } else {
            None
        };
        IN_PLACE.set(lately);
        if let Some(policy) = read {
            return Ok(policy);
        }
    }
    parse(&text.text())
}

/// The policy document inside the JSON string literal whose contents start at `start` of `text`
/// (after its opening quote; `text` runs on past the literal, the rest of a line), read in place
/// as [`parse_text`] reads it, and the index after the literal's closing quote. `None` when the
/// in-place reader declines it, or the literal does not end right after the document: the
/// caller then finds the literal's end as usual. A document read so lies inside a valid
/// literal (the reader takes no bare quote, no control byte, and no escape but `\"`, `\n`,
/// `\t`, `\r`), so the literal is one the caller would have kept.
pub(crate) fn read_in_literal(text: &str, start: usize) -> Option<(Policy, usize)> {
    let (policy, len) = validate::parse_escaped_prefix(text.get(start..)?)?;
    (text.as_bytes().get(start + len) == Some(&b'"')).then_some((policy, start + len + 1))
}

/// The policy of a bare document `text` (a file of one policy document, JSON whitespace around
/// it), when it is valid and of the common shape: then `text` is also a document the input's
/// reader takes as one (an object of `Version`, `Id` and `Statement` only, each once, valid JSON
/// throughout, shallow). `None` otherwise, and the reader looks at it as usual.
pub(crate) fn read_document(text: &str) -> Option<Policy> {
    validate::parse_short(text)
}

/// How a way of reading that may not pay fared lately, on one thread: it is taken while at
/// least half of its recent tries paid, and on one call in eight otherwise, to notice when that
/// changes. The counts halve past `window` tries, so that they follow what the estate's texts
/// are like lately.
#[derive(Clone, Copy)]
struct Lately {
    calls: u32,
    tries: u32,
    paid: u32,
    window: u32,
}

impl Lately {
    const fn new(window: u32) -> Lately {
        Lately {
            calls: 0,
            tries: 0,
            paid: 0,
            window,
        }
    }

    /// Whether to take the way this time.
    fn take(&mut self) -> bool {
        self.calls = self.calls.wrapping_add(1);
        2 * self.paid >= self.tries || self.calls % 8 == 0
    }

    /// Counts a try, and whether it paid.
    fn count(&mut self, paid: bool) {
        self.tries += 1;
        self.paid += u32::from(paid);
        if self.tries >= self.window {
            self.tries /= 2;
            self.paid /= 2;
        }
    }
}

thread_local! {
    /// How the in-place reader fared lately (see [`parse_text`]): a try pays when it reads the
    /// document.
    static IN_PLACE: std::cell::Cell<Lately> = const { std::cell::Cell::new(Lately::new(256)) };
}

/// This thread's documents tried in place so far (see [`parse_text`]).
#[cfg(test)]
fn tried_in_place() -> u32 {
    IN_PLACE.get().tries
}

/// [`parse`] the long way every time: the whole document read and validated, no statement taken
/// from those this worker has validated before. Same result; for benchmarks and comparisons.
pub fn parse_whole(text: &str) -> Result<Policy, Vec<Finding>> {
    validate::parse_whole(text.strip_prefix('\u{feff}').unwrap_or(text))
}

#[cfg(test)]
mod tests;

/// Work counted by tests that check a cost grows linearly with the input (counts, not time).
#[cfg(test)]
pub(crate) mod steps {
    use std::cell::Cell;
    thread_local!(static STEPS: Cell<u64> = const { Cell::new(0) });
    pub(crate) fn add(n: u64) {
        STEPS.with(|s| s.set(s.get() + n));
    }
    /// The steps counted on this thread so far; `reset` starts again from zero.
    pub(crate) fn take() -> u64 {
        STEPS.with(|s| s.replace(0))
    }
}

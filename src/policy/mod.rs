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

/// The principals a `Principal` or `NotPrincipal` lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principals {
    /// Written `"Principal": "*"`.
    star: bool,
    /// The `AWS` values: `"*"`, account ids, ARNs (no wildcard inside an ARN).
    aws: Vec<String>,
    /// `Service`, `Federated` and `CanonicalUser` values, which never name an account's role.
    others: Vec<(PrincipalKind, String)>,
}

impl Principals {
    /// Every principal: `"*"` or `{"AWS": "*"}`.
    pub fn is_everyone(&self) -> bool {
        self.star || self.aws.iter().any(|a| a == "*")
    }

    /// Whether it was written as the bare string `"*"`.
    pub fn is_star(&self) -> bool {
        self.star
    }

    pub fn aws(&self) -> &[String] {
        &self.aws
    }

    pub fn others(&self) -> &[(PrincipalKind, String)] {
        &self.others
    }
}

/// Who a statement is about. `NotPrincipal` only ever comes with `Deny` (AWS rejects it with
/// `Allow`; validation enforces it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Who {
    Principal(Principals),
    NotPrincipal(Principals),
}

/// `Action` or `NotAction` patterns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actions {
    Action(Vec<String>),
    NotAction(Vec<String>),
}

/// `Resource` or `NotResource` patterns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resources {
    Resource(Vec<String>),
    NotResource(Vec<String>),
}

/// A condition value, read once for its operator's family.
#[derive(Clone, Debug, PartialEq)]
pub struct CondValue {
    text: String,
    typed: Typed,
}

impl CondValue {
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn typed(&self) -> &Typed {
        &self.typed
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
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    operator: Operator,
    /// As written, for messages.
    key: String,
    /// Lower-cased: key names are case-insensitive.
    key_lower: String,
    values: Vec<CondValue>,
}

impl Condition {
    pub fn operator(&self) -> Operator {
        self.operator
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn key_lower(&self) -> &str {
        &self.key_lower
    }

    pub fn values(&self) -> &[CondValue] {
        &self.values
    }
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

/// What a statement says.
#[derive(Debug, PartialEq)]
struct StatementBody {
    sid: Option<String>,
    effect: Effect,
    who: Who,
    actions: Actions,
    resources: Option<Resources>,
    conditions: Vec<Condition>,
    /// Bit `i` set: the statement's action element covers `catalog::ACTIONS[i]`. Actions do not
    /// depend on the puller, so they are matched once here.
    covers: u128,
    unknown_actions: Vec<UnknownAction>,
}

// The coverage mask has one bit per catalog action.
const _: () = assert!(catalog::ACTIONS.len() <= 128);

impl Statement {
    /// 0-based position in the document.
    pub fn index(&self) -> usize {
        self.index
    }

    pub fn sid(&self) -> Option<&str> {
        self.body.sid.as_deref()
    }

    pub fn effect(&self) -> Effect {
        self.body.effect
    }

    pub fn who(&self) -> &Who {
        &self.body.who
    }

    pub fn actions(&self) -> &Actions {
        &self.body.actions
    }

    pub fn resources(&self) -> Option<&Resources> {
        self.body.resources.as_ref()
    }

    pub fn conditions(&self) -> &[Condition] {
        &self.body.conditions
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
            sid: self.body.sid.clone(),
            registry_policy: self.registry,
        }
    }

    /// How messages name the statement: `statement 2 (Sid "Pull")`, or `registry policy
    /// statement 0 (Sid "Org")` for a statement of the registry policy.
    pub fn label(&self) -> String {
        let label = label(self.index, self.body.sid.as_deref());
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
        let s = self.0;
        if s.registry {
            f.write_str("registry policy ")?;
        }
        f.write_str("statement ")?;
        write!(f, "{}", s.index)?;
        match s.body.sid.as_deref() {
            Some(sid) if plain_sid(sid) => {
                f.write_str(" (Sid \"")?;
                f.write_str(sid)?;
                f.write_str("\")")
            }
            Some(sid) => write!(f, " (Sid {sid:?})"),
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

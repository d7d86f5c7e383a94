//! What the input formats and the dispatcher (`shape.rs`) share: where a value sits ([`At`]),
//! what the reader knows of the source ([`Ctx`]), where records go ([`Emit`]), the typed probe of
//! an object's keys ([`Probe`]), the [`Format`] trait every format implements, and the helpers
//! for identity fields, policy values and messages. Values are read through the probe of borrowed
//! raw JSON (`&RawValue`), never a `serde_json::Value` tree: each byte is parsed about once, which
//! matters at millions of files. This module imports no format, so the formats and the
//! dispatcher both depend on it and not on each other.

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::kind::Shape;
use crate::finding::Code;
use crate::record::{Body, PolicyText, RepoId};

/// The tail of every `unsupported-input` message: what the tool would have read.
pub(crate) const EXPECTED: &str = "expected a policy document, get-repository-policy output, a bulk export, AWS Config, Terraform show -json, a CloudFormation template, Steampipe or CloudQuery rows, describe-repositories, get-registry-policy or get-account-setting output";

/// What shape recognition needs to know about the source.
pub(crate) struct Ctx<'a> {
    /// Identity of a bare policy document (see `Source::label`).
    pub label: Option<&'a str>,
    /// The name says JSON Lines (`.jsonl`, `.ndjson`): read line by line even if one line.
    pub json_lines: bool,
    /// The records are judged on the thread that makes them (a block of JSON Lines, see
    /// `stream::Lines`): a policy may then be read with its record (see
    /// `audit::read_while_reading`).
    pub judged_here: bool,
}

/// Receives each record: its 1-based number, shape, identity and body.
pub(crate) type Emit<'e> = dyn FnMut(u64, Shape, RepoId, Body) + 'e;

/// Why a whole file gave no records. Kept apart from records so that a `.yaml`/`.csv` file found
/// by the walk can be skipped instead.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Rejected {
    Empty,
    NotJson(String),
    Unsupported(String),
    /// Not this format after all: the dispatcher tries the next one.
    Declined,
}

impl Rejected {
    pub fn code(&self) -> Code {
        match self {
            Rejected::Empty | Rejected::NotJson(_) | Rejected::Declined => Code::InvalidJson,
            Rejected::Unsupported(_) => Code::UnsupportedInput,
        }
    }

    pub fn into_message(self) -> String {
        match self {
            Rejected::Empty => "file is empty".to_owned(),
            Rejected::Declined => "no export shape ecr-audit knows".to_owned(),
            Rejected::NotJson(m) | Rejected::Unsupported(m) => m,
        }
    }
}

/// Where a value sits, for record numbers and messages.
#[derive(Clone, Copy, Debug)]
pub(crate) enum At {
    File,
    /// The n-th (1-based) part: `record 3` of an array, `line 7` of JSON Lines, `configuration
    /// item 2` of AWS Config.
    Part {
        noun: &'static str,
        n: u64,
    },
}

impl At {
    pub fn part(noun: &'static str, index: usize) -> At {
        At::Part {
            noun,
            n: index as u64 + 1,
        }
    }

    pub fn number(self) -> u64 {
        match self {
            At::File => 1,
            At::Part { n, .. } => n,
        }
    }

    pub fn subject(self) -> String {
        match self {
            At::File => "the file".to_owned(),
            At::Part { noun, n } => format!("{noun} {n}"),
        }
    }
}

/// What one value turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Item {
    Record(Shape, RepoId, Body),
    /// Recognised but not a repository to audit (an AWS Config item of another resource type,
    /// or of a deleted repository).
    Skip,
    /// No shape the tool knows; the message says what was found.
    Unknown(String),
}

pub(crate) type Field<'a> = Option<&'a RawValue>;

/// The keys any shape is recognised by, each kept as raw JSON. A key that is present with the
/// value `null` is `Some("null")`, not `None`: `"policyText": null` means "no policy".
#[derive(Default, Deserialize)]
pub(crate) struct Probe<'a> {
    #[serde(
        rename = "repositoryName",
        default,
        borrow,
        deserialize_with = "present"
    )]
    pub repository_name: Field<'a>,
    #[serde(rename = "registryId", default, borrow, deserialize_with = "present")]
    pub registry_id: Field<'a>,
    #[serde(rename = "policyText", default, borrow, deserialize_with = "present")]
    pub policy_text: Field<'a>,
    #[serde(rename = "policy", default, borrow, deserialize_with = "present")]
    pub policy_lower: Field<'a>,
    #[serde(rename = "Policy", default, borrow, deserialize_with = "present")]
    pub policy_upper: Field<'a>,
    #[serde(rename = "region", default, borrow, deserialize_with = "present")]
    pub region: Field<'a>,
    #[serde(rename = "awsRegion", default, borrow, deserialize_with = "present")]
    pub aws_region: Field<'a>,
    #[serde(rename = "arn", default, borrow, deserialize_with = "present")]
    pub arn: Field<'a>,
    #[serde(
        rename = "repositoryArn",
        default,
        borrow,
        deserialize_with = "present"
    )]
    pub repository_arn: Field<'a>,
    #[serde(rename = "Statement", default, borrow, deserialize_with = "present")]
    pub statement: Field<'a>,
    #[serde(rename = "Code", default, borrow, deserialize_with = "present")]
    pub code: Field<'a>,
    #[serde(rename = "__type", default, borrow, deserialize_with = "present")]
    pub type_: Field<'a>,
    #[serde(rename = "Error", default, borrow, deserialize_with = "present")]
    pub error: Field<'a>,
    #[serde(rename = "message", default, borrow, deserialize_with = "present")]
    pub message_lower: Field<'a>,
    #[serde(rename = "Message", default, borrow, deserialize_with = "present")]
    pub message_upper: Field<'a>,
    #[serde(
        rename = "configurationItems",
        default,
        borrow,
        deserialize_with = "present"
    )]
    pub configuration_items: Field<'a>,
    #[serde(
        rename = "baseConfigurationItems",
        default,
        borrow,
        deserialize_with = "present"
    )]
    pub base_configuration_items: Field<'a>,
    #[serde(rename = "Results", default, borrow, deserialize_with = "present")]
    pub results: Field<'a>,
    #[serde(rename = "resourceType", default, borrow, deserialize_with = "present")]
    pub resource_type: Field<'a>,
    #[serde(
        rename = "configurationItemStatus",
        default,
        borrow,
        deserialize_with = "present"
    )]
    pub status: Field<'a>,
    #[serde(rename = "resourceName", default, borrow, deserialize_with = "present")]
    pub resource_name: Field<'a>,
    #[serde(rename = "awsAccountId", default, borrow, deserialize_with = "present")]
    pub aws_account_id: Field<'a>,
    #[serde(rename = "accountId", default, borrow, deserialize_with = "present")]
    pub account_id: Field<'a>,
    #[serde(rename = "ARN", default, borrow, deserialize_with = "present")]
    pub arn_upper: Field<'a>,
    #[serde(
        rename = "configuration",
        default,
        borrow,
        deserialize_with = "present"
    )]
    pub configuration: Field<'a>,
    // `aws ecr get-account-setting` (see `scope.rs`).
    #[serde(rename = "name", default, borrow, deserialize_with = "present")]
    pub name: Field<'a>,
    #[serde(rename = "value", default, borrow, deserialize_with = "present")]
    pub value: Field<'a>,
    // Shapes of issue 3 (see `rows.rs`, `inventory.rs`, `terraform.rs`, `cfn.rs`).
    #[serde(rename = "registry_id", default, borrow, deserialize_with = "present")]
    pub registry_id_snake: Field<'a>,
    #[serde(
        rename = "repository_name",
        default,
        borrow,
        deserialize_with = "present"
    )]
    pub repository_name_snake: Field<'a>,
    #[serde(rename = "policy_json", default, borrow, deserialize_with = "present")]
    pub policy_json: Field<'a>,
    #[serde(rename = "policy_text", default, borrow, deserialize_with = "present")]
    pub policy_text_snake: Field<'a>,
    #[serde(rename = "account_id", default, borrow, deserialize_with = "present")]
    pub account_id_snake: Field<'a>,
    #[serde(
        rename = "repository_arn",
        default,
        borrow,
        deserialize_with = "present"
    )]
    pub repository_arn_snake: Field<'a>,
    #[serde(
        rename = "repository_uri",
        default,
        borrow,
        deserialize_with = "present"
    )]
    pub repository_uri_snake: Field<'a>,
    #[serde(rename = "rows", default, borrow, deserialize_with = "present")]
    pub rows: Field<'a>,
    #[serde(rename = "repositories", default, borrow, deserialize_with = "present")]
    pub repositories: Field<'a>,
    #[serde(
        rename = "format_version",
        default,
        borrow,
        deserialize_with = "present"
    )]
    pub format_version: Field<'a>,
    #[serde(rename = "values", default, borrow, deserialize_with = "present")]
    pub tf_values: Field<'a>,
    #[serde(
        rename = "resource_changes",
        default,
        borrow,
        deserialize_with = "present"
    )]
    pub resource_changes: Field<'a>,
    #[serde(rename = "Resources", default, borrow, deserialize_with = "present")]
    pub cfn_resources: Field<'a>,
    // Steampipe's and CloudQuery's own columns (see `rows.rs`).
    #[serde(rename = "policy_std", default, borrow, deserialize_with = "present")]
    pub policy_std: Field<'a>,
    #[serde(rename = "akas", default, borrow, deserialize_with = "present")]
    pub akas: Field<'a>,
    #[serde(rename = "title", default, borrow, deserialize_with = "present")]
    pub title: Field<'a>,
    #[serde(rename = "partition", default, borrow, deserialize_with = "present")]
    pub partition: Field<'a>,
    #[serde(rename = "_cq_id", default, borrow, deserialize_with = "present")]
    pub cq_id: Field<'a>,
    #[serde(
        rename = "_cq_parent_id",
        default,
        borrow,
        deserialize_with = "present"
    )]
    pub cq_parent_id: Field<'a>,
}

/// Keeps `null` as a present value (serde's `Option` would turn it into `None`).
pub(crate) fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Field<'de>, D::Error> {
    <&'de RawValue>::deserialize(d).map(Some)
}

/// The JSON type of a raw value, from its first byte (raw values carry no leading whitespace).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    String,
    Null,
    Bool,
    Number,
}

pub(crate) fn kind(raw: &RawValue) -> Kind {
    kind_of(raw.get())
}

pub(crate) fn kind_of(text: &str) -> Kind {
    kind_of_bytes(text.as_bytes())
}

/// [`kind_of`] of a JSON value's bytes (the value as read, no whitespace before it).
pub(crate) fn kind_of_bytes(b: &[u8]) -> Kind {
    match b.first() {
        Some(b'{') => Kind::Object,
        Some(b'[') => Kind::Array,
        Some(b'"') => Kind::String,
        Some(b'n') => Kind::Null,
        Some(b't' | b'f') => Kind::Bool,
        _ => Kind::Number,
    }
}

/// The value as a string, if it is one.
pub(crate) fn string(raw: Field<'_>) -> Option<String> {
    let raw = raw?;
    if kind(raw) != Kind::String {
        return None;
    }
    // The parser has accepted the literal: without a backslash, its contents are the string.
    if let Some(inner) = raw
        .get()
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        && !inner.contains('\\')
    {
        return Some(inner.to_owned());
    }
    serde_json::from_str(raw.get()).ok()
}

/// Whether `text` is an AWS account ID: exactly 12 ASCII digits.
pub(crate) fn is_account(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// An identity field that holds an AWS account ID (`registryId`, `awsAccountId`, `account_id`,
/// …): a string of exactly 12 ASCII digits, or a JSON integer of at most 12 digits (a
/// hand-made export that lost the leading zeros gets them back). `null` or `""` is an unknown
/// registry. Anything else (`-5`, `1.5e3`, `1e400`, 22 digits, `"12345"`, `true`) is refused
/// with a message naming the field and the record: a wrong registry would join the record to
/// the wrong registry policy and inventory, and an empty one would hide the mistake.
pub(crate) fn identity_account(
    raw: &RawValue,
    field: &str,
    at: At,
) -> Result<Option<String>, Body> {
    let refuse = |what: String| {
        Err(error(
            Code::UnsupportedInput,
            format!(
                "`{field}` of {} is {what}; expected a 12-digit AWS account ID",
                at.subject()
            ),
        ))
    };
    match kind(raw) {
        Kind::Null => Ok(None),
        Kind::String => match string(Some(raw)) {
            Some(text) if text.is_empty() => Ok(None),
            Some(text) if is_account(&text) => Ok(Some(text)),
            Some(text) => refuse(format!("the string {}", shown(&text))),
            None => refuse(NOT_UTF8.to_owned()),
        },
        Kind::Number => {
            let digits = raw.get();
            if !digits.is_empty()
                && digits.len() <= 12
                && digits.bytes().all(|b| b.is_ascii_digit())
            {
                Ok(Some(format!("{digits:0>12}")))
            } else {
                refuse(format!("the number {}", shown(digits)))
            }
        }
        _ => refuse(describe(raw.get())),
    }
}

/// [`identity_account`] of an optional field.
pub(crate) fn account_field(raw: Field<'_>, field: &str, at: At) -> Result<Option<String>, Body> {
    match raw {
        Some(raw) => identity_account(raw, field, at),
        None => Ok(None),
    }
}

/// What a JSON string is when it does not decode: a lone surrogate escape (`"\ud800x"`), the one
/// escape JSON's grammar accepts that is no Unicode text.
pub(crate) const NOT_UTF8: &str = "a JSON string that is not valid UTF-8 text (it holds a lone surrogate escape such as `\\ud800`)";

/// A name field (`repositoryName`, `resourceName`, `repository_name`, …): a string that decodes
/// to text. A name that is no text, or no string, is refused with a message naming the field.
pub(crate) fn name_string(raw: &RawValue, field: &str, at: At) -> Result<String, Body> {
    match (kind(raw), string(Some(raw))) {
        (Kind::String, Some(name)) => Ok(name),
        (Kind::String, None) => Err(error(
            Code::InvalidJson,
            format!(
                "`{field}` of {} is {NOT_UTF8}; expected the repository's name",
                at.subject()
            ),
        )),
        _ => Err(error(
            Code::UnsupportedInput,
            format!(
                "`{field}` of {} is {}; expected a string",
                at.subject(),
                describe(raw.get())
            ),
        )),
    }
}

/// [`name_string`] of an optional field; `null` is no name.
pub(crate) fn name_field(raw: Field<'_>, field: &str, at: At) -> Result<Option<String>, Body> {
    match raw {
        Some(raw) if kind(raw) != Kind::Null => name_string(raw, field, at).map(Some),
        _ => Ok(None),
    }
}

/// A value quoted for a message, cut short when long.
pub(crate) fn shown(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("`{}…`", &text[..cut]),
        None => format!("`{text}`"),
    }
}

/// JSON's four whitespace characters (not Unicode's: they are not JSON).
pub(crate) fn trim_json_ws(text: &str) -> &str {
    text.trim_matches([' ', '\t', '\n', '\r'])
}

/// "a JSON object with keys `a`, `b`", "a JSON number", … for messages.
pub(crate) fn describe(raw: &str) -> String {
    match kind_of(raw) {
        Kind::Object => match serde_json::from_str::<Keys>(raw) {
            Ok(Keys(keys)) if keys.is_empty() => "an empty JSON object".to_owned(),
            Ok(Keys(keys)) => {
                const SHOWN: usize = 6;
                let mut list: Vec<String> =
                    keys.iter().take(SHOWN).map(|k| format!("`{k}`")).collect();
                if keys.len() > SHOWN {
                    list.push(format!("… ({} keys in all)", keys.len()));
                }
                format!("a JSON object with keys {}", list.join(", "))
            }
            Err(_) => "a JSON object".to_owned(),
        },
        Kind::Array => "a JSON array".to_owned(),
        Kind::String => "a JSON string".to_owned(),
        Kind::Null => "JSON null".to_owned(),
        Kind::Bool => "a JSON boolean".to_owned(),
        Kind::Number => "a JSON number".to_owned(),
    }
}

/// An object's keys in order (only for messages, so never on the fast path).
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_map(KeysVisitor)
    }
}

pub(crate) fn unknown_message(raw: &str, at: At) -> String {
    format!("{} is {}; {EXPECTED}", at.subject(), describe(raw))
}

/// serde_json's message without its " at line L column C" tail.
pub(crate) fn bare(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let tail = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&tail) {
        Some(head) => head.to_owned(),
        None => text,
    }
}

/// The message for a value that does not parse. Within a JSON Lines line only the column means
/// anything (the record number is the line).
pub(crate) fn invalid(at: At, e: &serde_json::Error) -> String {
    let position = match at {
        At::Part { noun: "line", .. } => format!(" at column {}", e.column()),
        _ => format!(" at line {} column {}", e.line(), e.column()),
    };
    if e.is_data() {
        // Syntax was fine, so the probe failed on a repeated key (`Statement` twice).
        format!("{} repeats a key: {}{position}", at.subject(), bare(e))
    } else {
        format!("{} is not valid JSON: {}{position}", at.subject(), bare(e))
    }
}

pub(crate) fn error(code: Code, message: String) -> Body {
    Body::Error { code, message }
}

/// What a format is offered: a parsed JSON object (its probe and its text), or a text that is
/// not JSON at all (YAML, CSV).
pub(crate) enum Input<'a> {
    Object { probe: &'a Probe<'a>, raw: &'a str },
    Text(&'a str),
}

/// One input format (SPEC 3): registered once in `shape::FORMATS`, tried in that order, first
/// match wins. `detect` is a cheap look at the keys present (or the text's first line); `read`
/// turns what was detected into records, each handed to `emit` under its number, or says why
/// the value as a whole gave nothing. A format whose closer look finds the value is not its own
/// after all returns [`Rejected::Declined`], and the next format is tried.
pub(crate) trait Format: Sync {
    /// Whether `input`, found `at`, looks like this format. Container formats (a Terraform
    /// document, an AWS Config snapshot) accept only a whole file (`At::File`).
    fn detect(&self, input: &Input<'_>, at: At) -> bool;
    /// Reads `input`.
    fn read(&self, input: &Input<'_>, at: At, ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected>;
    /// For a container whose records are the elements of one array of the file's object (AWS
    /// Config's `configurationItems`, `repositories`, Steampipe's `rows`): that array and what
    /// reads each element. `read` goes through it, and a document too large to hold is streamed
    /// through it element by element (`stream.rs`), so both give the same records.
    fn list<'a>(&self, _probe: &Probe<'a>) -> Option<(&'a RawValue, Each)> {
        None
    }
}

/// Reads one element (0-based index) of a container's array into its records.
pub(crate) type Each = fn(usize, &RawValue, &Ctx, &mut Emit);

/// Reads every element of a container's array (see [`Format::list`]).
pub(crate) fn read_list(list: &RawValue, each: Each, ctx: &Ctx, emit: &mut Emit) {
    let Some(items) = elements(list, emit) else {
        return;
    };
    for (i, raw) in items.into_iter().enumerate() {
        each(i, raw, ctx, emit);
    }
}

/// Hands an item of a single-object format to `emit` under its number: a record, nothing for a
/// skipped item, or (unknown) `Err`, which the dispatcher turns into a file-level rejection or an
/// error record of its own.
pub(crate) fn emit_item(item: Item, at: At, emit: &mut Emit) -> Result<(), Rejected> {
    match item {
        Item::Record(shape, repo, body) => emit(at.number(), shape, repo, body),
        Item::Skip => {}
        Item::Unknown(message) => return Err(Rejected::Unsupported(message)),
    }
    Ok(())
}

/// The elements of a JSON array found inside the file. The file was parsed once already, so this
/// cannot fail; should it, the file gets one `invalid-json` record and `None` comes back.
pub(crate) fn elements<'a>(list: &'a RawValue, emit: &mut Emit) -> Option<Vec<&'a RawValue>> {
    match serde_json::from_str(list.get()) {
        Ok(items) => Some(items),
        Err(e) => {
            emit(
                1,
                Shape::Unrecognised,
                RepoId::default(),
                error(Code::InvalidJson, invalid(At::File, &e)),
            );
            None
        }
    }
}

/// A repository's policy value: a string is the text (`""` = no policy), an object is its raw
/// text, `null` = no policy, anything else `unsupported-input`.
pub(crate) fn policy_body(key: &str, policy: &RawValue, at: At) -> Body {
    match kind(policy) {
        Kind::String if lazy_literal(policy.get()) => {
            Body::Policy(PolicyText::encoded(policy.get()))
        }
        Kind::String => match string(Some(policy)) {
            // Inventory scripts write "" for a repository without a policy.
            Some(text) if text.trim().is_empty() => Body::NoPolicy,
            Some(text) => Body::Policy(PolicyText::plain(&text)),
            None => error(
                Code::InvalidJson,
                format!("`{key}` of {} is not a valid JSON string", at.subject()),
            ),
        },
        Kind::Object => Body::Policy(PolicyText::plain(policy.get())),
        Kind::Null => Body::NoPolicy,
        _ => error(
            Code::UnsupportedInput,
            format!(
                "`{key}` of {} is {}; expected the policy as a JSON string, an object or null",
                at.subject(),
                describe(policy.get())
            ),
        ),
    }
}

/// Whether a JSON string literal holding a policy can be kept as found and decoded later: the
/// JSON parser accepted it, it has no `\u` escape (a lone surrogate is the one escape that can
/// fail to decode), and it plainly holds a document rather than nothing (`""`, blanks).
pub(crate) fn lazy_literal(literal: &str) -> bool {
    literal
        .get(1..)
        .is_some_and(|inner| trim_json_ws(inner).starts_with('{'))
        && !literal.contains("\\u")
}

/// Fills what an ECR repository ARN says (`arn:aws:ecr:eu-west-1:444455556666:repository/app`)
/// where the record does not: `get-repository-policy` output has no region, but an ARN next to
/// it does.
pub(crate) fn fill_from_arn(repo: &mut RepoId) {
    let Some(arn) = &repo.arn else { return };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, _partition, service, region, account, resource] = parts[..] else {
        return;
    };
    if prefix != "arn" || service != "ecr" {
        return;
    }
    if repo.region.is_none() && !region.is_empty() {
        repo.region = Some(region.to_owned());
    }
    if repo.registry.is_none() && !account.is_empty() {
        repo.registry = Some(account.to_owned());
    }
    if repo.repository.is_none() {
        repo.repository = resource.strip_prefix("repository/").map(str::to_owned);
    }
}

//! Recognising an export's shape from its content (SPEC 3; first match wins) and turning it into
//! records: the repository's identity plus the policy text, untouched. Values are read through a
//! typed probe of borrowed raw JSON (`&RawValue`), never a `serde_json::Value` tree: each byte is
//! parsed about once, which matters at millions of files.

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::Shape;
use super::{awsconfig, cfn, csvexport, scope, tools};
use crate::finding::Code;
use crate::record::{Body, PolicyText, RepoId};

/// The tail of every `unsupported-input` message: what the tool would have read.
pub(crate) const EXPECTED: &str = "expected a policy document, get-repository-policy output, a bulk export, AWS Config, Terraform show -json, a CloudFormation template, Steampipe or CloudQuery rows, describe-repositories, get-registry-policy or get-account-setting output";

/// ECR's answer when a repository has no policy, in JSON errors and the CLI's error line.
const NOT_FOUND: &str = "RepositoryPolicyNotFoundException";

/// The AWS CLI prints a failed call as `An error occurred (Code) when calling the Op operation: …`.
const CLI_ERROR: &str = "An error occurred (";

/// What shape recognition needs to know about the source.
pub(crate) struct Ctx<'a> {
    /// Identity of a bare policy document (see `Source::label`).
    pub label: Option<&'a str>,
    /// The name says JSON Lines (`.jsonl`, `.ndjson`): read line by line even if one line.
    pub json_lines: bool,
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
}

impl Rejected {
    pub fn code(&self) -> Code {
        match self {
            Rejected::Empty | Rejected::NotJson(_) => Code::InvalidJson,
            Rejected::Unsupported(_) => Code::UnsupportedInput,
        }
    }

    pub fn into_message(self) -> String {
        match self {
            Rejected::Empty => "file is empty".to_owned(),
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
    // Shapes of issue 3 (see `tools.rs`, `terraform.rs`, `cfn.rs`).
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

fn kind_of(text: &str) -> Kind {
    match text.as_bytes().first() {
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
fn bare(e: &serde_json::Error) -> String {
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

/// Reads a decoded file. `Err` when the file as a whole gave nothing: empty, not JSON, or JSON of
/// no known shape; otherwise every record (error records included) went to `emit`.
pub(crate) fn parse(text: &str, ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
    let trimmed = trim_json_ws(text);
    if text.trim().is_empty() {
        return Err(Rejected::Empty);
    }
    if ctx.json_lines {
        lines(text, ctx, emit);
        return Ok(());
    }
    // Parse `text`, not `trimmed`, so that serde_json's line numbers count leading blank lines.
    let parsed = match kind_of(trimmed) {
        Kind::Object => {
            serde_json::from_str::<Probe>(text).map(|p| document(&p, trimmed, ctx, emit))
        }
        Kind::Array => serde_json::from_str::<Vec<&RawValue>>(text).map(|items| {
            for (i, raw) in items.iter().enumerate() {
                item_text(raw.get(), At::part("record", i), ctx, emit);
            }
            Ok(())
        }),
        Kind::String => serde_json::from_str::<String>(text)
            .map(|s| whole_item(string_item(&s, At::File, ctx), emit)),
        _ => serde_json::from_str::<IgnoredAny>(text)
            .map(|_| Err(Rejected::Unsupported(unknown_message(trimmed, At::File)))),
    };
    match parsed {
        Ok(result) => result,
        Err(e) if e.is_data() => Err(Rejected::NotJson(invalid(At::File, &e))),
        Err(e) if cfn::looks_like_yaml_template(text) => match cfn::yaml(text, ctx, emit) {
            Some(result) => result,
            None => Err(Rejected::NotJson(invalid(At::File, &e))),
        },
        Err(_) if csvexport::looks_like_export(text) => {
            csvexport::read(text, ctx, emit);
            Ok(())
        }
        Err(e) if looks_line_oriented(text) => {
            // Several values, one a line (JSON Lines without the name), or CLI error lines.
            let _ = e;
            lines(text, ctx, emit);
            Ok(())
        }
        Err(e) => Err(Rejected::NotJson(invalid(At::File, &e))),
    }
}

/// A single-value file: its one item is record 1.
fn whole_item(item: Item, emit: &mut Emit) -> Result<(), Rejected> {
    match item {
        Item::Record(shape, repo, body) => emit(1, shape, repo, body),
        Item::Skip => {}
        Item::Unknown(message) => return Err(Rejected::Unsupported(message)),
    }
    Ok(())
}

/// A top-level object: an AWS Config container, or a single item.
fn document(p: &Probe, raw: &str, ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
    // `batch-get-resource-config` names its items `baseConfigurationItems`.
    let items = p.configuration_items.or(p.base_configuration_items);
    if let Some(items) = items.filter(|r| kind(r) == Kind::Array) {
        awsconfig::container(items, "configuration item", ctx, emit);
        return Ok(());
    }
    if let Some(results) = p.results.filter(|r| kind(r) == Kind::Array) {
        // `aws configservice select-resource-config`: each result is a JSON string of an item.
        awsconfig::container(results, "result", ctx, emit);
        return Ok(());
    }
    if let Some(done) = tools::document(p, raw, ctx, emit) {
        return done;
    }
    whole_item(classify(p, raw, At::File, ctx), emit)
}

/// Classifies one parsed object (a whole file, an array element, a line, a Config item).
pub(crate) fn classify(p: &Probe, raw: &str, at: At, ctx: &Ctx) -> Item {
    if let Some(name) = p.repository_name {
        let policy = [
            ("policyText", p.policy_text),
            ("policy", p.policy_lower),
            ("Policy", p.policy_upper),
        ]
        .into_iter()
        .find_map(|(key, raw)| raw.map(|r| (key, r)));
        if let Some((key, policy)) = policy {
            return repository(p, name, key, policy, at);
        }
    }
    if p.statement.is_some() {
        return bare_policy(raw, at, ctx);
    }
    if let Some(item) = scope::item(p, at) {
        return item;
    }
    if let Some(item) = tools::item(p, at, ctx) {
        return item;
    }
    if let Some(item) = awsconfig::item(p, at) {
        return item;
    }
    if let Some(item) = marker(p, at, ctx) {
        return item;
    }
    Item::Unknown(unknown_message(raw, at))
}

/// Classifies one value given as text: an array element, a line, a Config result.
pub(crate) fn classify_text(text: &str, at: At, ctx: &Ctx) -> Result<Item, String> {
    let text = trim_json_ws(text);
    match kind_of(text) {
        Kind::Object => {
            let p: Probe = serde_json::from_str(text).map_err(|e| invalid(at, &e))?;
            Ok(classify(&p, text, at, ctx))
        }
        Kind::String => {
            let s: String = serde_json::from_str(text).map_err(|e| invalid(at, &e))?;
            Ok(string_item(&s, at, ctx))
        }
        _ => {
            serde_json::from_str::<IgnoredAny>(text).map_err(|e| invalid(at, &e))?;
            Ok(Item::Unknown(unknown_message(text, at)))
        }
    }
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

/// Classifies a value and hands its record (or error record) to `emit` under its number.
pub(crate) fn item_text(text: &str, at: At, ctx: &Ctx, emit: &mut Emit) {
    let n = at.number();
    match classify_text(text, at, ctx) {
        Ok(Item::Record(shape, repo, body)) => emit(n, shape, repo, body),
        Ok(Item::Skip) => {}
        Ok(Item::Unknown(message)) => emit(
            n,
            Shape::Unrecognised,
            RepoId::default(),
            error(Code::UnsupportedInput, message),
        ),
        Err(message) => emit(
            n,
            Shape::Unrecognised,
            RepoId::default(),
            error(Code::InvalidJson, message),
        ),
    }
}

/// A JSON string holding a policy document (`--query policyText` with the default JSON output)
/// is that document; any other string is no known shape.
fn string_item(s: &str, at: At, ctx: &Ctx) -> Item {
    let inner = trim_json_ws(s);
    if kind_of(inner) == Kind::Object
        && serde_json::from_str::<Probe>(inner).is_ok_and(|p| p.statement.is_some())
    {
        return bare_policy(inner, at, ctx);
    }
    Item::Unknown(format!(
        "{} is a JSON string that holds no policy document; {EXPECTED}",
        at.subject()
    ))
}

/// A bare policy document: its identity is the path it was found at (SPEC 3). Inside an array
/// or JSON Lines it is part of a bulk export.
fn bare_policy(raw: &str, at: At, ctx: &Ctx) -> Item {
    let shape = match at {
        At::File => Shape::PolicyDocument,
        At::Part { .. } => Shape::Bulk,
    };
    Item::Record(
        shape,
        RepoId {
            repository: ctx.label.map(str::to_owned),
            name_from_path: true,
            ..RepoId::default()
        },
        Body::Policy(PolicyText::plain(raw)),
    )
}

/// `get-repository-policy` output, or a bulk-export object with `repositoryName` and a policy.
fn repository(p: &Probe, name: &RawValue, key: &str, policy: &RawValue, at: At) -> Item {
    // A file of its own with `policyText` is the CLI's output; anything else is a bulk export.
    let shape = match (at, key) {
        (At::File, "policyText") => Shape::GetRepositoryPolicy,
        _ => Shape::Bulk,
    };
    let name = match name_string(name, "repositoryName", at) {
        Ok(name) => name,
        Err(body) => return Item::Record(shape, RepoId::default(), body),
    };
    let mut repo = RepoId {
        registry: None,
        region: string(p.region).or_else(|| string(p.aws_region)),
        repository: Some(name),
        arn: string(p.arn).or_else(|| string(p.repository_arn)),
        name_from_path: false,
    };
    match account_field(p.registry_id, "registryId", at) {
        Ok(registry) => repo.registry = registry,
        // The row keeps the name, so that the person can find the record.
        Err(body) => return Item::Record(shape, repo, body),
    }
    fill_from_arn(&mut repo);
    Item::Record(shape, repo, policy_body(key, policy, at))
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

/// An AWS error response as JSON: `{"Code": …}` (CLI/SDK), `{"__type": …}` (the raw API), or
/// `{"Error": {"Code": …}}` (boto3's `response`). `RepositoryPolicyNotFoundException` is a
/// repository without policy; any other error is named in an `unsupported-input` message.
fn marker(p: &Probe, at: At, ctx: &Ctx) -> Option<Item> {
    let (code, message) = if let Some(code) = string(p.code) {
        (
            code,
            string(p.message_upper).or_else(|| string(p.message_lower)),
        )
    } else if let Some(code) = string(p.type_) {
        (
            code,
            string(p.message_lower).or_else(|| string(p.message_upper)),
        )
    } else {
        let inner = p.error.filter(|r| kind(r) == Kind::Object)?;
        let inner: Probe = serde_json::from_str(inner.get()).ok()?;
        (
            string(inner.code)?,
            string(inner.message_upper).or_else(|| string(inner.message_lower)),
        )
    };
    // The raw API may namespace the type: `com.amazonaws.ecr#RepositoryPolicyNotFoundException`.
    let short = code.rsplit(['#', ':']).next().unwrap_or(&code);
    if short == NOT_FOUND {
        let fields = name_field(p.repository_name, "repositoryName", at).and_then(|name| {
            account_field(p.registry_id, "registryId", at).map(|registry| (name, registry))
        });
        return Some(match fields {
            Ok((name, registry)) => {
                let mut repo = not_found_identity(name, registry, message.as_deref(), ctx);
                // ECR's error has no region; scripts/export-ecr.sh adds it.
                repo.region = string(p.region);
                Item::Record(Shape::NoPolicyMarker, repo, Body::NoPolicy)
            }
            Err(body) => Item::Record(Shape::NoPolicyMarker, RepoId::default(), body),
        });
    }
    let message = format!(
        "{} is an AWS error response ({short}{}), not a repository policy",
        at.subject(),
        message.map(|m| format!(": {m}")).unwrap_or_default()
    );
    // An error that names its repository (scripts/export-ecr.sh writes one for a policy it could
    // not read, e.g. AccessDeniedException) is that repository's error row, so that the
    // inventory join does not take the repository for one without a policy.
    if let Some(name) = string(p.repository_name) {
        let repo = RepoId {
            registry: account_field(p.registry_id, "registryId", at)
                .ok()
                .flatten(),
            region: string(p.region),
            repository: Some(name),
            ..RepoId::default()
        };
        return Some(Item::Record(
            Shape::Unrecognised,
            repo,
            error(Code::UnsupportedInput, message),
        ));
    }
    Some(Item::Unknown(message))
}

/// Who a `RepositoryPolicyNotFoundException` is about: the fields if given, else the message
/// ("… the repository with name 'app' in the registry with id '123456789012'"), else the path.
fn not_found_identity(
    name: Option<String>,
    registry: Option<String>,
    message: Option<&str>,
    ctx: &Ctx,
) -> RepoId {
    let name = name.or_else(|| quoted_after(message?, "repository with name '"));
    let registry = registry.or_else(|| quoted_after(message?, "registry with id '"));
    match name {
        Some(name) => RepoId {
            registry,
            repository: Some(name),
            ..RepoId::default()
        },
        None => RepoId {
            registry,
            repository: ctx.label.map(str::to_owned),
            name_from_path: true,
            ..RepoId::default()
        },
    }
}

fn quoted_after(text: &str, lead: &str) -> Option<String> {
    let start = text.find(lead)? + lead.len();
    let rest = &text[start..];
    let end = rest.find('\'')?;
    Some(rest[..end].to_owned())
}

/// `An error occurred (Code) when calling the Op operation: message` → (Code, message).
fn cli_error(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix(CLI_ERROR)?;
    let (code, rest) = rest.split_once(')')?;
    let message = rest.split_once(": ").map_or("", |(_, m)| m);
    Some((code, message))
}

/// Several non-blank lines of which the first is a JSON value on its own, or all start with `{`
/// (JSON Lines), or a first line that is an AWS CLI error. A pretty-printed document fails both
/// JSON tests (its first line is `{` or `[`).
fn looks_line_oriented(text: &str) -> bool {
    let mut non_blank = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let Some(first) = non_blank.next() else {
        return false;
    };
    if first.starts_with(CLI_ERROR) {
        return true;
    }
    let Some(second) = non_blank.next() else {
        return false;
    };
    serde_json::from_str::<IgnoredAny>(first).is_ok()
        || (first.starts_with('{')
            && second.starts_with('{')
            && non_blank.all(|l| l.starts_with('{')))
}

/// JSON Lines (and AWS CLI error lines): each non-blank line is one record numbered by its line;
/// blank lines are skipped but counted.
fn lines(text: &str, ctx: &Ctx, emit: &mut Emit) {
    for (i, text) in text.lines().enumerate() {
        line(i, text, ctx, emit);
    }
}

/// One line (0-based index `i`) of JSON Lines: blank is nothing, else one record.
pub(crate) fn line(i: usize, line: &str, ctx: &Ctx, emit: &mut Emit) {
    {
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        let at = At::part("line", i);
        let n = at.number();
        match cli_error(line) {
            Some((code, message)) if code == NOT_FOUND => {
                emit(
                    n,
                    Shape::NoPolicyMarker,
                    not_found_identity(None, None, Some(message), ctx),
                    Body::NoPolicy,
                );
            }
            Some((code, message)) => emit(
                n,
                Shape::Unrecognised,
                RepoId::default(),
                error(
                    Code::UnsupportedInput,
                    format!(
                        "line {n} is an AWS CLI error ({code}: {message}), not a repository policy"
                    ),
                ),
            ),
            None => item_text(line, at, ctx, emit),
        }
    }
}

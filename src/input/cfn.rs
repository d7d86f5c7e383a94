//! CloudFormation templates, JSON and YAML: each `AWS::ECR::Repository` is a record. Its
//! `RepositoryPolicyText` (an object, or a string of JSON) is the policy; none is `no-policy`.
//! Intrinsic functions (`Ref`, `Fn::Sub`, `Fn::Join`, YAML's `!Sub` …) are resolved where their
//! value is plain text (a `Fn::Sub` without `${…}`, a `Fn::Join` of plain strings); anywhere
//! else in the policy but a `Sid` the verdict needs a value known only at deploy time, and the
//! record is `unresolved-policy`.
//!
//! A template is read as a value tree; both parsers have a recursion limit (128), so a hostile
//! template cannot overflow the stack.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::common::{At, Ctx, Emit, Format, Input, Kind, Rejected, error, invalid, kind};
use super::kind::Shape;
use crate::finding::Code;
use crate::record::{Body, PolicyText, RepoId};

const REPOSITORY: &str = "AWS::ECR::Repository";

/// A JSON template: a `Resources` object.
pub(crate) struct CloudFormationJson;

impl Format for CloudFormationJson {
    fn detect(&self, input: &Input<'_>, at: At) -> bool {
        matches!((input, at), (Input::Object { probe, .. }, At::File)
            if probe.cfn_resources.is_some_and(|r| kind(r) == Kind::Object))
    }

    fn read(&self, input: &Input<'_>, _at: At, ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
        match input {
            Input::Object { raw, .. } => json(raw, ctx, emit),
            Input::Text(_) => Err(Rejected::Declined),
        }
    }
}

/// A YAML template: text that is not JSON, with a `Resources:` or `AWSTemplateFormatVersion:`
/// line.
pub(crate) struct CloudFormationYaml;

impl Format for CloudFormationYaml {
    fn detect(&self, input: &Input<'_>, _at: At) -> bool {
        matches!(input, Input::Text(text) if looks_like_yaml_template(text))
    }

    fn read(&self, input: &Input<'_>, _at: At, ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
        match input {
            Input::Text(text) => yaml(text, ctx, emit).unwrap_or(Err(Rejected::Declined)),
            Input::Object { .. } => Err(Rejected::Declined),
        }
    }
}

fn json(raw: &str, ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
    #[derive(serde::Deserialize)]
    struct Template<'a> {
        #[serde(rename = "Resources", borrow)]
        resources: Ordered<'a>,
    }
    let t: Template =
        serde_json::from_str(raw).map_err(|e| Rejected::NotJson(invalid(At::File, &e)))?;
    let mut resources = Vec::with_capacity(t.resources.0.len());
    for (id, raw) in t.resources.0 {
        let value = serde_json::from_str::<Value>(raw.get())
            .map_err(|e| Rejected::NotJson(invalid(At::File, &e)))?;
        resources.push((id, value));
    }
    template(resources, ctx, emit);
    Ok(())
}

/// A YAML template; `None` when the text is not YAML of a template (the caller goes on with its
/// other readings of the file).
fn yaml(text: &str, ctx: &Ctx, emit: &mut Emit) -> Option<Result<(), Rejected>> {
    // libyaml scans a whole flow collection before serde's recursion limit can stop it, and
    // that scan grows with the square of the nesting: 1 MB of `[` takes minutes. So the depth is
    // checked first, in one pass. CloudFormation itself takes templates of at most 1 MB.
    if text.len() > MAX_YAML {
        return Some(Err(Rejected::NotJson(format!(
            "the file is a {} YAML template; CloudFormation takes at most 1 MiB, so it is not read",
            super::read::human(text.len() as u64)
        ))));
    }
    if let Some(line) = too_deep(text) {
        return Some(Err(Rejected::NotJson(format!(
            "the file is not a valid CloudFormation template (YAML): nesting deeper than {MAX_DEPTH} levels at line {line}"
        ))));
    }
    let doc: yaml_serde::Value = match yaml_serde::from_str(text) {
        Ok(doc) => doc,
        // It looked like a template (a `Resources:` line) but is not valid YAML.
        Err(e) => {
            return Some(Err(Rejected::NotJson(format!(
                "the file is not a valid CloudFormation template (YAML): {e}"
            ))));
        }
    };
    let resources = doc.get("Resources")?.as_mapping()?;
    let mut out = Vec::with_capacity(resources.len());
    for (id, value) in resources {
        let id = match id {
            yaml_serde::Value::String(s) => s.clone(),
            other => format!("{other:?}"),
        };
        out.push((id, from_yaml(value)));
    }
    template(out, ctx, emit);
    Some(Ok(()))
}

const MAX_YAML: usize = 1 << 20;
const MAX_DEPTH: usize = 128;

/// The line where flow collections (`[`, `{`) nest deeper than `MAX_DEPTH`, or where block
/// indentation does, outside quoted scalars and comments; a conservative over-count is fine
/// (no real template comes near).
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches([' ', '-']).len();
        if indent / 2 > MAX_DEPTH {
            return Some(i + 1);
        }
        let mut quote = None;
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Some(i + 1);
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    None
}

/// Whether a file that is not JSON is worth reading as a YAML template: a line that starts a
/// top-level `Resources:` or `AWSTemplateFormatVersion:` key.
fn looks_like_yaml_template(text: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with("Resources:") || l.starts_with("AWSTemplateFormatVersion:"))
}

/// YAML → the JSON form CloudFormation gives the same template: `!Ref x` is `{"Ref": x}`,
/// `!Sub x` is `{"Fn::Sub": x}`, `!GetAtt a.b` is `{"Fn::GetAtt": "a.b"}`.
fn from_yaml(v: &yaml_serde::Value) -> Value {
    use yaml_serde::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => serde_json::from_str(&n.to_string()).unwrap_or(Value::Null),
        Y::String(s) => Value::String(s.clone()),
        Y::Sequence(items) => Value::Array(items.iter().map(from_yaml).collect()),
        Y::Mapping(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let k = match k {
                        Y::String(s) => s.clone(),
                        other => yaml_serde::to_string(other)
                            .map(|s| s.trim().to_owned())
                            .unwrap_or_default(),
                    };
                    (k, from_yaml(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let key = if name == "Ref" || name == "Condition" {
                name.to_owned()
            } else {
                format!("Fn::{name}")
            };
            let mut obj = serde_json::Map::new();
            obj.insert(key, from_yaml(&t.value));
            Value::Object(obj)
        }
    }
}

fn template(resources: Vec<(String, Value)>, ctx: &Ctx, emit: &mut Emit) {
    let _ = ctx;
    for (i, (id, r)) in resources.iter().enumerate() {
        if r.get("Type").and_then(Value::as_str) != Some(REPOSITORY) {
            continue;
        }
        let n = i as u64 + 1;
        let props = r.get("Properties").unwrap_or(&Value::Null);
        let repo = match props.get("RepositoryName") {
            Some(Value::String(name)) => RepoId {
                repository: Some(name.clone()),
                ..RepoId::default()
            },
            // No name, or one made at deploy time: the logical id is a label, not the name.
            _ => RepoId {
                repository: Some(id.clone()),
                name_from_path: true,
                ..RepoId::default()
            },
        };
        let body = match props.get("RepositoryPolicyText") {
            None | Some(Value::Null) => Body::NoPolicy,
            Some(Value::String(s)) if s.trim().is_empty() => Body::NoPolicy,
            Some(Value::String(s)) => Body::Policy(PolicyText::plain(s)),
            Some(Value::Object(o)) if o.is_empty() => Body::NoPolicy,
            Some(policy @ Value::Object(_)) => match resolve(policy, "", false) {
                Ok(policy) => Body::Policy(PolicyText::plain(&policy.to_string())),
                Err(Unresolved { function, path }) => Body::Unresolved(format!(
                    "resource {id} (record {n}): `RepositoryPolicyText` uses {function} at {}, whose value is known only at deploy time; audit the deployed policy (AWS Config or get-repository-policy)",
                    if path.is_empty() {
                        "the top".to_owned()
                    } else {
                        path
                    }
                )),
            },
            Some(other) => error(
                Code::UnsupportedInput,
                format!(
                    "resource {id} (record {n}): `RepositoryPolicyText` is {}; expected an object or a JSON string",
                    kind_name(other)
                ),
            ),
        };
        emit(n, Shape::CloudFormation, repo, body);
    }
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[derive(Debug)]
struct Unresolved {
    function: String,
    path: String,
}

/// An intrinsic function object: exactly one key, `Ref`, `Condition` or `Fn::…`.
fn intrinsic(v: &Value) -> Option<(&str, &Value)> {
    let o = v.as_object()?;
    if o.len() != 1 {
        return None;
    }
    let (k, arg) = o.iter().next()?;
    (k == "Ref" || k == "Condition" || k.starts_with("Fn::")).then_some((k.as_str(), arg))
}

/// The policy with its plain-text intrinsics replaced by their text. `in_sid`: the value is a
/// `Sid`, which names a statement and never changes a verdict, so any intrinsic there is left
/// as a placeholder.
fn resolve(v: &Value, path: &str, in_sid: bool) -> Result<Value, Unresolved> {
    if let Some((function, arg)) = intrinsic(v) {
        if in_sid {
            return Ok(Value::String(format!("({function})")));
        }
        let plain = match (function, arg) {
            ("Fn::Sub", Value::String(s)) if !s.contains("${") => Some(s.clone()),
            ("Fn::Sub", Value::Array(a))
                if a.len() == 2 && a[0].as_str().is_some_and(|s| !s.contains("${")) =>
            {
                a[0].as_str().map(str::to_owned)
            }
            ("Fn::Join", Value::Array(a)) if a.len() == 2 => {
                match (&a[0], resolve(&a[1], path, false)) {
                    (Value::String(sep), Ok(Value::Array(parts))) => parts
                        .iter()
                        .map(|p| p.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                        .map(|parts| parts.join(sep)),
                    _ => None,
                }
            }
            _ => None,
        };
        return plain.map(Value::String).ok_or_else(|| Unresolved {
            function: function.to_owned(),
            path: path.to_owned(),
        });
    }
    match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| resolve(item, &format!("{path}[{i}]"), in_sid))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(o) => {
            let mut out = serde_json::Map::new();
            for (k, item) in o {
                let sub = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                out.insert(k.clone(), resolve(item, &sub, in_sid || k == "Sid")?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

/// An object's entries in document order (serde_json's `Map` sorts its keys; record numbers
/// follow the template).
struct Ordered<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Ordered<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Ordered<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<'a>, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    out.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

//! The loose shape of a policy document as serde reads it: every element accepts any JSON type
//! and records what it found, so that validation can report every problem of a document, with
//! its place, instead of stopping at serde's first type error. One-or-many fields have
//! hand-written visitors (no untagged enums: they buffer the input and give vague errors).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// The JSON type of a value, for messages ("found a number").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonType {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl JsonType {
    pub fn with_article(self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Bool => "a boolean",
            JsonType::Number => "a number",
            JsonType::String => "a string",
            JsonType::Array => "an array",
            JsonType::Object => "an object",
        }
    }
}

/// A value read only to be dropped. Unlike serde's `IgnoredAny` (which serde_json skips without
/// a depth limit) it goes through `deserialize_any`, so serde_json's recursion limit makes deep
/// nesting `invalid-json` wherever it is, and the stack stays bounded.
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SkipVisitor;
        impl<'de> Visitor<'de> for SkipVisitor {
            type Value = Skip;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_none<E: de::Error>(self) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
                while seq.next_element::<Skip>()?.is_some() {}
                Ok(Skip)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
                while map.next_entry::<Skip, Skip>()?.is_some() {}
                Ok(Skip)
            }
        }
        d.deserialize_any(SkipVisitor)
    }
}

/// A value that may be of the wrong JSON type. Each loose type says what it makes of each JSON
/// type; anything it does not take becomes `wrong(type)` and is skipped.
trait Loose: Sized {
    const EXPECTING: &'static str;

    fn wrong(found: JsonType) -> Self;

    fn from_str(_s: &str) -> Self {
        Self::wrong(JsonType::String)
    }

    fn from_scalar(found: JsonType, _text: String) -> Self {
        Self::wrong(found)
    }

    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Self::wrong(JsonType::Array))
    }

    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Self::wrong(JsonType::Object))
    }
}

struct LooseVisitor<T>(PhantomData<T>);

impl<'de, T: Loose> Visitor<'de> for LooseVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok(T::from_str(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        Ok(T::from_scalar(JsonType::Bool, v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Ok(T::from_scalar(JsonType::Number, v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Ok(T::from_scalar(JsonType::Number, v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Ok(T::from_scalar(JsonType::Number, v.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::wrong(JsonType::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        Ok(T::wrong(JsonType::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::from_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_map(map)
    }
}

macro_rules! loose_deserialize {
    ($($t:ty),*) => {$(
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(LooseVisitor::<$t>(PhantomData))
            }
        }
    )*};
}

loose_deserialize!(
    Document,
    Text,
    CondText,
    Strings,
    CondValues,
    Statements,
    StatementSlot,
    RawPrincipal,
    RawConditionBlock,
    RawOperatorBody
);

/// A string field (`Version`, `Sid`, `Effect`, one action, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Text {
    Str(String),
    Wrong(JsonType),
}

impl Loose for Text {
    const EXPECTING: &'static str = "a string";
    fn wrong(found: JsonType) -> Self {
        Text::Wrong(found)
    }
    fn from_str(s: &str) -> Self {
        Text::Str(s.to_owned())
    }
}

/// One condition value: IAM takes strings, numbers and booleans, normalised to strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CondText {
    Str(String),
    Wrong(JsonType),
}

impl Loose for CondText {
    const EXPECTING: &'static str = "a string, number or boolean";
    fn wrong(found: JsonType) -> Self {
        CondText::Wrong(found)
    }
    fn from_str(s: &str) -> Self {
        CondText::Str(s.to_owned())
    }
    fn from_scalar(_found: JsonType, text: String) -> Self {
        CondText::Str(text)
    }
}

/// A one-or-many field of strings (`Action`, `Resource`, a principal's ARNs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Strings {
    List(Vec<Text>),
    Wrong(JsonType),
}

impl Loose for Strings {
    const EXPECTING: &'static str = "a string or an array of strings";
    fn wrong(found: JsonType) -> Self {
        Strings::Wrong(found)
    }
    fn from_str(s: &str) -> Self {
        Strings::List(vec![Text::Str(s.to_owned())])
    }
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(item) = seq.next_element::<Text>()? {
            items.push(item);
        }
        Ok(Strings::List(items))
    }
}

/// A one-or-many field of condition values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CondValues {
    List(Vec<CondText>),
    Wrong(JsonType),
}

impl Loose for CondValues {
    const EXPECTING: &'static str = "a value or an array of values";
    fn wrong(found: JsonType) -> Self {
        CondValues::Wrong(found)
    }
    fn from_str(s: &str) -> Self {
        CondValues::List(vec![CondText::Str(s.to_owned())])
    }
    fn from_scalar(_found: JsonType, text: String) -> Self {
        CondValues::List(vec![CondText::Str(text)])
    }
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<CondText>()? {
            items.push(item);
        }
        Ok(CondValues::List(items))
    }
}

/// An object key: one of the element names IAM knows (no allocation), or another string.
enum Key {
    Known(&'static str),
    Other(String),
}

const ELEMENTS: [&str; 12] = [
    "Version",
    "Id",
    "Statement",
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

impl Key {
    fn into_string(self) -> String {
        match self {
            Key::Known(k) => k.to_owned(),
            Key::Other(k) => k,
        }
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                // Element names are case-sensitive in IAM.
                Ok(match ELEMENTS.iter().find(|k| **k == v) {
                    Some(k) => Key::Known(k),
                    None => Key::Other(v.to_owned()),
                })
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// Stores a field's value, remembering a key given twice (JSON leaves the meaning open; IAM
/// reads one of them, so the document is ambiguous).
fn set<T>(slot: &mut Option<T>, value: T, duplicates: &mut Vec<&'static str>, key: &'static str) {
    if slot.is_some() {
        duplicates.push(key);
    }
    *slot = Some(value);
}

/// The whole document: an object, or something else.
#[derive(Clone, Debug)]
pub enum Document {
    Object(RawPolicy),
    Wrong(JsonType),
}

/// The top-level object.
#[derive(Clone, Debug, Default)]
pub struct RawPolicy {
    pub version: Option<Text>,
    pub id: Option<Text>,
    pub statement: Option<Statements>,
    pub unknown_keys: Vec<String>,
    pub duplicate_keys: Vec<&'static str>,
}

impl Loose for Document {
    const EXPECTING: &'static str = "a policy document";
    fn wrong(found: JsonType) -> Self {
        Document::Wrong(found)
    }
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut p = RawPolicy::default();
        let dup = &mut p.duplicate_keys;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Known(k @ "Version") => set(&mut p.version, map.next_value()?, dup, k),
                Key::Known(k @ "Id") => set(&mut p.id, map.next_value()?, dup, k),
                Key::Known(k @ "Statement") => set(&mut p.statement, map.next_value()?, dup, k),
                other => {
                    map.next_value::<Skip>()?;
                    p.unknown_keys.push(other.into_string());
                }
            }
        }
        Ok(Document::Object(p))
    }
}

/// `Statement`: one statement object, or an array of them.
#[derive(Clone, Debug)]
pub enum Statements {
    One(Box<RawStatement>),
    Many(Vec<StatementSlot>),
    Wrong(JsonType),
}

impl Loose for Statements {
    const EXPECTING: &'static str = "a statement or an array of statements";
    fn wrong(found: JsonType) -> Self {
        Statements::Wrong(found)
    }
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(2));
        while let Some(item) = seq.next_element::<StatementSlot>()? {
            items.push(item);
        }
        Ok(Statements::Many(items))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        Ok(Statements::One(Box::new(RawStatement::read(map)?)))
    }
}

/// One element of a `Statement` array.
#[derive(Clone, Debug)]
pub enum StatementSlot {
    Statement(Box<RawStatement>),
    Wrong(JsonType),
}

impl Loose for StatementSlot {
    const EXPECTING: &'static str = "a statement object";
    fn wrong(found: JsonType) -> Self {
        StatementSlot::Wrong(found)
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        Ok(StatementSlot::Statement(Box::new(RawStatement::read(map)?)))
    }
}

/// One statement, every element optional and possibly of the wrong type.
#[derive(Clone, Debug, Default)]
pub struct RawStatement {
    pub sid: Option<Text>,
    pub effect: Option<Text>,
    pub principal: Option<RawPrincipal>,
    pub not_principal: Option<RawPrincipal>,
    pub action: Option<Strings>,
    pub not_action: Option<Strings>,
    pub resource: Option<Strings>,
    pub not_resource: Option<Strings>,
    pub condition: Option<RawConditionBlock>,
    pub unknown_keys: Vec<String>,
    pub duplicate_keys: Vec<&'static str>,
}

impl RawStatement {
    fn read<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut s = RawStatement::default();
        let dup = &mut s.duplicate_keys;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Known(k @ "Sid") => set(&mut s.sid, map.next_value()?, dup, k),
                Key::Known(k @ "Effect") => set(&mut s.effect, map.next_value()?, dup, k),
                Key::Known(k @ "Principal") => set(&mut s.principal, map.next_value()?, dup, k),
                Key::Known(k @ "NotPrincipal") => {
                    set(&mut s.not_principal, map.next_value()?, dup, k)
                }
                Key::Known(k @ "Action") => set(&mut s.action, map.next_value()?, dup, k),
                Key::Known(k @ "NotAction") => set(&mut s.not_action, map.next_value()?, dup, k),
                Key::Known(k @ "Resource") => set(&mut s.resource, map.next_value()?, dup, k),
                Key::Known(k @ "NotResource") => {
                    set(&mut s.not_resource, map.next_value()?, dup, k)
                }
                Key::Known(k @ "Condition") => set(&mut s.condition, map.next_value()?, dup, k),
                other => {
                    map.next_value::<Skip>()?;
                    s.unknown_keys.push(other.into_string());
                }
            }
        }
        Ok(s)
    }
}

/// `Principal` / `NotPrincipal`: the string `"*"` or an object of principal kinds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawPrincipal {
    Str(String),
    Map(Vec<(String, Strings)>),
    Wrong(JsonType),
}

impl Loose for RawPrincipal {
    const EXPECTING: &'static str = "\"*\" or an object of principals";
    fn wrong(found: JsonType) -> Self {
        RawPrincipal::Wrong(found)
    }
    fn from_str(s: &str) -> Self {
        RawPrincipal::Str(s.to_owned())
    }
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Strings>()? {
            entries.push((k, v));
        }
        Ok(RawPrincipal::Map(entries))
    }
}

/// `Condition`: operator → key → values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawConditionBlock {
    Map(Vec<(String, RawOperatorBody)>),
    Wrong(JsonType),
}

impl Loose for RawConditionBlock {
    const EXPECTING: &'static str = "an object of condition operators";
    fn wrong(found: JsonType) -> Self {
        RawConditionBlock::Wrong(found)
    }
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, RawOperatorBody>()? {
            entries.push((k, v));
        }
        Ok(RawConditionBlock::Map(entries))
    }
}

/// One operator's object: key → values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawOperatorBody {
    Map(Vec<(String, CondValues)>),
    Wrong(JsonType),
}

impl Loose for RawOperatorBody {
    const EXPECTING: &'static str = "an object of condition keys";
    fn wrong(found: JsonType) -> Self {
        RawOperatorBody::Wrong(found)
    }
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, CondValues>()? {
            entries.push((k, v));
        }
        Ok(RawOperatorBody::Map(entries))
    }
}

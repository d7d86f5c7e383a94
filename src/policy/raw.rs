//! The loose shape of a policy document as serde reads it: every element accepts any JSON type
//! and records what it found, so that validation can report every problem of a document, with
//! its place, instead of stopping at serde's first type error. One-or-many fields have
//! hand-written visitors (no untagged enums: they buffer the input and give vague errors).
//!
//! Read from a `&str`, a string without escapes is borrowed from the text (serde_json hands it
//! over as `visit_borrowed_str`), so an element that validation only compares (`Effect`, the
//! `AWS` of a principal, a condition operator) costs no allocation; a string the model keeps (an
//! action, an ARN, a condition value) is made a `String` once, here, and validation moves it.

use std::borrow::Cow;
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
trait Loose<'de>: Sized {
    const EXPECTING: &'static str;

    fn wrong(found: JsonType) -> Self;

    /// A string: borrowed from the text when it has no escape.
    fn from_str(_s: Cow<'de, str>) -> Self {
        Self::wrong(JsonType::String)
    }

    fn from_scalar(found: JsonType, _text: String) -> Self {
        Self::wrong(found)
    }

    fn from_seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Self::wrong(JsonType::Array))
    }

    fn from_map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Self::wrong(JsonType::Object))
    }
}

struct LooseVisitor<T>(PhantomData<T>);

impl<'de, T: Loose<'de>> Visitor<'de> for LooseVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<T, E> {
        Ok(T::from_str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok(T::from_str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<T, E> {
        Ok(T::from_str(Cow::Owned(v)))
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
    ($($t:ident),*) => {$(
        impl<'de> Deserialize<'de> for $t<'de> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(LooseVisitor::<$t<'de>>(PhantomData))
            }
        }
    )*};
}

loose_deserialize!(
    Item,
    CondItem,
    Strings,
    CondValues,
    Document,
    Text,
    Statements,
    StatementSlot,
    LoneStatement,
    RawPrincipal,
    RawConditionBlock,
    RawOperatorBody
);

/// A string field (`Version`, `Sid`, `Effect`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Text<'de> {
    Str(Cow<'de, str>),
    Wrong(JsonType),
}

impl<'de> Loose<'de> for Text<'de> {
    const EXPECTING: &'static str = "a string";
    fn wrong(found: JsonType) -> Self {
        Text::Wrong(found)
    }
    fn from_str(s: Cow<'de, str>) -> Self {
        Text::Str(s)
    }
}

/// One item of a list: borrowed from the text when it is a string without escapes.
enum Item<'de> {
    Str(Cow<'de, str>),
    Wrong(JsonType),
}

impl<'de> Loose<'de> for Item<'de> {
    const EXPECTING: &'static str = "a string";
    fn wrong(found: JsonType) -> Self {
        Item::Wrong(found)
    }
    fn from_str(s: Cow<'de, str>) -> Self {
        Item::Str(s)
    }
}

/// One condition value: IAM takes strings, numbers and booleans, normalised to strings.
enum CondItem<'de> {
    Str(Cow<'de, str>),
    Wrong(JsonType),
}

impl<'de> Loose<'de> for CondItem<'de> {
    const EXPECTING: &'static str = "a string, number or boolean";
    fn wrong(found: JsonType) -> Self {
        CondItem::Wrong(found)
    }
    fn from_str(s: Cow<'de, str>) -> Self {
        CondItem::Str(s)
    }
    fn from_scalar(_found: JsonType, text: String) -> Self {
        CondItem::Str(Cow::Owned(text))
    }
}

/// The items of a one-or-many list: its strings (in order; borrowed from the text when they
/// have no escape, copied once into the statement's buffer by validation), and the place and
/// type of every item that is not one (validation reports them; the list is then unusable).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Items<'de> {
    pub strings: List<'de>,
    pub wrong: Vec<(usize, JsonType)>,
}

impl<'de> Items<'de> {
    pub(super) fn one(s: Cow<'de, str>) -> Items<'de> {
        Items {
            strings: List::One(s),
            wrong: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.strings.is_empty() && self.wrong.is_empty()
    }

    /// Reads the elements of an array, `read` saying what each is.
    fn read<A: SeqAccess<'de>, T: Deserialize<'de>>(
        mut seq: A,
        read: impl Fn(T) -> Result<Cow<'de, str>, JsonType>,
    ) -> Result<Items<'de>, A::Error> {
        let mut strings = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        let mut wrong = Vec::new();
        let mut i = 0;
        while let Some(item) = seq.next_element::<T>()? {
            match read(item) {
                Ok(s) => strings.push(s),
                Err(t) => wrong.push((i, t)),
            }
            i += 1;
        }
        Ok(Items {
            strings: List::Many(strings),
            wrong,
        })
    }
}

/// The strings of a list as read: a bare string (the usual `Action` of a Deny, the usual
/// condition value) is kept without a `Vec`; an array is a `Vec` of its strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum List<'de> {
    One(Cow<'de, str>),
    Many(Vec<Cow<'de, str>>),
}

impl Default for List<'_> {
    fn default() -> Self {
        List::Many(Vec::new())
    }
}

impl<'de> List<'de> {
    pub fn as_slice(&self) -> &[Cow<'de, str>] {
        match self {
            List::One(s) => std::slice::from_ref(s),
            List::Many(v) => v,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Cow<'de, str>> {
        self.as_slice().iter()
    }
}

impl<'a, 'de> IntoIterator for &'a List<'de> {
    type Item = &'a Cow<'de, str>;
    type IntoIter = std::slice::Iter<'a, Cow<'de, str>>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// A one-or-many field of strings (`Action`, `Resource`, a principal's ARNs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Strings<'de> {
    List(Items<'de>),
    Wrong(JsonType),
}

impl<'de> Loose<'de> for Strings<'de> {
    const EXPECTING: &'static str = "a string or an array of strings";
    fn wrong(found: JsonType) -> Self {
        Strings::Wrong(found)
    }
    fn from_str(s: Cow<'de, str>) -> Self {
        Strings::List(Items::one(s))
    }
    fn from_seq<A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        Items::read(seq, |item: Item| match item {
            Item::Str(s) => Ok(s),
            Item::Wrong(t) => Err(t),
        })
        .map(Strings::List)
    }
}

/// A one-or-many field of condition values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CondValues<'de> {
    List(Items<'de>),
    Wrong(JsonType),
}

impl<'de> Loose<'de> for CondValues<'de> {
    const EXPECTING: &'static str = "a value or an array of values";
    fn wrong(found: JsonType) -> Self {
        CondValues::Wrong(found)
    }
    fn from_str(s: Cow<'de, str>) -> Self {
        CondValues::List(Items::one(s))
    }
    fn from_scalar(_found: JsonType, text: String) -> Self {
        CondValues::List(Items::one(Cow::Owned(text)))
    }
    fn from_seq<A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        Items::read(seq, |item: CondItem| match item {
            CondItem::Str(s) => Ok(s),
            CondItem::Wrong(t) => Err(t),
        })
        .map(CondValues::List)
    }
}

/// A map key as written: borrowed from the text when it has no escape.
struct Name<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v)))
            }
        }
        d.deserialize_str(NameVisitor)
    }
}

/// An object's entries in order, keys as written.
fn entries<'de, A: MapAccess<'de>, V: Deserialize<'de>>(
    mut map: A,
) -> Result<Vec<(Cow<'de, str>, V)>, A::Error> {
    let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(1));
    while let Some((Name(k), v)) = map.next_entry::<Name, V>()? {
        entries.push((k, v));
    }
    Ok(entries)
}

/// An object key: one of the element names IAM knows (no allocation), or another string.
enum Key {
    Known(&'static str),
    Other(String),
}

/// The policy elements a document and its statements may hold: the document's three, then a
/// statement's nine (each negated key after its positive one, which `plain::body` relies on).
pub(super) const ELEMENTS: [&str; 12] = [
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
pub(super) fn set<T>(
    slot: &mut Option<T>,
    value: T,
    duplicates: &mut Vec<&'static str>,
    key: &'static str,
) {
    if slot.is_some() {
        duplicates.push(key);
    }
    *slot = Some(value);
}

/// The whole document: an object, or something else.
#[derive(Clone, Debug)]
pub enum Document<'de> {
    Object(RawPolicy<'de>),
    Wrong(JsonType),
}

/// The top-level object.
#[derive(Clone, Debug, Default)]
pub struct RawPolicy<'de> {
    pub version: Option<Text<'de>>,
    pub id: Option<Text<'de>>,
    pub statement: Option<Statements<'de>>,
    pub unknown_keys: Vec<String>,
    pub duplicate_keys: Vec<&'static str>,
}

impl<'de> Loose<'de> for Document<'de> {
    const EXPECTING: &'static str = "a policy document";
    fn wrong(found: JsonType) -> Self {
        Document::Wrong(found)
    }
    fn from_map<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
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
pub enum Statements<'de> {
    One(Box<RawStatement<'de>>),
    Many(Vec<StatementSlot<'de>>),
    Wrong(JsonType),
}

impl<'de> Loose<'de> for Statements<'de> {
    const EXPECTING: &'static str = "a statement or an array of statements";
    fn wrong(found: JsonType) -> Self {
        Statements::Wrong(found)
    }
    fn from_seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(2));
        while let Some(item) = seq.next_element::<StatementSlot>()? {
            items.push(item);
        }
        Ok(Statements::Many(items))
    }
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        Ok(Statements::One(Box::new(RawStatement::read(map)?)))
    }
}

/// One element of a `Statement` array.
#[derive(Clone, Debug)]
pub enum StatementSlot<'de> {
    Statement(Box<RawStatement<'de>>),
    Wrong(JsonType),
}

impl<'de> Loose<'de> for StatementSlot<'de> {
    const EXPECTING: &'static str = "a statement object";
    fn wrong(found: JsonType) -> Self {
        StatementSlot::Wrong(found)
    }
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        Ok(StatementSlot::Statement(Box::new(RawStatement::read(map)?)))
    }
}

/// One statement, every element optional and possibly of the wrong type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawStatement<'de> {
    pub sid: Option<Text<'de>>,
    pub effect: Option<Text<'de>>,
    pub principal: Option<RawPrincipal<'de>>,
    pub not_principal: Option<RawPrincipal<'de>>,
    pub action: Option<Strings<'de>>,
    pub not_action: Option<Strings<'de>>,
    pub resource: Option<Strings<'de>>,
    pub not_resource: Option<Strings<'de>>,
    pub condition: Option<RawConditionBlock<'de>>,
    pub unknown_keys: Vec<String>,
    pub duplicate_keys: Vec<&'static str>,
}

impl<'de> RawStatement<'de> {
    fn read<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
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

/// A statement object on its own (the text of one statement of a document), read without the
/// box of a [`StatementSlot`]; anything but an object is `None`.
pub struct LoneStatement<'de>(pub Option<RawStatement<'de>>);

impl<'de> Loose<'de> for LoneStatement<'de> {
    const EXPECTING: &'static str = "a statement object";
    fn wrong(_found: JsonType) -> Self {
        LoneStatement(None)
    }
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        Ok(LoneStatement(Some(RawStatement::read(map)?)))
    }
}

/// `Principal` / `NotPrincipal`: the string `"*"` or an object of principal kinds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawPrincipal<'de> {
    Str(Cow<'de, str>),
    Map(Vec<(Cow<'de, str>, Strings<'de>)>),
    Wrong(JsonType),
}

impl<'de> Loose<'de> for RawPrincipal<'de> {
    const EXPECTING: &'static str = "\"*\" or an object of principals";
    fn wrong(found: JsonType) -> Self {
        RawPrincipal::Wrong(found)
    }
    fn from_str(s: Cow<'de, str>) -> Self {
        RawPrincipal::Str(s)
    }
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        entries(map).map(RawPrincipal::Map)
    }
}

/// `Condition`: operator → key → values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawConditionBlock<'de> {
    Map(Vec<(Cow<'de, str>, RawOperatorBody<'de>)>),
    Wrong(JsonType),
}

impl<'de> Loose<'de> for RawConditionBlock<'de> {
    const EXPECTING: &'static str = "an object of condition operators";
    fn wrong(found: JsonType) -> Self {
        RawConditionBlock::Wrong(found)
    }
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        entries(map).map(RawConditionBlock::Map)
    }
}

/// One operator's object: key → values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawOperatorBody<'de> {
    Map(Vec<(Cow<'de, str>, CondValues<'de>)>),
    Wrong(JsonType),
}

impl<'de> Loose<'de> for RawOperatorBody<'de> {
    const EXPECTING: &'static str = "an object of condition keys";
    fn wrong(found: JsonType) -> Self {
        RawOperatorBody::Wrong(found)
    }
    fn from_map<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        entries(map).map(RawOperatorBody::Map)
    }
}

//! A record: one repository (or one repository-less policy document) found in the input, with
//! where it was found and its policy still as text. The input layer makes records; the audit
//! turns each into one row per audited account.

use std::borrow::Cow;
use std::sync::Arc;

use crate::finding::Code;
pub use crate::input::Shape;

/// One repository found in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The file path as found (`-` for standard input).
    pub source: Arc<str>,
    /// 1-based: array index or line number in a multi-record file, 1 for a single-record file.
    pub record: u64,
    /// The export shape it was read from.
    pub shape: Shape,
    pub repo: RepoId,
    pub body: Body,
}

/// What names the repository. `None` where the input does not say.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoId {
    /// The 12-digit registry (account) id.
    pub registry: Option<String>,
    pub region: Option<String>,
    /// The repository name, or for a bare policy document the path it was found at (relative to
    /// the scanned folder, without extension) — see `name_from_path`.
    pub repository: Option<String>,
    /// The repository ARN when the input gives it.
    pub arn: Option<String>,
    /// `repository` was derived from a file path, so it is a label, not the repository's real
    /// name: resource matching must treat the name as unknown.
    pub name_from_path: bool,
}

impl RepoId {
    /// The repository's real name, if the input gives it (not a path-derived label).
    pub fn known_name(&self) -> Option<&str> {
        if self.name_from_path {
            None
        } else {
            self.repository.as_deref()
        }
    }
}

/// What the joins need to know of a repository's identity, whichever type holds it (a record's
/// [`RepoId`], or a row's compact copy).
pub trait Identity {
    fn registry(&self) -> Option<&str>;
    fn region(&self) -> Option<&str>;
    /// The repository's real name, if the input gives it (not a path-derived label).
    fn known_name(&self) -> Option<&str>;
    fn arn(&self) -> Option<std::borrow::Cow<'_, str>>;
}

impl Identity for RepoId {
    fn registry(&self) -> Option<&str> {
        self.registry.as_deref()
    }
    fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    fn known_name(&self) -> Option<&str> {
        RepoId::known_name(self)
    }
    fn arn(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.arn.as_deref().map(std::borrow::Cow::Borrowed)
    }
}

/// What the record holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// The JSON text of a repository policy document, not yet parsed.
    Policy(PolicyText),
    /// The repository has no repository policy.
    NoPolicy,
    /// The policy exists but is known only at deploy time (a Terraform plan's unknown value, a
    /// CloudFormation intrinsic function the verdict depends on): a `unresolved-policy` row.
    /// The message says what is unresolved and where.
    Unresolved(String),
    /// A registry policy (`aws ecr get-registry-policy`): not a row of its own; it is judged
    /// with every repository of its registry (and region, where known) found in the scan.
    RegistryPolicy(String),
    /// The registry's policy scope (`aws ecr get-account-setting --name
    /// REGISTRY_POLICY_SCOPE`): not a row of its own; it tells how the registry policy of its
    /// registry applies (issue 11).
    RegistryPolicyScope(ScopeV),
    /// A repository listed by an inventory (`aws ecr describe-repositories`): not a row of its
    /// own; it becomes a `no-policy` row when no other record names the same repository.
    Inventory,
    /// The record could not be read or recognised; `code` is one of `invalid-json`,
    /// `unreadable`, `unsupported-input`, and `message` says what is wrong and where (line,
    /// record), in one sentence.
    Error { code: Code, message: String },
}

/// ECR's registry policy scope (`REGISTRY_POLICY_SCOPE`): in `V1` the registry policy enforces
/// only `ecr:ReplicateImage`, `ecr:BatchImportUpstreamImage` and `ecr:CreateRepository`; in `V2`
/// it applies to every ECR action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScopeV {
    V1,
    V2,
}

/// A policy document's text as the input holds it: the text itself, or the JSON string literal
/// it was found in (`"policyText": "{\"Version\": …}"`), never decoded when its document has
/// the common shape: the policy is then read inside the literal (`policy::parse_text`). An
/// estate repeats its templated policies, and the audit knows a policy it has judged by its text
/// as found ([`PolicyText::key`]) without reading it again.
#[derive(Clone)]
pub struct PolicyText {
    /// `P` + the text, or `E` + the JSON string literal (quotes included).
    tagged: String,
    /// The policy, when it was read while the text was found (see [`PolicyText::with_read`]).
    parsed: Option<Box<crate::policy::Policy>>,
}

impl PolicyText {
    /// The text itself.
    pub fn plain(text: &str) -> PolicyText {
        let mut tagged = String::with_capacity(text.len() + 1);
        tagged.push('P');
        tagged.push_str(text);
        PolicyText {
            tagged,
            parsed: None,
        }
    }

    /// A JSON string literal, quotes included, that the JSON parser has already accepted and
    /// that has no `\u` escape (the only escapes a string can fail to decode on are lone
    /// surrogates): decoding it later cannot fail.
    pub(crate) fn encoded(literal: &str) -> PolicyText {
        debug_assert_eq!(
            crate::jsonscan::checked_string_end(literal.as_bytes(), 0),
            Some(literal.len())
        );
        let mut tagged = String::with_capacity(literal.len() + 1);
        tagged.push('E');
        tagged.push_str(literal);
        PolicyText {
            tagged,
            parsed: None,
        }
    }

    /// A text decoded by [`decode_literal`] with the tag `P` (what [`PolicyText::plain`] would
    /// hold, without copying it again).
    pub(crate) fn decoded(tagged: String) -> PolicyText {
        debug_assert!(tagged.starts_with('P'));
        PolicyText {
            tagged,
            parsed: None,
        }
    }

    /// The policy document's text.
    pub fn text(&self) -> Cow<'_, str> {
        let (tag, rest) = self.tagged.split_at(1);
        if tag == "E" {
            // Cannot fail (see `encoded`); were it to, the text is left as found, which makes
            // the document `invalid-json` rather than losing the record.
            match unescape(rest)
                .map(Ok)
                .unwrap_or_else(|| serde_json::from_str::<String>(rest))
            {
                Ok(text) => Cow::Owned(text),
                Err(_) => Cow::Borrowed(rest),
            }
        } else {
            Cow::Borrowed(rest)
        }
    }

    /// The text with its policy read already, while its file was read (a literal's by
    /// `policy::read_in_literal`, a bare document's by `policy::read_document`): what
    /// `policy::parse_text` would give.
    pub(crate) fn with_read(mut self, policy: crate::policy::Policy) -> PolicyText {
        self.parsed = Some(Box::new(policy));
        self
    }

    /// The policy read with the text, if it was (see [`PolicyText::with_read`]), taken out.
    pub(crate) fn take_read(&mut self) -> Option<crate::policy::Policy> {
        self.parsed.take().map(|p| *p)
    }

    /// The contents of the JSON string literal the text was found in (between its quotes), when
    /// it was kept so; the text is then these contents decoded.
    pub(crate) fn literal_contents(&self) -> Option<&str> {
        let rest = self.tagged.strip_prefix("E\"")?;
        rest.strip_suffix('"')
    }

    /// What the policy is known by: equal keys mean equal texts.
    pub fn key(&self) -> &str {
        &self.tagged
    }
}

/// Decodes a JSON string literal (quotes included) whose only escapes are the two-character ones
/// (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`), as [`PolicyText::encoded`] keeps. `None` for
/// anything else (a `\u` escape, a dangling backslash, no quotes), which serde_json then decodes.
/// It must decode exactly as serde_json does (`tests::unescape_decodes_as_serde_json_does`).
fn unescape(literal: &str) -> Option<String> {
    let (text, end) = decode_literal(literal.as_bytes(), None)?;
    (end == literal.len()).then_some(text)
}

/// Decodes the JSON string literal at the start of `b` (its opening quote first) in one pass:
/// the text (after `tag`, when given) and the number of bytes the literal takes, closing quote
/// included. `None` when the literal is not of the common kind: a `\u` escape, a control
/// character, no closing quote, an unknown escape (serde_json then decodes, or says what is
/// wrong). It decodes exactly as serde_json does (`tests::decode_literal_agrees_with_serde_json`).
///
/// Escapes are dense in a policy text (`\"` every few bytes), so a byte loop costs several
/// instructions a byte: this copies eight bytes at a time and stops only at a quote, a backslash
/// or a control byte (`jsonscan::special`, the word test the other readers use).
pub(crate) fn decode_literal(b: &[u8], tag: Option<u8>) -> Option<(String, usize)> {
    // A line of JSON Lines or a file of one object runs on only a little past its literal: room
    // for all of it is never too little (every escape is two bytes for one). Else `b` may run on
    // well past the literal (the rest of a JSON array): the buffer starts at what a policy
    // usually takes and grows as the text does, so a literal costs its own length, not the rest
    // of the document's.
    const SMALL: usize = 64 << 10;
    const START: usize = 2048;
    decode(b, tag, if b.len() <= SMALL { b.len() } else { START } + 8)
}

/// [`decode_literal`] into a buffer that starts with room for `room` bytes: the text is built
/// in a `Vec` by appending a word at a time and cutting it back at the first special byte, so
/// that no index into the buffer needs a bounds check of its own.
fn decode(b: &[u8], tag: Option<u8>, room: usize) -> Option<(String, usize)> {
    use crate::jsonscan::{is_special, special};
    let mut rest = b.strip_prefix(b"\"")?;
    let mut out = Vec::with_capacity(room);
    if let Some(tag) = tag {
        out.push(tag);
    }
    loop {
        let k = match rest.first_chunk::<8>() {
            Some(word) => {
                out.extend_from_slice(word);
                let found = special(*word);
                if found == 0 {
                    rest = &rest[8..];
                    continue;
                }
                let k = (found.trailing_zeros() / 8) as usize;
                out.truncate(out.len() - 8 + k);
                k
            }
            None => {
                let k = rest.iter().position(|&c| is_special(c))?;
                out.extend_from_slice(&rest[..k]);
                k
            }
        };
        rest = &rest[k..];
        match rest {
            [b'"', ..] => {
                if 2 * out.len() < out.capacity() {
                    out.shrink_to_fit();
                }
                let end = b.len() - rest.len() + 1;
                // Only ASCII escapes were replaced by ASCII bytes, and the cuts are at ASCII
                // bytes, so UTF-8 input stays UTF-8 (checked, `unsafe` being forbidden).
                return String::from_utf8(out).ok().map(|text| (text, end));
            }
            [b'\\', e, tail @ ..] => {
                // One look-up for the byte the escape stands for (a `match` on the escape
                // costs more, and an escape comes every few bytes).
                let byte = crate::jsonscan::ESCAPES[usize::from(*e)];
                if byte == 0 {
                    return None;
                }
                out.push(byte);
                rest = tail;
            }
            _ => return None,
        }
    }
}

impl From<&str> for PolicyText {
    fn from(text: &str) -> PolicyText {
        PolicyText::plain(text)
    }
}

impl From<String> for PolicyText {
    fn from(text: String) -> PolicyText {
        PolicyText::plain(&text)
    }
}

/// Two texts are equal when the documents' texts are, however they were found.
impl PartialEq for PolicyText {
    fn eq(&self, other: &PolicyText) -> bool {
        self.tagged == other.tagged || self.text() == other.text()
    }
}

impl Eq for PolicyText {}

impl std::fmt::Debug for PolicyText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.text(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::{decode, decode_literal, unescape};
    use proptest::prelude::*;

    /// Decodes with serde_json, the reference.
    fn reference(literal: &str) -> Option<String> {
        serde_json::from_str::<String>(literal).ok()
    }

    #[test]
    fn unescape_decodes_as_serde_json_does() {
        for literal in [
            r#""""#,
            r#""{\"Version\":\"2012-10-17\"}""#,
            r#""a\\b\/c\bd\fe\nf\rg\th""#,
            r#""\\\\\"""#,
            r#""é ✓ \"ü\"""#,
            r#""trailing\\""#,
        ] {
            assert_eq!(unescape(literal), reference(literal), "{literal}");
        }
        // What it leaves to serde_json: \u escapes, unknown escapes, a dangling backslash, no
        // quotes.
        for literal in [r#""\u0041""#, r#""\x""#, "\"a\\", "abc", "\""] {
            assert_eq!(unescape(literal), None, "{literal}");
        }
    }

    /// What serde_json makes of the literal `decode_literal` found at the start of `text`.
    fn check_decode(text: &str, tag: Option<u8>, must: bool) -> Result<(), TestCaseError> {
        let decoded = decode_literal(text.as_bytes(), tag);
        // Both buffers (of the input's length, and one that must grow) decode alike.
        prop_assert_eq!(&decode(text.as_bytes(), tag, 1), &decoded);
        prop_assert_eq!(&decode(text.as_bytes(), tag, text.len() + 8), &decoded);
        if let Some((out, end)) = &decoded {
            let literal = &text[..*end];
            let mut expected = tag.map(|t| char::from(t).to_string()).unwrap_or_default();
            expected.push_str(&reference(literal).expect("serde_json decodes what it decodes"));
            prop_assert_eq!(out, &expected, "{}", literal);
        }
        // A literal without `\\u` (and so without a control character) that serde_json reads is
        // never left to it.
        if must {
            prop_assert!(decoded.is_some(), "{}", text);
        }
        Ok(())
    }

    #[test]
    fn decode_literal_reads_the_literal_at_the_start() {
        let line = r#""{\"a\":1}","region":"x"}"#;
        let (text, end) = decode_literal(line.as_bytes(), Some(b'P')).expect("decodes");
        assert_eq!(text, r#"P{"a":1}"#);
        assert_eq!(&line[end..], r#","region":"x"}"#);
        // Longer than the buffer it starts with, and followed by much more (the rest of an
        // array): decoded whole, and the text holds about its own length, not the rest's.
        let text = "{\"a\\b\":\"\u{e9}\t\"}".repeat(700);
        let literal = serde_json::to_string(&text).expect("a string encodes");
        let long = format!("{literal},{}", "x".repeat(1 << 20));
        let (decoded, end) = decode_literal(long.as_bytes(), None).expect("decodes");
        assert_eq!((decoded.as_str(), end), (text.as_str(), literal.len()));
        let line = format!("{}{}", r#""{\"a\":1}","#, "x".repeat(1 << 20));
        let (text, _) = decode_literal(line.as_bytes(), None).expect("decodes");
        assert!(
            text.capacity() <= 2 * text.len() + 16,
            "{}",
            text.capacity()
        );
        for text in [
            "\"no end",
            "\"a control \n character\"",
            "\"\\u0041\"",
            "\"\\x\"",
            "\"long enough to take words \\",
            "no quote",
            "",
        ] {
            assert_eq!(decode_literal(text.as_bytes(), None), None, "{text}");
        }
    }

    proptest! {
        #[test]
        fn decode_literal_agrees_with_serde_json(
            text in any::<String>(),
            tail in "[,}\" a\\\\]{0,3}",
            tag in proptest::option::of(Just(b'P')),
        ) {
            // Any text encoded (with every escape serde_json writes), then followed by more.
            let literal = serde_json::to_string(&text).expect("a string encodes");
            let line = format!("{literal}{tail}");
            let must = !literal.contains("\\u");
            check_decode(&line, tag, must)?;
            // The same literal with the one escape serde_json never writes (`\/`).
            let other = literal.replace('/', "\\/");
            check_decode(&format!("{other}{tail}"), tag, !other.contains("\\u"))?;
        }

        #[test]
        fn decode_literal_agrees_with_serde_json_on_any_bytes(text in "\"[ -~\t\né]{0,40}") {
            // Quoted text that may not be a valid literal at all (escapes of any letter, a
            // dangling backslash, control characters).
            check_decode(&text, None, false)?;
        }

        #[test]
        fn unescape_agrees_with_serde_json_on_any_text(text in any::<String>()) {
            // Encoded by serde_json (which writes \u only for control characters), then decoded
            // both ways.
            let literal = serde_json::to_string(&text).expect("a string encodes");
            let decoded = unescape(&literal);
            prop_assert!(decoded.is_none() || decoded == reference(&literal));
            if !literal.contains("\\u") {
                prop_assert_eq!(decoded, Some(text));
            }
        }
    }
}

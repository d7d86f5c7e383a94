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

    /// The keys under which this record names its repository, for the inventory join: the ARN,
    /// and (registry, region, name) — a repository of one name may exist in several regions of
    /// a registry, each its own. A record of unknown region names the repository of every
    /// region (`*`); every record is also found by a lookup of unknown region (`?`).
    fn join_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.arn().map(Into::into).into_iter().collect();
        if let (Some(registry), Some(name)) = (self.registry(), self.known_name()) {
            keys.push(format!(
                "{}|{registry}/{name}",
                self.region().unwrap_or("*")
            ));
            keys.push(format!("?|{registry}/{name}"));
        }
        keys
    }

    /// The keys under which another record may name this repository (see `join_keys`).
    fn join_lookup(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.arn().map(Into::into).into_iter().collect();
        if let (Some(registry), Some(name)) = (self.registry(), self.known_name()) {
            keys.push(format!("*|{registry}/{name}"));
            keys.push(format!(
                "{}|{registry}/{name}",
                self.region().unwrap_or("?")
            ));
        }
        keys
    }
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
/// it was found in (`"policyText": "{\"Version\": …}"`), decoded only when the policy must be
/// parsed. An estate repeats its templated policies, and the audit knows a policy it has judged
/// by its text as found ([`PolicyText::key`]) without decoding it again.
#[derive(Clone)]
pub struct PolicyText {
    /// `P` + the text, or `E` + the JSON string literal (quotes included).
    tagged: String,
}

impl PolicyText {
    /// The text itself.
    pub fn plain(text: &str) -> PolicyText {
        let mut tagged = String::with_capacity(text.len() + 1);
        tagged.push('P');
        tagged.push_str(text);
        PolicyText { tagged }
    }

    /// A JSON string literal, quotes included, that the JSON parser has already accepted and
    /// that has no `\u` escape (the only escapes a string can fail to decode on are lone
    /// surrogates): decoding it later cannot fail.
    pub(crate) fn encoded(literal: &str) -> PolicyText {
        debug_assert!(literal.starts_with('"') && !literal.contains("\\u"));
        let mut tagged = String::with_capacity(literal.len() + 1);
        tagged.push('E');
        tagged.push_str(literal);
        PolicyText { tagged }
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

    /// What the policy is known by: equal keys mean equal texts.
    pub fn key(&self) -> &str {
        &self.tagged
    }
}

/// Decodes a JSON string literal (quotes included) whose only escapes are the two-character ones
/// (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`), as [`PolicyText::encoded`] keeps, in one pass. `None` for anything else
/// (a `\u` escape, a dangling backslash, no quotes), which serde_json then decodes. It must
/// decode exactly as serde_json does (`tests::unescape_decodes_as_serde_json_does`).
fn unescape(literal: &str) -> Option<String> {
    let inner = literal.strip_prefix('"')?.strip_suffix('"')?.as_bytes();
    // Escapes are dense in policy text (`\"` every few bytes): copied whole, then compacted in
    // place by a read and a write index (the write index never passes the read index).
    let mut out = inner.to_vec();
    let (mut r, mut w) = (0, 0);
    while r < out.len() {
        let mut b = out[r];
        if b == b'\\' {
            r += 1;
            b = match out.get(r)? {
                b'"' => b'"',
                b'\\' => b'\\',
                b'/' => b'/',
                b'b' => 0x08,
                b'f' => 0x0c,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                _ => return None,
            };
        }
        out[w] = b;
        w += 1;
        r += 1;
    }
    out.truncate(w);
    // Only ASCII escapes were replaced by ASCII bytes, so the text stays UTF-8.
    String::from_utf8(out).ok()
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
    use super::unescape;
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

    proptest! {
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

//! A record: one repository (or one repository-less policy document) found in the input, with
//! where it was found and its policy still as text. The input layer makes records; the audit
//! turns each into one row per audited account.

use std::sync::Arc;

use crate::finding::Code;

/// One repository found in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The file path as found (`-` for standard input).
    pub source: Arc<str>,
    /// 1-based: array index or line number in a multi-record file, 1 for a single-record file.
    pub record: u64,
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
    fn arn(&self) -> Option<&str>;

    /// The keys under which another record may name the same repository: (registry, name) and
    /// the ARN, each when known. Used by the inventory join.
    fn join_keys(&self) -> impl Iterator<Item = String> {
        let by_name = match (self.registry(), self.known_name()) {
            (Some(registry), Some(name)) => Some(format!("{registry}/{name}")),
            _ => None,
        };
        by_name.into_iter().chain(self.arn().map(str::to_owned))
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
    fn arn(&self) -> Option<&str> {
        self.arn.as_deref()
    }
}

/// What the record holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// The JSON text of a repository policy document, not yet parsed.
    Policy(String),
    /// The repository has no repository policy.
    NoPolicy,
    /// The policy exists but is known only at deploy time (a Terraform plan's unknown value, a
    /// CloudFormation intrinsic function the verdict depends on): a `unresolved-policy` row.
    /// The message says what is unresolved and where.
    Unresolved(String),
    /// A registry policy (`aws ecr get-registry-policy`): not a row of its own; it is judged
    /// with every repository of its registry (and region, where known) found in the scan.
    RegistryPolicy(String),
    /// A repository listed by an inventory (`aws ecr describe-repositories`): not a row of its
    /// own; it becomes a `no-policy` row when no other record names the same repository.
    Inventory,
    /// The record could not be read or recognised; `code` is one of `invalid-json`,
    /// `unreadable`, `unsupported-input`, and `message` says what is wrong and where (line,
    /// record), in one sentence.
    Error { code: Code, message: String },
}

//! The one catalog of finding codes. Every report, the docs and `--fail-on` read codes, severities
//! and descriptions from here; no code string is written anywhere else.

use std::fmt;

/// How bad a finding is. Ordered: `Note < Warn < Fail < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Information only; never changes a row's status.
    Note,
    Warn,
    Fail,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warn => "warn",
            Severity::Fail => "fail",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A row's status: the worst of its findings (notes count as pass).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Error,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Pass, Status::Warn, Status::Fail, Status::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Error => "error",
        }
    }

    /// The status a finding of this severity gives a row on its own.
    pub fn of(severity: Severity) -> Status {
        match severity {
            Severity::Note => Status::Pass,
            Severity::Warn => Status::Warn,
            Severity::Fail => Status::Fail,
            Severity::Error => Status::Error,
        }
    }

    /// The worst status among `findings`; `Pass` when there are none.
    pub fn worst<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Status {
        findings
            .into_iter()
            .map(|f| Status::of(f.code.severity()))
            .max()
            .unwrap_or(Status::Pass)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declares a catalog of finding codes: an enum `Code` (declaration order is report order) with
/// `ALL`, `id`, `severity` (of the `Severity` type in scope where it is used) and
/// `description`. The scan's codes below and the `gitpod` command's codes share it.
macro_rules! codes {
    (
        $(#[$enum_doc:meta])*
        pub enum Code;
        $( $(#[$doc:meta])* $variant:ident = $id:literal, $sev:ident, $desc:literal; )*
    ) => {
        $(#[$enum_doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in report order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The stable identifier used in reports, docs and `--fail-on`.
            pub fn id(self) -> &'static str {
                match self { $( Code::$variant => $id, )* }
            }

            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev, )* }
            }

            /// One line saying when the code is raised.
            pub fn description(self) -> &'static str {
                match self { $( Code::$variant => $desc, )* }
            }
        }
    };
}
pub(crate) use codes;

codes! {
    /// A finding code: a stable kebab-case identifier with a fixed severity.
    ///
    /// Declaration order is the fixed order in which reports list codes.
    pub enum Code;
    InvalidJson = "invalid-json", Error,
        "The record is not JSON (also a policyText that is not JSON, or nesting too deep).";
    InvalidPolicy = "invalid-policy", Error,
        "The record is JSON but not a valid IAM policy.";
    Unreadable = "unreadable", Error,
        "The file could not be read (permissions, broken link, not UTF-8, gzip damage).";
    UnsupportedInput = "unsupported-input", Error,
        "The JSON is of a shape the tool does not know.";
    NoPolicy = "no-policy", Fail,
        "The repository has no repository policy.";
    ActionDenied = "action-denied", Fail,
        "A required pull action is explicitly denied.";
    ActionNotGranted = "action-not-granted", Fail,
        "A required pull action is not granted to the account.";
    PublicAccess = "public-access", Fail,
        "An Allow covers every AWS principal with no condition that certainly narrows who the principal is.";
    ConditionalDeny = "conditional-deny", Warn,
        "A Deny may block a required action, depending on facts not known offline.";
    ConditionalAllow = "conditional-allow", Warn,
        "A required action is allowed only under conditions that cannot be decided offline.";
    ExcessAccess = "excess-access", Warn,
        "The account is granted Write, Permissions management or Tagging actions; pulling needs none.";
    CrossAccountWrite = "cross-account-write", Warn,
        "An account other than the audited one and the registry's owner is granted Write, Permissions management or Tagging actions.";
    RegistryPolicyScopeUnknown = "registry-policy-scope-unknown", Warn,
        "A pull rests on the registry policy, whose scope (V1 or V2) is not known.";
    RegistryPolicyUnreadable = "registry-policy-unreadable", Warn,
        "The export could not read the registry policy of the repository's registry, which may deny the pull.";
    UnknownAction = "unknown-action", Warn,
        "An action pattern names no ECR action, or is not of the ecr: service.";
    UnresolvedPolicy = "unresolved-policy", Warn,
        "The policy is known only at deploy time (Terraform unknown, CloudFormation intrinsic): it cannot be judged yet.";
    PrincipalNotRoot = "principal-not-root", Note,
        "The account appears only as a specific role, user or session, not as the account.";
    ResourceElement = "resource-element", Note,
        "The policy has Resource or NotResource, which ECR repository policies normally omit.";
    LegacyVersion = "legacy-version", Note,
        "Version is missing or 2008-10-17.";
    RegistryPolicy = "registry-policy", Note,
        "The registry policy of the repository's registry was judged together with the repository policy.";
    RegistryPolicyV1 = "registry-policy-v1", Note,
        "The registry's policy is in ECR's V1 scope: it neither grants nor denies pulls.";
    DuplicateRecord = "duplicate-record", Note,
        "Another record names the same repository (registry, region and name).";
    SuppressionExpired = "suppression-expired", Note,
        "A suppression in the configuration file would cover a finding of the row, but it has expired.";
}

impl Code {
    /// Looks a code up by its identifier.
    pub fn from_id(id: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.id() == id)
    }
}

impl Code {
    /// What to do about the finding, in a sentence or two (SARIF `help`, `ecr-audit rules`,
    /// `docs/findings.md`).
    pub fn help(self) -> &'static str {
        match self {
            Code::InvalidJson => {
                "Fix the JSON syntax of the record (or of its policyText string) and export it again."
            }
            Code::InvalidPolicy => {
                "Correct the policy so that IAM accepts it; the message names each problem and its statement."
            }
            Code::Unreadable => {
                "Check the file's permissions, links, encoding (UTF-8) and gzip integrity, then scan again."
            }
            Code::UnsupportedInput => {
                "Export the policies in a shape ecr-audit knows (see docs/inputs.md), e.g. aws ecr get-repository-policy output."
            }
            Code::NoPolicy => {
                "Add a repository policy with the documented Allow of the three pull actions to arn:aws:iam::<account>:root (ecr-audit fix writes it)."
            }
            Code::ActionDenied => {
                "Remove the audited account from the Deny, or narrow the Deny's actions or conditions; an Allow cannot override it."
            }
            Code::ActionNotGranted => {
                "Add the missing actions to an Allow whose Principal is arn:aws:iam::<account>:root (ecr-audit fix writes it)."
            }
            Code::ConditionalDeny => {
                "Pass the facts with --context KEY=VALUE to decide the Deny, or narrow it so that it cannot match the Gitpod role."
            }
            Code::ConditionalAllow => {
                "Pass the facts with --context KEY=VALUE to decide the conditions, or grant the account without them."
            }
            Code::PublicAccess => {
                "Name the account instead of \"*\", or add a StringEquals condition on aws:PrincipalOrgID or aws:PrincipalAccount with a value that is not a wildcard."
            }
            Code::ExcessAccess => {
                "Grant the account only the three pull actions; move write and policy actions to a separate, narrower statement."
            }
            Code::CrossAccountWrite => {
                "Grant the other account only what it needs (pulling needs the three pull actions), or remove it if it should not write to the repository."
            }
            Code::RegistryPolicyScopeUnknown => {
                "Export the registry's scope with aws ecr get-account-setting --name REGISTRY_POLICY_SCOPE beside its registry policy, or pass --registry-policy-scope v1|v2."
            }
            Code::RegistryPolicyUnreadable => {
                "Export the registry policy with aws ecr get-registry-policy (it needs ecr:GetRegistryPolicy) and scan it with the export, or pass --registry-policy-scope v1 if the registry is in the V1 scope."
            }
            Code::RegistryPolicyV1 => {
                "Grant the pull in the repository policy, or move the registry to the V2 scope (aws ecr put-account-setting --name REGISTRY_POLICY_SCOPE --value V2)."
            }
            Code::DuplicateRecord => {
                "Check which record is current; scan one export per repository, or keep the records and read the rows together."
            }
            Code::UnresolvedPolicy => {
                "Resolve the deploy-time value (terraform apply, or a rendered CloudFormation template) and scan the result."
            }
            Code::RegistryPolicy => {
                "Nothing to do: the registry policy was judged together with the repository policy."
            }
            Code::UnknownAction => {
                "Correct the action name (the message suggests the nearest ECR action) or remove it."
            }
            Code::PrincipalNotRoot => {
                "Name the account as arn:aws:iam::<account>:root: Gitpod's role name is not known to the policy author."
            }
            Code::ResourceElement => {
                "Remove Resource/NotResource: a repository policy applies to its repository."
            }
            Code::LegacyVersion => "Set \"Version\": \"2012-10-17\".",
            Code::SuppressionExpired => {
                "Fix the finding, or renew the suppression with a new `expires` date after review (see docs/configuration.md)."
            }
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The statement a finding comes from: its 0-based index and its `Sid`, if any.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatementRef {
    pub index: usize,
    pub sid: Option<String>,
    /// The statement is the registry policy's (judged together with the repository's own), not
    /// the record's own policy's.
    pub registry_policy: bool,
}

/// One finding on a row: a code, a one-sentence message and, where it comes from a statement,
/// that statement. `gitpod` uses it with its own catalog's codes (`Finding<gitpod::catalog::Code>`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Finding<C = Code> {
    pub code: C,
    pub message: crate::message::Message,
    pub statement: Option<StatementRef>,
    /// The configuration file's suppression that accepts this finding (issue 15): the finding
    /// stays in every report but no longer counts toward the row's status.
    pub suppressed: Option<std::sync::Arc<Suppressed>>,
}

/// An accepted finding: why, until when, and which entry of the configuration file says so.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Suppressed {
    pub reason: String,
    pub ticket: Option<String>,
    /// The last day it applies, `YYYY-MM-DD`.
    pub expires: Option<String>,
    /// `FILE:LINE` of the `[[suppress]]` entry.
    pub source: String,
}

impl<C> Finding<C> {
    pub fn new(code: C, message: impl Into<crate::message::Message>) -> Self {
        Finding {
            code,
            message: message.into(),
            statement: None,
            suppressed: None,
        }
    }

    pub fn at(
        code: C,
        message: impl Into<crate::message::Message>,
        statement: StatementRef,
    ) -> Self {
        Finding {
            code,
            message: message.into(),
            statement: Some(statement),
            suppressed: None,
        }
    }
}

impl Finding {
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_round_trip() {
        for (i, c) in Code::ALL.iter().enumerate() {
            assert!(
                c.id()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
                    && c.id().starts_with(|ch: char| ch.is_ascii_lowercase()),
                "{c}"
            );
            assert_eq!(Code::from_id(c.id()), Some(*c));
            assert!(Code::ALL[i + 1..].iter().all(|d| d.id() != c.id()));
        }
    }

    #[test]
    fn every_code_has_help_text() {
        for c in Code::ALL {
            assert!(c.help().ends_with('.'), "{c}");
        }
    }

    #[test]
    fn severities_match_the_spec() {
        use Code::*;
        for (code, sev) in [
            (NoPolicy, Severity::Fail),
            (ActionNotGranted, Severity::Fail),
            (ActionDenied, Severity::Fail),
            (ConditionalAllow, Severity::Warn),
            (ConditionalDeny, Severity::Warn),
            (PublicAccess, Severity::Fail),
            (ExcessAccess, Severity::Warn),
            (CrossAccountWrite, Severity::Warn),
            (RegistryPolicyScopeUnknown, Severity::Warn),
            (RegistryPolicyUnreadable, Severity::Warn),
            (RegistryPolicyV1, Severity::Note),
            (DuplicateRecord, Severity::Note),
            (UnknownAction, Severity::Warn),
            (UnresolvedPolicy, Severity::Warn),
            (RegistryPolicy, Severity::Note),
            (PrincipalNotRoot, Severity::Note),
            (ResourceElement, Severity::Note),
            (LegacyVersion, Severity::Note),
            (InvalidJson, Severity::Error),
            (InvalidPolicy, Severity::Error),
            (Unreadable, Severity::Error),
            (UnsupportedInput, Severity::Error),
        ] {
            assert_eq!(code.severity(), sev, "{code}");
        }
    }

    #[test]
    fn status_is_the_worst_finding_and_notes_do_not_count() {
        let f = |c| Finding::new(c, "x");
        assert_eq!(Status::worst(&[]), Status::Pass);
        assert_eq!(Status::worst(&[f(Code::LegacyVersion)]), Status::Pass);
        assert_eq!(
            Status::worst(&[f(Code::LegacyVersion), f(Code::ExcessAccess)]),
            Status::Warn
        );
        assert_eq!(
            Status::worst(&[f(Code::ExcessAccess), f(Code::PublicAccess)]),
            Status::Fail
        );
        assert_eq!(
            Status::worst(&[
                f(Code::NoPolicy),
                f(Code::InvalidJson),
                f(Code::PublicAccess)
            ]),
            Status::Error
        );
    }
}

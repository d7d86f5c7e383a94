//! The finding codes and statuses of the gitpod report.
//!
//! Kept apart from `crate::finding` on purpose: a gitpod row has a status that scan rows do not
//! (`not-applicable`, for images that are not private ECR), and these codes describe images in
//! workspace configurations, not repository policies — listing them among the scan codes would
//! put them in places that speak only of policies (the scan's `--fail-on`, SARIF rules). The same
//! idea as `finding::Code` is followed: one table, read by every report and the README test.

use std::fmt;

use crate::finding::codes;

/// A gitpod row's status. Ordered: `NotApplicable < Pass < Warn < Fail < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// The image is not in a private ECR registry: the export has nothing to say about it.
    NotApplicable,
    Pass,
    Warn,
    Fail,
    Error,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::NotApplicable,
        Status::Pass,
        Status::Warn,
        Status::Fail,
        Status::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotApplicable => "not-applicable",
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Error => "error",
        }
    }

    /// The repository's verdict in the export, carried over.
    pub fn carried(s: crate::finding::Status) -> Status {
        use crate::finding::Status as S;
        match s {
            S::Pass => Status::Pass,
            S::Warn => Status::Warn,
            S::Fail => Status::Fail,
            S::Error => Status::Error,
        }
    }

    /// For `--fail-on`: not-applicable counts as pass.
    pub fn for_fail_on(self) -> crate::finding::Status {
        use crate::finding::Status as S;
        match self {
            Status::NotApplicable | Status::Pass => S::Pass,
            Status::Warn => S::Warn,
            Status::Fail => S::Fail,
            Status::Error => S::Error,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a gitpod finding is. A note never changes the status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    NotApplicable,
    Note,
    Warn,
    Fail,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::NotApplicable => "not-applicable",
            Severity::Note => "note",
            Severity::Warn => "warn",
            Severity::Fail => "fail",
            Severity::Error => "error",
        }
    }

    /// The status a finding of this severity gives a row on its own.
    pub fn status(self) -> Status {
        match self {
            Severity::NotApplicable | Severity::Note => Status::NotApplicable,
            Severity::Warn => Status::Warn,
            Severity::Fail => Status::Fail,
            Severity::Error => Status::Error,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

codes! {
    /// A gitpod finding code; declaration order is the order reports list them (worst first).
    pub enum Code;
    Unreadable = "unreadable", Error,
        "A .gitpod.yml or the Dockerfile it names could not be read (missing, permissions, not UTF-8).";
    InvalidGitpodConfig = "invalid-gitpod-config", Error,
        "A .gitpod.yml is not valid YAML, or its `image` is neither a string nor an object with a string `file`.";
    InvalidDockerfile = "invalid-dockerfile", Error,
        "The Dockerfile has no FROM instruction, or a FROM without an image.";
    InvalidImage = "invalid-image", Error,
        "An image reference cannot be parsed, or names a malformed Amazon ECR host.";
    ImageNotInExport = "image-not-in-export", Fail,
        "A private ECR image's repository is not in the export: nothing shows the account can pull it.";
    EcrImageInDockerfile = "ecr-image-in-dockerfile", Warn,
        "A private ECR image is a FROM of a custom Dockerfile, which Gitpod Dedicated has documented as not supported.";
    UnresolvedVariable = "unresolved-variable", Warn,
        "A FROM uses a build variable with no value to substitute: the image cannot be checked.";
    RegionUnknown = "region-unknown", Note,
        "The export does not give the repository's region; matched by registry and name only.";
    UnresolvedTag = "unresolved-tag", Note,
        "Only the tag or digest of an image uses a build variable with no value: the repository is still checked.";
    NotPrivateEcr = "not-private-ecr", NotApplicable,
        "The image is not in a private ECR registry (Docker Hub, public ECR, another registry).";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One finding on a gitpod row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    pub message: String,
}

impl Finding {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Finding {
            code,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case() {
        for (i, c) in Code::ALL.iter().enumerate() {
            assert!(
                c.id()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '-')
            );
            assert!(Code::ALL[i + 1..].iter().all(|d| d.id() != c.id()));
        }
    }

    #[test]
    fn severities_are_the_issues() {
        assert_eq!(Code::ImageNotInExport.severity(), Severity::Fail);
        assert_eq!(Code::EcrImageInDockerfile.severity(), Severity::Warn);
        assert_eq!(Code::NotPrivateEcr.severity(), Severity::NotApplicable);
        assert_eq!(Code::Unreadable.severity(), Severity::Error);
    }

    #[test]
    fn not_applicable_does_not_trip_fail_on() {
        assert_eq!(
            Status::NotApplicable.for_fail_on(),
            crate::finding::Status::Pass
        );
        assert!(Status::NotApplicable < Status::Pass);
    }
}

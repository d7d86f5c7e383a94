//! The finding codes of the gitpod report.
//!
//! The codes are kept apart from `crate::finding::Code` on purpose: they describe images in
//! workspace configurations, not repository policies — listing them among the scan codes would
//! put them in places that speak only of policies (the scan's `--fail-on`, SARIF rules). Every
//! other type is the scan's: the same `codes!` table, `Severity`, `Status` and `Finding`
//! (`Finding<Code>`). A gitpod row's status is `Option<Status>`: `None` is `not-applicable`, a row
//! whose image the export has nothing to say about (it is not private ECR, or only notes apply).

use std::fmt;

use crate::finding::{Severity, Status, codes};

/// A finding on a gitpod row.
pub type Finding = crate::finding::Finding<Code>;

codes! {
    /// A gitpod finding code; declaration order is the order reports list them (worst first).
    pub enum Code;
    Unreadable = "unreadable", Error,
        "A configuration or the Dockerfile it names could not be read: missing, not a regular file (a device, FIFO, folder), larger than the cap, not UTF-8, permissions.";
    OutsideRepository = "outside-repository", Error,
        "A configuration names a file outside its repository root (`..`, or a symbolic link that leads out): it is not read.";
    InvalidGitpodConfig = "invalid-gitpod-config", Error,
        "A .gitpod.yml is not valid YAML, or its `image` is neither a string nor an object with a string `file`.";
    InvalidDockerfile = "invalid-dockerfile", Error,
        "The Dockerfile has no FROM instruction, or a FROM without an image.";
    InvalidImage = "invalid-image", Error,
        "An image reference does not parse as Docker parses it (the row names the rule), or names a malformed Amazon ECR host.";
    PartitionMismatch = "partition-mismatch", Error,
        "A private ECR image is in another AWS partition than the one the export was judged for (`--partition`).";
    ImageNotInExport = "image-not-in-export", Fail,
        "A private ECR image's repository is not in the export: nothing shows the account can pull it.";
    EcrImageInDockerfile = "ecr-image-in-dockerfile", Warn,
        "A private ECR image is pulled by a custom Dockerfile that the installation builds, which Gitpod Dedicated has documented as not supported; the advice depends on where (workspace base, builder stage, COPY --from).";
    UnresolvedVariable = "unresolved-variable", Warn,
        "A FROM uses a build variable with no value to substitute: the image cannot be checked.";
    RegionUnknown = "region-unknown", Note,
        "The export does not give the repository's region; matched by registry and name only.";
    UnresolvedTag = "unresolved-tag", Note,
        "Only the tag or digest of an image uses a build variable with no value: the repository is still checked.";
    NotPulled = "not-pulled", Note,
        "The image belongs to a build stage the target stage does not need: BuildKit does not pull it.";
    ConfigNotRead = "config-not-read", Note,
        "A file with a configuration's name that Gitpod does not read (.gitpod.yaml; .gitpod beside a .gitpod.yml): not the workspace's configuration.";
    LinkLoop = "link-loop", Note,
        "A symbolic link loop under the paths: not walked again.";
    LinkOut = "link-out", Note,
        "A symbolic link under the paths to a folder outside them: not walked, so a checkout cannot make the tool read elsewhere.";
    NotPrivateEcr = "not-private-ecr", Note,
        "The image is not in a private ECR registry (Docker Hub, public ECR, another registry): not applicable.";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A gitpod row's status as the reports write it: `not-applicable` for `None`.
pub fn status_str(s: Option<Status>) -> &'static str {
    s.map_or("not-applicable", Status::as_str)
}

/// The status a finding gives a row on its own: a note gives none.
pub fn status_of(code: Code) -> Option<Status> {
    (code.severity() != Severity::Note).then(|| Status::of(code.severity()))
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
        assert_eq!(Code::NotPrivateEcr.severity(), Severity::Note);
        assert_eq!(Code::Unreadable.severity(), Severity::Error);
        assert_eq!(Code::OutsideRepository.severity(), Severity::Error);
    }

    #[test]
    fn not_applicable_sorts_below_pass_and_notes_give_no_status() {
        assert!(None < Some(Status::Pass));
        assert_eq!(status_of(Code::NotPulled), None);
        assert_eq!(status_of(Code::ImageNotInExport), Some(Status::Fail));
        assert_eq!(status_str(None), "not-applicable");
    }
}

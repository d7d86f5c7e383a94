//! The ECR action catalog: every `ecr:` action with its access level, kept as data in one place.
//!
//! Source: the Service Authorization Reference, "Actions defined by Amazon Elastic Container
//! Registry", as taken on [`CATALOG_DATE`]. To refresh, replace the table below and the date.

/// The day the table below was taken from the Service Authorization Reference.
pub const CATALOG_DATE: &str = "2026-11-01";

/// Access level of an action, as the Service Authorization Reference names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessLevel {
    Read,
    List,
    Write,
    PermissionsManagement,
    Tagging,
}

impl AccessLevel {
    /// The level's name as AWS writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::Read => "Read",
            AccessLevel::List => "List",
            AccessLevel::Write => "Write",
            AccessLevel::PermissionsManagement => "Permissions management",
            AccessLevel::Tagging => "Tagging",
        }
    }

    /// Whether granting this level goes beyond what pulling an image needs.
    pub fn is_excess(self) -> bool {
        matches!(
            self,
            AccessLevel::Write | AccessLevel::PermissionsManagement | AccessLevel::Tagging
        )
    }
}

/// One ECR action: its name without the `ecr:` prefix and its access level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EcrAction {
    pub name: &'static str,
    pub level: AccessLevel,
}

/// The service prefix of every action in [`ACTIONS`].
pub const SERVICE: &str = "ecr";

/// The three actions an image pull needs, in the order the reports list them.
pub const REQUIRED: [&str; 3] = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
];

const fn a(name: &'static str, level: AccessLevel) -> EcrAction {
    EcrAction { name, level }
}

use AccessLevel::{List, PermissionsManagement, Read, Tagging, Write};

/// Every ECR action, grouped by access level.
pub const ACTIONS: &[EcrAction] = &[
    a("BatchCheckLayerAvailability", Read),
    a("BatchGetImage", Read),
    a("BatchGetRepositoryScanningConfiguration", Read),
    a("DescribeImageReplicationStatus", Read),
    a("DescribeImageScanFindings", Read),
    a("DescribeImageSigningStatus", Read),
    a("DescribeRegistry", Read),
    a("DescribeRepositories", Read),
    a("DescribeRepositoryCreationTemplates", Read),
    a("GetAccountSetting", Read),
    a("GetAuthorizationToken", Read),
    a("GetDownloadUrlForLayer", Read),
    a("GetImageCopyStatus", Read),
    a("GetLifecyclePolicy", Read),
    a("GetLifecyclePolicyPreview", Read),
    a("GetRegistryPolicy", Read),
    a("GetRegistryScanningConfiguration", Read),
    a("GetRepositoryPolicy", Read),
    a("GetSigningConfiguration", Read),
    a("ListTagsForResource", Read),
    a("ValidatePullThroughCacheRule", Read),
    a("DescribeImages", List),
    a("DescribePullThroughCacheRules", List),
    a("ListImages", List),
    a("ListPullTimeUpdateExclusions", List),
    a("BatchDeleteImage", Write),
    a("BatchImportUpstreamImage", Write),
    a("CompleteLayerUpload", Write),
    a("CreatePullThroughCacheRule", Write),
    a("CreateRepository", Write),
    a("CreateRepositoryCreationTemplate", Write),
    a("DeleteLifecyclePolicy", Write),
    a("DeletePullThroughCacheRule", Write),
    a("DeleteRepository", Write),
    a("DeleteRepositoryCreationTemplate", Write),
    a("DeleteSigningConfiguration", Write),
    a("DeregisterPullTimeUpdateExclusion", Write),
    a("InitiateLayerUpload", Write),
    a("PutAccountSetting", Write),
    a("PutImage", Write),
    a("PutImageScanningConfiguration", Write),
    a("PutImageTagMutability", Write),
    a("PutLifecyclePolicy", Write),
    a("PutRegistryScanningConfiguration", Write),
    a("PutReplicationConfiguration", Write),
    a("PutSigningConfiguration", Write),
    a("RegisterPullTimeUpdateExclusion", Write),
    a("ReplicateImage", Write),
    a("StartImageScan", Write),
    a("StartLifecyclePolicyPreview", Write),
    a("UpdateImageStorageClass", Write),
    a("UpdatePullThroughCacheRule", Write),
    a("UpdateRepositoryCreationTemplate", Write),
    a("UploadLayerPart", Write),
    a("DeleteRegistryPolicy", PermissionsManagement),
    a("DeleteRepositoryPolicy", PermissionsManagement),
    a("PutRegistryPolicy", PermissionsManagement),
    a("SetRepositoryPolicy", PermissionsManagement),
    a("TagResource", Tagging),
    a("UntagResource", Tagging),
];

/// Looks an action up by its name without prefix, case-insensitively (IAM action names are).
pub fn lookup(name: &str) -> Option<&'static EcrAction> {
    ACTIONS.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_actions_are_read_actions_of_the_catalog() {
        for full in REQUIRED {
            let name = full.strip_prefix("ecr:").expect("ecr: prefix");
            assert_eq!(lookup(name).map(|a| a.level), Some(Read), "{full}");
        }
    }

    #[test]
    fn names_are_unique_case_insensitively() {
        for (i, x) in ACTIONS.iter().enumerate() {
            for y in &ACTIONS[i + 1..] {
                assert!(!x.name.eq_ignore_ascii_case(y.name), "{} twice", x.name);
            }
        }
    }

    #[test]
    fn catalog_has_the_documented_counts_per_level() {
        let count = |l| ACTIONS.iter().filter(|a| a.level == l).count();
        assert_eq!(count(Read), 21);
        assert_eq!(count(List), 4);
        assert_eq!(count(Write), 29);
        assert_eq!(count(PermissionsManagement), 4);
        assert_eq!(count(Tagging), 2);
    }

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(
            lookup("batchgetimage").map(|a| a.name),
            Some("BatchGetImage")
        );
        assert!(lookup("BatchGetImages").is_none());
    }
}

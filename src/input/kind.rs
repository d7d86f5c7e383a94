//! Which export shape a record came from: a tag every reader sets, so that the reports can say
//! how many records of each kind were read.

/// The export shape a record was read from (see `docs/inputs.md`). One byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    /// `aws ecr get-repository-policy` output: `registryId`, `repositoryName`, `policyText`.
    GetRepositoryPolicy,
    /// A bare policy document (`--query policyText --output text`), named by its path.
    PolicyDocument,
    /// A JSON array or JSON Lines of repository objects or policy documents.
    Bulk,
    /// AWS Config configuration items (snapshot, history, `select-resource-config`, API).
    AwsConfig,
    /// `terraform show -json` of a state or a plan.
    Terraform,
    /// A CloudFormation template (JSON or YAML).
    CloudFormation,
    /// `steampipe query` rows of `aws_ecr_repository` (JSON or CSV).
    Steampipe,
    /// CloudQuery rows of `aws_ecr_repositories` / `aws_ecr_repository_policies`.
    CloudQuery,
    /// `aws ecr describe-repositories`: an inventory of repositories without their policies.
    DescribeRepositories,
    /// `aws ecr get-registry-policy` output.
    GetRegistryPolicy,
    /// `aws ecr get-account-setting --name REGISTRY_POLICY_SCOPE` output.
    RegistryPolicyScope,
    /// `RepositoryPolicyNotFoundException`: a repository without a policy.
    NoPolicyMarker,
    /// Not recognised, or the whole file (or line) could not be read: an error record.
    Unrecognised,
}

impl Shape {
    /// Every shape, in report order.
    pub const ALL: [Shape; 13] = [
        Shape::GetRepositoryPolicy,
        Shape::PolicyDocument,
        Shape::Bulk,
        Shape::AwsConfig,
        Shape::Terraform,
        Shape::CloudFormation,
        Shape::Steampipe,
        Shape::CloudQuery,
        Shape::DescribeRepositories,
        Shape::GetRegistryPolicy,
        Shape::RegistryPolicyScope,
        Shape::NoPolicyMarker,
        Shape::Unrecognised,
    ];

    /// A stable kebab-case name, used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Shape::GetRepositoryPolicy => "get-repository-policy",
            Shape::PolicyDocument => "policy-document",
            Shape::Bulk => "bulk",
            Shape::AwsConfig => "aws-config",
            Shape::Terraform => "terraform",
            Shape::CloudFormation => "cloudformation",
            Shape::Steampipe => "steampipe",
            Shape::CloudQuery => "cloudquery",
            Shape::DescribeRepositories => "describe-repositories",
            Shape::GetRegistryPolicy => "get-registry-policy",
            Shape::RegistryPolicyScope => "registry-policy-scope",
            Shape::NoPolicyMarker => "no-policy-marker",
            Shape::Unrecognised => "unrecognised",
        }
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Shape;

    #[test]
    fn shape_is_one_byte_and_names_are_distinct_kebab_case() {
        assert_eq!(std::mem::size_of::<Shape>(), 1);
        let names: std::collections::HashSet<_> = Shape::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(names.len(), Shape::ALL.len());
        for name in names {
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{name}"
            );
        }
    }
}

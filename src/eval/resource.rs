//! Resource coverage (SPEC 4.3): does `Resource` / `NotResource` apply to the repository, whose
//! region, registry and name may be unknown?

use crate::policy::Resources;
use crate::record::RepoId;

use super::Partition;
use super::arn::{self, Part, Tail};
use super::tri::Tri;

/// The repository's ARN `arn:<partition>:ecr:<region>:<registry>:repository/<name>` as far as
/// the input tells it.
#[derive(Clone, Copy, Debug)]
pub struct RepoArn<'a> {
    parts: [Part<'a>; 6],
}

impl<'a> RepoArn<'a> {
    pub fn new(repo: &'a RepoId, partition: Partition) -> RepoArn<'a> {
        // A full repository ARN from the input wins: it knows every part.
        if let Some(parts) = repo.arn.as_deref().and_then(arn::split) {
            return RepoArn { parts };
        }
        let name = match repo.known_name() {
            Some(n) => Tail::Known(n),
            None => Tail::Unknown,
        };
        RepoArn {
            parts: [
                Part::known("arn"),
                Part::known(partition.as_str()),
                Part::known("ecr"),
                Part::option(repo.region.as_deref()),
                Part::option(repo.registry.as_deref()),
                Part {
                    head: "repository/",
                    tail: name,
                },
            ],
        }
    }
}

/// Whether one pattern matches the repository.
fn matches(pattern: &str, repo: &RepoArn<'_>) -> Tri {
    if pattern == "*" {
        return Tri::True;
    }
    arn::like(pattern, &repo.parts)
}

/// Whether the statement applies to the repository. No element: the repository is implied.
pub fn applies(resources: Option<&Resources>, repo: &RepoArn<'_>) -> Tri {
    match resources {
        None => Tri::True,
        Some(Resources::Resource(ps)) => Tri::any(ps.iter().map(|p| matches(p, repo))),
        // NotResource applies to every resource none of its patterns matches.
        Some(Resources::NotResource(ps)) => !Tri::any(ps.iter().map(|p| matches(p, repo))),
    }
}

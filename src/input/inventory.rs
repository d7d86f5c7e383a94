//! `aws ecr describe-repositories` output (the ECR API's *DescribeRepositories* response:
//! `repositories` of *Repository* objects with `repositoryArn`, `registryId`, `repositoryName`,
//! `repositoryUri`, …; `nextToken`): every repository of the registry, without policies.

use serde_json::value::RawValue;

use super::common::{
    At, Ctx, Each, Emit, Format, Input, Kind, Probe, Rejected, account_field, describe, error,
    fill_from_arn, kind, name_field, read_list, string,
};
use super::kind::Shape;
use crate::finding::Code;
use crate::record::{Body, RepoId};

/// A file with a `repositories` array.
pub(crate) struct DescribeRepositories;

impl Format for DescribeRepositories {
    fn detect(&self, input: &Input<'_>, at: At) -> bool {
        matches!((input, at), (Input::Object { probe, .. }, At::File)
            if probe.repositories.is_some_and(|r| kind(r) == Kind::Array))
    }

    fn read(&self, input: &Input<'_>, _at: At, ctx: &Ctx, emit: &mut Emit) -> Result<(), Rejected> {
        match input {
            Input::Object { probe, .. } => match self.list(probe) {
                Some((list, each)) => {
                    read_list(list, each, ctx, emit);
                    Ok(())
                }
                None => Err(Rejected::Declined),
            },
            Input::Text(_) => Err(Rejected::Declined),
        }
    }

    fn list<'a>(&self, probe: &Probe<'a>) -> Option<(&'a RawValue, Each)> {
        probe
            .repositories
            .filter(|r| kind(r) == Kind::Array)
            .map(|l| (l, repository as Each))
    }
}

/// One element of `repositories`: an inventory record, which becomes a `no-policy` row only
/// when no other record names its repository.
fn repository(i: usize, raw: &RawValue, _ctx: &Ctx, emit: &mut Emit) {
    let at = At::part("repository", i);
    let repo = serde_json::from_str::<Probe>(raw.get())
        .ok()
        .filter(|_| kind(raw) == Kind::Object)
        .map(|p| {
            let mut repo = RepoId {
                registry: account_field(p.registry_id, "registryId", at)?,
                region: None,
                repository: name_field(p.repository_name, "repositoryName", at)?,
                arn: string(p.repository_arn),
                name_from_path: false,
            };
            fill_from_arn(&mut repo);
            Ok(repo)
        })
        .filter(|r| {
            r.as_ref()
                .map_or(true, |r| r.repository.is_some() || r.arn.is_some())
        });
    match repo {
        Some(Err(body)) => emit(
            at.number(),
            Shape::DescribeRepositories,
            RepoId::default(),
            body,
        ),
        Some(Ok(repo)) => emit(
            at.number(),
            Shape::DescribeRepositories,
            repo,
            Body::Inventory,
        ),
        None => emit(
            at.number(),
            Shape::DescribeRepositories,
            RepoId::default(),
            error(
                Code::UnsupportedInput,
                format!(
                    "{} of `repositories` is {}; expected an object with `repositoryName` or `repositoryArn`",
                    at.subject(),
                    describe(raw.get())
                ),
            ),
        ),
    }
}

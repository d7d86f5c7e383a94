//! Terraform `terraform show -json`: of a state (`values.root_module`, child modules included)
//! or of a plan (`resource_changes`, judged on `change.after`; deletions skipped). Each
//! `aws_ecr_repository_policy` is a record; a policy known only at apply time is
//! `unresolved-policy`; each `aws_ecr_repository` that no policy resource names is `no-policy`.
//!
//! A state is one file per workspace, so it is read as a `serde_json::Value` tree (serde_json's
//! recursion limit keeps a hostile one from overflowing the stack).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::common::{
    At, Ctx, Emit, Format, Input, Kind, Rejected, error, fill_from_arn, invalid, is_account, kind,
    shown,
};
use super::kind::Shape;
use crate::finding::Code;
use crate::record::{Body, PolicyText, RepoId};

const REPOSITORY: &str = "aws_ecr_repository";
const POLICY: &str = "aws_ecr_repository_policy";
const REGISTRY: &str = "aws_ecr_registry_policy";
/// A resource already reported as an error record.
const INVALID: &str = "invalid";

/// One ECR resource found in the document, in document order.
struct Resource {
    address: String,
    kind: &'static str,
    /// The attributes (state `values`, plan `change.after`).
    values: Value,
    /// Plan only: `change.after_unknown`.
    unknown: Value,
}

/// A `show -json` document: `format_version` with a `values` object (a state) or a
/// `resource_changes` array (a plan).
pub(crate) struct Terraform;

impl Format for Terraform {
    fn detect(&self, input: &Input<'_>, at: At) -> bool {
        let (Input::Object { probe: p, .. }, At::File) = (input, at) else {
            return false;
        };
        p.format_version.is_some()
            && (p.tf_values.is_some_and(|r| kind(r) == Kind::Object)
                || p.resource_changes.is_some_and(|r| kind(r) == Kind::Array))
    }

    fn read(
        &self,
        input: &Input<'_>,
        _at: At,
        _ctx: &Ctx,
        emit: &mut Emit,
    ) -> Result<(), Rejected> {
        match input {
            Input::Object { raw, .. } => {
                read(raw, emit);
                Ok(())
            }
            Input::Text(_) => Err(Rejected::Declined),
        }
    }
}

fn read(raw: &str, emit: &mut Emit) {
    let doc: Value = match serde_json::from_str(raw) {
        Ok(doc) => doc,
        Err(e) => {
            emit(
                1,
                Shape::Unrecognised,
                RepoId::default(),
                error(Code::InvalidJson, invalid(At::File, &e)),
            );
            return;
        }
    };
    let mut found = Vec::new();
    if let Some(changes) = doc.get("resource_changes").and_then(Value::as_array) {
        plan(changes, &mut found);
    } else if let Some(root) = doc.pointer("/values/root_module") {
        state(root, &mut found);
    }
    records(found, emit);
}

fn kind_of(ty: Option<&str>) -> Option<&'static str> {
    match ty? {
        REPOSITORY => Some(REPOSITORY),
        POLICY => Some(POLICY),
        REGISTRY => Some(REGISTRY),
        _ => None,
    }
}

fn managed(r: &Value) -> bool {
    // Data sources (`mode: data`) read what exists; only managed resources are the configuration.
    r.get("mode").and_then(Value::as_str).unwrap_or("managed") == "managed"
}

fn address(r: &Value) -> String {
    r.get("address")
        .and_then(Value::as_str)
        .unwrap_or("(no address)")
        .to_owned()
}

/// A state's modules, depth first in document order (child modules are bounded by serde_json's
/// recursion limit, so this recursion is too).
fn state(module: &Value, out: &mut Vec<Resource>) {
    for r in module
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(kind), true) = (kind_of(r.get("type").and_then(Value::as_str)), managed(r)) {
            out.push(Resource {
                address: address(r),
                kind,
                values: r.get("values").cloned().unwrap_or(Value::Null),
                unknown: Value::Null,
            });
        }
    }
    for child in module
        .get("child_modules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        state(child, out);
    }
}

fn plan(changes: &[Value], out: &mut Vec<Resource>) {
    for r in changes {
        let Some(kind) = kind_of(r.get("type").and_then(Value::as_str)) else {
            continue;
        };
        if !managed(r) {
            continue;
        }
        let change = r.get("change").unwrap_or(&Value::Null);
        let actions: Vec<&str> = change
            .get("actions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        // A deletion leaves nothing to pull from; a replacement (`delete`, `create`) is judged
        // on what it creates.
        if actions == ["delete"] || change.get("after").is_none_or(Value::is_null) {
            continue;
        }
        out.push(Resource {
            address: address(r),
            kind,
            values: change.get("after").cloned().unwrap_or(Value::Null),
            unknown: change.get("after_unknown").cloned().unwrap_or(Value::Null),
        });
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        // An account id written as a number by hand.
        Value::Number(n) if key == "registry_id" => Some(format!("{n:0>12}")),
        _ => None,
    }
}

fn is_unknown(r: &Resource, key: &str) -> bool {
    r.unknown.get(key).and_then(Value::as_bool) == Some(true)
}

/// The repository key a policy and a repository resource share: the name, with the registry
/// when both know it.
fn key(registry: Option<&str>, name: &str) -> String {
    format!("{}/{name}", registry.unwrap_or("*"))
}

/// A `registry_id` that is set must be an AWS account ID (12 digits; an integer of at most 12
/// digits gets its leading zeros back): anything else would join the record to the wrong
/// registry. `Err` names the resource.
fn check_registry(r: &Resource, n: u64) -> Result<(), Body> {
    let shown = match r.values.get("registry_id") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::String(s)) if s.is_empty() || is_account(s) => return Ok(()),
        Some(Value::Number(n)) if n.as_u64().is_some_and(|v| v < 1_000_000_000_000) => {
            return Ok(());
        }
        Some(Value::String(s)) => format!("the string {}", shown(s)),
        Some(Value::Number(n)) => format!("the number {}", shown(&n.to_string())),
        Some(other) => format!("`{other}`"),
    };
    Err(error(
        Code::UnsupportedInput,
        format!(
            "`registry_id` of {} (record {n}) is {shown}; expected a 12-digit AWS account ID",
            r.address
        ),
    ))
}

fn records(mut found: Vec<Resource>, emit: &mut Emit) {
    let mut out = Vec::new();
    for (i, r) in found.iter_mut().enumerate() {
        let n = i as u64 + 1;
        if let Err(body) = check_registry(r, n) {
            out.push((n, Shape::Terraform, RepoId::default(), body));
            // Keeps its number; read no further.
            r.kind = INVALID;
        }
    }
    collect(&found, &mut |n, shape, repo, body| {
        out.push((n, shape, repo, body))
    });
    out.sort_by_key(|(n, _, _, _)| *n);
    for (n, shape, repo, body) in out {
        emit(n, shape, repo, body);
    }
}

fn collect(found: &[Resource], emit: &mut Emit) {
    // Repositories by name, to give a policy its ARN and region and to find the uncovered ones.
    let repos: Vec<(usize, RepoId)> = found
        .iter()
        .enumerate()
        .filter(|(_, r)| r.kind == REPOSITORY)
        .map(|(i, r)| {
            let mut repo = RepoId {
                registry: text(&r.values, "registry_id"),
                region: text(&r.values, "region"),
                repository: text(&r.values, "name"),
                arn: text(&r.values, "arn"),
                name_from_path: false,
            };
            fill_from_arn(&mut repo);
            (i, repo)
        })
        .collect();
    let mut named: HashMap<&str, Named<'_>> = HashMap::new();
    for (at, (_, k)) in repos.iter().enumerate() {
        if let Some(name) = k.repository.as_deref() {
            named
                .entry(name)
                .or_insert_with(|| Named::new(at))
                .add(at, k.registry.as_deref());
        }
    }
    let mut covered = HashSet::new();
    for (i, r) in found.iter().enumerate() {
        if r.kind == REGISTRY {
            registry_policy(i as u64 + 1, r, emit);
            continue;
        }
        if r.kind != POLICY {
            continue;
        }
        let n = i as u64 + 1;
        let name = text(&r.values, "repository");
        let registry = text(&r.values, "registry_id");
        let mut repo = RepoId {
            registry: registry.clone(),
            region: text(&r.values, "region"),
            repository: name.clone(),
            ..RepoId::default()
        };
        if let Some(name) = &name {
            // The repository resource of that name (same registry when both say).
            if let Some((_, known)) = named
                .get(name.as_str())
                .and_then(|n| n.first_for(registry.as_deref()))
                .map(|i| &repos[i])
            {
                covered.insert(key(known.registry.as_deref(), name));
                repo.registry = repo.registry.or_else(|| known.registry.clone());
                repo.region = repo.region.or_else(|| known.region.clone());
                repo.arn = known.arn.clone();
            }
            covered.insert(key(registry.as_deref(), name));
        }
        let body = match r.values.get("policy") {
            _ if is_unknown(r, "policy") => Body::Unresolved(format!(
                "{} (record {n}): the policy is known only after apply (`after_unknown.policy`); audit the state after `terraform apply`",
                r.address
            )),
            Some(Value::String(s)) if !s.trim().is_empty() => Body::Policy(PolicyText::plain(s)),
            Some(Value::Object(_)) => {
                Body::Policy(PolicyText::plain(&r.values["policy"].to_string()))
            }
            other => error(
                Code::UnsupportedInput,
                format!(
                    "{} (record {n}) has {}; expected `policy` as a JSON string",
                    r.address,
                    match other {
                        None => "no `policy`".to_owned(),
                        Some(v) => format!("`policy` {v}"),
                    }
                ),
            ),
        };
        if name.is_none() && is_unknown(r, "repository") {
            repo.repository = Some(r.address.clone());
            repo.name_from_path = true;
        }
        emit(n, Shape::Terraform, repo, body);
    }
    for (i, repo) in repos {
        let name = repo.repository.as_deref().unwrap_or("");
        let is_covered = covered.contains(&key(repo.registry.as_deref(), name))
            || covered.contains(&key(None, name));
        if !is_covered {
            let repo = if repo.repository.is_none() {
                RepoId {
                    repository: Some(found[i].address.clone()),
                    name_from_path: true,
                    ..repo
                }
            } else {
                repo
            };
            emit(i as u64 + 1, Shape::Terraform, repo, Body::NoPolicy);
        }
    }
}

/// The repository resources of one name, so that a policy finds its repository without a scan
/// over all of them (a state may hold tens of thousands, in as many modules).
struct Named<'a> {
    /// The first of that name (in `repos`).
    first: usize,
    /// The first that names no registry.
    first_unknown: Option<usize>,
    /// The first of each registry.
    by_registry: HashMap<&'a str, usize>,
}

impl<'a> Named<'a> {
    fn new(first: usize) -> Self {
        Named {
            first,
            first_unknown: None,
            by_registry: HashMap::new(),
        }
    }

    fn add(&mut self, at: usize, registry: Option<&'a str>) {
        match registry {
            None => {
                self.first_unknown.get_or_insert(at);
            }
            Some(r) => {
                self.by_registry.entry(r).or_insert(at);
            }
        }
    }

    /// The first repository of this name that a policy of `registry` belongs to: any when the
    /// policy names no registry, else one of the same registry or of none.
    fn first_for(&self, registry: Option<&str>) -> Option<usize> {
        #[cfg(test)]
        crate::policy::steps::add(1);
        let Some(registry) = registry else {
            return Some(self.first);
        };
        match (self.first_unknown, self.by_registry.get(registry)) {
            (Some(a), Some(&b)) => Some(a.min(b)),
            (a, b) => a.or(b.copied()),
        }
    }
}

/// An `aws_ecr_registry_policy`: the registry policy of `registry_id` (the provider's account),
/// joined with that registry's repositories like `get-registry-policy` output.
fn registry_policy(n: u64, r: &Resource, emit: &mut Emit) {
    let repo = RepoId {
        registry: text(&r.values, "registry_id"),
        region: text(&r.values, "region"),
        ..RepoId::default()
    };
    let body = match r.values.get("policy") {
        _ if is_unknown(r, "policy") || is_unknown(r, "registry_id") => Body::Unresolved(format!(
            "{} (record {n}): the registry policy is known only after apply, so the repositories of its registry are judged without it",
            r.address
        )),
        Some(Value::String(s)) if !s.trim().is_empty() => Body::RegistryPolicy(s.clone()),
        _ => error(
            Code::UnsupportedInput,
            format!("{} (record {n}) has no `policy` string", r.address),
        ),
    };
    emit(n, Shape::Terraform, repo, body);
}

//! `ecr-audit explain`: why one record got its verdict, for a person — each statement in turn
//! (principal, actions, resource, each condition with the key's known value), then each required
//! action's state and the findings. The trace comes from [`eval::explain`], which shares the
//! judgement's code path, and the verdict from the same [`Audit`](crate::audit::Audit) a scan uses.

use std::io::{self, Write};

use crate::audit::{RegistryPolicy, Row};
use crate::catalog::REQUIRED;
use crate::eval::{self, ActionState, Puller, StatementTrace, Tri};
use crate::finding::Status;
use crate::pipeline::{self, Judged};
use crate::policy::{self, Actions, Effect, Policy, Resources, Statement, Who};
use crate::record::{Body, Record};
use crate::report::table::clean;
use crate::run::RunError;

/// What `explain` needs, validated.
#[derive(Clone, Debug)]
pub struct ExplainConfig {
    /// The same inputs a scan takes: files, folders, `-`.
    pub paths: Vec<String>,
    /// Which record; `None` = the inputs' only record.
    pub record: Option<RecordRef>,
    pub pullers: Vec<Puller>,
    pub jobs: Option<usize>,
    /// As for `scan`.
    pub registry_scope: Option<crate::record::ScopeV>,
}

/// A record as the reports name it: `SOURCE:N` (the `source` and `record` columns), or `N` alone
/// when the inputs have one source with rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordRef {
    Number(u64),
    At { source: String, record: u64 },
}

impl RecordRef {
    /// Parses `SOURCE:N` or `N` (the number after the last colon, so a source may hold colons).
    pub fn parse(s: &str) -> Result<RecordRef, String> {
        let number = |n: &str| match n.trim().parse::<u64>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!(
                "`{s}` is not SOURCE:N or N (N a record number from 1, as the reports print it)"
            )),
        };
        match s.rsplit_once(':') {
            Some((source, n)) if !source.is_empty() => Ok(RecordRef::At {
                source: source.to_owned(),
                record: number(n)?,
            }),
            _ => Ok(RecordRef::Number(number(s)?)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(
        "the inputs hold {count} records; pick one with --record SOURCE:N, e.g. --record {example}"
    )]
    Ambiguous { count: usize, example: String },
    #[error(
        "--record {record} is ambiguous: {sources} sources have a record {record}; name one as SOURCE:{record}, e.g. {example}:{record}"
    )]
    AmbiguousNumber {
        record: u64,
        sources: usize,
        example: String,
    },
    #[error(
        "{source_name} has no record {record} among the inputs (sources are named as the reports print them, e.g. {example})"
    )]
    NoSuchRecord {
        source_name: String,
        record: u64,
        example: String,
    },
    #[error(
        "{source_name} record {record} is a registry policy: it has no verdict of its own; it is \
         judged with every repository of its registry (explain one of those rows)"
    )]
    RegistryPolicy { source_name: String, record: u64 },
    #[error(
        "{source_name} record {record} is a registry setting (REGISTRY_POLICY_SCOPE): it has no \
         verdict of its own; it decides how its registry's policy is judged (explain a row of one \
         of its repositories)"
    )]
    Setting { source_name: String, record: u64 },
    #[error(
        "{source_name} record {record} is an inventory entry of a repository that another record \
         names ({by}): that record's row is the verdict; explain it with --record {by}"
    )]
    Folded {
        source_name: String,
        record: u64,
        by: String,
    },
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Runs the pipeline over the inputs, picks the record's rows (one per account) exactly as
/// `scan` reports them, explains each, and returns the worst status.
pub fn run(cfg: &ExplainConfig, out: &mut dyn Write) -> Result<Status, ExplainError> {
    let judged =
        pipeline::run_keeping_records(&cfg.paths, &cfg.pullers, cfg.registry_scope, cfg.jobs)?;
    let (source, n) = pick(&judged, cfg.record.as_ref())?;
    let rows: Vec<&Row> = judged
        .rows
        .iter()
        .filter(|r| *r.source == *source && r.record == n)
        .collect();
    let Some(mut record) = judged.record(&source, n) else {
        return Err(ExplainError::NoSuchRecord {
            source_name: source,
            record: n,
            example: example(&judged),
        });
    };
    if rows.is_empty() {
        return Err(folded(&judged, record));
    }
    // The record as the joins judged it (see `join`): an inventory entry that no other record
    // names is a repository without a policy; an invalid registry policy is its own row.
    record.body = match record.body {
        Body::Inventory => Body::NoPolicy,
        Body::RegistryPolicy(text) => Body::Policy(crate::record::PolicyText::plain(&text)),
        body => body,
    };
    let registry = match &record.body {
        // In ECR's V1 scope the registry policy takes no part in a pull (the row's
        // `registry-policy-v1` note says so).
        Body::Policy(_) | Body::NoPolicy => judged
            .registry_for(&record.repo)
            .filter(|r| r.judges_pulls()),
        _ => None,
    };
    let mut worst = Status::Pass;
    for (i, row) in rows.iter().enumerate() {
        let Some(puller) = cfg.pullers.iter().find(|p| *p.account == *row.account) else {
            continue;
        };
        if i > 0 {
            writeln!(out, "\n{}\n", "-".repeat(60))?;
        }
        write(&record, row, puller, registry, out)?;
        worst = worst.max(row.status);
    }
    Ok(worst)
}

/// The source and record number `want` names, or the inputs' only record.
fn pick(judged: &Judged, want: Option<&RecordRef>) -> Result<(String, u64), ExplainError> {
    let mut records: Vec<(&str, u64)> =
        judged.rows.iter().map(|r| (&*r.source, r.record)).collect();
    records.dedup();
    match want {
        None => match records.as_slice() {
            [(source, n)] => Ok(((*source).to_owned(), *n)),
            _ => Err(ExplainError::Ambiguous {
                count: records.len(),
                example: example(judged),
            }),
        },
        Some(RecordRef::At { source, record }) => Ok((resolve(judged, source), *record)),
        Some(RecordRef::Number(n)) => {
            let mut sources: Vec<&str> = records.iter().map(|(s, _)| *s).collect();
            sources.dedup();
            match sources.as_slice() {
                [one] => Ok(((*one).to_owned(), *n)),
                _ => {
                    let with: Vec<&str> = records
                        .iter()
                        .filter(|(_, r)| r == n)
                        .map(|(s, _)| *s)
                        .collect();
                    match with.as_slice() {
                        [one] => Ok(((*one).to_owned(), *n)),
                        _ => Err(ExplainError::AmbiguousNumber {
                            record: *n,
                            sources: with.len(),
                            example: with
                                .first()
                                .or(sources.first())
                                .map_or_else(String::new, |s| (*s).to_owned()),
                        }),
                    }
                }
            }
        }
    }
}

/// The source as the reports name it: exactly, or written with or without a leading `./`.
fn resolve(judged: &Judged, source: &str) -> String {
    let bare = |s: &str| s.trim_start_matches("./").to_owned();
    if judged.sources.iter().any(|s| &*s.display == source) {
        return source.to_owned();
    }
    judged
        .sources
        .iter()
        .find(|s| bare(&s.display) == bare(source))
        .map_or_else(|| source.to_owned(), |s| s.display.to_string())
}

/// A `SOURCE:N` of the inputs, for messages.
fn example(judged: &Judged) -> String {
    judged.rows.iter().next().map_or_else(
        || "SOURCE:1".to_owned(),
        |r| format!("{}:{}", r.source, r.record),
    )
}

/// Why a record that exists has no row: a join folded it.
fn folded(judged: &Judged, record: Record) -> ExplainError {
    let (source_name, n) = (record.source.to_string(), record.record);
    match record.body {
        Body::Inventory => {
            let by = judged
                .rows
                .iter()
                .find(|r| crate::join::names_repository_of(&r.repo, &record.repo))
                .map_or_else(String::new, |r| format!("{}:{}", r.source, r.record));
            ExplainError::Folded {
                source_name,
                record: n,
                by,
            }
        }
        Body::RegistryPolicyScope(_) => ExplainError::Setting {
            source_name,
            record: n,
        },
        _ => ExplainError::RegistryPolicy {
            source_name,
            record: n,
        },
    }
}

fn write(
    record: &Record,
    row: &Row,
    puller: &Puller,
    registry: Option<&RegistryPolicy>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let repo = row.repo.label();
    writeln!(
        out,
        "Source:     {} (record {})",
        clean(&row.source),
        row.record
    )?;
    if repo.is_empty() {
        writeln!(out, "Repository: unknown")?;
    } else if row.repo.name_from_path {
        writeln!(
            out,
            "Repository: {} (named after the file: the real name, registry and region are unknown)",
            clean(&repo)
        )?;
    } else {
        writeln!(out, "Repository: {}", clean(&repo))?;
    }
    writeln!(
        out,
        "Account:    {} (Gitpod pulls as a role session of this account; the role name is unknown)",
        puller.account
    )?;
    writeln!(out, "Verdict:    {}", row.status)?;

    let empty = Policy::empty();
    let parsed;
    let own: Option<&Policy> = match &record.body {
        Body::Error { .. } => {
            writeln!(out, "\nThe record could not be judged.")?;
            None
        }
        Body::NoPolicy | Body::Inventory if registry.is_none() => {
            writeln!(
                out,
                "\nThe repository has no repository policy, so no statement grants anything."
            )?;
            None
        }
        Body::NoPolicy | Body::Inventory => {
            writeln!(
                out,
                "\nThe repository has no repository policy of its own: it is judged on the \
                 registry policy alone."
            )?;
            Some(&empty)
        }
        Body::Unresolved(why) => {
            writeln!(
                out,
                "\nThe policy is known only at deploy time, so it cannot be judged yet: {}",
                clean(why)
            )?;
            None
        }
        Body::RegistryPolicy(_) | Body::RegistryPolicyScope(_) => {
            writeln!(
                out,
                "\nThis is a registry policy or setting: scan it together with the repositories \
                 of its registry, which are judged with it."
            )?;
            None
        }
        Body::Policy(text) => match policy::parse(&text.text()) {
            Err(_) => {
                writeln!(out, "\nThe policy is not valid, so it was not judged.")?;
                None
            }
            Ok(policy) => {
                parsed = policy;
                Some(&parsed)
            }
        },
    };
    let mut judged = None;
    if let Some(policy) = own {
        if let Some(r) = registry {
            writeln!(
                out,
                "\nThe registry policy from {} applies to every repository of registry {}: its \
                 statements are judged with the repository policy's.",
                clean(&r.source),
                r.registry
            )?;
        }
        let trace =
            eval::explain_with_registry(policy, registry.map(|r| &r.policy), puller, &record.repo);
        let stmts: Vec<&Statement> = policy
            .statements()
            .iter()
            .chain(registry.into_iter().flat_map(|r| r.policy.statements()))
            .collect();
        statements(&stmts, &trace.statements, out)?;
        judged = Some((stmts, trace.statements));
    }

    if let Some(states) = row.actions {
        writeln!(out, "\nRequired actions")?;
        for (j, (action, state)) in REQUIRED.iter().zip(states).enumerate() {
            writeln!(
                out,
                "  {action:<32} {:<12} {}",
                state.as_str(),
                because(judged.as_ref(), j, state)
            )?;
        }
    }

    writeln!(out, "\nFindings")?;
    if row.findings.is_empty() {
        writeln!(out, "  none")?;
    }
    // Codes line up; a longer code (cross-account-write) widens the column for this row.
    let width = row
        .findings
        .iter()
        .map(|f| f.code.id().len())
        .fold(18, usize::max);
    for f in row.findings.iter() {
        writeln!(
            out,
            "  {:<5} {:<width$} {}",
            f.severity().as_str(),
            f.code.id(),
            clean(&f.message.text())
        )?;
    }
    writeln!(out, "\nWhat to do: {}", clean(&row.detail()))
}

fn statements(
    stmts: &[&Statement],
    traces: &[StatementTrace],
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "\nStatements")?;
    if traces.is_empty() {
        writeln!(out, "  none")?;
    }
    for (s, t) in stmts.iter().zip(traces) {
        writeln!(out, "  {}: {}", clean(&s.label()), t.effect.as_str())?;
        writeln!(
            out,
            "    principal   {} — {}",
            match t.principal {
                Tri::True => "covers the puller",
                Tri::False => "does not cover the puller",
                Tri::Unknown => "may cover the puller (depends on the role's name)",
            },
            clean(&principals(s))
        )?;
        let matched: Vec<&str> = t.matched().collect();
        writeln!(
            out,
            "    actions     {} — {}",
            if matched.is_empty() {
                "matches none of the required actions".to_owned()
            } else {
                format!("matches {}", matched.join(", "))
            },
            clean(&actions(s))
        )?;
        writeln!(
            out,
            "    resource    {}{}",
            match (s.resources(), t.resource) {
                (None, _) => "applies (no Resource element: the repository is implied)",
                (Some(_), Tri::True) => "applies to the repository",
                (Some(_), Tri::False) => "does not apply to the repository",
                (Some(_), Tri::Unknown) => {
                    "may apply (parts of the repository's ARN are not known from the input)"
                }
            },
            s.resources()
                .map(|r| format!(" — {}", clean(&resources(&r))))
                .unwrap_or_default()
        )?;
        if t.conditions.is_empty() {
            writeln!(out, "    conditions  none")?;
        } else {
            writeln!(out, "    conditions  {} (all must hold)", tri(t.condition))?;
            for c in &t.conditions {
                writeln!(
                    out,
                    "      {} {} {} — the key's value: {} → {}",
                    clean(&c.operator),
                    clean(&c.key),
                    clean(&format!("{:?}", c.values)),
                    clean(&c.known),
                    tri(c.result)
                )?;
            }
        }
        writeln!(
            out,
            "    => this {} applies to the puller: {}",
            t.effect.as_str(),
            match (t.applies, matched.is_empty()) {
                (_, true) | (Tri::False, _) => "no",
                (Tri::True, false) => "yes",
                (Tri::Unknown, false) => "maybe (undecided offline)",
            }
        )?;
    }
    Ok(())
}

/// Which statements decide a required action's state.
fn because(
    judged: Option<&(Vec<&Statement>, Vec<StatementTrace>)>,
    j: usize,
    state: ActionState,
) -> String {
    let Some((stmts, traces)) = judged else {
        return "(no policy)".into();
    };
    let by = |effect: Effect, applies: &[Tri]| -> Vec<String> {
        stmts
            .iter()
            .zip(traces)
            .filter(|(_, t)| t.effect == effect && t.required[j] && applies.contains(&t.applies))
            .map(|(s, _)| clean(&s.label()))
            .collect()
    };
    let list = |v: Vec<String>| v.join(", ");
    match state {
        ActionState::Allowed => format!("by {}", list(by(Effect::Allow, &[Tri::True]))),
        ActionState::Denied => format!("by {}", list(by(Effect::Deny, &[Tri::True]))),
        ActionState::Missing => "no Allow can grant it".into(),
        ActionState::Conditional => {
            let allows = by(Effect::Allow, &[Tri::True, Tri::Unknown]);
            let denies = by(Effect::Deny, &[Tri::Unknown]);
            let mut parts = vec![format!("allowed by {}", list(allows))];
            if !denies.is_empty() {
                parts.push(format!("may be denied by {}", list(denies)));
            }
            parts.join("; ")
        }
    }
}

fn tri(t: Tri) -> &'static str {
    match t {
        Tri::True => "true",
        Tri::False => "false",
        Tri::Unknown => "unknown",
    }
}

fn principals(s: &Statement) -> String {
    let (word, p) = match s.who() {
        Who::Principal(p) => ("Principal", p),
        Who::NotPrincipal(p) => ("NotPrincipal", p),
    };
    if p.is_star() {
        return format!("{word} \"*\"");
    }
    let mut parts: Vec<String> = Vec::new();
    if !p.aws().is_empty() {
        parts.push(format!("AWS {:?}", p.aws()));
    }
    for (kind, v) in p.others() {
        parts.push(format!("{} {v:?}", kind.as_str()));
    }
    format!("{word} {}", parts.join(", "))
}

fn actions(s: &Statement) -> String {
    match s.actions() {
        Actions::Action(a) => format!("Action {a:?}"),
        Actions::NotAction(a) => format!("NotAction {a:?}"),
    }
}

fn resources(r: &Resources) -> String {
    match r {
        Resources::Resource(p) => format!("Resource {p:?}"),
        Resources::NotResource(p) => format!("NotResource {p:?}"),
    }
}

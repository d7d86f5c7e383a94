//! `ecr-audit explain`: why one record got its verdict, for a person — each statement in turn
//! (principal, actions, resource, each condition with the key's known value), then each required
//! action's state and the findings. The trace comes from [`eval::explain`], which shares the
//! judgement's code path, and the verdict from the same [`Audit`] a scan uses.

use std::io::{self, Write};

use crate::audit::{Audit, Row};
use crate::catalog::REQUIRED;
use crate::eval::{self, ActionState, Puller, StatementTrace, Tri};
use crate::finding::Status;
use crate::input::{self, MissingPath};
use crate::policy::{self, Actions, Effect, Policy, Resources, Statement, Who};
use crate::record::{Body, Record};
use crate::report::table::clean;

/// What `explain` needs, validated.
#[derive(Clone, Debug)]
pub struct ExplainConfig {
    /// One file (or `-`).
    pub file: String,
    /// 1-based record number; `None` = the file's only record.
    pub record: Option<u64>,
    pub puller: Puller,
}

#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error(transparent)]
    MissingPath(#[from] MissingPath),
    #[error("{0}: explain takes one file, not a folder")]
    NotAFile(String),
    #[error("{file} has {count} records; pick one with --record N (1 to {count})")]
    Ambiguous { file: String, count: usize },
    #[error("{file} has no record {record} (it has {count})")]
    NoSuchRecord {
        file: String,
        record: u64,
        count: usize,
    },
    #[error(
        "{file} record {record} is a registry policy: it has no verdict of its own; scan it with \
         the repositories of its registry, which are judged with its statements"
    )]
    RegistryPolicy { file: String, record: u64 },
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Explains the record and returns its status.
pub fn run(cfg: &ExplainConfig, out: &mut dyn Write) -> Result<Status, ExplainError> {
    if std::path::Path::new(&cfg.file).is_dir() {
        return Err(ExplainError::NotAFile(cfg.file.clone()));
    }
    let sources = input::discover(std::slice::from_ref(&cfg.file))?;
    let [source] = sources.as_slice() else {
        return Err(ExplainError::NotAFile(cfg.file.clone()));
    };
    let mut records = Vec::new();
    let _ = input::read_source(source, &mut |r| records.push(r));
    let count = records.len();
    let record = match cfg.record {
        None if count == 1 => records.swap_remove(0),
        None => {
            return Err(ExplainError::Ambiguous {
                file: cfg.file.clone(),
                count,
            });
        }
        Some(n) => match records.into_iter().find(|r| r.record == n) {
            Some(r) => r,
            None => {
                return Err(ExplainError::NoSuchRecord {
                    file: cfg.file.clone(),
                    record: n,
                    count,
                });
            }
        },
    };
    let mut record = record;
    match record.body {
        // An inventory entry is a row only when no policy record names its repository; explain
        // sees one file, so it judges the entry as the scan's no-policy row.
        Body::Inventory => record.body = Body::NoPolicy,
        Body::RegistryPolicy(_) => {
            return Err(ExplainError::RegistryPolicy {
                file: cfg.file.clone(),
                record: record.record,
            });
        }
        _ => {}
    }
    let pullers = [cfg.puller.clone()];
    let mut rows = Vec::new();
    Audit::new(&pullers).rows(record.clone(), &mut rows);
    let row = rows.pop().ok_or_else(|| io::Error::other("no verdict"))?;
    write(&record, &row, &cfg.puller, out)?;
    Ok(row.status)
}

fn write(record: &Record, row: &Row, puller: &Puller, out: &mut dyn Write) -> io::Result<()> {
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

    let mut judged = None;
    match &record.body {
        Body::Error { .. } => {
            writeln!(out, "\nThe record could not be judged.")?;
        }
        Body::NoPolicy | Body::Inventory => {
            writeln!(
                out,
                "\nThe repository has no repository policy, so no statement grants anything."
            )?;
        }
        Body::Unresolved(why) => {
            writeln!(
                out,
                "\nThe policy is known only at deploy time, so it cannot be judged yet: {}",
                clean(why)
            )?;
        }
        Body::RegistryPolicy(_) => {
            writeln!(
                out,
                "\nThis is a registry policy: scan it together with the repositories of its \
                 registry, which are judged with its statements."
            )?;
        }
        Body::Policy(text) => match policy::parse(&text.text()) {
            Err(_) => writeln!(out, "\nThe policy is not valid, so it was not judged.")?,
            Ok(policy) => {
                let trace = eval::explain(&policy, puller, &record.repo);
                statements(&policy, &trace.statements, out)?;
                judged = Some((policy, trace.statements));
            }
        },
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
            clean(&f.message)
        )?;
    }
    writeln!(out, "\nWhat to do: {}", clean(&row.detail()))
}

fn statements(policy: &Policy, traces: &[StatementTrace], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\nStatements")?;
    if traces.is_empty() {
        writeln!(out, "  none")?;
    }
    for (s, t) in policy.statements().iter().zip(traces) {
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
                .map(|r| format!(" — {}", clean(&resources(r))))
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
fn because(judged: Option<&(Policy, Vec<StatementTrace>)>, j: usize, state: ActionState) -> String {
    let Some((policy, traces)) = judged else {
        return "(no policy)".into();
    };
    let by = |effect: Effect, applies: &[Tri]| -> Vec<String> {
        policy
            .statements()
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

//! JSON report, schema version 1. The types below exist only for this report: their field names
//! are a public interface, independent of the engine's types.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::audit::{Row, Rows};
use crate::catalog::REQUIRED;
use crate::eval::ActionState;

use super::{Counts, Meta};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    accounts: &'a [String],
    summary: Summary,
    results: Results<'a>,
    /// With `--evidence` only, so that the document without it is unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<EvidenceOut<'a>>,
}

/// The results, serialised one row at a time: a report of a million rows is never held twice.
struct Results<'a>(&'a Rows);

impl Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(result))
    }
}

#[derive(Serialize)]
struct EvidenceOut<'a> {
    algorithm: &'static str,
    /// SHA-256 of the `sha256sum`-style manifest of `files` (see docs/reports.md).
    digest: &'a str,
    files: Vec<FileOut<'a>>,
}

#[derive(Serialize)]
struct FileOut<'a> {
    path: &'a str,
    sha256: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    records: u64,
    pass: u64,
    warn: u64,
    fail: u64,
    error: u64,
}

#[derive(Serialize)]
struct Result<'a> {
    source: &'a str,
    record: u64,
    registry: Option<&'a str>,
    region: Option<&'a str>,
    repository: Option<&'a str>,
    arn: Option<&'a str>,
    account: &'a str,
    status: &'static str,
    missing_actions: Vec<&'static str>,
    denied_actions: Vec<&'static str>,
    conditional_actions: Vec<&'static str>,
    /// Each required action → its state; null when the record could not be judged.
    actions: Option<BTreeMap<&'static str, &'static str>>,
    findings: Vec<FindingOut<'a>>,
    detail: String,
}

#[derive(Serialize)]
struct FindingOut<'a> {
    code: &'static str,
    severity: &'static str,
    message: &'a str,
    statement: Option<StatementOut<'a>>,
}

#[derive(Serialize)]
struct StatementOut<'a> {
    index: usize,
    sid: Option<&'a str>,
    /// Which document holds the statement: the record's own `repository-policy`, or the
    /// `registry-policy` judged together with it.
    document: &'static str,
}

fn result(r: &Row) -> Result<'_> {
    Result {
        source: &r.source,
        record: r.record,
        registry: r.repo.registry.as_deref(),
        region: r.repo.region.as_deref(),
        repository: r.repo.repository.as_deref(),
        arn: r.repo.arn.as_deref(),
        account: &r.account,
        status: r.status.as_str(),
        missing_actions: r.actions_in(ActionState::Missing).collect(),
        denied_actions: r.actions_in(ActionState::Denied).collect(),
        conditional_actions: r.actions_in(ActionState::Conditional).collect(),
        actions: r.actions.map(|states| {
            REQUIRED
                .iter()
                .zip(states)
                .map(|(a, s)| (*a, s.as_str()))
                .collect()
        }),
        findings: r
            .findings
            .iter()
            .map(|f| FindingOut {
                code: f.code.id(),
                severity: f.severity().as_str(),
                message: &f.message,
                statement: f.statement.as_ref().map(|s| StatementOut {
                    index: s.index,
                    sid: s.sid.as_deref(),
                    document: document(s),
                }),
            })
            .collect(),
        detail: r.detail(),
    }
}

/// The report's name for the document a statement is in.
pub(crate) fn document(s: &crate::finding::StatementRef) -> &'static str {
    if s.registry_policy {
        "registry-policy"
    } else {
        "repository-policy"
    }
}

pub fn write(rows: &Rows, meta: &Meta, out: &mut dyn Write) -> io::Result<()> {
    let c = Counts::of(rows);
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        accounts: &meta.accounts,
        summary: Summary {
            records: meta.records,
            pass: c.pass,
            warn: c.warn,
            fail: c.fail,
            error: c.error,
        },
        results: Results(rows),
        evidence: meta.evidence.as_ref().map(|e| EvidenceOut {
            algorithm: "sha-256",
            digest: &e.digest,
            files: e
                .files
                .iter()
                .map(|f| FileOut {
                    path: &f.path,
                    sha256: f.sha256.as_deref(),
                    note: f.note.as_deref(),
                })
                .collect(),
        }),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

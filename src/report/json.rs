//! JSON report, schema version 1. The types below exist only for this report: their field names
//! are a public interface, independent of the engine's types.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::audit::{Row, Rows};
use crate::catalog::REQUIRED;
use crate::eval::ActionState;

use super::{Counts, Meta, write_in_waves};

pub const SCHEMA_VERSION: u32 = 1;

/// The whole document in one value: what [`write`] writes, piece by piece (kept as the
/// reference the tests compare it with).
#[cfg(test)]
#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    accounts: &'a [String],
    summary: Summary,
    inputs: Inputs,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    suppressions: &'a [crate::suppress::Use],
    results: Results<'a>,
    /// With `--evidence` only, so that the document without it is unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<EvidenceOut<'a>>,
}

/// The document's fields before `results`.
#[derive(Serialize)]
struct Head<'a> {
    schema_version: u32,
    tool: Tool,
    accounts: &'a [String],
    summary: Summary,
    inputs: Inputs,
    /// The configuration file's `[[suppress]]` entries and what each matched (issue 15); absent
    /// when there are none, so that reports without a file are unchanged.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    suppressions: &'a [crate::suppress::Use],
}

/// What the inputs held (issue 10): every record read, per shape, and those a join folded into
/// another row; every other record is one result per account.
#[derive(Serialize)]
struct Inputs {
    files: u64,
    skipped_files: u64,
    records_read: u64,
    records_folded: u64,
    by_shape: Vec<ShapeOut>,
}

#[derive(Serialize)]
struct ShapeOut {
    shape: &'static str,
    read: u64,
    folded: u64,
}

impl Inputs {
    fn of(t: &crate::pipeline::Tally) -> Inputs {
        Inputs {
            files: t.files,
            skipped_files: t.skipped,
            records_read: t.records_read(),
            records_folded: t.records_folded(),
            by_shape: t
                .shapes()
                .map(|(shape, read, folded)| ShapeOut {
                    shape: shape.name(),
                    read,
                    folded,
                })
                .collect(),
        }
    }
}

/// The results, serialised one row at a time.
#[cfg(test)]
struct Results<'a>(&'a Rows, Option<&'a crate::diff::Marks>);

#[cfg(test)]
impl Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|r| result(r, self.1)))
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

/// The tool that wrote a JSON report (`scan`'s and `gitpod`'s alike).
#[derive(Serialize)]
pub(crate) struct Tool {
    name: &'static str,
    version: &'static str,
}

impl Tool {
    pub(crate) fn this() -> Tool {
        Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[derive(Serialize)]
struct Summary {
    records: u64,
    pass: u64,
    warn: u64,
    fail: u64,
    error: u64,
    /// Records that name the same repository as another record (`duplicate-record`).
    duplicates: u64,
    /// Findings accepted by a `[[suppress]]` entry of the configuration file (issue 15).
    suppressed: u64,
}

#[derive(Serialize)]
struct Result<'a> {
    source: &'a str,
    record: u64,
    registry: Option<&'a str>,
    region: Option<&'a str>,
    repository: Option<&'a str>,
    /// Where `repository` comes from: `record` (the input names it) or `path` (a bare policy
    /// document: its path relative to the scanned folder, without the extension); null when
    /// there is no name.
    name_from: Option<&'static str>,
    arn: Option<std::borrow::Cow<'a, str>>,
    account: &'a str,
    status: &'static str,
    missing_actions: Vec<&'static str>,
    denied_actions: Vec<&'static str>,
    conditional_actions: Vec<&'static str>,
    /// Each required action → its state; null when the record could not be judged.
    actions: Option<BTreeMap<&'static str, &'static str>>,
    findings: Vec<FindingOut<'a>>,
    detail: String,
    /// With `scan --baseline`: the row's change since the baseline report (issue 15).
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<&'static str>,
}

#[derive(Serialize)]
struct FindingOut<'a> {
    code: &'static str,
    severity: &'static str,
    message: &'a crate::message::Message,
    statement: Option<StatementOut<'a>>,
    /// The suppression that accepts the finding, or null (issue 15).
    suppressed: Option<SuppressedOut<'a>>,
}

#[derive(Serialize)]
struct SuppressedOut<'a> {
    reason: &'a str,
    ticket: Option<&'a str>,
    expires: Option<&'a str>,
    /// `FILE:LINE` of the `[[suppress]]` entry.
    source: &'a str,
}

#[derive(Serialize)]
struct StatementOut<'a> {
    index: usize,
    sid: Option<&'a str>,
    /// Which document holds the statement: the record's own `repository-policy`, or the
    /// `registry-policy` judged together with it.
    document: &'static str,
}

fn result<'a>(r: &'a Row, marks: Option<&crate::diff::Marks>) -> Result<'a> {
    Result {
        baseline: marks.map(|m| m.of(r).as_str()),
        source: &r.source,
        record: r.record,
        registry: r.repo.registry.as_deref(),
        region: r.repo.region.as_deref(),
        repository: r.repo.repository.as_deref(),
        name_from: r.repo.repository.as_ref().map(|_| {
            if r.repo.name_from_path {
                "path"
            } else {
                "record"
            }
        }),
        arn: r.repo.arn(),
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
                suppressed: f.suppressed.as_deref().map(|s| SuppressedOut {
                    reason: &s.reason,
                    ticket: s.ticket.as_deref(),
                    expires: s.expires.as_deref(),
                    source: &s.source,
                }),
            })
            .collect(),
        detail: super::what_to_do(r),
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

/// Rows formatted together by one worker.
const SLICE: usize = 2048;

/// Writes the report exactly as `serde_json::to_writer_pretty` writes the whole `Document`,
/// but with the results formatted on every worker, a wave of slices at a time: each result is
/// pretty-printed on its own and indented to its place (a newline is the only thing indentation
/// follows, and JSON strings hold none), so a report of a million rows is neither held whole nor
/// written on one core.
pub fn write(rows: &Rows, meta: &Meta, out: &mut dyn Write) -> io::Result<()> {
    let mut text = serde_json::to_vec_pretty(&head(rows, meta))?;
    // Reopen the object: drop its closing `\n}`.
    text.truncate(text.len().saturating_sub(2));
    out.write_all(&text)?;
    out.write_all(b",\n  \"results\": ")?;
    if rows.is_empty() {
        out.write_all(b"[]")?;
    } else {
        out.write_all(b"[")?;
        let slices: Vec<&[Row]> = rows.slices(SLICE).collect();
        write_in_waves(&slices, out, |place, rows| {
            let mut buf = Vec::with_capacity(rows.len() * 700);
            let mut one = Vec::with_capacity(1024);
            for (i, r) in rows.iter().enumerate() {
                one.clear();
                serde_json::to_writer_pretty(&mut one, &result(r, meta.baseline.as_deref()))?;
                // The first result of the report has no comma before it.
                let first = place == 0 && i == 0;
                buf.extend_from_slice(if first { b"\n    " } else { b",\n    " });
                Indent::new(&mut buf, b"    ").write_all(&one)?;
            }
            Ok::<_, io::Error>(buf)
        })?;
        out.write_all(b"\n  ]")?;
    }
    if let Some(e) = meta.evidence.as_ref() {
        out.write_all(b",\n  \"evidence\": ")?;
        serde_json::to_writer_pretty(Indent::new(&mut *out, b"  "), &evidence(e))?;
    }
    out.write_all(b"\n}\n")
}

fn head<'a>(rows: &Rows, meta: &'a Meta) -> Head<'a> {
    let c = meta.counts.unwrap_or_else(|| Counts::of(rows));
    Head {
        schema_version: SCHEMA_VERSION,
        tool: Tool::this(),
        accounts: &meta.accounts,
        summary: Summary {
            records: meta.records,
            pass: c.pass,
            warn: c.warn,
            fail: c.fail,
            error: c.error,
            duplicates: meta.tally.duplicates,
            suppressed: rows
                .iter()
                .map(|r| r.findings.iter().filter(|f| f.suppressed.is_some()).count() as u64)
                .sum(),
        },
        inputs: Inputs::of(&meta.tally),
        suppressions: &meta.suppressions,
    }
}

fn evidence(e: &crate::evidence::Evidence) -> EvidenceOut<'_> {
    EvidenceOut {
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
    }
}

/// Passes everything on, with `pad` after every newline: a value pretty-printed on its own,
/// placed deeper in a pretty-printed document.
struct Indent<'p, W> {
    out: W,
    pad: &'p [u8],
}

impl<'p, W: Write> Indent<'p, W> {
    fn new(out: W, pad: &'p [u8]) -> Self {
        Indent { out, pad }
    }
}

impl<W: Write> Write for Indent<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut from = 0;
        for nl in memchr::memchr_iter(b'\n', buf) {
            self.out.write_all(&buf[from..=nl])?;
            self.out.write_all(self.pad)?;
            from = nl + 1;
        }
        self.out.write_all(&buf[from..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::audit::RowRepo;
    use crate::evidence::{Evidence, FileDigest};
    use crate::finding::{Code, Finding, StatementRef, Status};

    /// The whole document through serde_json, as the report was first written.
    fn reference(rows: &Rows, meta: &Meta) -> Vec<u8> {
        let h = head(rows, meta);
        let doc = Document {
            schema_version: h.schema_version,
            tool: h.tool,
            accounts: h.accounts,
            summary: h.summary,
            inputs: h.inputs,
            suppressions: h.suppressions,
            results: Results(rows, meta.baseline.as_deref()),
            evidence: meta.evidence.as_ref().map(evidence),
        };
        let mut out = serde_json::to_vec_pretty(&doc).expect("serialise");
        out.push(b'\n');
        out
    }

    fn rows(groups: &[usize]) -> Rows {
        let findings: Arc<[Finding]> = vec![
            Finding::at(
                Code::ActionDenied,
                "statement 1 (Sid \"X\") denies ecr:BatchGetImage;\nnewline \\ and \"quotes\"",
                StatementRef {
                    index: 1,
                    sid: Some("X".into()),
                    registry_policy: false,
                },
            ),
            Finding::new(Code::LegacyVersion, "old ✓"),
        ]
        .into();
        let mut rows = Rows::new();
        let mut n = 0;
        for size in groups {
            rows.push_group(
                (0..*size)
                    .map(|i| {
                        n += 1;
                        Row {
                            source: Arc::from(format!("dir/file-{n}.json")),
                            record: n,
                            repo: RowRepo {
                                registry: Some(Arc::from("444455556666")),
                                region: (i % 2 == 0).then(|| Arc::from("eu-west-1")),
                                repository: Some(format!("team/app-{n}").into()),
                                ..RowRepo::default()
                            },
                            account: Arc::from("111122223333"),
                            status: if i % 3 == 0 {
                                Status::Error
                            } else {
                                Status::Fail
                            },
                            actions: (i % 3 != 0).then_some([
                                ActionState::Allowed,
                                ActionState::Denied,
                                ActionState::Conditional,
                            ]),
                            findings: Arc::clone(&findings),
                        }
                    })
                    .collect(),
            );
        }
        rows
    }

    fn meta(evidence: bool, accounts: usize) -> Meta {
        Meta {
            accounts: (0..accounts).map(|i| format!("11112222333{i}")).collect(),
            inputs: vec!["dir".into()],
            records: 3,
            elapsed: std::time::Duration::ZERO,
            generated: "2026-11-26T00:00:00Z".into(),
            counts: None,
            baseline: None,
            suppressions: Vec::new(),
            evidence: evidence.then(|| Evidence {
                files: vec![
                    FileDigest {
                        path: "dir/a.json".into(),
                        sha256: Some("ab".repeat(32)),
                        note: None,
                    },
                    FileDigest {
                        path: "-".into(),
                        sha256: None,
                        note: Some("standard input is read once".into()),
                    },
                ],
                digest: "cd".repeat(32),
            }),
            tally: Default::default(),
        }
    }

    #[test]
    fn the_report_is_byte_for_byte_the_whole_document_pretty_printed() {
        for groups in [
            &[][..],
            &[1],
            &[3, 0, 2],
            &[SLICE * crate::report::WAVE + 5, 1, SLICE + 1],
        ] {
            for evidence in [false, true] {
                for accounts in [0, 1, 2] {
                    let (rows, meta) = (rows(groups), meta(evidence, accounts));
                    let mut out = Vec::new();
                    write(&rows, &meta, &mut out).expect("write");
                    let want = reference(&rows, &meta);
                    assert!(
                        out == want,
                        "groups {groups:?}, evidence {evidence}, accounts {accounts}:\n{}\n---\n{}",
                        String::from_utf8_lossy(&out[..out.len().min(2000)]),
                        String::from_utf8_lossy(&want[..want.len().min(2000)])
                    );
                }
            }
        }
    }
}

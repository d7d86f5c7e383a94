//! SARIF 2.1.0 report for code scanning (GitHub, GitLab, Azure DevOps): one rule per finding code
//! from the one catalog, one result per finding, located at the input file (and, for JSON Lines,
//! the line). The types below exist only for this report; their names are SARIF's.

use std::io::{self, Write};

use serde::Serialize;

use crate::audit::{Row, Rows};
use crate::finding::{Code, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    results: Results<'a>,
}

/// The results, serialised one at a time as they are made: a log of a million rows is never
/// held whole.
struct Results<'a>(&'a Rows);

impl Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().flat_map(results))
    }
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Text,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    /// ecr-audit's own severity (`fail` and `error` both map to SARIF `error`).
    severity: &'static str,
    tags: [&'static str; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
    /// An accepted finding (issue 15): SARIF 2.1.0 §3.35 `suppression`, kind `external` (the
    /// configuration file), with the reason as its justification.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<SarifSuppression>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
struct SarifSuppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
    location: Location,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    source: &'a str,
    record: u64,
    account: &'a str,
    registry: Option<&'a str>,
    region: Option<&'a str>,
    repository: Option<&'a str>,
    status: &'static str,
    statement_index: Option<usize>,
    statement_sid: Option<&'a str>,
    statement_document: Option<&'static str>,
}

/// The SARIF level of a severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error | Severity::Fail => "error",
        Severity::Warn => "warning",
        Severity::Note => "note",
    }
}

/// `no-policy` → `NoPolicy`.
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn rule(code: Code) -> Rule {
    Rule {
        id: code.id(),
        name: pascal(code.id()),
        short_description: Text {
            text: code.description().into(),
        },
        full_description: Text {
            text: format!(
                "{} A finding of this code makes the repository's row {}.",
                code.description(),
                match code.severity() {
                    Severity::Note => "no worse (it is a note)",
                    s => s.as_str(),
                }
            ),
        },
        help: Text {
            text: code.help().into(),
        },
        default_configuration: Configuration {
            level: level(code.severity()),
        },
        properties: RuleProperties {
            severity: code.severity().as_str(),
            tags: ["security"],
        },
    }
}

/// A relative URI reference for a source path: `/` separators, and every byte outside the
/// unreserved set (and `/`) percent-encoded; absolute paths become `file://` URIs. `None` for
/// standard input, which has no location.
fn uri(source: &str) -> Option<String> {
    if source == "-" {
        return None;
    }
    let path = source.replace('\\', "/");
    let mut path = path.as_str();
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Some(out)
}

/// JSON Lines files (as the input layer recognises them, by extension) number records by line;
/// a compressed file's lines are not lines of the file a viewer opens.
fn line_numbered(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    lower.ends_with(".jsonl") || lower.ends_with(".ndjson")
}

fn results(r: &Row) -> impl Iterator<Item = SarifResult<'_>> {
    let label = r.repo.label();
    r.findings.iter().map(move |f| {
        let locations = uri(&r.source)
            .map(|uri| Location {
                physical_location: PhysicalLocation {
                    artifact_location: ArtifactLocation { uri },
                    region: line_numbered(&r.source).then_some(Region {
                        start_line: r.record,
                    }),
                },
            })
            .into_iter()
            .collect();
        let subject = if label.is_empty() {
            format!("{} record {}", r.source, r.record)
        } else {
            label.clone()
        };
        SarifResult {
            rule_id: f.code.id(),
            rule_index: Code::ALL.iter().position(|c| *c == f.code).unwrap_or(0),
            level: level(f.severity()),
            message: Text {
                text: format!("{subject} (account {}): {}", r.account, f.message),
            },
            locations,
            suppressions: f
                .suppressed
                .as_deref()
                .map(|s| SarifSuppression {
                    kind: "external",
                    status: "accepted",
                    justification: match &s.ticket {
                        Some(t) => format!("{} ({t})", s.reason),
                        None => s.reason.clone(),
                    },
                    location: Location {
                        physical_location: PhysicalLocation {
                            artifact_location: ArtifactLocation {
                                uri: s
                                    .source
                                    .rsplit_once(':')
                                    .map_or(&*s.source, |(f, _)| f)
                                    .replace('\\', "/"),
                            },
                            region: s
                                .source
                                .rsplit_once(':')
                                .and_then(|(_, l)| l.parse().ok())
                                .map(|start_line| Region { start_line }),
                        },
                    },
                })
                .into_iter()
                .collect(),
            properties: ResultProperties {
                source: &r.source,
                record: r.record,
                account: &r.account,
                registry: r.repo.registry.as_deref(),
                region: r.repo.region.as_deref(),
                repository: r.repo.repository.as_deref(),
                status: r.status.as_str(),
                statement_index: f.statement.as_ref().map(|s| s.index),
                statement_sid: f.statement.as_ref().and_then(|s| s.sid.as_deref()),
                statement_document: f.statement.as_ref().map(super::json::document),
            },
        }
    })
}

pub fn write(rows: &Rows, out: &mut dyn Write) -> io::Result<()> {
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: env!("CARGO_PKG_NAME"),
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules: Code::ALL.iter().map(|c| rule(*c)).collect(),
                },
            },
            results: Results(rows),
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("export/a b.json").as_deref(), Some("export/a%20b.json"));
        assert_eq!(uri("dir\\x#1.json").as_deref(), Some("dir/x%231.json"));
        assert_eq!(uri("/abs/p.json").as_deref(), Some("file:///abs/p.json"));
        assert_eq!(uri("-"), None);
        assert_eq!(uri("./a.json").as_deref(), Some("a.json"));
    }

    #[test]
    fn rule_names_are_pascal_case() {
        assert_eq!(pascal("action-not-granted"), "ActionNotGranted");
    }
}

//! SARIF 2.1.0 report for code scanning (GitHub, GitLab, Azure DevOps): one rule per finding code
//! from the one catalog, one result per finding, located at the input file (and, for JSON Lines,
//! the line). The types below exist only for this report; their names are SARIF's.

use std::io::{self, Write};

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

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
    /// `%SRCROOT%`: the folder the scan ran in; relative URIs are relative to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    original_uri_base_ids: Option<BaseIds>,
    results: Results<'a>,
}

#[derive(Serialize)]
struct BaseIds {
    #[serde(rename = "%SRCROOT%")]
    src_root: BaseUri,
}

#[derive(Serialize)]
struct BaseUri {
    uri: String,
}

/// The results, serialised one at a time as they are made: a log of a million rows is never
/// held whole.
struct Results<'a> {
    rows: &'a Rows,
    base: Option<std::path::PathBuf>,
}

impl Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let lines = std::cell::RefCell::new(Lines::default());
        s.collect_seq(
            self.rows
                .iter()
                .flat_map(|r| results(r, self.base.as_deref(), &lines)),
        )
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
    information_uri: &'static str,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    /// ecr-audit's own severity (`fail` and `error` both map to SARIF `error`).
    severity: &'static str,
    /// GitHub's ranking, 0.0–10.0 (see [`security_severity`]).
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    tags: [&'static str; 3],
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
    partial_fingerprints: Fingerprints,
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
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

/// What GitHub tracks an alert by across runs.
#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "ecrAudit/v1")]
    v1: String,
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

/// The project's public repository, when the build knows it (`repository` in Cargo.toml).
fn repository() -> Option<&'static str> {
    option_env!("CARGO_PKG_REPOSITORY").filter(|r| !r.is_empty())
}

/// Where `informationUri` points: the project's repository when known, else the AWS page on the
/// repository policies the tool audits (an absolute URI is required).
fn information_uri() -> &'static str {
    repository().unwrap_or(
        "https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policies.html",
    )
}

/// GitHub ranks code-scanning alerts by `security-severity` (over 9.0 critical, 7.0–8.9 high,
/// 4.0–6.9 medium, under 4.0 low): a repository Gitpod cannot pull from is high, one that could
/// not be judged medium, a warning medium-low, a note low.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Fail => "7.5",
        Severity::Error => "5.0",
        Severity::Warn => "4.0",
        Severity::Note => "1.0",
    }
}

/// A rule's `name`: `no-policy` → `NoPolicy`. SARIF wants it to differ from the id, so a
/// one-word code gets a second word (`unreadable` → `UnreadableInput`).
fn rule_name(id: &str) -> String {
    let name = pascal(id);
    if id.contains('-') {
        name
    } else {
        name + "Input"
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
        name: rule_name(code.id()),
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
        help_uri: repository().map(|r| format!("{r}/blob/main/docs/findings.md#{}", code.id())),
        help: Help {
            text: format!(
                "{} See docs/findings.md#{} in ecr-audit's documentation.",
                code.help(),
                code.id()
            ),
            markdown: format!(
                "{}\n\nSee [`{}` in ecr-audit's finding codes]({}).",
                code.help(),
                code.id(),
                match repository() {
                    Some(r) => format!("{r}/blob/main/docs/findings.md#{}", code.id()),
                    None => format!("docs/findings.md#{}", code.id()),
                }
            ),
        },
        default_configuration: Configuration {
            level: level(code.severity()),
        },
        properties: RuleProperties {
            severity: code.severity().as_str(),
            security_severity: security_severity(code.severity()),
            tags: ["security", "ecr", "repository-policy"],
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

/// Where a source lies for a code-scanning viewer: relative to `%SRCROOT%` (the folder the scan
/// ran in) when it is inside it, else an absolute `file://` URI. `None` for standard input.
fn locate(source: &str, base: Option<&Path>) -> Option<ArtifactLocation> {
    if source == "-" {
        return None;
    }
    let path = Path::new(source);
    if let Some(base) = base {
        let full = normalise(&base.join(path));
        if let Ok(rel) = full.strip_prefix(base) {
            return Some(ArtifactLocation {
                uri: uri(&rel.to_string_lossy())?,
                uri_base_id: Some("%SRCROOT%"),
            });
        }
        return Some(ArtifactLocation {
            uri: uri(&full.to_string_lossy())?,
            uri_base_id: None,
        });
    }
    Some(ArtifactLocation {
        uri: uri(source)?,
        uri_base_id: None,
    })
}

/// `a/./b/../c` → `a/c`, without touching the file system.
fn normalise(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The lines of the records, and of their statements, in the source being reported: read once
/// per source (rows come grouped by source), only for plain JSON files of reasonable size.
#[derive(Default)]
struct Lines {
    source: String,
    text: Option<String>,
    /// `(line, byte offset)` of each element of a top-level array, in order.
    elements: Vec<(u64, usize)>,
}

/// Files larger than this are not read again for line numbers (their results point at line 1).
const MAX_LOCATE_BYTES: u64 = 64 << 20;

impl Lines {
    fn load(&mut self, source: &str) {
        if self.source == source {
            return;
        }
        self.source = source.to_owned();
        self.elements.clear();
        self.text = std::fs::metadata(source)
            .ok()
            .filter(|m| m.is_file() && m.len() <= MAX_LOCATE_BYTES)
            .and_then(|_| std::fs::read(source).ok())
            // Gzip's magic bytes: a compressed file's lines are not the file's lines.
            .filter(|b| !b.starts_with(&[0x1f, 0x8b]))
            .and_then(|b| String::from_utf8(b).ok());
        if let Some(text) = &self.text {
            self.elements = array_elements(text);
        }
    }

    /// The line of record `record` (1-based) and, inside it, of statement `statement` when the
    /// policy is written inline (not as an escaped `policyText` string).
    fn line(&mut self, source: &str, record: u64, statement: Option<usize>) -> u64 {
        self.load(source);
        let Some(text) = &self.text else { return 1 };
        let (line, offset) = if self.elements.is_empty() {
            if record != 1 {
                return 1;
            }
            let start = text.len() - text.trim_start().len();
            (line_at(text, start), start)
        } else {
            match self.elements.get((record as usize).wrapping_sub(1)) {
                Some(e) => *e,
                None => return 1,
            }
        };
        statement
            .and_then(|i| statement_line(text, offset, line, i))
            .unwrap_or(line)
    }
}

fn line_at(text: &str, offset: usize) -> u64 {
    1 + text.as_bytes()[..offset]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64
}

/// A byte scanner over JSON text that tracks the line and skips strings.
struct Scan<'t> {
    b: &'t [u8],
    i: usize,
    line: u64,
}

impl Scan<'_> {
    /// Skips whitespace; the next byte.
    fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b'\n' => {
                    self.line += 1;
                    self.i += 1;
                }
                b' ' | b'\t' | b'\r' => self.i += 1,
                _ => return Some(c),
            }
        }
        None
    }

    /// Reads a string starting at `"`; its raw contents.
    fn string(&mut self) -> Option<&[u8]> {
        let start = self.i + 1;
        self.i += 1;
        while let Some(&c) = self.b.get(self.i) {
            match c {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return self.b.get(start..self.i - 1);
                }
                b'\n' => {
                    self.line += 1;
                    self.i += 1;
                }
                _ => self.i += 1,
            }
        }
        None
    }

    /// Skips one value (object, array, string or scalar).
    fn value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                        }
                        b'{' | b'[' => {
                            depth += 1;
                            self.i += 1;
                        }
                        b'}' | b']' => {
                            depth -= 1;
                            self.i += 1;
                            if depth == 0 {
                                return Some(());
                            }
                        }
                        _ => self.i += 1,
                    }
                }
            }
            _ => {
                while let Some(&c) = self.b.get(self.i) {
                    if matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace() {
                        break;
                    }
                    self.i += 1;
                }
                Some(())
            }
        }
    }
}

/// `(line, offset)` of every element when the document is an array; empty otherwise.
fn array_elements(text: &str) -> Vec<(u64, usize)> {
    let mut s = Scan {
        b: text.as_bytes(),
        i: 0,
        line: 1,
    };
    let mut out = Vec::new();
    if s.peek() != Some(b'[') {
        return out;
    }
    s.i += 1;
    loop {
        match s.peek() {
            Some(b']') | None => return out,
            Some(b',') => s.i += 1,
            Some(_) => {
                out.push((s.line, s.i));
                if s.value().is_none() {
                    return out;
                }
            }
        }
    }
}

/// The line of statement `index` of the object at `offset` (its `Statement` member: an array,
/// or one object for index 0), when written inline.
fn statement_line(text: &str, offset: usize, line: u64, index: usize) -> Option<u64> {
    let mut s = Scan {
        b: text.as_bytes(),
        i: offset,
        line,
    };
    if s.peek()? != b'{' {
        return None;
    }
    s.i += 1;
    loop {
        match s.peek()? {
            b'}' => return None,
            b',' => s.i += 1,
            b'"' => {
                let key = s.string()?.to_vec();
                if s.peek()? != b':' {
                    return None;
                }
                s.i += 1;
                if key != b"Statement" {
                    s.value()?;
                    continue;
                }
                return match s.peek()? {
                    b'{' if index == 0 => Some(s.line),
                    b'[' => {
                        s.i += 1;
                        let mut n = 0;
                        loop {
                            match s.peek()? {
                                b']' => return None,
                                b',' => s.i += 1,
                                _ => {
                                    if n == index {
                                        return Some(s.line);
                                    }
                                    n += 1;
                                    s.value()?;
                                }
                            }
                        }
                    }
                    _ => None,
                };
            }
            _ => return None,
        }
    }
}

/// An accepted finding (issue 15): a SARIF `suppression` of kind `external` (the configuration
/// file), located at the `[[suppress]]` entry, with the reason (and ticket) as justification.
fn suppression(s: &crate::finding::Suppressed) -> SarifSuppression {
    let (file, line) = match s.source.rsplit_once(':') {
        Some((f, l)) => (f, l.parse().ok()),
        None => (&*s.source, None),
    };
    SarifSuppression {
        kind: "external",
        status: "accepted",
        justification: match &s.ticket {
            Some(t) => format!("{} ({t})", s.reason),
            None => s.reason.clone(),
        },
        location: Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: file.replace('\\', "/"),
                    uri_base_id: None,
                },
                region: line.map(|start_line| Region { start_line }),
            },
        },
    }
}

/// A finding that asks nothing of anyone (the registry policy was judged along) is no alert.
fn reported(code: Code) -> bool {
    code != Code::RegistryPolicy
}

/// Stable across runs and distinct between repositories: the repository's identity (or, without
/// one, the source), the account, the code and the statement — not the record number or the
/// order of the files.
fn fingerprint(r: &Row, f: &crate::finding::Finding) -> String {
    let mut h = Sha256::new();
    // The file's name and the record, which do not change with the folder the scan starts from.
    let place = || {
        let name = Path::new(&*r.source)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("{name}:{}", r.record)
    };
    let mut identity = r.repo.arn().map(String::from).unwrap_or_else(|| {
        let label = r.repo.label();
        if label.is_empty() { place() } else { label }
    });
    // Several records of one repository (`duplicate-record`) are told apart by where they are:
    // the record, its file and the file's folder (exports of one estate often repeat file names).
    if r.findings.iter().any(|f| f.code == Code::DuplicateRecord) {
        identity.push('@');
        if let Some(folder) = Path::new(&*r.source).parent().and_then(Path::file_name) {
            identity.push_str(&folder.to_string_lossy());
            identity.push('/');
        }
        identity.push_str(&place());
    }
    for part in [
        identity.as_str(),
        &r.account,
        f.code.id(),
        &f.statement
            .as_ref()
            .map(|s| format!("{}:{}", super::json::document(s), s.index))
            .unwrap_or_default(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn results<'a>(
    r: &'a Row,
    base: Option<&'a Path>,
    lines: &'a std::cell::RefCell<Lines>,
) -> impl Iterator<Item = SarifResult<'a>> + 'a {
    let label = r.repo.label();
    r.findings
        .iter()
        .filter(|f| reported(f.code))
        .map(move |f| {
            let locations = locate(&r.source, base)
                .map(|artifact_location| {
                    let start_line = if line_numbered(&r.source) {
                        r.record
                    } else {
                        let statement = f
                            .statement
                            .as_ref()
                            .filter(|s| !s.registry_policy)
                            .map(|s| s.index);
                        lines.borrow_mut().line(&r.source, r.record, statement)
                    };
                    Location {
                        physical_location: PhysicalLocation {
                            artifact_location,
                            region: Some(Region { start_line }),
                        },
                    }
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
                partial_fingerprints: Fingerprints {
                    v1: fingerprint(r, f),
                },
                suppressions: f
                    .suppressed
                    .as_deref()
                    .map(suppression)
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
    // Relative URIs are relative to the folder the scan ran in, which `%SRCROOT%` names.
    let base = std::env::current_dir().ok().map(|d| normalise(&d));
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: env!("CARGO_PKG_NAME"),
                    information_uri: information_uri(),
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules: Code::ALL.iter().map(|c| rule(*c)).collect(),
                },
            },
            original_uri_base_ids: base.as_ref().map(|b| BaseIds {
                src_root: BaseUri {
                    uri: format!("{}/", uri(&b.to_string_lossy()).unwrap_or_default()),
                },
            }),
            results: Results { rows, base },
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

//! `ecr-audit fix`: for each repository that fails only for want of an Allow (`no-policy`,
//! `action-not-granted`), write the remediated policy — every existing statement kept byte for
//! byte, the documented grant added (or the missing actions merged into an existing grant to the
//! account alone) — and an `apply.sh` with one `aws ecr set-repository-policy` per repository.
//! Nothing is run and nothing in AWS is touched. Rows a grant cannot cure (an explicit Deny, an
//! unreadable or invalid record) are listed for a person in `needs-review.txt`.
//!
//! Every remediated policy is parsed and judged again before it is written: it must no longer
//! fail for any audited account, and must fit ECR's 10,240-character limit.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::audit::{Audit, RegistryPolicy, Row};
use crate::catalog::REQUIRED;
use crate::eval::Puller;
use crate::eval::principal::{self, Named};
use crate::finding::{Code, Severity, Status};
use crate::pipeline;
use crate::policy::{self, Actions, Effect, Policy, Who};
use crate::record::{Body, PolicyText, Record};
use crate::report::table::clean;
use crate::run::RunError;

/// ECR's limit on a repository policy's length, in characters.
pub const MAX_POLICY_CHARS: usize = 10_240;

/// The `Sid` of the added statement, as documented.
const SID: &str = "Gitpod Access";

#[derive(Clone, Debug)]
pub struct FixConfig {
    pub paths: Vec<String>,
    pub pullers: Vec<Puller>,
    pub out_dir: PathBuf,
    /// As for `scan`.
    pub registry_scope: Option<crate::record::ScopeV>,
}

#[derive(Debug, thiserror::Error)]
pub enum FixError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("cannot write to {path}: {source}")]
    Write { path: String, source: io::Error },
}

/// What a fix run came to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FixOutcome {
    /// Remediated policies written with an apply line.
    pub fixed: usize,
    /// Rows listed for a person.
    pub manual: usize,
}

impl FixOutcome {
    pub fn needs_person(&self) -> bool {
        self.manual > 0
    }
}

/// A row a grant cannot cure, for `needs-review.txt`.
struct Manual {
    source: String,
    record: u64,
    repository: String,
    account: String,
    reason: String,
}

pub fn run(cfg: &FixConfig, out: &mut dyn Write) -> Result<FixOutcome, FixError> {
    // The rows are the scan's own, joins included (issue 10): a repository that passes through
    // its registry policy is never "remediated", and an inventory's repository without a policy
    // is, with a complete apply line.
    let judged = pipeline::run_keeping_records(&cfg.paths, &cfg.pullers, cfg.registry_scope, None)?;
    judged.require_rows()?;
    let audit = Audit::new(&cfg.pullers);
    let policies_dir = cfg.out_dir.join("policies");
    std::fs::create_dir_all(&policies_dir).map_err(|e| write_err(&policies_dir, e))?;
    remove_earlier_policies(&policies_dir).map_err(|e| write_err(&policies_dir, e))?;

    let mut script = String::from(SCRIPT_HEAD);
    let mut manual: Vec<Manual> = Vec::new();
    let mut outcome = FixOutcome::default();
    let all: Vec<&Row> = judged.rows.iter().collect();
    // Rows are in report order: a record's rows (one per account) are consecutive.
    for rows in all.chunk_by(|a, b| a.source == b.source && a.record == b.record) {
        let mut grant: Vec<&Puller> = Vec::new();
        for row in rows {
            match cure(row) {
                Cure::None => {}
                Cure::Grant => {
                    grant.extend(cfg.pullers.iter().find(|p| *p.account == *row.account))
                }
                Cure::Person(reason) => manual.push(manual_row(row, reason)),
            }
        }
        if grant.is_empty() {
            continue;
        }
        let Some(mut record) = judged.record(&rows[0].source, rows[0].record) else {
            for row in rows {
                manual.push(manual_row(row, "the record could not be read again".into()));
            }
            continue;
        };
        // As the joins judged it: an inventory entry no other record names has no policy.
        if matches!(record.body, Body::Inventory) {
            record.body = Body::NoPolicy;
        }
        let registry = judged.registry_for(&record.repo);
        match remediate(&record, &grant, &audit, registry) {
            Err(reason) => {
                for row in rows
                    .iter()
                    .filter(|r| grant.iter().any(|p| p.account == *r.account))
                {
                    manual.push(manual_row(row, reason.clone()));
                }
            }
            Ok((text, again)) => {
                let n = outcome.fixed + 1;
                let name = file_name(n, &record);
                let path = policies_dir.join(&name);
                std::fs::write(&path, &text).map_err(|e| write_err(&path, e))?;
                apply_line(&mut script, &record, &format!("policies/{name}"));
                outcome.fixed += 1;
                // What may still block the pull: the grant is written, and a person must look
                // at it. A Deny whose condition cannot be decided (issue 10), in the rows judged
                // again; a registry policy the export could not read, in the scan's rows (its
                // join marks them; rows judged again do not carry it).
                let mut review = |row: &Row, code: Code, why: &str| {
                    if let Some(f) = row.findings.iter().find(|f| f.code == code) {
                        manual.push(manual_row(
                            row,
                            format!(
                                "remediated in policies/{name}, but {why}: {}: {}",
                                f.code, f.message
                            ),
                        ));
                    }
                };
                for row in rows
                    .iter()
                    .filter(|r| grant.iter().any(|p| p.account == *r.account))
                {
                    review(
                        row,
                        Code::RegistryPolicyUnreadable,
                        "the registry policy may still deny the pull",
                    );
                }
                for row in &again {
                    review(
                        row,
                        Code::ConditionalDeny,
                        "a Deny may still block the pull",
                    );
                }
            }
        }
    }

    let script_path = cfg.out_dir.join("apply.sh");
    std::fs::write(&script_path, &script).map_err(|e| write_err(&script_path, e))?;
    make_executable(&script_path);
    let review_path = cfg.out_dir.join("needs-review.txt");
    let mut review = String::from(
        "# Rows that need a person: an added Allow cannot cure them, or a Deny may still block the\n# remediated policy.\n# source:record\trepository\taccount\treason\n",
    );
    for m in &manual {
        let _ = writeln!(
            review,
            "{}:{}\t{}\t{}\t{}",
            clean(&m.source),
            m.record,
            clean(&m.repository),
            m.account,
            clean(&m.reason)
        );
    }
    std::fs::write(&review_path, &review).map_err(|e| write_err(&review_path, e))?;
    outcome.manual = manual.len();

    let report = |e: io::Error| write_err(Path::new("standard output"), e);
    writeln!(
        out,
        "{} remediated polic{} written to {}; review them, then run {}",
        outcome.fixed,
        if outcome.fixed == 1 { "y" } else { "ies" },
        clean(&policies_dir.display().to_string()),
        clean(&script_path.display().to_string())
    )
    .map_err(report)?;
    if !manual.is_empty() {
        writeln!(
            out,
            "{} row{} need{} a person (also in {}):",
            manual.len(),
            if manual.len() == 1 { "" } else { "s" },
            if manual.len() == 1 { "s" } else { "" },
            clean(&review_path.display().to_string())
        )
        .map_err(report)?;
        for m in &manual {
            writeln!(
                out,
                "  {}:{} {} (account {}): {}",
                clean(&m.source),
                m.record,
                clean(&m.repository),
                m.account,
                clean(&m.reason)
            )
            .map_err(report)?;
        }
    }
    Ok(outcome)
}

/// A reused `--out-dir` keeps no policy of an earlier run beside this run's: apply.sh says
/// "review every policy under policies/", so what is there must be this run's. Only files of
/// the names this command writes (`NNNN-….json`) are removed.
fn remove_earlier_policies(dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = name.len() >= 10
            && name.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && name.as_bytes()[4] == b'-'
            && name.ends_with(".json");
        if ours && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn write_err(path: &Path, source: io::Error) -> FixError {
    FixError::Write {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    // Best effort: the script can always be run with `sh apply.sh`.
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
}

#[cfg(not(unix))]
fn make_executable(_: &Path) {}

enum Cure {
    /// Nothing to do (pass or warn).
    None,
    /// Fails only for want of an Allow.
    Grant,
    /// Needs a person, for this reason.
    Person(String),
}

/// Whether an added Allow cures the row: it fails, and its only failing findings say an action
/// is not granted (or there is no policy at all). A Deny, or a record that could not be judged,
/// needs a person.
fn cure(row: &Row) -> Cure {
    if row.status < Status::Fail {
        return Cure::None;
    }
    // Another record names the same repository (issue 11): this one may be a stale export, and
    // a policy built from it would overwrite the current one. A person decides.
    if let Some(f) = row
        .findings
        .iter()
        .find(|f| f.code == Code::DuplicateRecord)
    {
        return Cure::Person(format!("{}: {}", f.code, f.message));
    }
    let blocking: Vec<&crate::finding::Finding> = row
        .findings
        .iter()
        .filter(|f| f.severity() >= Severity::Fail)
        .collect();
    if blocking
        .iter()
        .all(|f| matches!(f.code, Code::NoPolicy | Code::ActionNotGranted))
    {
        Cure::Grant
    } else {
        let worst = blocking
            .iter()
            .find(|f| !matches!(f.code, Code::NoPolicy | Code::ActionNotGranted))
            .map(|f| format!("{}: {}", f.code, f.message))
            .unwrap_or_else(|| row.detail());
        Cure::Person(worst)
    }
}

fn manual_row(row: &Row, reason: String) -> Manual {
    Manual {
        source: row.source.to_string(),
        record: row.record,
        repository: row
            .repo
            .repository
            .as_deref()
            .unwrap_or_default()
            .to_owned(),
        account: row.account.to_string(),
        reason,
    }
}

/// The remediated policy text for `record`, granting `grant`, checked by judging it again for
/// every audited account with the same joins as the scan (the registry policy that applies to
/// the repository); returns the text and the rows it would get.
fn remediate(
    record: &Record,
    grant: &[&Puller],
    audit: &Audit<'_>,
    registry: Option<&RegistryPolicy>,
) -> Result<(String, Vec<Row>), String> {
    let text = match &record.body {
        Body::NoPolicy | Body::Inventory => documented(grant),
        Body::Policy(text) => amend(&text.text(), grant)?,
        Body::Error { .. } => return Err("the record could not be read".into()),
        Body::Unresolved(_) => {
            return Err(
                "the policy is known only at deploy time; resolve it in its template first".into(),
            );
        }
        Body::RegistryPolicy(_) | Body::RegistryPolicyScope(_) => {
            return Err("a registry policy is not remediated by ecr-audit fix".into());
        }
    };
    let text = if text.chars().count() > MAX_POLICY_CHARS {
        minify(&text)
    } else {
        text
    };
    let len = text.chars().count();
    if len > MAX_POLICY_CHARS {
        return Err(format!(
            "the remediated policy would be {len} characters, over ECR's limit of {MAX_POLICY_CHARS}; shorten the existing statements first"
        ));
    }
    if let Err(f) = policy::parse(&text) {
        return Err(format!(
            "the remediated policy does not parse ({}); this is a bug in ecr-audit fix",
            f.first().map(|f| f.message.to_string()).unwrap_or_default()
        ));
    }
    let mut again = Vec::new();
    audit.rows_with(
        Record {
            body: Body::Policy(PolicyText::plain(&text)),
            ..record.clone()
        },
        registry,
        &mut again,
    );
    if let Some(row) = again.iter().find(|r| r.status >= Status::Fail) {
        return Err(format!(
            "adding the grant does not make account {} pass; see ecr-audit explain",
            row.account
        ));
    }
    Ok((text, again))
}

fn root(p: &Puller) -> String {
    format!("arn:{}:iam::{}:root", p.partition.as_str(), p.account)
}

/// The documented grant as a JSON object, for `sid`, its members in the documented order.
fn grant_statement(grant: &[&Puller], sid: &str) -> String {
    let principals: Vec<String> = grant.iter().map(|p| root(p)).collect();
    format!(
        r#"{{"Sid": {}, "Effect": "Allow", "Principal": {{"AWS": {}}}, "Action": {}}}"#,
        json(sid),
        json(&principals),
        json(&REQUIRED)
    )
}

/// JSON text of a string or a list of strings (which always serialise).
fn json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A new policy holding only the documented statement.
fn documented(grant: &[&Puller]) -> String {
    format!(
        "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {}\n  ]\n}}\n",
        grant_statement(grant, SID)
    )
}

/// A JSON object's members in document order, values unparsed: existing statements (and the
/// document's other members) are written back exactly as they were.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut v = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    v.push(entry);
                }
                Ok(Members(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// The policy `text` with the grant added: merged into an existing grant to the account alone
/// when there is one and a single account is granted, else as a new documented statement.
fn amend(text: &str, grant: &[&Puller]) -> Result<String, String> {
    let parsed = policy::parse(text).map_err(|_| "the policy is not valid".to_owned())?;
    let doc: Members = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut statements: Vec<String> = Vec::new();
    let mut members: Vec<(String, String)> = Vec::new();
    let mut statement_at = None;
    for (k, v) in doc.0 {
        if k == "Statement" {
            statement_at = Some(members.len());
            let raw = v.get().trim_start();
            if raw.starts_with('[') {
                let items: Vec<Box<RawValue>> =
                    serde_json::from_str(v.get()).map_err(|e| e.to_string())?;
                statements.extend(items.iter().map(|s| s.get().to_owned()));
            } else {
                statements.push(v.get().to_owned());
            }
        }
        members.push((k, v.get().to_owned()));
    }
    let merge = match grant {
        [only] => mergeable(&parsed, only),
        _ => None,
    };
    match merge {
        Some(i) => {
            statements[i] = merged(&statements[i], &parsed, i)?;
        }
        None => {
            let sid = free_sid(&parsed);
            statements.push(grant_statement(grant, &sid));
        }
    }
    let mut out = String::from("{\n");
    let at = statement_at.ok_or("the policy has no Statement")?;
    for (n, (k, v)) in members.iter().enumerate() {
        let key = serde_json::to_string(k).map_err(|e| e.to_string())?;
        if n == at {
            let _ = write!(out, "  {key}: [\n    {}\n  ]", statements.join(",\n    "));
        } else {
            let _ = write!(out, "  {key}: {v}");
        }
        out.push_str(if n + 1 < members.len() { ",\n" } else { "\n" });
    }
    out.push_str("}\n");
    Ok(out)
}

/// An Allow whose only principal is the account itself (`A` or its root ARN), with an `Action`
/// list and no condition or resource: the missing actions can be added to it.
fn mergeable(policy: &Policy, p: &Puller) -> Option<usize> {
    policy.statements().iter().position(|s| {
        let Who::Principal(pr) = s.who() else {
            return false;
        };
        s.effect() == Effect::Allow
            && !pr.is_everyone()
            && pr.others().is_empty()
            && !pr.aws().is_empty()
            && pr
                .aws()
                .iter()
                .all(|v| principal::name(v, p) == Named::Account)
            && matches!(s.actions(), Actions::Action(_))
            && s.conditions().is_empty()
            && s.resources().is_none()
    })
}

/// Statement `i` (raw text) with the required actions it lacks appended to its `Action`; its
/// other members are kept as written.
fn merged(raw: &str, policy: &Policy, i: usize) -> Result<String, String> {
    let Actions::Action(existing) = policy.statements()[i].actions() else {
        return Err("not an Action statement".into());
    };
    let covers = |a: &str| {
        crate::catalog::ACTIONS
            .iter()
            .position(|c| a.strip_prefix("ecr:") == Some(c.name))
            .is_some_and(|k| policy.statements()[i].covers(k))
    };
    let mut actions: Vec<String> = existing.to_vec();
    actions.extend(
        REQUIRED
            .iter()
            .filter(|a| !covers(a))
            .map(|a| a.to_string()),
    );
    let members: Members = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    let mut parts = Vec::new();
    for (k, v) in members.0 {
        let key = serde_json::to_string(&k).map_err(|e| e.to_string())?;
        let value = if k == "Action" {
            serde_json::to_string(&actions).map_err(|e| e.to_string())?
        } else {
            v.get().to_owned()
        };
        parts.push(format!("{key}: {value}"));
    }
    Ok(format!("{{{}}}", parts.join(", ")))
}

/// `Gitpod Access`, or `Gitpod Access 2`, … when a statement already has that Sid.
fn free_sid(policy: &Policy) -> String {
    let taken = |sid: &str| policy.statements().iter().any(|s| s.sid() == Some(sid));
    if !taken(SID) {
        return SID.to_owned();
    }
    (2..)
        .map(|n| format!("{SID} {n}"))
        .find(|s| !taken(s))
        .unwrap_or_else(|| SID.to_owned())
}

/// Whitespace outside strings removed.
fn minify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_str, mut esc) = (false, false);
    for c in text.chars() {
        if in_str {
            out.push(c);
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// `0001-team_app.json`: a sequence number (names may collide) and the repository name, or the
/// source's file name, reduced to safe characters.
fn file_name(n: usize, record: &Record) -> String {
    let base = record
        .repo
        .repository
        .clone()
        .unwrap_or_else(|| format!("{}-{}", record.source, record.record));
    let slug: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    format!("{n:04}-{}.json", slug.trim_start_matches('.'))
}

const SCRIPT_HEAD: &str = "#!/bin/sh
# Written by ecr-audit fix. Review every policy under policies/ before running this script;
# ecr-audit never runs it and never touches AWS. Each line replaces a repository's policy with
# the remediated one (aws ecr set-repository-policy).
set -eu
cd \"$(dirname \"$0\")\"
";

/// POSIX shell single-quoting: the text between `'…'`, with each `'` written as `'\''`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// One `aws ecr set-repository-policy` line for the record; a commented line when the input
/// does not name the repository (a bare policy document).
fn apply_line(script: &mut String, record: &Record, policy_path: &str) {
    let _ = writeln!(
        script,
        "\n# {} record {}",
        clean(&record.source).replace('\n', " "),
        record.record
    );
    let mut cmd = String::from("aws ecr set-repository-policy");
    if let Some(r) = &record.repo.registry {
        let _ = write!(cmd, " --registry-id {}", shell_quote(r));
    }
    match &record.repo.region {
        Some(r) => {
            let _ = write!(cmd, " --region {}", shell_quote(r));
        }
        // The export does not say (get-repository-policy output has no region): never the AWS
        // CLI's default region, which may hold another repository of the same name; the script
        // stops unless REGION is set (`REGION=eu-west-1 sh apply.sh`).
        None => cmd.push_str(" --region \"${REGION:?set REGION to the region of the repositories whose export gives none}\""),
    }
    match record.repo.known_name() {
        Some(name) => {
            let _ = write!(
                cmd,
                " --repository-name {} --policy-text {}",
                shell_quote(name),
                shell_quote(&format!("file://{policy_path}"))
            );
            let _ = writeln!(script, "{cmd}");
        }
        None => {
            let _ = write!(
                cmd,
                " --repository-name REPOSITORY --policy-text {}",
                shell_quote(&format!("file://{policy_path}"))
            );
            let _ = writeln!(
                script,
                "# The export does not name this repository: fill in REPOSITORY (and --registry-id, --region), then uncomment.\n# {cmd}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval;

    #[test]
    fn shell_quoting_survives_quotes_and_metacharacters() {
        assert_eq!(shell_quote("team/app"), "'team/app'");
        assert_eq!(shell_quote("a'b"), "'a'\\''b'");
        assert_eq!(shell_quote("$(rm -rf /);`x`"), "'$(rm -rf /);`x`'");
    }

    #[test]
    fn minify_keeps_whitespace_inside_strings() {
        assert_eq!(
            minify("{ \"Sid\" : \"a b\\\" c\" ,\n \"x\": [ 1 ] }"),
            "{\"Sid\":\"a b\\\" c\",\"x\":[1]}"
        );
    }

    #[test]
    fn amend_keeps_existing_statements_byte_for_byte() {
        let existing = r#"{ "Sid":"Other",  "Effect":"Allow", "Principal":{"AWS":"arn:aws:iam::999988887777:root"}, "Action":"ecr:*" }"#;
        let text = format!(r#"{{"Version":"2012-10-17","Statement":[{existing}]}}"#);
        let p = Puller {
            account: "111122223333".into(),
            ..Puller::default()
        };
        let out = amend(&text, &[&p]).expect("amend");
        assert!(out.contains(existing), "{out}");
        assert!(out.contains(r#""Sid": "Gitpod Access""#), "{out}");
        let policy = policy::parse(&out).expect("valid");
        assert_eq!(policy.statements().len(), 2);
    }

    #[test]
    fn a_grant_to_the_account_alone_is_merged() {
        let text = r#"{"Version":"2012-10-17","Statement":{"Sid":"Mine","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":["ecr:BatchGetImage"]}}"#;
        let p = Puller {
            account: "111122223333".into(),
            ..Puller::default()
        };
        let out = amend(text, &[&p]).expect("amend");
        let policy = policy::parse(&out).expect("valid");
        assert_eq!(policy.statements().len(), 1, "{out}");
        assert_eq!(policy.statements()[0].sid(), Some("Mine"));
        let j = eval::judge(&policy, &p, &Default::default());
        assert_eq!(Status::worst(&j.findings), Status::Pass, "{out}");
    }
}

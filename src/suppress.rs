//! Suppressions (issue 15): accepted findings, with a reason and an end date. A suppressed
//! finding stays on its row, marked; it no longer counts toward the row's status or the exit
//! code. An expired suppression stops applying and the row says so; one that matched nothing is
//! reported as stale. Errors and `no-policy` are suppressed only by naming their code, never by
//! `code = "*"`.

use std::sync::Arc;

use crate::audit::{Row, Rows};
use crate::finding::{Code, Finding, Severity, Status, Suppressed};
use crate::policy::glob;

/// Which finding codes a suppression covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Code(Code),
    /// `"*"`: every code but errors and `no-policy`.
    All,
}

impl Which {
    fn covers(self, code: Code) -> bool {
        match self {
            Which::Code(c) => c == code,
            Which::All => code.severity() != Severity::Error && code != Code::NoPolicy,
        }
    }
}

/// One `[[suppress]]` entry, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    pub which: Which,
    /// A glob (`*`, `?`; `*` spans `/`) over `registry/region/name` as reports print it.
    pub repository: Option<String>,
    pub account: Option<String>,
    pub reason: String,
    pub ticket: Option<String>,
    /// The last day it applies (inclusive, UTC).
    pub expires: Option<jiff::civil::Date>,
    /// `FILE:LINE` of the entry.
    pub source: String,
}

impl Suppression {
    /// Whether the entry covers a finding of `code` on `row`, whose label is `label`.
    fn matches(&self, row: &Row, label: &str, code: Code) -> bool {
        self.which.covers(code)
            && self.account.as_deref().is_none_or(|a| a == &*row.account)
            && self
                .repository
                .as_deref()
                .is_none_or(|g| glob::matches(g, label, false))
    }

    fn expired(&self, today: jiff::civil::Date) -> bool {
        self.expires.is_some_and(|d| d < today)
    }
}

/// What applying the suppressions came to, per entry (in the file's order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Findings each entry suppressed.
    pub suppressed: Vec<u64>,
    /// Findings each entry would have suppressed had it not expired.
    pub expired: Vec<u64>,
}

impl Applied {
    /// Entries that matched no finding at all (not even while expired): stale.
    pub fn stale<'a>(&self, list: &'a [Suppression]) -> Vec<&'a Suppression> {
        list.iter()
            .enumerate()
            .filter(|(i, _)| self.suppressed[*i] == 0 && self.expired[*i] == 0)
            .map(|(_, s)| s)
            .collect()
    }

    /// Each entry with what it came to, for the JSON report.
    pub fn uses(&self, list: &[Suppression]) -> Vec<Use> {
        list.iter()
            .enumerate()
            .map(|(i, s)| Use {
                source: s.source.clone(),
                code: match s.which {
                    Which::All => "*".into(),
                    Which::Code(c) => c.id().into(),
                },
                repository: s.repository.clone(),
                account: s.account.clone(),
                reason: s.reason.clone(),
                expires: s.expires.map(|d| d.to_string()),
                suppressed: self.suppressed[i],
                expired: self.expired[i],
                stale: self.suppressed[i] == 0 && self.expired[i] == 0,
            })
            .collect()
    }

    /// Findings suppressed in all.
    pub fn total(&self) -> u64 {
        self.suppressed.iter().sum()
    }
}

/// One entry of the file and what it matched (the JSON report's `suppressions`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Use {
    /// `FILE:LINE`.
    pub source: String,
    pub code: String,
    pub repository: Option<String>,
    pub account: Option<String>,
    pub reason: String,
    pub expires: Option<String>,
    /// Findings it suppressed.
    pub suppressed: u64,
    /// Findings it would have suppressed, had it not expired.
    pub expired: u64,
    /// It matched nothing: remove it, or fix its globs.
    pub stale: bool,
}

/// Marks the findings `list` suppresses (the first entry that matches wins), recomputes each
/// touched row's status from its unsuppressed findings, and adds a `suppression-expired` note
/// to rows where an expired entry would have matched. `today` is the date in UTC.
pub fn apply(rows: &mut Rows, list: &[Suppression], today: jiff::civil::Date) -> Applied {
    let mut applied = Applied {
        suppressed: vec![0; list.len()],
        expired: vec![0; list.len()],
    };
    if list.is_empty() {
        return applied;
    }
    let marks: Vec<Arc<Suppressed>> = list
        .iter()
        .map(|s| {
            Arc::new(Suppressed {
                reason: s.reason.clone(),
                ticket: s.ticket.clone(),
                expires: s.expires.map(|d| d.to_string()),
                source: s.source.clone(),
            })
        })
        .collect();
    let globs = list.iter().any(|s| s.repository.is_some());
    for row in rows.iter_mut() {
        // The label once per row, and only when some entry has a glob; most rows match
        // nothing, and their shared findings are left as they are (no copy).
        let label = if globs {
            row.repo.label()
        } else {
            String::new()
        };
        let touched = row
            .findings
            .iter()
            .any(|f| f.suppressed.is_none() && list.iter().any(|s| s.matches(row, &label, f.code)));
        if !touched {
            continue;
        }
        let mut changed = false;
        let mut findings: Vec<Finding> = Vec::with_capacity(row.findings.len());
        let mut notes: Vec<Finding> = Vec::new();
        for f in row.findings.iter() {
            let mut f = f.clone();
            if f.suppressed.is_none() {
                for (i, s) in list.iter().enumerate() {
                    if !s.matches(row, &label, f.code) {
                        continue;
                    }
                    if s.expired(today) {
                        applied.expired[i] += 1;
                        let expires = s.expires.map(|d| d.to_string()).unwrap_or_default();
                        notes.push(Finding::new(
                            Code::SuppressionExpired,
                            format!(
                                "The suppression of {} at {} (\"{}\") expired on {expires}; the finding counts again.",
                                f.code, s.source, s.reason
                            ),
                        ));
                        continue;
                    }
                    applied.suppressed[i] += 1;
                    f.suppressed = Some(Arc::clone(&marks[i]));
                    changed = true;
                    break;
                }
            }
            findings.push(f);
        }
        if changed || !notes.is_empty() {
            findings.extend(notes);
            findings.sort_by_key(|f| f.code);
            row.status = status(&findings);
            row.findings = findings.into();
        }
    }
    applied
}

/// A row's status from its unsuppressed findings (an error suppressed by its code is the
/// team's explicit decision: the row is judged on what is left).
fn status(findings: &[Finding]) -> Status {
    Status::worst(findings.iter().filter(|f| f.suppressed.is_none()))
}

/// Today in UTC: `SOURCE_DATE_EPOCH` (seconds) when set, for reproducible runs, else now.
pub fn today() -> jiff::civil::Date {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok());
    let ts = secs
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or_else(jiff::Timestamp::now);
    jiff::tz::Offset::UTC.to_datetime(ts).date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::RowRepo;

    fn row(repo: &str, account: &str, codes: &[Code]) -> Row {
        let findings: Vec<Finding> = codes.iter().map(|c| Finding::new(*c, "m")).collect();
        Row {
            source: Arc::from("a.json"),
            record: 1,
            repo: RowRepo {
                registry: Some(Arc::from("444455556666")),
                region: Some(Arc::from("us-east-1")),
                repository: Some(repo.into()),
                ..RowRepo::default()
            },
            account: Arc::from(account),
            status: Status::worst(&findings),
            actions: None,
            findings: findings.into(),
        }
    }

    fn sup(which: Which, repository: Option<&str>, expires: Option<&str>) -> Suppression {
        Suppression {
            which,
            repository: repository.map(str::to_owned),
            account: None,
            reason: "accepted".into(),
            ticket: None,
            expires: expires.map(|d| d.parse().expect("date")),
            source: "ecr-audit.toml:3".into(),
        }
    }

    fn rows(list: Vec<Row>) -> Rows {
        let mut r = Rows::new();
        r.push_group(list);
        r
    }

    fn day(s: &str) -> jiff::civil::Date {
        s.parse().expect("date")
    }

    #[test]
    fn a_suppressed_finding_stays_but_no_longer_counts() {
        let mut r = rows(vec![
            row(
                "team/base",
                "111122223333",
                &[Code::PublicAccess, Code::ExcessAccess],
            ),
            row("other/app", "111122223333", &[Code::PublicAccess]),
        ]);
        let list = [sup(
            Which::Code(Code::PublicAccess),
            Some("444455556666/us-east-1/team/*"),
            Some("2027-03-31"),
        )];
        let a = apply(&mut r, &list, day("2027-03-31"));
        assert_eq!(a.suppressed, vec![1]);
        let got: Vec<&Row> = r.iter().collect();
        assert_eq!(got[0].status, Status::Warn);
        assert_eq!(got[0].findings.len(), 2);
        let f = &got[0].findings[0];
        assert_eq!(f.code, Code::PublicAccess);
        assert_eq!(
            f.suppressed.as_ref().map(|s| s.reason.as_str()),
            Some("accepted")
        );
        assert_eq!(got[1].status, Status::Fail);
        assert!(got[1].findings[0].suppressed.is_none());
    }

    #[test]
    fn an_expired_suppression_stops_applying_and_the_row_says_so() {
        let mut r = rows(vec![row(
            "team/base",
            "111122223333",
            &[Code::PublicAccess],
        )]);
        let list = [sup(
            Which::Code(Code::PublicAccess),
            None,
            Some("2027-03-31"),
        )];
        let a = apply(&mut r, &list, day("2027-04-01"));
        assert_eq!((a.suppressed[0], a.expired[0]), (0, 1));
        assert!(a.stale(&list).is_empty());
        let got = r.iter().next().expect("row");
        assert_eq!(got.status, Status::Fail);
        assert!(
            got.findings
                .iter()
                .any(|f| f.code == Code::SuppressionExpired
                    && f.message.contains("expired on 2027-03-31"))
        );
    }

    #[test]
    fn a_blanket_rule_never_hides_errors_or_no_policy() {
        let mut r = rows(vec![
            row("a", "111122223333", &[Code::NoPolicy]),
            row("b", "111122223333", &[Code::InvalidJson]),
            row("c", "111122223333", &[Code::ExcessAccess]),
        ]);
        let list = [sup(Which::All, None, None)];
        let a = apply(&mut r, &list, day("2026-01-01"));
        assert_eq!(a.suppressed, vec![1]);
        let st: Vec<Status> = r.iter().map(|r| r.status).collect();
        assert_eq!(st, vec![Status::Fail, Status::Error, Status::Pass]);
        // By its code, `no-policy` can be suppressed.
        let list = [sup(Which::Code(Code::NoPolicy), Some("*/a"), None)];
        apply(&mut r, &list, day("2026-01-01"));
        assert_eq!(r.iter().next().map(|r| r.status), Some(Status::Pass));
    }

    #[test]
    fn accounts_narrow_and_unmatched_entries_are_stale() {
        let mut r = rows(vec![row("a", "111122223333", &[Code::PublicAccess])]);
        let mut other = sup(Which::Code(Code::PublicAccess), None, None);
        other.account = Some("999988887777".into());
        let unused = sup(Which::Code(Code::ExcessAccess), None, None);
        let list = [other, unused];
        let a = apply(&mut r, &list, day("2026-01-01"));
        assert_eq!(a.stale(&list).len(), 2);
        assert_eq!(r.iter().next().map(|r| r.status), Some(Status::Fail));
    }
}

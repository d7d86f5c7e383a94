//! The configuration file `ecr-audit.toml` (issue 15): the options of `scan` and `gitpod` that
//! make sense in a committed file, and the `[[suppress]]` entries. Read with the `toml` crate into
//! serde types that keep each value's span, then validated here, so that every error names the
//! file, the line and the key. The command line and the environment take precedence; `cli.rs`
//! merges (see docs/configuration.md).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::config::{FailOn, Format, Progress};
use crate::eval::Partition;
use crate::finding::Code;
use crate::record::ScopeV;
use crate::suppress::{Suppression, Which};

/// The name looked for in the working directory when `--config` is not given.
pub const FILE_NAME: &str = "ecr-audit.toml";

/// A value from the file, with the line (1-based) it is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct At<T> {
    pub value: T,
    pub line: usize,
}

/// The file, validated. Every field is `None` when the file does not set it.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// The file read (as named: `ecr-audit.toml` or the `--config` argument).
    pub path: String,
    pub accounts: Option<At<Vec<String>>>,
    /// `[context]`: key → values; an empty list says the key is absent.
    pub context: Option<At<Vec<(String, String)>>>,
    pub partition: Option<At<Partition>>,
    pub registry_policy_scope: Option<At<ScopeV>>,
    pub fail_on: Option<At<FailOn>>,
    pub format: Option<At<Format>>,
    pub progress: Option<At<Progress>>,
    pub jobs: Option<At<usize>>,
    pub evidence: Option<At<bool>>,
    /// `only = ["fail", "error"]` (scan's `--only`).
    pub only: Option<At<Vec<crate::finding::Status>>>,
    /// `repositories = ["*/team/*"]` (scan's `--repository`).
    pub repositories: Option<At<Vec<String>>>,
    pub suppress: Vec<Suppression>,
}

/// A configuration error: the file, the line, the key and what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct SettingsError {
    pub path: String,
    pub line: usize,
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Line 0: the file as a whole (it cannot be read).
        if self.line == 0 {
            write!(f, "{}: {}", self.path, self.message)
        } else {
            write!(
                f,
                "{}:{}: `{}`: {}",
                self.path, self.line, self.key, self.message
            )
        }
    }
}

impl std::error::Error for SettingsError {}

/// The file as TOML gives it. Unknown keys are errors (`deny_unknown_fields`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    accounts: Option<Spanned<Vec<Spanned<String>>>>,
    context: Option<Spanned<BTreeMap<String, Spanned<OneOrMany>>>>,
    partition: Option<Spanned<String>>,
    registry_policy_scope: Option<Spanned<String>>,
    fail_on: Option<Spanned<String>>,
    format: Option<Spanned<String>>,
    progress: Option<Spanned<String>>,
    jobs: Option<Spanned<i64>>,
    evidence: Option<Spanned<bool>>,
    only: Option<Spanned<Vec<Spanned<String>>>>,
    repositories: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    suppress: Vec<Spanned<RawSuppress>>,
}

/// A `[context]` value: a string, or a list of strings (several values; `[]` for an absent key).
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a string or a list of strings (write numbers, booleans and dates in quotes)",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OneOrMany, A::Error> {
                let mut values = Vec::new();
                while let Some(v) = seq.next_element::<String>()? {
                    values.push(v);
                }
                Ok(OneOrMany::Many(values))
            }
        }
        d.deserialize_any(Visit)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuppress {
    code: Spanned<String>,
    repository: Option<Spanned<String>>,
    account: Option<Spanned<String>>,
    reason: Option<Spanned<String>>,
    ticket: Option<Spanned<String>>,
    expires: Option<Spanned<toml::value::Datetime>>,
}

/// Where the configuration file is: `--config FILE` (which must exist), else `ecr-audit.toml`
/// in the working directory if there is one.
pub fn locate(explicit: Option<&Path>) -> Option<PathBuf> {
    match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => {
            let p = PathBuf::from(FILE_NAME);
            p.is_file().then_some(p)
        }
    }
}

/// Reads and validates the file at `path`.
pub fn load(path: &Path) -> Result<Settings, SettingsError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| SettingsError {
        path: shown.clone(),
        line: 0,
        key: "-".into(),
        message: format!("cannot read the configuration file: {e}"),
    })?;
    parse(&shown, &text)
}

/// Parses and validates `text`, the contents of the file named `path`.
pub fn parse(path: &str, text: &str) -> Result<Settings, SettingsError> {
    let lines = Lines::new(text);
    let err = |span: Range<usize>, key: &str, message: String| SettingsError {
        path: path.to_owned(),
        line: lines.line(span.start),
        key: key.to_owned(),
        message,
    };
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().to_owned();
        let key = unknown_field(&message)
            .or_else(|| lines.key_at(span.start))
            .unwrap_or_else(|| "-".into());
        err(span, &key, message)
    })?;

    let mut s = Settings {
        path: path.to_owned(),
        ..Settings::default()
    };
    if let Some(accounts) = raw.accounts {
        let line = lines.line(accounts.span().start);
        let mut v = Vec::new();
        for a in accounts.into_inner() {
            let (span, a) = (a.span(), a.into_inner());
            if !(a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())) {
                return Err(err(
                    span,
                    "accounts",
                    format!("`{a}` is not a 12-digit AWS account id"),
                ));
            }
            if !v.contains(&a) {
                v.push(a);
            }
        }
        s.accounts = Some(At { value: v, line });
    }
    if let Some(context) = raw.context {
        let line = lines.line(context.span().start);
        let mut v = Vec::new();
        for (key, values) in context.into_inner() {
            let span = values.span();
            let shown = format!("context.{key}");
            if let Err(e) = crate::eval::keys::check(&key) {
                let hint = e
                    .suggestion
                    .map(|s| format!(" (did you mean {s}?)"))
                    .unwrap_or_default();
                return Err(err(
                    span,
                    &shown,
                    format!("`{key}` is not an IAM global condition key or an ecr: key{hint}"),
                ));
            }
            let checked = |value: &str| match value {
                "" => Ok(()),
                _ => crate::eval::keys::check_value(&key, value),
            };
            let values = values.into_inner();
            let wrong = match &values {
                OneOrMany::One(value) => checked(value).err(),
                OneOrMany::Many(values) => values.iter().find_map(|x| checked(x).err()),
            };
            if let Some(why) = wrong {
                return Err(err(span, &shown, why));
            }
            match values {
                OneOrMany::One(value) => v.push((key, value)),
                // An empty list: the key is absent (as `--context KEY=`).
                OneOrMany::Many(values) if values.is_empty() => v.push((key, String::new())),
                OneOrMany::Many(values) => {
                    for value in values {
                        if value.is_empty() {
                            return Err(err(
                                span,
                                &shown,
                                "an empty string in a list; say the key is absent with `[]`".into(),
                            ));
                        }
                        v.push((key.clone(), value));
                    }
                }
            }
        }
        s.context = Some(At { value: v, line });
    }
    s.partition = choice(
        raw.partition,
        "partition",
        &[
            ("aws", Partition::Aws),
            ("aws-cn", Partition::AwsCn),
            ("aws-us-gov", Partition::AwsUsGov),
        ],
        &lines,
        &err,
    )?;
    s.registry_policy_scope = choice(
        raw.registry_policy_scope,
        "registry-policy-scope",
        &[("v1", ScopeV::V1), ("v2", ScopeV::V2)],
        &lines,
        &err,
    )?;
    s.fail_on = choice(
        raw.fail_on,
        "fail-on",
        &[
            ("fail", FailOn::Fail),
            ("warn", FailOn::Warn),
            ("never", FailOn::Never),
        ],
        &lines,
        &err,
    )?;
    s.format = choice(
        raw.format,
        "format",
        &[
            ("table", Format::Table),
            ("csv", Format::Csv),
            ("json", Format::Json),
            ("markdown", Format::Markdown),
            ("sarif", Format::Sarif),
        ],
        &lines,
        &err,
    )?;
    s.progress = choice(
        raw.progress,
        "progress",
        &[
            ("auto", Progress::Auto),
            ("always", Progress::Always),
            ("never", Progress::Never),
        ],
        &lines,
        &err,
    )?;
    if let Some(jobs) = raw.jobs {
        let span = jobs.span();
        let n = *jobs.get_ref();
        if !(1..=i64::from(u16::MAX)).contains(&n) {
            return Err(err(
                span,
                "jobs",
                format!("{n} is not a number of worker threads (1 to 65535)"),
            ));
        }
        s.jobs = Some(At {
            value: n as usize,
            line: lines.line(span.start),
        });
    }
    s.evidence = raw.evidence.map(|e| At {
        line: lines.line(e.span().start),
        value: e.into_inner(),
    });
    if let Some(only) = raw.only {
        let line = lines.line(only.span().start);
        let mut v = Vec::new();
        for s in only.into_inner() {
            match crate::finding::Status::ALL
                .into_iter()
                .find(|st| st.as_str() == s.get_ref())
            {
                Some(st) => v.push(st),
                None => {
                    return Err(err(
                        s.span(),
                        "only",
                        format!("`{}` is not one of pass, warn, fail, error", s.get_ref()),
                    ));
                }
            }
        }
        s.only = Some(At { value: v, line });
    }
    if let Some(globs) = raw.repositories {
        let line = lines.line(globs.span().start);
        let mut v = Vec::new();
        for g in globs.into_inner() {
            if g.get_ref().trim().is_empty() {
                return Err(err(g.span(), "repositories", "an empty glob".into()));
            }
            v.push(g.into_inner());
        }
        s.repositories = Some(At { value: v, line });
    }
    for entry in raw.suppress {
        let entry_line = lines.line(entry.span().start);
        let r = entry.into_inner();
        let code_span = r.code.span();
        let which = match r.code.get_ref().as_str() {
            "*" => Which::All,
            id => match Code::from_id(id) {
                Some(c) => Which::Code(c),
                None => {
                    return Err(err(
                        code_span,
                        "suppress.code",
                        format!("`{id}` is not a finding code or `*` (see `ecr-audit rules`)"),
                    ));
                }
            },
        };
        let reason = match r.reason {
            Some(reason) if !reason.get_ref().trim().is_empty() => reason.into_inner(),
            Some(reason) => {
                return Err(err(
                    reason.span(),
                    "suppress.reason",
                    "is empty: say why the finding is accepted".into(),
                ));
            }
            None => {
                return Err(SettingsError {
                    path: path.to_owned(),
                    line: entry_line,
                    key: "suppress.reason".into(),
                    message: "missing: every suppression needs a reason".into(),
                });
            }
        };
        if let Some(a) = &r.account {
            let v = a.get_ref();
            if !(v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit())) {
                return Err(err(
                    a.span(),
                    "suppress.account",
                    format!("`{v}` is not a 12-digit AWS account id"),
                ));
            }
        }
        if let Some(g) = &r.repository
            && g.get_ref().trim().is_empty()
        {
            return Err(err(
                g.span(),
                "suppress.repository",
                "is empty; leave it out to match every repository".into(),
            ));
        }
        let expires = match r.expires {
            None => None,
            Some(d) => {
                let span = d.span();
                let dt = d.into_inner();
                match (dt.date, dt.time, dt.offset) {
                    (Some(date), None, None) => Some(
                        jiff::civil::Date::new(date.year as i16, date.month as i8, date.day as i8)
                            .map_err(|e| err(span.clone(), "suppress.expires", e.to_string()))?,
                    ),
                    _ => {
                        return Err(err(
                            span,
                            "suppress.expires",
                            format!("`{dt}` is not a date (write it as 2027-03-31, unquoted)"),
                        ));
                    }
                }
            }
        };
        s.suppress.push(Suppression {
            which,
            repository: r.repository.map(Spanned::into_inner),
            account: r.account.map(Spanned::into_inner),
            reason,
            ticket: r.ticket.map(Spanned::into_inner),
            expires,
            source: format!("{path}:{entry_line}"),
        });
    }
    Ok(s)
}

/// A string that must be one of `choices`.
fn choice<T: Copy>(
    raw: Option<Spanned<String>>,
    key: &str,
    choices: &[(&str, T)],
    lines: &Lines,
    err: &impl Fn(Range<usize>, &str, String) -> SettingsError,
) -> Result<Option<At<T>>, SettingsError> {
    let Some(raw) = raw else { return Ok(None) };
    let span = raw.span();
    match choices.iter().find(|(name, _)| *name == raw.get_ref()) {
        Some((_, v)) => Ok(Some(At {
            value: *v,
            line: lines.line(span.start),
        })),
        None => {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            Err(err(
                span,
                key,
                format!("`{}` is not one of {}", raw.get_ref(), names.join(", ")),
            ))
        }
    }
}

/// serde's message for an unknown key names it: "unknown field `x`, expected ...".
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// Byte offsets to line numbers, and the key written on a line.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Lines { text, starts }
    }

    /// The 1-based line of byte `offset`.
    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }

    /// The key assigned on the line of `offset` (`key = value`), or the table a header names.
    fn key_at(&self, offset: usize) -> Option<String> {
        let n = self.line(offset);
        let start = self.starts[n - 1];
        let end = self.starts.get(n).copied().unwrap_or(self.text.len());
        let line = self.text.get(start..end)?.trim();
        if let Some((k, _)) = line.split_once('=') {
            let k = k.trim().trim_matches('"');
            return (!k.is_empty()).then(|| k.to_owned());
        }
        let t = line.trim_matches(|c| c == '[' || c == ']').trim();
        (!t.is_empty()).then(|| t.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> SettingsError {
        parse("ecr-audit.toml", text).expect_err("an error")
    }

    #[test]
    fn a_full_file_is_read_with_lines() {
        let s = parse(
            "ecr-audit.toml",
            "accounts = [\"111122223333\"]\nfail-on = \"warn\"\njobs = 2\n\n[context]\n\"aws:PrincipalOrgID\" = \"o-abc123\"\n\"aws:SourceVpce\" = []\n\n[[suppress]]\ncode = \"public-access\"\nrepository = \"444455556666/us-east-1/team/*\"\nreason = \"published base images\"\nticket = \"SEC-123\"\nexpires = 2027-03-31\n",
        )
        .expect("valid");
        assert_eq!(s.accounts.as_ref().map(|a| a.line), Some(1));
        assert_eq!(
            s.fail_on,
            Some(At {
                value: FailOn::Warn,
                line: 2
            })
        );
        assert_eq!(s.jobs.map(|j| j.value), Some(2));
        assert_eq!(
            s.context.map(|c| c.value),
            Some(vec![
                ("aws:PrincipalOrgID".into(), "o-abc123".into()),
                ("aws:SourceVpce".into(), String::new())
            ])
        );
        assert_eq!(s.suppress.len(), 1);
        let sup = &s.suppress[0];
        assert_eq!(sup.which, Which::Code(Code::PublicAccess));
        assert_eq!(sup.source, "ecr-audit.toml:9");
        assert_eq!(
            sup.expires.map(|d| d.to_string()),
            Some("2027-03-31".into())
        );
        assert_eq!(sup.ticket.as_deref(), Some("SEC-123"));
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let e = error("accounts = [\"111122223333\"]\nfail_on = \"warn\"\n");
        assert_eq!((e.line, e.key.as_str()), (2, "fail_on"), "{e}");
        let e = error("[[suppress]]\ncode = \"*\"\nreason = \"x\"\nowner = \"me\"\n");
        assert_eq!((e.line, e.key.as_str()), (4, "owner"), "{e}");
        assert!(
            e.to_string().starts_with("ecr-audit.toml:4: `owner`"),
            "{e}"
        );
    }

    #[test]
    fn wrong_types_and_bad_values_name_the_key_and_line() {
        let e = error("\n\njobs = \"four\"\n");
        assert_eq!((e.line, e.key.as_str()), (3, "jobs"), "{e}");
        let e = error("fail-on = \"sometimes\"\n");
        assert_eq!((e.line, e.key.as_str()), (1, "fail-on"), "{e}");
        assert!(e.message.contains("fail, warn, never"), "{e}");
        let e = error("accounts = [\n  \"111122223333\",\n  \"12\",\n]\n");
        assert_eq!((e.line, e.key.as_str()), (3, "accounts"), "{e}");
        let e = error("jobs = 0\n");
        assert_eq!((e.line, e.key.as_str()), (1, "jobs"), "{e}");
        let e = error(
            "[context]\n\"aws:PrincipalOrgId\" = \"o-1\"\n\"aws:PrincipalOrgIDD\" = \"o-1\"\n",
        );
        assert_eq!(
            (e.line, e.key.as_str()),
            (3, "context.aws:PrincipalOrgIDD"),
            "{e}"
        );
    }

    #[test]
    fn suppressions_are_validated() {
        let e = error("[[suppress]]\ncode = \"public-acess\"\nreason = \"x\"\n");
        assert_eq!((e.line, e.key.as_str()), (2, "suppress.code"), "{e}");
        let e = error("\n[[suppress]]\ncode = \"*\"\n");
        assert_eq!((e.line, e.key.as_str()), (2, "suppress.reason"), "{e}");
        let e = error("[[suppress]]\ncode = \"*\"\nreason = \" \"\n");
        assert_eq!((e.line, e.key.as_str()), (3, "suppress.reason"), "{e}");
        let e = error("[[suppress]]\ncode = \"*\"\nreason = \"x\"\nexpires = \"2027-03-31\"\n");
        assert_eq!((e.line, e.key.as_str()), (4, "expires"), "{e}");
        let e =
            error("[[suppress]]\ncode = \"*\"\nreason = \"x\"\nexpires = 2027-03-31T10:00:00Z\n");
        assert_eq!((e.line, e.key.as_str()), (4, "suppress.expires"), "{e}");
        let e = error("[[suppress]]\ncode = \"*\"\nreason = \"x\"\naccount = \"1\"\n");
        assert_eq!((e.line, e.key.as_str()), (4, "suppress.account"), "{e}");
    }

    #[test]
    fn filters_are_read_and_checked() {
        let s = parse(
            "f",
            "only = [\"fail\", \"error\"]\nrepositories = [\"*/team/*\"]\n",
        )
        .expect("valid");
        assert_eq!(
            s.only.map(|o| o.value),
            Some(vec![
                crate::finding::Status::Fail,
                crate::finding::Status::Error
            ])
        );
        assert_eq!(s.repositories.map(|r| r.line), Some(2));
        let e = error("only = [\"fail\", \"broken\"]\n");
        assert_eq!((e.line, e.key.as_str()), (1, "only"), "{e}");
    }

    #[test]
    fn toml_syntax_errors_name_the_line() {
        let e = error("accounts = [\"111122223333\"\nfail-on = \"warn\"\n");
        assert!(e.line >= 1 && e.line <= 2, "{e}");
    }
}

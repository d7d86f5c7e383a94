//! Terminal table for people: rows laid out to the terminal's width (or one plain line each when
//! piped), the status coloured when allowed, a breakdown per account, registry and region, and a
//! closing summary line. Text from the input is stripped of control and escape characters, so a crafted
//! repository name cannot move the cursor or recolour the terminal.

use std::io::{self, Write};

use crate::audit::{Row, Rows};
use crate::finding::Status;

pub(crate) use super::sanitize::clean;
use super::{ActionSummary, Counts, Meta, write_in_waves};

/// Status, account and repository columns, and the gap between columns.
const STATUS_W: usize = 6;
const ACCOUNT_W: usize = 12;
const GAP: &str = "  ";
/// Where the lines under a row start: under the account.
const INDENT: usize = STATUS_W + GAP.len();
/// The narrowest layout drawn; a narrower terminal gets lines that wrap.
const MIN_WIDTH: usize = 60;

/// Rows formatted at a time (the rows of a large scan are formatted on every worker, a few
/// blocks at a time, and written in order).
const BLOCK: usize = 1000;

/// Groups listed per breakdown; the rest are summed on one line.
const BREAKDOWN_GROUPS: usize = 20;

/// Writes the rows, then the breakdown per account, registry and region, then the summary line.
///
/// With `width` (standard output is a terminal of that many columns): a header, then per row a
/// first line with status, account, repository and finding codes — each in its own column, so a
/// code, an account ID or a status is never split — and under it, indented, the source, the
/// actions that need attention and the detail wrapped at word boundaries. Without (piped or to a
/// file): one plain line per row, no box drawing, for `grep`, `less` and `cut`.
pub fn write(
    rows: &Rows,
    meta: &Meta,
    color: bool,
    width: Option<usize>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let all: Vec<&Row> = rows.iter().collect();
    let blocks: Vec<&[&Row]> = all.chunks(BLOCK).collect();
    match width {
        Some(w) => {
            let w = w.max(MIN_WIDTH);
            let codes_w = rows
                .iter()
                .flat_map(|r| r.codes())
                .map(|c| c.id().len())
                .max()
                .unwrap_or(0)
                .max("Findings".len());
            let repo_w = rows
                .iter()
                .map(|r| display_width(&clean(&r.repo.label())))
                .max()
                .unwrap_or(0);
            let layout = Layout::new(w, codes_w, repo_w);
            writeln!(out, "{}", layout.header())?;
            write_in_waves(&blocks, out, |_, block| {
                let mut s = String::new();
                for r in block.iter() {
                    layout.row(r, color, &mut s);
                }
                Ok::<_, io::Error>(s.into_bytes())
            })?;
            writeln!(out, "{}", "─".repeat(w))?;
        }
        None => {
            write_in_waves(&blocks, out, |_, block| {
                let mut s = String::new();
                for r in block.iter() {
                    plain_row(r, color, &mut s);
                }
                Ok::<_, io::Error>(s.into_bytes())
            })?;
        }
    }
    for b in super::breakdowns(rows, BREAKDOWN_GROUPS) {
        write_breakdown(&b, out)?;
    }
    writeln!(out, "\n{}", summary_line(rows, meta))
}

/// Column widths for a terminal of `width` columns.
struct Layout {
    width: usize,
    repo_w: usize,
    /// 0: the codes go under the row (too narrow for a column of their own).
    codes_w: usize,
}

impl Layout {
    /// `codes_w`, `longest_repo`: the widest finding code and repository label. The codes get a
    /// column of their own when the repositories still fit beside it (or have 40 columns).
    fn new(width: usize, codes_w: usize, longest_repo: usize) -> Layout {
        let fixed = STATUS_W + ACCOUNT_W + 3 * GAP.len();
        let repo_w = width.saturating_sub(fixed + codes_w);
        if repo_w >= longest_repo.min(40) {
            Layout {
                width,
                repo_w: repo_w.min(longest_repo.max("Repository".len())),
                codes_w,
            }
        } else {
            Layout {
                width,
                repo_w: width - fixed + GAP.len(),
                codes_w: 0,
            }
        }
    }

    fn header(&self) -> String {
        let mut s = format!(
            "{:<STATUS_W$}{GAP}{:<ACCOUNT_W$}{GAP}{:<w$}",
            "Status",
            "Account",
            "Repository",
            w = self.repo_w
        );
        if self.codes_w > 0 {
            s.push_str(GAP);
            s.push_str("Findings");
        }
        format!("{}\n{}", s.trim_end(), "─".repeat(self.width))
    }

    fn row(&self, r: &Row, color: bool, s: &mut String) {
        let repo = clean(&r.repo.label());
        let repo = if repo.is_empty() {
            "-".to_owned()
        } else {
            repo
        };
        let repo_lines = wrap(&repo, self.repo_w, &['/', '-', '_', '.']);
        let codes: Vec<&str> = r.codes().iter().map(|c| c.id()).collect();
        let side: &[&str] = if self.codes_w > 0 { &codes } else { &[] };
        let n = repo_lines.len().max(side.len()).max(1);
        for i in 0..n {
            let mut line = if i == 0 {
                format!(
                    "{}{GAP}{:<ACCOUNT_W$}",
                    status_cell(r.status, color),
                    clean(&r.account)
                )
            } else {
                " ".repeat(STATUS_W + GAP.len() + ACCOUNT_W)
            };
            line.push_str(GAP);
            let part = repo_lines.get(i).map(String::as_str).unwrap_or("");
            line.push_str(part);
            if let Some(code) = side.get(i) {
                line.push_str(&" ".repeat(self.repo_w.saturating_sub(display_width(part))));
                line.push_str(GAP);
                line.push_str(code);
            }
            s.push_str(line.trim_end());
            s.push('\n');
        }
        let pad = " ".repeat(INDENT);
        let room = self.width - INDENT;
        let mut under = vec![clean(&format!("{}:{}", r.source, r.record))];
        if self.codes_w == 0 && !codes.is_empty() {
            under.push(codes.join(" "));
        }
        let acts = actions(r);
        if acts != "all allowed" && acts != "-" {
            under.push(format!("actions: {}", acts.replace('\n', "; ")));
        }
        under.push(clean(&super::what_to_do(r)));
        for text in under {
            for line in wrap(&text, room, &['/', '_', '-']) {
                s.push_str(&pad);
                s.push_str(&line);
                s.push('\n');
            }
        }
    }
}

/// One row on one line: status, account, repository, codes, source:record, detail.
fn plain_row(r: &Row, color: bool, s: &mut String) {
    let repo = clean(&r.repo.label());
    let codes: Vec<&str> = r.codes().iter().map(|c| c.id()).collect();
    s.push_str(&format!(
        "{}{GAP}{}{GAP}{}{GAP}{}{GAP}{}{GAP}{}\n",
        status_cell(r.status, color),
        clean(&r.account),
        if repo.is_empty() { "-" } else { &repo },
        if codes.is_empty() {
            "-".to_owned()
        } else {
            codes.join(",")
        },
        clean(&format!("{}:{}", r.source, r.record)),
        clean(&super::what_to_do(r))
    ));
}

/// The status, padded to its column and coloured when allowed.
fn status_cell(status: Status, color: bool) -> String {
    let text = format!("{:<STATUS_W$}", status.as_str());
    if !color {
        return text;
    }
    let code = match status {
        Status::Pass => 32,
        Status::Warn => 33,
        Status::Fail => 31,
        Status::Error => 35,
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

fn display_width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// `text` in lines of at most `width` columns, broken at spaces, or else after one of `breaks`
/// (the separators of a repository path); a run longer than a line with neither is split where
/// it must be.
pub(crate) fn wrap(text: &str, width: usize, breaks: &[char]) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut rest = text.trim();
    while display_width(rest) > width {
        // The longest prefix that fits.
        let mut fit = 0;
        let mut w = 0;
        for (i, c) in rest.char_indices() {
            let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            if w + cw > width {
                break;
            }
            w += cw;
            fit = i + c.len_utf8();
        }
        let head = &rest[..fit];
        let at_space = if rest[fit..].starts_with(' ') {
            Some(fit)
        } else {
            head.rfind(' ')
        };
        let cut = match at_space {
            Some(i) if i > 0 => i,
            _ => match head.rfind(breaks) {
                Some(i) if i > 0 => i + 1,
                _ => fit.max(rest.chars().next().map_or(1, char::len_utf8)),
            },
        };
        lines.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() || lines.is_empty() {
        lines.push(rest.to_owned());
    }
    lines
}

/// Rows per status for each account, registry or region, aligned.
fn write_breakdown(b: &super::Breakdown, out: &mut dyn Write) -> io::Result<()> {
    let names: Vec<String> = b.groups.iter().map(|(n, _)| clean(n)).collect();
    let more = b.more.map(|(n, _)| format!("({n} more)"));
    let name_w = names
        .iter()
        .chain(more.iter())
        .map(|n| display_width(n))
        .chain([b.title.len()])
        .max()
        .unwrap_or(0);
    writeln!(
        out,
        "\n{}{}{GAP}{:>6}{GAP}{:>6}{GAP}{:>6}{GAP}{:>6}{GAP}{:>6}",
        b.title,
        " ".repeat(name_w - b.title.len()),
        "rows",
        "error",
        "fail",
        "warn",
        "pass"
    )?;
    let line = |out: &mut dyn Write, name: &str, c: &Counts| {
        writeln!(
            out,
            "{name}{}{GAP}{:>6}{GAP}{:>6}{GAP}{:>6}{GAP}{:>6}{GAP}{:>6}",
            " ".repeat(name_w - display_width(name)),
            c.total(),
            c.error,
            c.fail,
            c.warn,
            c.pass
        )
    };
    for (name, (_, c)) in names.iter().zip(&b.groups) {
        line(out, name, c)?;
    }
    if let (Some(name), Some((_, c))) = (&more, &b.more) {
        line(out, name, c)?;
    }
    Ok(())
}

/// The states that need attention, e.g. `missing: BatchGetImage`; `all allowed` otherwise.
fn actions(r: &Row) -> String {
    match ActionSummary::of(r) {
        ActionSummary::NotJudged => "-".into(),
        // All three alike: say so, and leave the width to the detail.
        ActionSummary::All(state) => format!("all {}", state.as_str()),
        ActionSummary::Parts(parts) => ActionSummary::join_parts(&parts, "\n"),
    }
}

/// The closing line: counts per status and the elapsed time.
pub fn summary_line(rows: &Rows, meta: &Meta) -> String {
    let c = meta.counts.unwrap_or_else(|| Counts::of(rows));
    let accounts = meta.accounts.len();
    format!(
        "{} record{} × {} account{} = {} row{}: {} pass, {} warn, {} fail, {} error ({:.2} s)",
        meta.records,
        plural(meta.records),
        accounts,
        plural(accounts as u64),
        rows.len(),
        plural(rows.len() as u64),
        c.get(Status::Pass),
        c.get(Status::Warn),
        c.get(Status::Fail),
        c.get(Status::Error),
        meta.elapsed.as_secs_f64()
    )
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::audit::RowRepo;
    use crate::eval::ActionState;
    use crate::finding::{Code, Finding, StatementRef};
    use std::sync::Arc;

    fn meta(records: u64) -> Meta {
        Meta {
            accounts: vec!["111122223333".into()],
            inputs: vec!["s.jsonl".into()],
            records,
            elapsed: std::time::Duration::ZERO,
            generated: String::new(),
            evidence: None,
            tally: Default::default(),
            counts: None,
            baseline: None,
            suppressions: Vec::new(),
        }
    }

    fn render(rows: &Rows, width: Option<usize>) -> String {
        let mut out = Vec::new();
        write(rows, &meta(rows.len() as u64), false, width, &mut out).expect("write");
        String::from_utf8(out).expect("utf-8")
    }

    /// Rows with long names, long details and several codes, as a real estate has.
    fn awkward_rows() -> Rows {
        let long = "statement 1 (Sid \"OnlyThroughEndpoint\") may deny ecr:BatchCheckLayerAvailability, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer depending on the condition key aws:SourceVpce, which cannot be decided offline; pass the facts with --context KEY=VALUE or narrow the Deny";
        let st = StatementRef {
            index: 1,
            sid: None,
            registry_policy: false,
        };
        let mut rows = Rows::new();
        rows.push_group(vec![
            Row {
                source: Arc::from("export/aws-config/444455556666_Config_us-east-1_ConfigSnapshot_20240502T091407Z.json"),
                record: 3,
                repo: RowRepo {
                    registry: Some(Arc::from("444455556666")),
                    region: Some(Arc::from("ap-southeast-2")),
                    repository: Some("platform/team-with-a-long-name/very-long-repository-name-for-images".into()),
                    ..RowRepo::default()
                },
                account: Arc::from("111122223333"),
                status: Status::Warn,
                actions: Some([ActionState::Conditional; 3]),
                findings: vec![
                    Finding::at(Code::ConditionalDeny, long, st.clone()),
                    Finding::at(Code::ExcessAccess, "grants more", st.clone()),
                    Finding::at(Code::UnresolvedPolicy, "unresolved", st),
                ]
                .into(),
            },
            Row {
                source: Arc::from("b.json"),
                record: 1,
                repo: RowRepo::default(),
                account: Arc::from("999988887777"),
                status: Status::Error,
                actions: None,
                findings: vec![Finding::new(Code::InvalidJson, "not JSON")].into(),
            },
        ]);
        rows
    }

    #[test]
    fn at_80_and_120_columns_every_line_fits_and_no_code_account_or_status_is_split() {
        let rows = awkward_rows();
        for width in [80, 120] {
            let text = render(&rows, Some(width));
            for line in text.lines() {
                assert!(display_width(line) <= width, "{width}: {line:?}");
            }
            let words: Vec<&str> = text.split_whitespace().collect();
            for r in rows.iter() {
                assert!(words.contains(&&*r.account), "{width}: account split");
                assert!(words.contains(&r.status.as_str()), "{width}: status split");
                for c in r.codes() {
                    assert!(
                        text.lines()
                            .any(|l| l.split_whitespace().any(|w| w == c.id())),
                        "{width}: {c} split"
                    );
                }
            }
            // The detail is wrapped at spaces: every word of it is whole on some line.
            for word in r#"statement 1 (Sid "OnlyThroughEndpoint") may deny ecr:BatchCheckLayerAvailability,"#.split(' ') {
                assert!(words.contains(&word), "{width}: {word} split");
            }
            assert!(text.contains("─"), "a terminal gets rules");
        }
        // At 80 columns the codes go under the row; at 120 they have a column.
        let narrow = render(&rows, Some(80));
        assert!(
            narrow
                .lines()
                .next()
                .is_some_and(|h| !h.contains("Findings"))
        );
        let wide = render(&rows, Some(120));
        assert!(wide.lines().next().is_some_and(|h| h.contains("Findings")));
        assert!(
            wide.lines()
                .any(|l| l.starts_with("warn ") && l.ends_with("conditional-deny"))
        );
    }

    #[test]
    fn piped_the_table_is_one_plain_line_per_row_without_box_drawing() {
        let rows = awkward_rows();
        let text = render(&rows, None);
        assert!(!text.chars().any(|c| ('\u{2500}'..='\u{257f}').contains(&c)));
        let row_lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("warn ") || l.starts_with("error "))
            .collect();
        assert_eq!(row_lines.len(), 2);
        assert!(row_lines[0].contains("conditional-deny,excess-access,unresolved-policy"));
        // Every finding's advice, most severe first, numbered.
        assert!(
            row_lines[0].contains("  (1) statement 1 (Sid"),
            "{}",
            row_lines[0]
        );
        assert!(
            row_lines[0].ends_with("(2) grants more. (3) unresolved."),
            "{}",
            row_lines[0]
        );
        assert!(row_lines[1].contains("999988887777  -  invalid-json  b.json:1  not JSON"));
    }

    #[test]
    fn the_table_closes_with_a_breakdown_per_account_registry_and_region() {
        let text = render(&awkward_rows(), None);
        let tail: Vec<&str> = text.lines().skip(3).collect();
        let find = |title: &str| {
            let i = tail
                .iter()
                .position(|l| l.starts_with(title))
                .unwrap_or_else(|| panic!("{title}"));
            tail[i + 1..]
                .iter()
                .take_while(|l| !l.is_empty())
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            find("By account"),
            ["111122223333 1 0 0 1 0", "999988887777 1 1 0 0 0"]
        );
        assert_eq!(
            find("By registry"),
            ["(unknown) 1 1 0 0 0", "444455556666 1 0 0 1 0"]
        );
        assert_eq!(
            find("By region"),
            ["(unknown) 1 1 0 0 0", "ap-southeast-2 1 0 0 1 0"]
        );
    }

    #[test]
    fn wrap_breaks_at_spaces_then_at_separators_then_where_it_must() {
        assert_eq!(wrap("aaa bbb ccc", 7, &[]), ["aaa bbb", "ccc"]);
        assert_eq!(
            wrap("team/app-images", 9, &['/', '-']),
            ["team/app-", "images"]
        );
        assert_eq!(wrap("abcdefgh", 3, &[]), ["abc", "def", "gh"]);
        assert_eq!(wrap("", 5, &[]), [""]);
    }

    #[test]
    fn a_large_scan_keeps_every_row_in_order() {
        let findings: Arc<[Finding]> = vec![Finding::new(Code::NoPolicy, "none")].into();
        let n = BLOCK * crate::report::WAVE + BLOCK + 7;
        let mut rows = Rows::new();
        rows.push_group(
            (1..=n as u64)
                .map(|record| Row {
                    source: Arc::from("s.jsonl"),
                    record,
                    repo: RowRepo::default(),
                    account: Arc::from("111122223333"),
                    status: Status::Fail,
                    actions: Some([ActionState::Missing; 3]),
                    findings: Arc::clone(&findings),
                })
                .collect(),
        );
        for width in [None, Some(100)] {
            let text = render(&rows, width);
            let records: Vec<u64> = text
                .lines()
                .filter_map(|l| l.split("s.jsonl:").nth(1))
                .filter_map(|rest| {
                    rest.split(|c: char| !c.is_ascii_digit())
                        .next()?
                        .parse()
                        .ok()
                })
                .collect();
            assert_eq!(records, (1..=n as u64).collect::<Vec<_>>());
            assert!(text.trim_end().ends_with("error (0.00 s)"));
        }
    }
}

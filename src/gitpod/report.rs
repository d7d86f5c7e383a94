//! The gitpod reports: table, CSV, JSON and Markdown. Their columns differ from `scan`'s (the
//! configuration file and the image lead), and they are built from the report-only types and
//! columns below, so the engine can change without changing a column.

use std::io::{self, Write};

use comfy_table::{Cell, Color, ColumnConstraint, Width};
use serde::Serialize;

use crate::config::Format;
use crate::finding::Status;
use crate::report::json::Tool;
use crate::report::sanitize::{clean, markdown as md};

use super::catalog::status_str;
use super::{GitpodRow, Meta};

pub fn write(
    format: Format,
    rows: &[GitpodRow],
    meta: &Meta,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => table(rows, meta, color, out),
        Format::Csv => csv(rows, out),
        Format::Json => json(rows, meta, out),
        Format::Markdown => markdown(rows, meta, out),
        Format::Sarif => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the gitpod command has no SARIF report (its rules are scan's policy findings)",
        )),
        Format::Html => html(rows, meta, out),
    }
}

/// Every row status, best first: not applicable, then the scan's.
const STATUSES: [Option<Status>; 5] = [
    None,
    Some(Status::Pass),
    Some(Status::Warn),
    Some(Status::Fail),
    Some(Status::Error),
];

/// Rows counted per status, in [`STATUSES`] order.
fn counts(rows: &[GitpodRow]) -> [(Option<Status>, u64); 5] {
    STATUSES.map(|s| (s, rows.iter().filter(|r| r.status == s).count() as u64))
}

fn codes(r: &GitpodRow) -> Vec<&'static str> {
    let mut c: Vec<_> = r.findings.iter().map(|f| f.code).collect();
    c.dedup();
    c.into_iter().map(|c| c.id()).collect()
}

fn export_codes(r: &GitpodRow) -> Vec<&'static str> {
    r.verdict
        .iter()
        .flat_map(|v| v.codes.iter().map(|c| c.id()))
        .collect()
}

fn export_source(r: &GitpodRow) -> Option<String> {
    r.verdict
        .as_ref()
        .map(|v| format!("{}:{}", v.source, v.record))
}

/// The closing line of the table and the Markdown report.
fn summary_line(rows: &[GitpodRow], meta: &Meta) -> String {
    let c = counts(rows)
        .iter()
        .map(|(s, n)| format!("{n} {}", status_str(*s)))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{} configuration{} × {} account{} = {} row{} (export: {} record{}): {c}",
        meta.configs,
        plural(meta.configs as u64),
        meta.accounts.len(),
        plural(meta.accounts.len() as u64),
        rows.len(),
        plural(rows.len() as u64),
        meta.export_records,
        plural(meta.export_records),
    )
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

// ---- table --------------------------------------------------------------------------------------

/// The table's width when the terminal's is not known.
const TABLE_WIDTH: u16 = 160;
/// The findings column: the longest code and the cell's padding.
const FINDINGS_WIDTH: u16 = 25;
/// The status column: `not-applicable` and the cell's padding.
const STATUS_WIDTH: u16 = 16;

fn table(rows: &[GitpodRow], meta: &Meta, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let mut t = crate::report::table::new_table(color);
    // Without a terminal to measure (a pipe, a file, `NO_COLOR`), wrap at a width a reader can
    // follow rather than print rows of thousands of characters.
    if t.width().is_none() {
        t.set_width(TABLE_WIDTH);
    }
    t.set_header([
        "Configuration",
        "Image",
        "Account",
        "Status",
        "Export",
        "Findings",
        "Detail",
    ]);
    // Paths and references may be long; the detail is what a person acts on, so it keeps the room,
    // and a finding code is never broken.
    let constraints = [
        (0, ColumnConstraint::UpperBoundary(Width::Percentage(16))),
        (1, ColumnConstraint::UpperBoundary(Width::Percentage(20))),
        (
            3,
            ColumnConstraint::LowerBoundary(Width::Fixed(STATUS_WIDTH)),
        ),
        (4, ColumnConstraint::UpperBoundary(Width::Percentage(14))),
        (
            5,
            ColumnConstraint::LowerBoundary(Width::Fixed(FINDINGS_WIDTH)),
        ),
        (6, ColumnConstraint::LowerBoundary(Width::Percentage(32))),
    ];
    for (column, constraint) in constraints {
        if let Some(c) = t.column_mut(column) {
            c.set_constraint(constraint);
        }
    }
    for r in rows {
        let mut status = Cell::new(status_str(r.status));
        if color {
            status = status.fg(match r.status {
                None => Color::DarkGrey,
                Some(Status::Pass) => Color::Green,
                Some(Status::Warn) => Color::Yellow,
                Some(Status::Fail) => Color::Red,
                Some(Status::Error) => Color::Magenta,
            });
        }
        let mut image = r.image.clone().unwrap_or_else(|| "-".into());
        if let Some(via) = &r.via {
            image = format!("{image}\n(in {via})");
        }
        let export = match &r.verdict {
            Some(v) => format!("{} ({}:{})", v.status, v.source, v.record),
            None => "-".into(),
        };
        t.add_row(vec![
            Cell::new(clean(&r.config)),
            Cell::new(clean_lines(&image)),
            Cell::new(&*r.account),
            status,
            Cell::new(clean(&export)),
            Cell::new(codes(r).join("\n")),
            Cell::new(clean(&r.detail)),
        ]);
    }
    if !rows.is_empty() {
        writeln!(out, "{t}")?;
    }
    writeln!(
        out,
        "{} ({:.2} s)",
        summary_line(rows, meta),
        meta.elapsed.as_secs_f64()
    )
}

/// `clean`, keeping the line breaks this module put in.
fn clean_lines(s: &str) -> String {
    s.split('\n').map(clean).collect::<Vec<_>>().join("\n")
}

// ---- CSV ----------------------------------------------------------------------------------------

/// The header, in order. Changing it is a breaking change of the public output.
pub const CSV_HEADER: [&str; 13] = [
    "config",
    "image",
    "via",
    "registry",
    "region",
    "repository",
    "account",
    "status",
    "export_status",
    "export_source",
    "export_findings",
    "findings",
    "detail",
];

fn csv(rows: &[GitpodRow], out: &mut dyn Write) -> io::Result<()> {
    let into_io = |e: ::csv::Error| match e.into_kind() {
        ::csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    };
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(CSV_HEADER).map_err(into_io)?;
    for r in rows {
        let ecr = r.ecr.as_ref();
        let cells: [String; 13] = [
            r.config.clone(),
            r.image.clone().unwrap_or_default(),
            r.via.clone().unwrap_or_default(),
            ecr.map(|e| e.registry.clone()).unwrap_or_default(),
            ecr.map(|e| e.region.clone()).unwrap_or_default(),
            ecr.map(|e| e.repository.clone()).unwrap_or_default(),
            r.account.to_string(),
            status_str(r.status).into(),
            r.verdict
                .as_ref()
                .map(|v| v.status.as_str().to_owned())
                .unwrap_or_default(),
            export_source(r).unwrap_or_default(),
            export_codes(r).join(";"),
            codes(r).join(";"),
            r.detail.clone(),
        ];
        w.write_record(&cells).map_err(into_io)?;
    }
    w.flush()
}

// ---- JSON ---------------------------------------------------------------------------------------

pub const JSON_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    command: &'static str,
    accounts: &'a [String],
    summary: Summary,
    results: Vec<ResultOut<'a>>,
}

#[derive(Serialize)]
struct Summary {
    configs: usize,
    export_records: u64,
    #[serde(rename = "not-applicable")]
    not_applicable: u64,
    pass: u64,
    warn: u64,
    fail: u64,
    error: u64,
}

#[derive(Serialize)]
struct ResultOut<'a> {
    config: &'a str,
    image: Option<&'a str>,
    via: Option<&'a str>,
    registry: Option<&'a str>,
    region: Option<&'a str>,
    repository: Option<&'a str>,
    /// `:tag` or `@digest` as written; null for the default `latest` or a non-ECR image.
    reference: Option<&'a str>,
    account: &'a str,
    status: &'static str,
    export: Option<ExportOut<'a>>,
    findings: Vec<FindingOut<'a>>,
    detail: &'a str,
}

#[derive(Serialize)]
struct ExportOut<'a> {
    status: &'static str,
    source: &'a str,
    record: u64,
    findings: Vec<&'static str>,
}

#[derive(Serialize)]
struct FindingOut<'a> {
    code: &'static str,
    severity: &'static str,
    message: &'a str,
}

fn json(rows: &[GitpodRow], meta: &Meta, out: &mut dyn Write) -> io::Result<()> {
    let c = counts(rows);
    let doc = Document {
        schema_version: JSON_SCHEMA_VERSION,
        tool: Tool::this(),
        command: "gitpod",
        accounts: &meta.accounts,
        summary: Summary {
            configs: meta.configs,
            export_records: meta.export_records,
            not_applicable: c[0].1,
            pass: c[1].1,
            warn: c[2].1,
            fail: c[3].1,
            error: c[4].1,
        },
        results: rows
            .iter()
            .map(|r| {
                let ecr = r.ecr.as_ref();
                ResultOut {
                    config: &r.config,
                    image: r.image.as_deref(),
                    via: r.via.as_deref(),
                    registry: ecr.map(|e| e.registry.as_str()),
                    region: ecr.map(|e| e.region.as_str()),
                    repository: ecr.map(|e| e.repository.as_str()),
                    reference: ecr.and_then(|e| e.reference.as_deref()),
                    account: &r.account,
                    status: status_str(r.status),
                    export: r.verdict.as_ref().map(|v| ExportOut {
                        status: v.status.as_str(),
                        source: &v.source,
                        record: v.record,
                        findings: v.codes.iter().map(|c| c.id()).collect(),
                    }),
                    findings: r
                        .findings
                        .iter()
                        .map(|f| FindingOut {
                            code: f.code.id(),
                            severity: f.code.severity().as_str(),
                            message: &f.message,
                        })
                        .collect(),
                    detail: &r.detail,
                }
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

// ---- Markdown -----------------------------------------------------------------------------------

/// A Markdown report for a ticket: a summary line and one table row per gitpod row.
fn markdown(rows: &[GitpodRow], meta: &Meta, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# Gitpod images cross-checked against the ECR export")?;
    writeln!(out)?;
    writeln!(out, "{}.", md(&summary_line(rows, meta)))?;
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "| configuration | image | account | status | export | findings | detail |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|")?;
    for r in rows {
        let mut image = r.image.as_deref().map_or_else(|| "–".to_owned(), md);
        if let Some(via) = &r.via {
            image.push_str(&format!(" (in {})", md(via)));
        }
        let export = match &r.verdict {
            Some(v) => format!(
                "{} ({})",
                v.status,
                md(&format!("{}:{}", v.source, v.record))
            ),
            None => "–".into(),
        };
        let findings = codes(r)
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            out,
            "| {} | {} | {} | **{}** | {} | {} | {} |",
            md(&r.config),
            image,
            md(&r.account),
            status_str(r.status),
            export,
            findings,
            md(&r.detail)
        )?;
    }
    Ok(())
}

/// One self-contained page (issue 14), with the scan report's style sheet, filter script and
/// Content-Security-Policy (both allowed by hash, nothing else), and its escaping: every piece
/// of input text goes through `esc`. Rows are listed worst first; the filter and the search box
/// narrow them, and without script every row is shown.
fn html(rows: &[GitpodRow], meta: &Meta, out: &mut dyn Write) -> io::Result<()> {
    use crate::report::html::{end, esc, head};
    let generated = crate::run::generated_at();
    head(
        out,
        &format!("Gitpod images cross-checked against the ECR export — {generated}"),
    )?;
    writeln!(
        out,
        "<h1>Gitpod images cross-checked against the ECR export</h1>\n<p class=\"muted\">Can the installation pull every image the Gitpod configurations use, according to the exported repository policies?</p>"
    )?;
    let counts = counts(rows);
    let worst = rows.iter().filter_map(|r| r.status).max();
    let (class, text) = match worst {
        Some(Status::Error | Status::Fail) => (
            "fail",
            "FAIL: some image cannot be pulled, or could not be checked",
        ),
        Some(Status::Warn) => (
            "warn",
            "WARN: every checked image can be pulled, with warnings",
        ),
        _ => ("pass", "PASS: every private ECR image can be pulled"),
    };
    writeln!(out, "<div class=\"verdict {class}\">{text}</div>")?;
    writeln!(out, "<h2>About this run</h2>\n<table class=\"meta\">")?;
    for (k, v) in [
        ("Generated (UTC)", esc(&generated)),
        ("Tool", format!("ecr-audit {}", env!("CARGO_PKG_VERSION"))),
        ("Audited accounts", esc(&meta.accounts.join(", "))),
        ("Configurations", meta.configs.to_string()),
        ("Export records", meta.export_records.to_string()),
    ] {
        writeln!(out, "<tr><th>{k}</th><td>{v}</td></tr>")?;
    }
    writeln!(out, "</table>\n<h2>Verdicts</h2>\n<div class=\"tiles\">")?;
    for (s, n) in counts.iter().rev() {
        let s = status_str(*s);
        writeln!(
            out,
            "<div class=\"tile {s}\"><span class=\"n\">{n}</span>{s}</div>"
        )?;
    }
    writeln!(out, "</div>")?;
    writeln!(
        out,
        "<div class=\"controls\" id=\"controls\" hidden><strong>Show</strong>"
    )?;
    for (s, _) in counts.iter().rev() {
        let s = status_str(*s);
        writeln!(
            out,
            "<label><input type=\"checkbox\" name=\"status\" value=\"{s}\" checked> <span class=\"st {s}\">{s}</span></label>"
        )?;
    }
    writeln!(
        out,
        "<input type=\"search\" id=\"q\" placeholder=\"Search image, configuration, finding…\" aria-label=\"Search\"> <span class=\"muted\"><span id=\"shown\">{}</span> of {} rows shown</span></div>",
        rows.len(),
        rows.len()
    )?;
    writeln!(
        out,
        "<section data-rows>\n<h2>Images ({})</h2>\n<table class=\"rows\">\n<thead><tr><th class=\"c-st\">Status</th><th class=\"c-repo\">Image</th><th class=\"c-acct\">Account</th><th class=\"c-act\">In the export</th><th>Findings and what to do</th></tr></thead>\n<tbody>",
        rows.len()
    )?;
    let mut sorted: Vec<&GitpodRow> = rows.iter().collect();
    sorted.sort_by_key(|r| std::cmp::Reverse(r.status));
    for r in sorted {
        let s = status_str(r.status);
        let image = r.image.as_deref().map_or_else(|| "—".to_owned(), esc);
        let place = match &r.via {
            Some(via) => format!("{} (in {})", esc(&r.config), esc(via)),
            None => esc(&r.config),
        };
        let export = match &r.verdict {
            Some(v) => format!(
                "<span class=\"st {0}\">{0}</span><br><code>{1}</code>",
                v.status.as_str(),
                esc(&format!("{}:{}", v.source, v.record))
            ),
            None => "<span class=\"muted\">—</span>".to_owned(),
        };
        let mut findings = String::from("<ul class=\"findings\">");
        for f in &r.findings {
            let sev = f.code.severity().as_str();
            findings.push_str(&format!(
                "<li><span class=\"st {sev}\">{sev}</span> <code>{}</code> {}</li>",
                f.code.id(),
                esc(&f.message)
            ));
        }
        findings.push_str("</ul>");
        // The row's sentence, unless it only repeats a finding's message.
        if !r.findings.iter().any(|f| *f.message == *r.detail) {
            findings.push_str(&format!("<span class=\"todo\">{}</span>", esc(&r.detail)));
        }
        writeln!(
            out,
            "<tr data-status=\"{s}\"><td><span class=\"st {s}\">{s}</span></td><td><div class=\"repo\">{image}</div><code>{place}</code></td><td><code class=\"nw\">{}</code></td><td>{export}</td><td>{findings}</td></tr>",
            esc(&r.account)
        )?;
    }
    writeln!(
        out,
        "</tbody>\n</table>\n<p class=\"none-shown muted\" hidden>No row matches the filter.</p>\n</section>"
    )?;
    writeln!(
        out,
        "<footer>Made by ecr-audit {} offline, from the export and the configurations named above; no network was used.</footer>",
        env!("CARGO_PKG_VERSION")
    )?;
    end(out)
}

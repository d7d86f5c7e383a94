//! The gitpod reports: table, CSV, JSON and Markdown. Their columns differ from `scan`'s (the
//! configuration file and the image lead), and they are built from the report-only types and
//! columns below, so the engine can change without changing a column.

use std::io::{self, Write};

use serde::Serialize;

use crate::config::Format;
use crate::finding::Status;
use crate::report::json::Tool;
use crate::report::sanitize::{clean, markdown as md};

use super::catalog::status_str;
use super::{GitpodRow, Meta};

/// `width`: the terminal's, when the table goes to one (see [`crate::run`]).
pub fn write(
    format: Format,
    rows: &[GitpodRow],
    meta: &Meta,
    color: bool,
    width: Option<usize>,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => table(rows, meta, color, width, out),
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

/// The status column: `not-applicable`.
const STATUS_W: usize = 14;
const ACCOUNT_W: usize = 12;
const GAP: &str = "  ";
/// Where the lines under a row start: under the account.
const INDENT: usize = STATUS_W + GAP.len();
/// The narrowest layout drawn.
const MIN_WIDTH: usize = 60;

/// The scan table's shape (issue 14): on a terminal of `width` columns, a first line per row with
/// status, account and image — each in its own column, so a status or an account ID is never
/// split — and under it, indented and wrapped at word boundaries, the configuration (and the
/// Dockerfile line), the export's verdict, the findings and the detail. Piped or to a file: one
/// plain line per row, no box drawing, for `grep`, `less` and `cut`.
fn table(
    rows: &[GitpodRow],
    meta: &Meta,
    color: bool,
    width: Option<usize>,
    out: &mut dyn Write,
) -> io::Result<()> {
    match width {
        Some(w) => {
            let w = w.max(MIN_WIDTH);
            let under = w - INDENT;
            writeln!(
                out,
                "{:<STATUS_W$}{GAP}{:<ACCOUNT_W$}{GAP}Image",
                "Status", "Account"
            )?;
            writeln!(out, "{}", "─".repeat(w))?;
            for r in rows {
                let image = clean(r.image.as_deref().unwrap_or("-"));
                let image_w = w - INDENT - ACCOUNT_W - GAP.len();
                let mut lines = wrap(&image, image_w).into_iter();
                writeln!(
                    out,
                    "{}{GAP}{:<ACCOUNT_W$}{GAP}{}",
                    status_cell(r.status, color),
                    clean(&r.account),
                    lines.next().unwrap_or_default()
                )?;
                let pad = " ".repeat(INDENT + ACCOUNT_W + GAP.len());
                for l in lines {
                    writeln!(out, "{pad}{l}")?;
                }
                let mut under_lines = vec![place(r)];
                if let Some(v) = &r.verdict {
                    under_lines.push(format!(
                        "export: {} ({}:{})",
                        v.status,
                        clean(&v.source),
                        v.record
                    ));
                }
                let codes = codes(r);
                if !codes.is_empty() {
                    under_lines.push(codes.join(" "));
                }
                under_lines.push(clean(&r.detail));
                let indent = " ".repeat(INDENT);
                for text in under_lines {
                    for l in wrap(&text, under) {
                        writeln!(out, "{indent}{l}")?;
                    }
                }
            }
            if !rows.is_empty() {
                writeln!(out, "{}", "─".repeat(w))?;
            }
        }
        None => {
            for r in rows {
                let mut line = format!(
                    "{}{GAP}{}{GAP}{}{GAP}{}",
                    status_cell(r.status, color).trim_end(),
                    clean(&r.account),
                    clean(r.image.as_deref().unwrap_or("-")),
                    place(r)
                );
                if let Some(v) = &r.verdict {
                    line.push_str(&format!(
                        "{GAP}export {} {}:{}",
                        v.status,
                        clean(&v.source),
                        v.record
                    ));
                }
                let codes = codes(r);
                if !codes.is_empty() {
                    line.push_str(&format!("{GAP}{}", codes.join(";")));
                }
                line.push_str(&format!("{GAP}{}", clean(&r.detail)));
                writeln!(out, "{line}")?;
            }
        }
    }
    writeln!(
        out,
        "{} ({:.2} s)",
        summary_line(rows, meta),
        meta.elapsed.as_secs_f64()
    )
}

/// The configuration, and the Dockerfile line when the image is pulled by the Dockerfile.
fn place(r: &GitpodRow) -> String {
    match &r.via {
        Some(via) => format!("{} (in {})", clean(&r.config), clean(via)),
        None => clean(&r.config),
    }
}

/// The status, padded to its column and coloured when allowed.
fn status_cell(status: Option<Status>, color: bool) -> String {
    let text = format!("{:<STATUS_W$}", status_str(status));
    if !color {
        return text;
    }
    let code = match status {
        None => 90,
        Some(Status::Pass) => 32,
        Some(Status::Warn) => 33,
        Some(Status::Fail) => 31,
        Some(Status::Error) => 35,
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// `text` in lines of at most `width` columns, broken at spaces, else after a `/` (paths and
/// references), else where it must be.
fn wrap(text: &str, width: usize) -> Vec<String> {
    crate::report::table::wrap(text, width, &['/'])
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
    message: &'a crate::message::Message,
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
                esc(&f.message.text())
            ));
        }
        findings.push_str("</ul>");
        // The row's sentence, unless it only repeats a finding's message.
        if !r.findings.iter().any(|f| f.message == *r.detail) {
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

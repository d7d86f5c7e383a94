//! HTML report: one self-contained page to attach to a compliance ticket and read in a browser.
//!
//! Everything is inline — the style sheet, the charts (SVG drawn here, readable without script)
//! and one small script for the status filter and the search box — and a strict
//! Content-Security-Policy allows exactly that style sheet and that script by their SHA-256
//! hashes and nothing else: no network, no other script, no inline style attribute (the charts
//! use SVG presentation attributes, which CSP does not govern). Without script every row is
//! shown and the filter controls stay hidden.
//!
//! Every piece of text that comes from the input goes through `esc`, which drops control and
//! bidirectional-override characters and escapes the five characters HTML gives a meaning
//! (`& < > " '`), in text and in attribute values alike: a repository named `<script>` is text.

use std::io::{self, Write};

use sha2::{Digest, Sha256};

use crate::audit::{Row, Rows};
use crate::catalog::{CATALOG_DATE, REQUIRED};
use crate::finding::{Finding, Status};

use super::{ActionSummary, Breakdown, Counts, Meta};

/// The page's style sheet (allowed by its hash in the CSP).
pub(crate) const STYLE: &str = r#"
:root{--pass:#1a7f37;--warn:#9a6700;--fail:#cf222e;--error:#8250df;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0 auto;max-width:1200px;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:14px;margin:12px 0 4px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--bg);padding:1px 4px;border-radius:4px;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
th{background:var(--bg);font-weight:600}
.meta th{width:190px}
.verdict{font-size:18px;font-weight:600;padding:10px 14px;border-radius:6px;margin:12px 0;color:#fff}
.verdict.pass{background:var(--pass)}.verdict.warn{background:var(--warn)}.verdict.fail{background:var(--fail)}
.tiles{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.tile{border:1px solid var(--line);border-left:6px solid;border-radius:6px;padding:8px 14px;min-width:120px}
.tile .n{font-size:24px;font-weight:700;display:block}
.tile.pass{border-left-color:var(--pass)}.tile.warn{border-left-color:var(--warn)}.tile.fail{border-left-color:var(--fail)}.tile.error{border-left-color:var(--error)}
.st{display:inline-block;font-weight:700;text-transform:uppercase;font-size:11px;padding:1px 6px;border-radius:10px;color:#fff}
.st.pass{background:var(--pass)}.st.warn{background:var(--warn)}.st.fail{background:var(--fail)}.st.error{background:var(--error)}.st.note,.st.not-applicable,.st.removed,.st.unchanged{background:var(--muted)}.st.new,.st.worsened{background:var(--fail)}.st.fixed,.st.improved{background:var(--pass)}
.tile.not-applicable,.tile.removed,.tile.unchanged{border-left-color:var(--muted)}.tile.new,.tile.worsened{border-left-color:var(--fail)}.tile.fixed,.tile.improved{border-left-color:var(--pass)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:8px 24px}
.chart{margin:0}.chart svg{width:100%;max-width:640px;height:auto}
.nw{white-space:nowrap}
table.rows{table-layout:fixed}.c-st{width:76px}.c-repo{width:26%}.c-acct{width:124px}.c-act{width:17%}
.controls{position:sticky;top:0;background:#fff;padding:8px 0;border-bottom:1px solid var(--line);display:flex;gap:16px;align-items:center;flex-wrap:wrap;z-index:1}
.controls input[type=search]{padding:4px 8px;min-width:260px}
.findings{margin:0;padding-left:18px}.findings li{margin-bottom:6px}
.todo{color:var(--muted)}
.muted{color:var(--muted)}
.repo{overflow-wrap:anywhere;font-weight:600}
footer{margin-top:32px;color:var(--muted);font-size:12px}
[hidden]{display:none!important}
@media print{
body{max-width:none;padding:0;font-size:11px}
.controls{display:none!important}
.verdict,.st,.tile{-webkit-print-color-adjust:exact;print-color-adjust:exact}
tr{break-inside:avoid}h2{break-after:avoid}
.charts{grid-template-columns:1fr 1fr}
}
"#;

/// The filter and the search box (allowed by its hash in the CSP). The filter can also be set
/// in the address's fragment, e.g. `report.html#status=fail,error&q=payments`, and is kept there
/// so a filtered view can be shared.
pub(crate) const SCRIPT: &str = r##"
(function(){
var rows=[].slice.call(document.querySelectorAll("tr[data-status]"));
var boxes=[].slice.call(document.querySelectorAll("input[name=status]"));
var q=document.getElementById("q"),shown=document.getElementById("shown");
function apply(){
var on={};boxes.forEach(function(b){on[b.value]=b.checked;});
var t=q.value.trim().toLowerCase(),n=0;
rows.forEach(function(r){var v=on[r.getAttribute("data-status")]&&(!t||r.textContent.toLowerCase().indexOf(t)>=0);r.hidden=!v;if(v)n++;});
document.querySelectorAll("section[data-rows]").forEach(function(s){
var any=s.querySelector("tr[data-status]:not([hidden])");var e=s.querySelector(".none-shown");if(e)e.hidden=!!any||!s.querySelector("tr[data-status]");});
shown.textContent=String(n);
var st=boxes.filter(function(b){return b.checked;}).map(function(b){return b.value;});
var f="status="+st.join(",")+(t?"&q="+encodeURIComponent(t):"");
if(history.replaceState)history.replaceState(null,"","#"+f);
}
function load(){
var h=location.hash.replace(/^#/,""),p={};
h.split("&").forEach(function(kv){var i=kv.indexOf("=");if(i>0)p[kv.slice(0,i)]=decodeURIComponent(kv.slice(i+1));});
if(p.status!==undefined){var s=p.status.split(",");boxes.forEach(function(b){b.checked=s.indexOf(b.value)>=0;});}
if(p.q!==undefined)q.value=p.q;
}
load();
boxes.forEach(function(b){b.addEventListener("change",apply);});
q.addEventListener("input",apply);
document.getElementById("controls").hidden=false;
apply();
})();
"##;

/// Groups a chart shows at most; the rest are summed into one bar.
const CHART_GROUPS: usize = 15;

/// The statuses, worst first: the order of tiles, filters, chart segments and sections.
const WORST_FIRST: [Status; 4] = [Status::Error, Status::Fail, Status::Warn, Status::Pass];

/// The page's head, up to and including `<body>`: the Content-Security-Policy that allows
/// exactly [`STYLE`] and [`SCRIPT`] by their hashes and nothing else, and the style sheet. Every
/// HTML page of the tool (scan, gitpod, diff) starts with it; `title` is escaped here.
pub(crate) fn head(out: &mut dyn Write, title: &str) -> io::Result<()> {
    let csp = format!(
        "default-src 'none'; style-src '{}'; script-src '{}'; img-src 'none'; base-uri 'none'; form-action 'none'",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    );
    writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>")?;
    writeln!(out, "<meta charset=\"utf-8\">")?;
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">"
    )?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(
        out,
        "<meta name=\"generator\" content=\"ecr-audit {}\">",
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(out, "<title>{}</title>", esc(title))?;
    writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>")
}

/// The page's end: the filter script (allowed by its hash) and the closing tags.
pub(crate) fn end(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<script>{SCRIPT}</script>\n</body>\n</html>")
}

pub fn write(rows: &Rows, meta: &Meta, out: &mut dyn Write) -> io::Result<()> {
    let c = Counts::of(rows);
    head(
        out,
        &format!("ECR repository policy audit — {}", meta.generated),
    )?;

    writeln!(out, "<header>\n<h1>ECR repository policy audit</h1>")?;
    writeln!(
        out,
        "<div class=\"muted\">Can the Gitpod installation's account pull from each repository, and is the policy safe?</div>"
    )?;
    let (class, text) = verdict(c);
    writeln!(
        out,
        "<div class=\"verdict {class}\" id=\"verdict\">{text}</div>\n</header>"
    )?;

    writeln!(out, "<section id=\"run\">\n<h2>About this run</h2>")?;
    writeln!(out, "<table class=\"meta\">")?;
    meta_row(out, "Generated (UTC)", &esc(&meta.generated))?;
    meta_row(
        out,
        "Tool",
        &format!("ecr-audit {}", esc(env!("CARGO_PKG_VERSION"))),
    )?;
    meta_row(
        out,
        "ECR action catalog",
        &format!("Service Authorization Reference as of {CATALOG_DATE}"),
    )?;
    meta_row(out, "Audited accounts", &code_list(&meta.accounts))?;
    meta_row(out, "Inputs", &code_list(&meta.inputs))?;
    let t = &meta.tally;
    meta_row(
        out,
        "Records",
        &format!(
            "{} records × {} account{} = <span id=\"total\">{}</span> rows; {} files read, {} skipped (no export shape), {} records folded into another row by a join",
            meta.records,
            meta.accounts.len(),
            if meta.accounts.len() == 1 { "" } else { "s" },
            rows.len(),
            t.files,
            t.skipped,
            t.records_folded()
        ),
    )?;
    if let Some(e) = &meta.evidence {
        meta_row(
            out,
            "Inputs digest (SHA-256)",
            &format!("<code id=\"digest\">{}</code>", esc(&e.digest)),
        )?;
    }
    writeln!(out, "</table>\n</section>")?;

    writeln!(out, "<section id=\"counts\">\n<h2>Verdicts</h2>")?;
    writeln!(out, "<div class=\"tiles\">")?;
    for s in WORST_FIRST {
        writeln!(
            out,
            "<div class=\"tile {0}\"><span class=\"n\" data-count=\"{0}\">{1}</span>{0}</div>",
            s.as_str(),
            c.get(s)
        )?;
    }
    writeln!(out, "</div>")?;
    writeln!(out, "<div class=\"charts\">")?;
    for (id, b) in ["account", "registry", "region"]
        .into_iter()
        .zip(super::breakdowns(rows, CHART_GROUPS))
    {
        chart(out, id, &b)?;
    }
    writeln!(out, "</div>\n</section>")?;

    writeln!(
        out,
        "<div class=\"controls\" id=\"controls\" hidden>\n<strong>Show</strong>"
    )?;
    for s in WORST_FIRST {
        writeln!(
            out,
            "<label><input type=\"checkbox\" name=\"status\" value=\"{0}\" checked> <span class=\"st {0}\">{0}</span></label>",
            s.as_str()
        )?;
    }
    writeln!(
        out,
        "<input type=\"search\" id=\"q\" placeholder=\"Search repository, account, finding…\" aria-label=\"Search rows\">"
    )?;
    writeln!(
        out,
        "<span class=\"muted\"><span id=\"shown\">{}</span> of {} rows shown</span>\n</div>",
        rows.len(),
        rows.len()
    )?;

    if let Some((counts, worse)) = super::since_baseline(rows, meta) {
        writeln!(
            out,
            "<section id=\"baseline\">\n<h2>Since the baseline</h2>\n<div class=\"tiles\">"
        )?;
        for (c, n) in &counts {
            let c = c.as_str();
            writeln!(
                out,
                "<div class=\"tile {c}\"><span class=\"n\">{n}</span>{c}</div>"
            )?;
        }
        writeln!(out, "</div>")?;
        if worse.is_empty() {
            writeln!(out, "<p>No row is new or worse.</p>")?;
        } else {
            writeln!(
                out,
                "<table>\n<thead><tr><th>Change</th><th>Status</th><th>Repository</th><th>Account</th></tr></thead>\n<tbody>"
            )?;
            for (c, r) in worse {
                let (c, s) = (c.as_str(), r.status.as_str());
                writeln!(
                    out,
                    "<tr><td><span class=\"st {c}\">{c}</span></td><td><span class=\"st {s}\">{s}</span></td><td>{}</td><td><code class=\"nw\">{}</code></td></tr>",
                    repository(r),
                    esc(&r.account)
                )?;
            }
            writeln!(out, "</tbody>\n</table>")?;
        }
        writeln!(out, "</section>")?;
    }

    let mut failing: Vec<&Row> = rows.iter().filter(|r| r.status >= Status::Fail).collect();
    failing.sort_by_key(|r| std::cmp::Reverse(r.status));
    detailed_section(
        out,
        "failing",
        "Failing and error rows",
        "Gitpod cannot pull from these repositories (or they could not be judged); each finding says what to do.",
        &failing,
    )?;
    let warnings: Vec<&Row> = rows.iter().filter(|r| r.status == Status::Warn).collect();
    detailed_section(
        out,
        "warnings",
        "Warnings",
        "Gitpod can pull (or may, under conditions), but the policy needs a look.",
        &warnings,
    )?;

    let passing: Vec<&Row> = rows.iter().filter(|r| r.status == Status::Pass).collect();
    writeln!(
        out,
        "<section id=\"passing\" data-rows>\n<h2>Passing repositories ({})</h2>",
        passing.len()
    )?;
    if passing.is_empty() {
        writeln!(out, "<p>None.</p>")?;
    } else {
        writeln!(
            out,
            "<table>\n<thead><tr><th>Repository</th><th>Account</th><th>Source</th><th>Notes</th></tr></thead>\n<tbody>"
        )?;
        for r in &passing {
            let notes: Vec<String> = r
                .codes()
                .iter()
                .map(|c| format!("<code>{}</code>", c.id()))
                .collect();
            writeln!(
                out,
                "<tr data-status=\"pass\"><td class=\"repo\">{}</td><td><code class=\"nw\">{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
                repository(r),
                esc(&r.account),
                esc(&format!("{}:{}", r.source, r.record)),
                if notes.is_empty() {
                    "—".to_owned()
                } else {
                    notes.join(" ")
                }
            )?;
        }
        writeln!(out, "</tbody>\n</table>")?;
        writeln!(
            out,
            "<p class=\"none-shown muted\" hidden>No row matches the filter.</p>"
        )?;
    }
    writeln!(out, "</section>")?;

    if let Some(e) = &meta.evidence {
        writeln!(out, "<section id=\"evidence\">\n<h2>Evidence</h2>")?;
        writeln!(
            out,
            "<p>Inputs digest (SHA-256 of the <code>sha256sum</code> listing of the files below, in this order): <code>{}</code></p>",
            esc(&e.digest)
        )?;
        writeln!(
            out,
            "<table>\n<thead><tr><th>SHA-256</th><th>File</th></tr></thead>\n<tbody>"
        )?;
        for f in &e.files {
            let hash = match &f.sha256 {
                Some(h) => format!("<code>{}</code>", esc(h)),
                None => format!("not hashed: {}", esc(f.note.as_deref().unwrap_or_default())),
            };
            writeln!(
                out,
                "<tr><td>{hash}</td><td><code>{}</code></td></tr>",
                esc(&f.path)
            )?;
        }
        writeln!(out, "</tbody>\n</table>\n</section>")?;
    }

    writeln!(
        out,
        "<footer>Made offline by ecr-audit {} on {}. Statuses: error (could not be judged) &gt; fail &gt; warn &gt; pass; notes never change a status.</footer>",
        esc(env!("CARGO_PKG_VERSION")),
        esc(&meta.generated)
    )?;
    end(out)
}

/// The CSP source expression allowing exactly `text` as an inline `<style>` or `<script>`.
pub(crate) fn csp_hash(text: &str) -> String {
    format!("sha256-{}", base64(&Sha256::digest(text.as_bytes())))
}

/// Standard base64 with padding (RFC 4648 §4), as CSP hashes are written.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(char::from(ABC[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn verdict(c: Counts) -> (&'static str, String) {
    if c.fail + c.error > 0 {
        (
            "fail",
            format!(
                "FAIL: {} row(s) fail, {} row(s) could not be judged",
                c.fail, c.error
            ),
        )
    } else if c.warn > 0 {
        (
            "warn",
            format!(
                "WARN: every repository can be pulled; {} row(s) need a look",
                c.warn
            ),
        )
    } else {
        ("pass", "PASS: every repository can be pulled".into())
    }
}

fn meta_row(out: &mut dyn Write, name: &str, value: &str) -> io::Result<()> {
    writeln!(out, "<tr><th>{name}</th><td>{value}</td></tr>")
}

fn code_list(items: &[String]) -> String {
    if items.is_empty() {
        return "—".into();
    }
    items
        .iter()
        .map(|s| format!("<code>{}</code>", esc(s)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn repository(r: &Row) -> String {
    let label = r.repo.label();
    let name = if label.is_empty() {
        "—".to_owned()
    } else {
        esc(&label)
    };
    if r.repo.name_from_path {
        format!("{name} <span class=\"muted\">(name from the file path)</span>")
    } else {
        name
    }
}

/// A section of rows with every finding and what to do about it.
fn detailed_section(
    out: &mut dyn Write,
    id: &str,
    title: &str,
    intro: &str,
    rows: &[&Row],
) -> io::Result<()> {
    writeln!(
        out,
        "<section id=\"{id}\" data-rows>\n<h2>{title} ({})</h2>",
        rows.len()
    )?;
    if rows.is_empty() {
        return writeln!(out, "<p>None.</p>\n</section>");
    }
    writeln!(out, "<p class=\"muted\">{intro}</p>")?;
    writeln!(
        out,
        "<table class=\"rows\">\n<thead><tr><th class=\"c-st\">Status</th><th class=\"c-repo\">Repository</th><th class=\"c-acct\">Account</th><th class=\"c-act\">Actions</th><th>Findings and what to do</th></tr></thead>\n<tbody>"
    )?;
    for r in rows {
        let s = r.status.as_str();
        writeln!(
            out,
            "<tr data-status=\"{s}\"><td><span class=\"st {s}\">{s}</span></td><td><div class=\"repo\">{}</div><code>{}</code></td><td><code class=\"nw\">{}</code></td><td>{}</td><td>{}</td></tr>",
            repository(r),
            esc(&format!("{}:{}", r.source, r.record)),
            esc(&r.account),
            actions(r),
            findings(&r.findings)
        )?;
    }
    writeln!(out, "</tbody>\n</table>")?;
    writeln!(
        out,
        "<p class=\"none-shown muted\" hidden>No row matches the filter.</p>\n</section>"
    )
}

/// The required actions that are not plainly allowed, by state.
fn actions(r: &Row) -> String {
    match ActionSummary::of(r) {
        ActionSummary::NotJudged => "<span class=\"muted\">not judged</span>".into(),
        ActionSummary::All(state) => format!("all {} {}", REQUIRED.len(), state.as_str()),
        ActionSummary::Parts(parts) => ActionSummary::join_parts(&parts, "<br>"),
    }
}

/// Every finding, most severe first, with its message, statement and what to do.
fn findings(findings: &[Finding]) -> String {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| (std::cmp::Reverse(f.severity()), f.code));
    let mut s = String::from("<ul class=\"findings\">");
    for f in sorted {
        let sev = f.severity().as_str();
        let statement = match &f.statement {
            Some(st) => format!(
                " <span class=\"muted\">({}statement {}{})</span>",
                if st.registry_policy {
                    "registry policy "
                } else {
                    ""
                },
                st.index,
                st.sid
                    .as_deref()
                    .map(|sid| format!(", Sid {}", esc(sid)))
                    .unwrap_or_default()
            ),
            None => String::new(),
        };
        s.push_str(&format!(
            "<li><span class=\"st {sev}\">{sev}</span> <code>{}</code> {}{statement}<br><span class=\"todo\">What to do: {}</span></li>",
            f.code.id(),
            esc(&f.message.text()),
            esc(f.code.help())
        ));
    }
    s.push_str("</ul>");
    s
}

/// A horizontal stacked bar per group (the groups with the most rows first), one segment per
/// status, with the counts written out so the chart reads without colour and without script.
fn chart(out: &mut dyn Write, id: &str, b: &Breakdown) -> io::Result<()> {
    let mut groups: Vec<(String, Counts)> = b.groups.clone();
    if let Some((n, c)) = b.more {
        groups.push((format!("{n} more"), c));
    }
    let max = groups.iter().map(|g| g.1.total()).max().unwrap_or(0).max(1);
    const W: u64 = 560;
    const LABEL: u64 = 150;
    const BAR: u64 = W - LABEL - 48;
    let row_h = 26;
    let height = 28 + groups.len() as u64 * row_h;
    let title = b.title;
    writeln!(out, "<figure class=\"chart\" id=\"chart-{id}\">")?;
    writeln!(out, "<h3>{title}</h3>")?;
    writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {height}\" role=\"img\" aria-label=\"{title}: rows per status\">"
    )?;
    // Legend.
    let mut x = LABEL;
    for s in WORST_FIRST {
        writeln!(
            out,
            "<rect x=\"{x}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"13\" font-size=\"11\" fill=\"#59636e\">{}</text>",
            color(s),
            x + 14,
            s.as_str()
        )?;
        x += 60;
    }
    for (i, (name, c)) in groups.iter().enumerate() {
        let y = 24 + i as u64 * row_h;
        let label: String = if name.chars().count() > 22 {
            format!("{}…", name.chars().take(21).collect::<String>())
        } else {
            name.clone()
        };
        writeln!(
            out,
            "<g><title>{}: {} error, {} fail, {} warn, {} pass</title>",
            esc(name),
            c.error,
            c.fail,
            c.warn,
            c.pass
        )?;
        writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\" fill=\"#1f2328\">{}</text>",
            LABEL - 6,
            y + 14,
            esc(&label)
        )?;
        let mut x = LABEL;
        for s in WORST_FIRST {
            let n = c.get(s);
            if n == 0 {
                continue;
            }
            let w = (n * BAR / max).max(2);
            writeln!(
                out,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"18\" fill=\"{}\"/>",
                color(s)
            )?;
            x += w;
        }
        writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#59636e\">{}</text></g>",
            (x + 4).min(W - 4),
            y + 13,
            c.total()
        )?;
    }
    writeln!(out, "</svg>\n</figure>")
}

fn color(s: Status) -> &'static str {
    match s {
        Status::Pass => "#1a7f37",
        Status::Warn => "#9a6700",
        Status::Fail => "#cf222e",
        Status::Error => "#8250df",
    }
}

/// Input-derived text made inert in HTML text and in quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if super::sanitize::is_hidden(c) => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_makes_markup_text() {
        assert_eq!(
            esc("<img src=x onerror=\"a('1')\">&"),
            "&lt;img src=x onerror=&quot;a(&#39;1&#39;)&quot;&gt;&amp;"
        );
        assert_eq!(esc("a\u{202e}b\u{1b}[1m"), "ab[1m");
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }

    #[test]
    fn the_page_allows_exactly_its_own_style_and_script() {
        let meta = Meta {
            accounts: vec!["111122223333".into()],
            inputs: vec!["x".into()],
            records: 0,
            elapsed: std::time::Duration::ZERO,
            generated: "2026-01-01T00:00:00Z".into(),
            evidence: None,
            tally: Default::default(),
            counts: None,
            baseline: None,
            suppressions: Vec::new(),
        };
        let mut out = Vec::new();
        write(&Rows::new(), &meta, &mut out).expect("write");
        let page = String::from_utf8(out).expect("utf-8");
        assert!(page.contains(&format!("style-src '{}'", csp_hash(STYLE))));
        assert!(page.contains(&format!("script-src '{}'", csp_hash(SCRIPT))));
        assert!(page.contains(&format!("<style>{STYLE}</style>")));
        assert!(page.contains(&format!("<script>{SCRIPT}</script>")));
        assert!(!page.contains("unsafe-inline"));
        assert!(
            !page.contains(" style=\""),
            "inline style attributes break the CSP"
        );
        assert!(
            !page.contains("src=") && !page.contains("href="),
            "nothing is loaded"
        );
    }
}

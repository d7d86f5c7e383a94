//! The HTML report in a real browser: headless Chromium (Debian's `chromium`, which `.ci/run`
//! installs when missing) loads the report, runs its script under its own Content-Security-Policy
//! and prints the resulting DOM (`--dump-dom`); the console goes to standard error
//! (`--enable-logging=stderr`), where every script error and every CSP violation shows as a
//! `CONSOLE` line. The page is checked against the JSON report of the same inputs.
//!
//! Set `CHROMIUM` to use another binary. Without a browser the tests fail (CI must run them);
//! `ECR_AUDIT_SKIP_BROWSER=1` skips them on a machine that cannot have one.

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use util::{ACCOUNT, Tree, scan_in};

fn chromium() -> Option<PathBuf> {
    if std::env::var_os("ECR_AUDIT_SKIP_BROWSER").is_some_and(|v| v == "1") {
        return None;
    }
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "no browser at {} (apt-get install chromium, set CHROMIUM, or ECR_AUDIT_SKIP_BROWSER=1)",
        path.display()
    );
    Some(path)
}

/// What the browser made of a page: its DOM after the script ran, and its console lines.
struct Rendered {
    dom: String,
    console: Vec<String>,
}

/// Loads `file` (with `fragment`, e.g. `status=fail`) in headless Chromium with a fresh profile,
/// lets the page's script run, and returns the DOM and the console.
fn render(browser: &Path, file: &Path, fragment: &str) -> Rendered {
    let profile = tempfile::tempdir().expect("profile dir");
    let url = format!("file://{}#{fragment}", file.display());
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    // A guard against a browser that hangs, not a timed assertion.
    let deadline = Instant::now() + Duration::from_secs(180);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish loading {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("chromium output");
    assert!(out.status.success(), "chromium failed on {url}");
    let dom = String::from_utf8(out.stdout).expect("DOM is UTF-8");
    assert!(dom.contains("</html>"), "no DOM for {url}");
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    Rendered { dom, console }
}

/// The opening tags of the report's rows, `(status, shown)`, in page order.
fn rows(dom: &str) -> Vec<(String, bool)> {
    dom.split("<tr data-status=\"")
        .skip(1)
        .map(|rest| {
            let tag = &rest[..rest.find('>').expect("tag end")];
            let status = tag[..tag.find('"').expect("quote")].to_owned();
            (status, !tag.contains(" hidden"))
        })
        .collect()
}

/// The number in `<span id="ID">N</span>` or `<span … data-count="ID">N</span>`.
fn number_after(dom: &str, marker: &str) -> u64 {
    let at = dom
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in DOM"));
    let rest = &dom[at..];
    let rest = &rest[rest.find('>').expect("tag end") + 1..];
    rest[..rest.find('<').expect("text end")]
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{marker}: {e}"))
}

#[test]
fn sample_report_renders_the_json_reports_counts_and_rows_and_its_filter_narrows_them() {
    let Some(browser) = chromium() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let json = scan_in(
        root,
        &["testdata/export", "--account", ACCOUNT, "--format", "json"],
    );
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    let out = tempfile::tempdir().expect("out dir");
    let page = out.path().join("report.html");
    let run = scan_in(
        root,
        &[
            "testdata/export",
            "--account",
            ACCOUNT,
            "--format",
            "html",
            "-o",
            page.to_str().expect("utf-8 path"),
        ],
    );
    assert!(page.exists(), "{}", String::from_utf8_lossy(&run.stderr));

    let all = render(&browser, &page, "");
    assert!(all.console.is_empty(), "{:#?}", all.console);
    // The script ran: it reveals the controls it drives.
    assert!(
        all.dom.contains("id=\"controls\">"),
        "controls still hidden"
    );
    let results = json["results"].as_array().expect("results");
    let shown = rows(&all.dom);
    assert_eq!(shown.len(), results.len());
    assert!(shown.iter().all(|(_, visible)| *visible));
    for status in ["pass", "warn", "fail", "error"] {
        let want = json["summary"][status].as_u64().expect("count");
        assert!(
            want > 0 || status == "error",
            "the sample has {status} rows"
        );
        assert_eq!(
            number_after(&all.dom, &format!("data-count=\"{status}\"")),
            want,
            "{status} tile"
        );
        assert_eq!(
            shown.iter().filter(|(s, _)| s == status).count() as u64,
            want,
            "{status} rows"
        );
    }
    assert_eq!(number_after(&all.dom, "id=\"shown\""), results.len() as u64);
    for r in results {
        let source = format!(
            "{}:{}",
            r["source"].as_str().expect("source"),
            r["record"].as_u64().expect("record")
        );
        assert!(all.dom.contains(&source), "{source} not in the page");
        if let Some(name) = r["repository"].as_str() {
            assert!(all.dom.contains(name), "{name} not in the page");
        }
    }

    // The filter, set as a shared link would: only failing rows remain.
    let fail = json["summary"]["fail"].as_u64().expect("fail");
    let failing = render(&browser, &page, "status=fail");
    assert!(failing.console.is_empty(), "{:#?}", failing.console);
    let shown = rows(&failing.dom);
    assert_eq!(shown.len(), results.len());
    let visible: Vec<&String> = shown.iter().filter(|(_, v)| *v).map(|(s, _)| s).collect();
    assert_eq!(visible.len() as u64, fail);
    assert!(visible.iter().all(|s| *s == "fail"));
    assert_eq!(number_after(&failing.dom, "id=\"shown\""), fail);

    // The search box narrows to the rows that mention the text.
    let needle = "payments-api";
    let matching = results
        .iter()
        .filter(|r| r["repository"].as_str().is_some_and(|n| n.contains(needle)))
        .count();
    assert!(matching > 0 && matching < results.len());
    let searched = render(&browser, &page, &format!("q={needle}"));
    assert!(searched.console.is_empty(), "{:#?}", searched.console);
    assert_eq!(
        rows(&searched.dom).iter().filter(|(_, v)| *v).count(),
        matching
    );
}

#[test]
fn a_repository_name_with_markup_stays_text_in_the_browser() {
    let Some(browser) = chromium() else { return };
    let name = "<img src=x onerror=\"document.title='pwned'\"><b id=\"injected\">bold</b>";
    let doc = serde_json::json!({
        "registryId": "123456789012",
        "repositoryName": name,
        "policyText": util::documented_policy(ACCOUNT),
    });
    let tree = Tree::new();
    tree.file("evil.json", doc.to_string());
    let run = scan_in(
        tree.path(),
        &[
            ".",
            "--account",
            ACCOUNT,
            "--format",
            "html",
            "-o",
            "report.html",
        ],
    );
    let page = tree.join("report.html");
    assert!(page.exists(), "{}", String::from_utf8_lossy(&run.stderr));
    let r = render(&browser, &page, "");
    // An image element would have tried to load `x` and been refused by the CSP (a console line).
    assert!(r.console.is_empty(), "{:#?}", r.console);
    assert!(
        !r.dom.contains("<b id=\"injected\""),
        "markup became an element"
    );
    assert!(!r.dom.contains("<img"), "markup became an element");
    assert!(r.dom.contains("&lt;b id=\"injected\"&gt;bold&lt;/b&gt;"));
    assert!(!r.dom.contains("<title>pwned"));
}

/// Issue 14: `gitpod --format html` in the browser: its rows and counts are the JSON report's,
/// the filter narrows them (not-applicable rows included), the documentation's placeholder
/// image stays text, and the page logs no script error or CSP violation.
#[test]
fn gitpod_report_renders_the_json_reports_rows_and_its_filter_narrows_them() {
    let Some(browser) = chromium() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tree = Tree::new();
    let page = tree.join("gitpod.html");
    let gitpod = |format: &str, out: Option<&Path>| {
        let mut cmd = util::ecr_audit();
        cmd.current_dir(root).args([
            "gitpod",
            "testdata/gitpod",
            "--export",
            "testdata/export",
            "--account",
            ACCOUNT,
            "--format",
            format,
            "--fail-on",
            "never",
            "--progress",
            "never",
        ]);
        if let Some(out) = out {
            cmd.arg("-o").arg(out);
        }
        cmd.output().expect("gitpod")
    };
    let json: serde_json::Value =
        serde_json::from_slice(&gitpod("json", None).stdout).expect("gitpod json");
    let results = json["results"].as_array().expect("results");
    let run = gitpod("html", Some(&page));
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let all = render(&browser, &page, "");
    assert!(all.console.is_empty(), "{:#?}", all.console);
    let shown = rows(&all.dom);
    assert_eq!(shown.len(), results.len());
    assert!(shown.iter().all(|(_, visible)| *visible));
    for status in ["error", "fail", "warn", "pass", "not-applicable"] {
        let want = results.iter().filter(|r| r["status"] == status).count();
        let got = shown.iter().filter(|(s, _)| s == status).count();
        assert_eq!(got, want, "{status}");
    }
    assert!(
        all.dom.contains("&lt;aws-ecr-url-prefix&gt;"),
        "placeholder escaped"
    );
    assert!(!all.dom.contains("<aws-ecr-url-prefix>"));

    let failing = render(&browser, &page, "status=fail,error");
    assert!(failing.console.is_empty(), "{:#?}", failing.console);
    let visible: Vec<_> = rows(&failing.dom).into_iter().filter(|(_, v)| *v).collect();
    let want = results
        .iter()
        .filter(|r| r["status"] == "fail" || r["status"] == "error")
        .count();
    assert_eq!(visible.len(), want);
    assert!(want > 0 && want < results.len());
    assert_eq!(number_after(&failing.dom, "id=\"shown\""), want as u64);
}

/// Issue 15: `diff --format html` in the browser: one row per change but `unchanged`, as the
/// JSON diff counts them; the filter narrows them by change; no script error or CSP violation.
#[test]
fn diff_report_renders_the_changes_and_its_filter_narrows_them() {
    let Some(browser) = chromium() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tree = Tree::new();
    let scan = |folder: &str, name: &str| {
        let out = tree.join(name);
        let run = util::ecr_audit()
            .current_dir(root)
            .args(["scan", folder, "--account", ACCOUNT, "--format", "json"])
            .args(["--fail-on", "never", "--progress", "never", "-o"])
            .arg(&out)
            .output()
            .expect("scan");
        assert!(out.exists(), "{}", String::from_utf8_lossy(&run.stderr));
        out
    };
    let old = scan("testdata/export/bulk", "old.json");
    let new = scan("testdata/export", "new.json");
    let diff = |format: &str| {
        util::ecr_audit()
            .arg("diff")
            .arg(&old)
            .arg(&new)
            .args(["--format", format])
            .output()
            .expect("diff")
    };
    let json: serde_json::Value = serde_json::from_slice(&diff("json").stdout).expect("diff json");
    let changed = json["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["change"] != "unchanged")
        .count();
    let new_rows = json["summary"]["new"].as_u64().expect("new");
    assert!(new_rows > 0 && (new_rows as usize) < changed + 1);
    let page = tree.join("diff.html");
    std::fs::write(&page, diff("html").stdout).expect("write page");

    let all = render(&browser, &page, "");
    assert!(all.console.is_empty(), "{:#?}", all.console);
    assert_eq!(rows(&all.dom).len(), changed);
    let only_new = render(&browser, &page, "status=new");
    assert!(only_new.console.is_empty(), "{:#?}", only_new.console);
    let visible = rows(&only_new.dom).into_iter().filter(|(_, v)| *v).count();
    assert_eq!(visible as u64, new_rows);
}

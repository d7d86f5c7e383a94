//! Where reports go: files with the mode a user expects, links followed, `-o -`, a missing folder
//! found before the scan, stale temporary files cleaned up, a closed standard output reported;
//! and the one summary line on standard error.

mod util;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Output};

use util::{ACCOUNT, Tree, documented_policy, ecr_audit};

/// A tree with one passing and one failing repository, and a YAML file the walk skips with a
/// note (so the note shows whether the walk ran).
fn sample() -> Tree {
    let t = Tree::new();
    t.file("in/ok.json", documented_policy(ACCOUNT));
    t.file("in/bad.json", r#"{"Version":"2012-10-17","Statement":[]}"#);
    t.file("in/unrelated.yaml", "name: not an export\n");
    t
}

/// `ecr-audit scan in --account A ARGS...` in the tree, through `sh -c` so that a test can set
/// the umask or close a descriptor first (`prelude`).
fn scan_sh(t: &Tree, prelude: &str, args: &[&str]) -> Output {
    let bin = ecr_audit().get_program().to_owned();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("{prelude} exec \"$0\" \"$@\""))
        .arg(bin)
        .args(["scan", "in", "--account", ACCOUNT])
        .args(args)
        .args(if args.contains(&"--progress") {
            &[][..]
        } else {
            &["--progress", "never"][..]
        })
        .current_dir(t.path())
        .env("NO_COLOR", "1")
        .env_remove("ECR_AUDIT_ACCOUNT");
    cmd.output().expect("run sh")
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_new_report_file_gets_the_mode_the_umask_leaves() {
    let t = sample();
    for (umask, want) in [("022", 0o644), ("027", 0o640), ("002", 0o664)] {
        let name = format!("r{umask}.csv");
        let out = scan_sh(
            &t,
            &format!("umask {umask};"),
            &["--format", "csv", "-o", &name],
        );
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_eq!(mode(&t.join(&name)), want, "umask {umask}");
    }
}

#[test]
fn a_replaced_report_keeps_the_replaced_files_mode() {
    let t = sample();
    t.file("r.csv", "old");
    std::fs::set_permissions(t.join("r.csv"), std::fs::Permissions::from_mode(0o604))
        .expect("chmod");
    let out = scan_sh(&t, "umask 077;", &["--format", "csv", "-o", "r.csv"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(mode(&t.join("r.csv")), 0o604);
    assert!(
        std::fs::read_to_string(t.join("r.csv"))
            .expect("read")
            .starts_with("source,")
    );
}

#[test]
fn output_onto_a_symbolic_link_writes_the_links_target() {
    let t = sample();
    std::fs::create_dir(t.join("reports")).expect("mkdir");
    t.file("reports/latest.json", "old");
    symlink("reports/latest.json", t.join("link.json")).expect("symlink");
    // A dangling link: its target is created.
    symlink("reports/new.json", t.join("dangling.json")).expect("symlink");
    for link in ["link.json", "dangling.json"] {
        let out = scan_sh(&t, "", &["--format", "json", "-o", link]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let meta = std::fs::symlink_metadata(t.join(link)).expect("link");
        assert!(meta.file_type().is_symlink(), "{link} replaced by a file");
    }
    for target in ["reports/latest.json", "reports/new.json"] {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(t.join(target)).expect("read"))
                .expect("JSON report");
        assert_eq!(doc["summary"]["fail"], 1, "{target}");
    }
}

#[test]
fn output_dash_is_standard_output() {
    let t = sample();
    let out = scan_sh(&t, "", &["--format", "csv", "-o", "-"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("source,record,"));
    assert!(!t.join("-").exists(), "a file named - was written");
    assert!(stderr(&out).contains("csv report written to standard output"));
}

#[test]
fn a_missing_output_folder_is_found_before_the_scan_and_named() {
    let t = sample();
    let out = scan_sh(&t, "", &["--format", "csv", "-o", "missing-dir/x.csv"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("missing-dir/x.csv"), "{err}");
    assert!(!err.contains("tmp"), "names a temporary file: {err}");
    // The walk never ran: it would have noted the skipped YAML file.
    assert!(!err.contains("unrelated.yaml"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_later_run_removes_a_stale_temporary_file_of_its_own_and_nothing_else() {
    let t = sample();
    // No process has this ID (Linux's pid_max is at most 2^22): a killed run's leftover.
    let stale = ".r.json.ecr-audit-tmp.999999999";
    // Process 1 runs: a concurrent writer's file is left alone, as is another report's.
    let live = ".r.json.ecr-audit-tmp.1";
    let other = ".s.json.ecr-audit-tmp.999999999";
    for f in [stale, live, other] {
        t.file(f, "partial");
    }
    let out = scan_sh(&t, "", &["--format", "json", "-o", "r.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!t.join(stale).exists());
    assert!(t.join(live).exists());
    assert!(t.join(other).exists());
    let left: Vec<String> = std::fs::read_dir(t.path())
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("ecr-audit-tmp") && n != live && n != other)
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_closed_standard_output_is_exit_2_with_a_message() {
    let t = sample();
    let out = scan_sh(&t, "exec >&-;", &["--format", "csv", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("standard output is closed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn one_summary_line_on_stderr_unless_the_table_goes_to_the_terminal_or_quiet() {
    let t = sample();
    let summary = |o: &Output| {
        stderr(o)
            .lines()
            .filter(|l| l.starts_with("ecr-audit: "))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let to_file = scan_sh(&t, "", &["--format", "csv", "-o", "r.csv"]);
    let lines = summary(&to_file);
    assert_eq!(lines.len(), 1, "{}", stderr(&to_file));
    assert!(
        lines[0].starts_with("ecr-audit: 2 rows: 1 pass, 0 warn, 1 fail, 0 error in "),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].ends_with(" s; csv report written to r.csv"),
        "{}",
        lines[0]
    );
    let json_out = scan_sh(&t, "", &["--format", "json"]);
    assert_eq!(summary(&json_out).len(), 1);
    let table_out = scan_sh(&t, "", &[]);
    assert!(summary(&table_out).is_empty(), "{}", stderr(&table_out));
    let table_file = scan_sh(&t, "", &["-o", "t.txt"]);
    assert_eq!(summary(&table_file).len(), 1);
    let quiet = scan_sh(&t, "", &["--format", "csv", "-o", "q.csv", "--quiet"]);
    assert!(summary(&quiet).is_empty(), "{}", stderr(&quiet));
    assert!(t.join("q.csv").exists());
}

#[test]
fn progress_always_into_a_log_writes_no_carriage_return_frames() {
    let t = sample();
    for i in 0..300 {
        t.file(&format!("in/many/r{i}.json"), documented_policy(ACCOUNT));
    }
    let out = scan_sh(
        &t,
        "",
        &["--format", "csv", "-o", "r.csv", "--progress", "always"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(!err.contains('\r'), "{err:?}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
    // Any progress line is a whole line with the counts and a rounded rate.
    for line in err.lines().filter(|l| l.contains("files done")) {
        assert!(line.contains(" files/s"), "{line}");
    }
}

/// `-o` onto a FIFO (or a device such as `/dev/null`) writes into it and never replaces it: the
/// atomic rename that protects a report file would turn `/dev/null` into a regular file for
/// every program on the machine.
#[test]
fn output_onto_a_fifo_writes_into_it_and_leaves_it_a_fifo() {
    use std::os::unix::fs::FileTypeExt;
    let t = sample();
    let fifo = t.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    // A reader drains the FIFO while the scan writes into it.
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).expect("read fifo"))
    };
    let out = scan_sh(&t, "", &["--format", "json", "-o", "pipe"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = reader.join().expect("reader");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON report");
    assert_eq!(doc["summary"]["fail"], 1);
    let meta = std::fs::symlink_metadata(&fifo).expect("fifo");
    assert!(meta.file_type().is_fifo(), "the FIFO was replaced");
    // (A device such as /dev/null takes the same path; it is not tried here, since a regression
    // would break /dev/null for every other test on the machine.)
}

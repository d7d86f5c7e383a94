//! End to end (issue 3): a folder of broken and hostile files among good ones. The run ends
//! normally, every good record is reported, and each bad file is one error row naming it.

mod util;

use util::{ACCOUNT, Tree, documented_policy, row, scan_csv};

#[test]
fn a_folder_of_hostile_files_never_stops_the_run_and_loses_nothing() {
    let t = Tree::new();
    let good = documented_policy(ACCOUNT);
    t.file("good.json", &good)
        .file("bom.json", format!("\u{feff}{good}"))
        .file("crlf.json", good.replace('\n', "\r\n"))
        .file("empty.json", "")
        .file("blank.jsonl", " \n\t\r\n")
        .file("latin1.json", b"{\"Statement\": \"caf\xe9\"}")
        .file(
            "binary.json",
            (0..2048u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
                .collect::<Vec<u8>>(),
        )
        .file(
            "deep.json",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        )
        .file(
            "dup.json",
            r#"{"repositoryName":"a","repositoryName":"b","policyText":"{}"}"#,
        )
        .file("nulls.json", "[null, {\"repositoryName\": null}]")
        .file(
            "lines.jsonl",
            format!(
                "{{\"repositoryName\":\"x\",\"policyText\":{}}}\n{{broken\n",
                serde_json::to_string(&good).expect("string")
            ),
        );
    let bytes = {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(good.as_bytes()).expect("gzip");
        enc.finish().expect("gzip")
    };
    t.file("cut.json.gz", &bytes[..bytes.len() / 2]);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(t.path(), t.join("loop")).expect("symlink");
        std::os::unix::fs::symlink(t.join("missing.json"), t.join("dangling.json"))
            .expect("symlink");
        let _ = std::process::Command::new("mkfifo")
            .arg(t.join("pipe.json"))
            .status();
    }
    let (code, rows, stderr) = scan_csv(&t, &[]);
    assert_eq!(code, 1, "{stderr}");
    for (file, status) in [
        ("good.json", "pass"),
        ("bom.json", "pass"),
        ("crlf.json", "pass"),
        ("empty.json", "error"),
        ("blank.jsonl", "error"),
        ("latin1.json", "error"),
        ("binary.json", "error"),
        ("deep.json", "error"),
        ("dup.json", "error"),
        ("cut.json.gz", "error"),
        ("lines.jsonl", "pass"),
    ] {
        let r = row(&rows, &format!("/{file}"), 1);
        assert_eq!(r["status"], status, "{file}: {r:#?}");
        if status == "error" {
            assert!(
                !r["detail"].is_empty() && !r["findings"].is_empty(),
                "{r:#?}"
            );
        }
    }
    assert_eq!(row(&rows, "/lines.jsonl", 2)["findings"], "invalid-json");
    assert!(row(&rows, "/lines.jsonl", 2)["detail"].starts_with("line 2 "));
    assert_eq!(row(&rows, "/nulls.json", 1)["status"], "error");
    assert_eq!(row(&rows, "/nulls.json", 2)["status"], "error");
    #[cfg(unix)]
    {
        assert!(row(&rows, "/loop", 1)["detail"].starts_with("symbolic link loop"));
        assert!(row(&rows, "/dangling.json", 1)["detail"].starts_with("broken symbolic link"));
        assert!(!rows.iter().any(|r| r["source"].ends_with("pipe.json")));
    }
}

/// A file of garbage cannot fill the memory with rows that say the same: past 10,000 error
/// records that name no repository, the rest of the file's errors are one closing error row
/// with their count and numbers. Good records among them stay rows, and errors that name their
/// repository (an export script's access-denied marker) are never counted away.
#[test]
fn a_file_of_garbage_records_gives_ten_thousand_error_rows_and_one_that_counts_the_rest() {
    let t = Tree::new();
    let good = serde_json::to_string(&documented_policy(ACCOUNT)).expect("json");
    let mut lines: Vec<String> = (0..10_050).map(|_| "1".to_owned()).collect();
    lines.push(format!(
        r#"{{"registryId":"444455556666","repositoryName":"kept","policyText":{good}}}"#
    ));
    lines.push(
        r#"{"__type":"AccessDeniedException","registryId":"444455556666","repositoryName":"denied","message":"no"}"#
            .to_owned(),
    );
    lines.push("2".to_owned());
    t.file("garbage.jsonl", lines.join("\n"));
    let (_, rows, _) = scan_csv(&t, &[]);
    // 10,000 error rows, the good record, the marker naming its repository, and the count.
    assert_eq!(rows.len(), 10_003, "{}", rows.len());
    let summary = row(&rows, "garbage.jsonl", 10_001);
    assert_eq!(summary["status"], "error");
    assert!(
        summary["detail"].starts_with("51 more records of this file, records 10001 to 10053"),
        "{summary:?}"
    );
    let kept = row(&rows, "garbage.jsonl", 10_051);
    assert_eq!(kept["status"], "pass", "{kept:?}");
    let denied = row(&rows, "garbage.jsonl", 10_052);
    assert_eq!(denied["repository"], "denied", "{denied:?}");
    // Below the limit every error is a row of its own.
    t.file("garbage.jsonl", vec!["1"; 50].join("\n"));
    let (_, rows, _) = scan_csv(&t, &[]);
    assert_eq!(rows.len(), 50);
}

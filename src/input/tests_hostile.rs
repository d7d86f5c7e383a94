//! Hostile and broken input (issue 3): whatever the bytes, reading ends, every other record is
//! kept, and the bad one is an error record naming the place and the problem.

use std::io::{BufReader, Read};

use super::read::{Appended, Line, LineReader};
use super::*;

/// Reads `bytes` named `name`, returning the records and the outcome.
fn read_any(name: &str, bytes: impl AsRef<[u8]>) -> (Vec<Record>, Outcome) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    fs::write(&path, bytes).expect("write");
    read_all(&named_source(&path))
}

fn line_of(policy_name: &str) -> String {
    format!(
        "{{\"registryId\":\"444455556666\",\"repositoryName\":\"{policy_name}\",\"policyText\":{}}}",
        quoted(GITPOD)
    )
}

/// A reader that makes `lines` JSON Lines on the fly, so a test can stream many megabytes
/// without holding them.
struct Generated {
    next: usize,
    lines: usize,
    pending: Vec<u8>,
    at: usize,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.pending.len() {
            if self.next == self.lines {
                return Ok(0);
            }
            self.pending = format!("{}\r\n", line_of(&format!("repo-{}", self.next))).into_bytes();
            self.at = 0;
            self.next += 1;
        }
        let n = buf.len().min(self.pending.len() - self.at);
        buf[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn the_line_reader_holds_one_line_whatever_the_file_size() {
    // About 40 MB of JSON Lines, generated as read: the reader's buffer stays at one line.
    let lines = 100_000;
    let source = Generated {
        next: 0,
        lines,
        pending: Vec::new(),
        at: 0,
    };
    let mut reader = LineReader::new(BufReader::with_capacity(8192, source), 1 << 20);
    let (mut count, mut bytes, mut most_held) = (0usize, 0usize, 0usize);
    while let Some(line) = reader.next_line().expect("read") {
        let Line::Bytes(b) = line else {
            panic!("no line is too long")
        };
        assert!(!b.ends_with(b"\r"), "CRLF is stripped");
        bytes += b.len();
        count += 1;
        most_held = most_held.max(reader.held());
    }
    assert_eq!(count, lines);
    assert!(bytes > 30_000_000, "{bytes}");
    // One line is about 400 bytes; the buffer never grows towards the file size.
    assert!(most_held < 4096, "held {most_held} bytes");
}

#[test]
fn an_over_long_line_is_dropped_without_being_held_and_reading_goes_on() {
    let text = format!(
        "{}\n{}\n{}\n",
        line_of("a"),
        "x".repeat(100_000),
        line_of("c")
    );
    let mut reader = LineReader::new(text.as_bytes(), 1000);
    assert!(matches!(reader.next_line(), Ok(Some(Line::Bytes(_)))));
    assert_eq!(
        reader.next_line().expect("read"),
        Some(Line::TooLong { len: 100_000 })
    );
    assert!(reader.held() <= 1000, "{}", reader.held());
    assert!(matches!(reader.next_line(), Ok(Some(Line::Bytes(_)))));
    assert_eq!(reader.next_line().expect("read"), None);
}

/// A JSON Lines block reads its lines into one buffer (`stream::Lines`): each line is appended
/// after the ones before, without its line ending; an over-long one appends nothing and leaves
/// the buffer as it was, its room given back.
#[test]
fn lines_are_appended_to_the_callers_buffer_and_an_over_long_one_leaves_it_as_it_was() {
    let text = format!(
        "{}\r\n{}\n\n{}",
        line_of("a"),
        "x".repeat(100_000),
        line_of("c")
    );
    for capacity in [16, 8192] {
        let mut reader = LineReader::new(BufReader::with_capacity(capacity, text.as_bytes()), 1000);
        let mut out = b"before|".to_vec();
        assert_eq!(
            reader.next_line_into(&mut out).expect("read"),
            Some(Appended::Line)
        );
        let first = format!("before|{}", line_of("a"));
        assert_eq!(out, first.as_bytes());
        assert_eq!(
            reader.next_line_into(&mut out).expect("read"),
            Some(Appended::TooLong { len: 100_000 })
        );
        assert_eq!(out, first.as_bytes());
        assert!(
            out.capacity() <= 2 * first.len().max(1000),
            "{}",
            out.capacity()
        );
        assert_eq!(
            reader.next_line_into(&mut out).expect("read"),
            Some(Appended::Line)
        );
        assert_eq!(out, first.as_bytes(), "a blank line appends nothing");
        assert_eq!(
            reader.next_line_into(&mut out).expect("read"),
            Some(Appended::Line)
        );
        assert_eq!(out, format!("{first}{}", line_of("c")).as_bytes());
        assert_eq!(reader.next_line_into(&mut out).expect("read"), None);
    }
}

#[test]
fn a_large_json_lines_file_is_streamed_record_by_record() {
    let lines: Vec<String> = (0..20_000).map(|i| line_of(&format!("r{i}"))).collect();
    let (records, _) = read_any("big.jsonl", lines.join("\n"));
    assert_eq!(records.len(), 20_000);
    assert_eq!(records[19_999].record, 20_000);
    assert_eq!(records[19_999].repo.repository.as_deref(), Some("r19999"));
}

#[test]
fn a_streamed_line_over_the_cap_is_an_error_and_the_others_are_read() {
    let text = format!("{}\n{}\n{}\n", line_of("a"), "[".repeat(5000), line_of("c"));
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("x.jsonl");
    fs::write(&path, text).expect("write");
    let (records, _) = read_capped(&named_source(&path), 1024);
    assert_eq!(records.len(), 3);
    let (code, message) = err(&records[1]);
    assert_eq!(code, Code::InvalidJson);
    assert!(
        message.starts_with("line 2 is 5000 bytes long, over the 1 KiB"),
        "{message}"
    );
    assert_eq!(records[2].repo.repository.as_deref(), Some("c"));
}

#[test]
fn a_streamed_gzip_bomb_is_capped_and_says_so_after_the_good_lines() {
    let mut text = format!("{}\n", line_of("a"));
    text.push_str(&" ".repeat(1 << 20));
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("bomb.jsonl.gz");
    fs::write(&path, gzip(text.as_bytes())).expect("write");
    let (records, _) = read_capped(&named_source(&path), 64 * 1024);
    assert_eq!(records.len(), 2, "{records:#?}");
    assert_eq!(records[0].repo.repository.as_deref(), Some("a"));
    let (code, message) = err(&records[1]);
    assert_eq!(code, Code::Unreadable);
    assert!(
        message.contains("decompressed size exceeds 64 KiB"),
        "{message}"
    );
}

#[test]
fn a_truncated_streamed_gzip_keeps_the_lines_before_the_damage() {
    let lines: Vec<String> = (0..2000).map(|i| line_of(&format!("r{i}"))).collect();
    let bytes = gzip(lines.join("\n").as_bytes());
    let (records, _) = read_any("cut.jsonl.gz", &bytes[..bytes.len() * 3 / 4]);
    let last = records.last().expect("records");
    let (code, message) = err(last);
    assert_eq!(code, Code::Unreadable);
    assert!(
        message.starts_with("damaged gzip data at line "),
        "{message}"
    );
    assert!(records.len() > 100, "{} records kept", records.len());
    assert!(
        records[..records.len() - 1]
            .iter()
            .all(|r| matches!(r.body, Body::Policy(_)))
    );
}

#[test]
fn json_lines_with_a_bom_crlf_and_a_line_of_bad_utf8() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(line_of("a").as_bytes());
    bytes.extend(b"\r\n{\"repositoryName\":\"caf\xE9\"}\r\n");
    bytes.extend(line_of("c").as_bytes());
    bytes.extend(b"\r\n");
    let (records, _) = read_any("x.ndjson", bytes);
    assert_eq!(records.len(), 3, "{records:#?}");
    assert_eq!(records[0].repo.repository.as_deref(), Some("a"));
    let (code, message) = err(&records[1]);
    assert_eq!(code, Code::Unreadable);
    assert!(
        message.starts_with("line 2 is not UTF-8 at byte 22"),
        "{message}"
    );
    assert_eq!(records[2].record, 3);
}

#[test]
fn empty_and_whitespace_only_json_lines_are_one_invalid_json_record() {
    for body in ["", " \r\n\t\n"] {
        let (records, _) = read_any("empty.jsonl", body);
        let r = one(records);
        assert_eq!(err(&r), (Code::InvalidJson, "file is empty"));
    }
}

#[test]
fn binary_data_is_one_error_record() {
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for name in [
        "blob.json",
        "blob.jsonl",
        "blob.yaml",
        "blob.csv",
        "blob.template",
    ] {
        let (records, _) = read_any(name, &bytes);
        assert!(!records.is_empty(), "{name}");
        for r in &records {
            assert!(matches!(r.body, Body::Error { .. }), "{name}: {r:?}");
        }
    }
}

#[test]
fn deep_nesting_in_every_shape_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let texts = [
        format!(r#"{{"format_version":"1.0","values":{{"root_module":{{"resources":{deep}}}}}}}"#),
        format!(r#"{{"format_version":"1.2","resource_changes":[{deep}]}}"#),
        format!(
            r#"{{"Resources":{{"R":{{"Type":"AWS::ECR::Repository","Properties":{{"RepositoryPolicyText":{{"Statement":{deep}}}}}}}}}}}"#
        ),
        format!(r#"{{"rows":[{{"name":"a","registry_id":"1","policy":{deep}}}]}}"#),
        format!("Resources:\n  R:\n    Type: {}\n", "[".repeat(20_000)),
        format!("Resources:\n  R: {}\n", "- ".repeat(20_000)),
    ];
    for (i, text) in texts.iter().enumerate() {
        let (records, _) = read_any("deep.template", text);
        assert!(!records.is_empty(), "text {i}");
        // The policy parser's own depth limit takes what the input layer passes on.
        for r in records {
            if let Body::Policy(p) = &r.body {
                assert!(crate::policy::parse(&p.text()).is_err(), "text {i}");
            }
        }
    }
}

#[test]
fn null_everywhere_never_panics_and_each_record_says_what_is_wrong() {
    let texts = [
        "null",
        "[null, null]",
        r#"{"repositoryName": null, "policyText": null}"#,
        r#"{"registryId": null, "policyText": null}"#,
        r#"{"repositories": [null]}"#,
        r#"{"rows": [null]}"#,
        r#"{"format_version": null, "values": {"root_module": null}}"#,
        r#"{"format_version": "1.0", "values": {"root_module": {"resources": [null, {"type": "aws_ecr_repository_policy", "values": null}]}}}"#,
        r#"{"format_version": "1.2", "resource_changes": [null, {"type": "aws_ecr_repository_policy", "change": null}]}"#,
        r#"{"Resources": {"R": null, "S": {"Type": "AWS::ECR::Repository", "Properties": null}}}"#,
        r#"{"configurationItems": [null]}"#,
        r#"{"name": null, "registry_id": null, "policy": null}"#,
        r#"{"repository_name": null, "policy_json": null}"#,
    ];
    for text in texts {
        let (records, _) = read_any("nulls.json", text);
        for r in &records {
            if let Body::Error { message, .. } = &r.body {
                assert!(!message.is_empty(), "{text}");
            }
        }
    }
}

#[test]
fn numbers_where_strings_belong() {
    let (records, _) = read_any(
        "n.json",
        r#"[{"repositoryName": 5, "policyText": "{}"},
            {"registryId": 44455556666, "repositoryName": "a", "policyText": 6},
            {"registryId": 44455556666, "policyText": 7},
            {"repository_name": 8, "registry_id": "444455556666", "policy": null},
            {"repository_name": 9, "policy_text": "x"}]"#,
    );
    assert_eq!(records.len(), 5, "{records:#?}");
    for r in &records {
        let (code, message) = err(r);
        assert_eq!(code, Code::UnsupportedInput, "{message}");
        assert!(message.contains("number"), "{message}");
    }
    // A registry id that lost its leading zero as a number gets it back.
    assert_eq!(records[1].repo.registry.as_deref(), Some("044455556666"));
    let (records, _) = read_any(
        "n.template",
        r#"{"Resources":{"R":{"Type":"AWS::ECR::Repository","Properties":{"RepositoryName":12,"RepositoryPolicyText":13}}}}"#,
    );
    let r = one(records);
    assert_eq!(r.repo, label_repo("R"));
    assert!(err(&r).1.contains("is a number"), "{:?}", r.body);
}

#[test]
fn a_registry_id_must_be_twelve_digits_in_every_shape() {
    // Each bad value in each shape's account field: an error row naming the field and the record,
    // never a silently empty (or wrong) registry.
    let bad = [
        "-5",
        "1.5e3",
        "1e400",
        "4444555566667777888899",
        "0.0",
        r#""12345""#,
        r#""4444555566667""#,
        r#""44445555666a""#,
        "true",
        "[]",
    ];
    type Make = fn(&str) -> String;
    let shapes: [(&str, &str, Make); 6] = [
        ("registryId", "get-repository-policy", |v| {
            format!(r#"{{"registryId":{v},"repositoryName":"a","policyText":"{{}}"}}"#)
        }),
        ("registryId", "get-registry-policy", |v| {
            format!(r#"{{"registryId":{v},"policyText":"{{}}"}}"#)
        }),
        ("registryId", "describe-repositories", |v| {
            format!(r#"{{"repositories":[{{"registryId":{v},"repositoryName":"a"}}]}}"#)
        }),
        ("awsAccountId", "aws-config", |v| {
            format!(
                r#"{{"configurationItems":[{{"resourceType":"AWS::ECR::Repository","awsAccountId":{v},"resourceName":"a","configuration":{{"RepositoryName":"a"}}}}]}}"#
            )
        }),
        ("registry_id", "steampipe", |v| {
            format!(r#"{{"rows":[{{"repository_name":"a","registry_id":{v},"policy":null}}]}}"#)
        }),
        ("registryId", "no-policy-marker", |v| {
            format!(
                r#"{{"__type":"RepositoryPolicyNotFoundException","registryId":{v},"repositoryName":"a"}}"#
            )
        }),
    ];
    for (field, shape, make) in shapes {
        for v in bad {
            let text = make(v);
            let (records, _) = read_any("id.json", &text);
            let r = one(records);
            let (code, message) = err(&r);
            assert_eq!(code, Code::UnsupportedInput, "{text}: {message}");
            assert!(
                message.starts_with(&format!("`{field}` of "))
                    && message.ends_with("expected a 12-digit AWS account ID"),
                "{shape} {v}: {message}"
            );
            assert_eq!(r.shape.name(), shape, "{text}");
            assert_eq!(r.repo.registry, None, "{text}");
        }
    }
    // What is accepted: 12 digits as a string, an integer of at most 12 digits (leading zeros
    // restored), and null or "" (the registry is unknown).
    for (v, registry) in [
        (r#""044455556666""#, Some("044455556666")),
        ("44455556666", Some("044455556666")),
        ("null", None),
        (r#""""#, None),
    ] {
        let text = format!(r#"{{"registryId":{v},"repositoryName":"a","policyText":"{{}}"}}"#);
        let (records, _) = read_any("id.json", &text);
        let r = one(records);
        assert!(matches!(r.body, Body::Policy(_)), "{text}: {:?}", r.body);
        assert_eq!(r.repo.registry.as_deref(), registry, "{text}");
    }
}

#[test]
fn a_terraform_registry_id_must_be_twelve_digits() {
    let text = r#"{"format_version":"1.0","values":{"root_module":{"resources":[
        {"address":"aws_ecr_repository.a","mode":"managed","type":"aws_ecr_repository","values":{"name":"a","registry_id":-5}},
        {"address":"aws_ecr_repository.b","mode":"managed","type":"aws_ecr_repository","values":{"name":"b","registry_id":"4444555566667777"}},
        {"address":"aws_ecr_repository.c","mode":"managed","type":"aws_ecr_repository","values":{"name":"c","registry_id":"444455556666"}}]}}}"#;
    let (records, _) = read_any("state.json", text);
    assert_eq!(records.len(), 3, "{records:#?}");
    for (r, address) in records[..2]
        .iter()
        .zip(["aws_ecr_repository.a", "aws_ecr_repository.b"])
    {
        let (code, message) = err(r);
        assert_eq!(code, Code::UnsupportedInput);
        assert!(
            message.starts_with(&format!("`registry_id` of {address} (record ")),
            "{message}"
        );
    }
    assert_eq!(records[2].body, Body::NoPolicy);
    assert_eq!(records[2].record, 3);
}

#[test]
fn a_name_that_is_no_utf8_text_says_so() {
    for (text, field) in [
        (
            r#"{"registryId":"444455556666","repositoryName":"\ud800x","policyText":"{}"}"#,
            "repositoryName",
        ),
        (
            r#"{"rows":[{"repository_name":"\ud800x","policy":null}]}"#,
            "repository_name",
        ),
        (
            r#"{"repositories":[{"repositoryName":"\udfffx"}]}"#,
            "repositoryName",
        ),
        (
            r#"{"configurationItems":[{"resourceType":"AWS::ECR::Repository","resourceName":"\ud800","configuration":{"RepositoryName":"a"}}]}"#,
            "resourceName",
        ),
    ] {
        let (records, _) = read_any("name.json", text);
        let r = one(records);
        let (code, message) = err(&r);
        assert_eq!(code, Code::InvalidJson, "{message}");
        assert!(
            message.starts_with(&format!("`{field}` of "))
                && message.contains("not valid UTF-8 text"),
            "{message}"
        );
    }
}

#[test]
fn duplicate_keys_are_an_error_wherever_the_tool_reads_them() {
    // Which copy AWS would use is not knowable, so neither is taken.
    let (records, _) = read_any(
        "dup.json",
        format!(
            r#"{{"repositoryName":"a","repositoryName":"b","policyText":{}}}"#,
            quoted(GITPOD)
        ),
    );
    assert_eq!(err(&one(records)).0, Code::InvalidJson);
    let doubled = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Effect":"Deny","Principal":"*","Action":"ecr:*"}]}"#;
    let findings = crate::policy::parse(doubled).expect_err("rejected");
    assert!(
        findings
            .iter()
            .all(|f| f.code.severity() == crate::finding::Severity::Error)
    );
}

#[test]
fn a_file_that_disappears_after_the_walk_is_unreadable() {
    let dir = tempfile::tempdir().expect("dir");
    fs::write(dir.path().join("gone.json"), GITPOD).expect("write");
    fs::write(dir.path().join("kept.json"), GITPOD).expect("write");
    let sources = discover(&[dir.path().to_string_lossy().into_owned()]).expect("exists");
    fs::remove_file(dir.path().join("gone.json")).expect("remove");
    let (gone, _) = read_all(&sources[0]);
    let gone = one(gone);
    let (code, message) = err(&gone);
    assert_eq!(code, Code::Unreadable);
    assert!(message.starts_with("cannot open the file: "), "{message}");
    assert!(matches!(one(read_all(&sources[1]).0).body, Body::Policy(_)));
    // The same for a streamed file.
    fs::write(dir.path().join("lines.jsonl"), GITPOD).expect("write");
    let sources = discover(&[dir.path().to_string_lossy().into_owned()]).expect("exists");
    fs::remove_file(dir.path().join("lines.jsonl")).expect("remove");
    let lines = sources
        .iter()
        .find(|s| s.display.ends_with("lines.jsonl"))
        .expect("found");
    assert_eq!(err(&one(read_all(lines).0)).0, Code::Unreadable);
}

#[test]
fn yaml_nesting_and_alias_bombs_are_refused_quickly() {
    // libyaml's scan of nested flow collections grows with the square of the depth: checked
    // before parsing. Aliases that expand a billion times hit yaml_serde's repetition limit.
    let deep = format!("Resources:\n  R:\n    Type: {}\n", "[".repeat(1_000_000));
    let (records, _) = read_any("deep.yaml", deep);
    let r = one(records);
    assert!(
        err(&r)
            .1
            .contains("nesting deeper than 128 levels at line 3"),
        "{:?}",
        r.body
    );
    let mut laughs = vec![
        "Resources:".to_owned(),
        "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]".to_owned(),
    ];
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        laughs.push(format!("  a{i}: &a{i} [{refs}]"));
    }
    let (records, _) = read_any("laughs.yaml", laughs.join("\n"));
    assert_eq!(err(&one(records)).0, Code::InvalidJson);
    let huge = format!("Resources:\n{}", "  # padding\n".repeat(100_000));
    let (records, _) = read_any("huge.template", huge);
    assert!(err(&one(records)).1.contains("at most 1 MiB"));
}

#[test]
fn lines_lent_from_the_buffer_or_gathered_across_reads_are_the_same_lines() {
    // Lengths around the buffer sizes, CRLF and LF, empty lines, no newline at the end.
    let mut text = String::new();
    let mut want: Vec<Vec<u8>> = Vec::new();
    for i in 0..300usize {
        let line = "x".repeat((i * 37) % 150);
        text.push_str(&line);
        text.push_str(if i % 3 == 0 { "\r\n" } else { "\n" });
        want.push(line.into_bytes());
    }
    text.push_str("last");
    want.push(b"last".to_vec());
    for capacity in [16, 64, 100, 8192] {
        let mut reader = LineReader::new(BufReader::with_capacity(capacity, text.as_bytes()), 1000);
        let mut got = Vec::new();
        while let Some(line) = reader.next_line().expect("read") {
            let Line::Bytes(b) = line else {
                panic!("no line is too long")
            };
            got.push(b.to_vec());
        }
        assert_eq!(got, want, "buffer of {capacity} bytes");
    }
}

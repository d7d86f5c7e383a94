//! Documents too large to hold (issue 13, point 3), with the limits scaled down: streamed in one
//! pass, they give the records the whole-document path gives; broken midway, the records before
//! the break and one error record; of a shape that cannot be streamed, one refusal that reads
//! only the start of the file.

use super::*;

/// Caps under which every document of more than `whole` bytes is streamed.
fn caps(whole: u64) -> stream::Caps {
    stream::Caps {
        whole,
        ..stream::Caps::default()
    }
}

fn read_with(source: &Source, caps: &stream::Caps) -> Vec<Record> {
    let mut records = Vec::new();
    let outcome = read_source_with(source, caps, &mut Reader::default(), &mut |r| {
        records.push(r)
    });
    assert_eq!(outcome, Outcome::Read);
    records
}

/// The records of `bytes` (a file called `name`) read whole, and streamed.
fn whole_and_streamed(name: &str, bytes: &[u8]) -> (Vec<Record>, Vec<Record>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    fs::write(&path, bytes).expect("write");
    let source = named_source(&path);
    let whole = read_with(&source, &stream::Caps::default());
    let streamed = read_with(&source, &caps(1));
    (whole, streamed)
}

/// Both ways give the same records, plain and gzip'd; the records.
fn same_both_ways(text: &str) -> Vec<Record> {
    let (whole, streamed) = whole_and_streamed("export.json", text.as_bytes());
    assert_eq!(format!("{whole:#?}"), format!("{streamed:#?}"));
    let (whole_gz, streamed) = whole_and_streamed("export.json.gz", &gzip(text.as_bytes()));
    assert_eq!(format!("{whole_gz:#?}"), format!("{streamed:#?}"));
    assert_eq!(whole.len(), whole_gz.len());
    whole
}

fn repository(name: &str) -> String {
    format!(
        r#"{{"registryId":"444455556666","repositoryName":"{name}","policyText":{}}}"#,
        quoted(GITPOD)
    )
}

/// An AWS Config item of an ECR repository (`configuration` an object, or a string of one).
fn config_item(name: &str, as_string: bool) -> String {
    let configuration = format!(
        r#"{{"RepositoryName":"{name}","RepositoryPolicyText":{}}}"#,
        quoted(GITPOD)
    );
    let configuration = if as_string {
        quoted(&configuration)
    } else {
        configuration
    };
    format!(
        r#"{{"resourceType":"AWS::ECR::Repository","resourceName":"{name}","awsAccountId":"444455556666","awsRegion":"eu-west-1","configurationItemStatus":"OK","configuration":{configuration}}}"#
    )
}

#[test]
fn a_streamed_array_gives_the_records_of_the_whole_document() {
    // Good records, a bare policy string, a number, an unknown object, a bad policy, a nested
    // container (one record, as an element), a UTF-8 byte-order mark and leading blanks.
    let text = format!(
        "\u{feff} \n[{}, {p}, 42, {{\"other\":1}}, {{\"registryId\":\"444455556666\",\"repositoryName\":\"b\",\"policyText\":\"{{not json\"}}, {{\"repositories\":[{{\"repositoryName\":\"c\"}}]}}]\n",
        repository("a"),
        p = quoted(GITPOD)
    );
    let records = same_both_ways(&text);
    assert_eq!(records.len(), 6, "{records:#?}");
}

#[test]
fn a_streamed_config_snapshot_gives_the_records_of_the_whole_document() {
    // Siblings before and after the list; items of another type (skipped), deleted, as strings,
    // broken, not objects.
    let items = [
        config_item("a", false),
        r#"{"resourceType":"AWS::S3::Bucket","resourceName":"b","configuration":{}}"#.to_owned(),
        config_item("c", true),
        r#"{"resourceType":"AWS::ECR::Repository","resourceName":"d","configurationItemStatus":"ResourceDeleted"}"#.to_owned(),
        "17".to_owned(),
        r#"{"resourceType":"AWS::ECR::Repository","resourceName":"e","configuration":"{broken"}"#
            .to_owned(),
    ];
    let text = format!(
        r#"{{"fileVersion":"1.0","configSnapshotId":"x","configurationItems":[{}],"trailer":{{"n":[1,2]}},"after":null}}"#,
        items.join(",\n")
    );
    let records = same_both_ways(&text);
    assert_eq!(records.len(), 4, "{records:#?}");
    assert_eq!(records[0].shape, Shape::AwsConfig);
    // `select-resource-config`'s `Results` of JSON strings, and `baseConfigurationItems`.
    let results: Vec<String> = ["f", "g"]
        .iter()
        .map(|n| quoted(&config_item(n, true)))
        .collect();
    let text = format!(
        r#"{{"Results":[{}],"QueryInfo":{{"SelectFields":[]}},"NextToken":"t"}}"#,
        results.join(",")
    );
    assert_eq!(same_both_ways(&text).len(), 2);
    let text = format!(
        r#"{{"baseConfigurationItems":[{}],"unprocessedResourceKeys":[]}}"#,
        config_item("h", true)
    );
    assert_eq!(same_both_ways(&text).len(), 1);
}

#[test]
fn streamed_describe_repositories_and_steampipe_rows_give_the_records_of_the_whole_document() {
    let text = r#"{"repositories":[{"repositoryArn":"arn:aws:ecr:eu-west-1:444455556666:repository/a","registryId":"444455556666","repositoryName":"a"},{"repositoryName":7},"x"],"nextToken":"abc"}"#;
    let records = same_both_ways(text);
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].shape, Shape::DescribeRepositories);
    let text = format!(
        r#"{{"columns":[{{"name":"repository_name","data_type":"text"}}],"rows":[{{"repository_name":"a","registry_id":"444455556666","region":"eu-west-1","policy":{}}},{{"title":"x"}},5],"trailer":[]}}"#,
        GITPOD
    );
    let records = same_both_ways(&text);
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].shape, Shape::Steampipe);
}

#[test]
fn streamed_json_lines_without_the_name_give_the_records_of_the_whole_document() {
    let text = format!("{}\n\n{}\n", repository("a"), repository("b"));
    let records = same_both_ways(&text);
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].record, 3);
}

#[test]
fn a_broken_streamed_document_keeps_the_records_before_the_break_and_says_where() {
    let items: Vec<String> = (0..5).map(|i| repository(&format!("r{i}"))).collect();
    let text = format!("[{}", items.join(","));
    let cut = &text[..text.len() - 10];
    let (whole, streamed) = whole_and_streamed("cut.json", cut.as_bytes());
    // Whole: the file is one error record, as before.
    assert_eq!(whole.len(), 1);
    assert_eq!(err(&whole[0]).0, Code::InvalidJson);
    // Streamed: the four whole elements, then the break, numbered after them.
    assert_eq!(streamed.len(), 5, "{streamed:#?}");
    assert!(
        streamed[..4]
            .iter()
            .all(|r| matches!(r.body, Body::Policy(_)))
    );
    assert_eq!(streamed[4].record, 5);
    let (code, message) = err(&streamed[4]);
    assert_eq!(code, Code::InvalidJson);
    assert!(
        message.starts_with("the file is not valid JSON: EOF while parsing"),
        "{message}"
    );
    assert!(
        message.contains(&format!("at byte {}", cut.len())),
        "{message}"
    );
    assert!(
        message.ends_with("the 4 records before it are rows"),
        "{message}"
    );
    // A list inside an object, broken by a bad byte: the same.
    let text = r#"{"repositories":[{"repositoryName":"a"},{"repositoryName":"b"} x ]}"#;
    let (_, streamed) = whole_and_streamed("inventory.json", text.as_bytes());
    assert_eq!(streamed.len(), 3, "{streamed:#?}");
    let (code, message) = err(&streamed[2]);
    assert_eq!(code, Code::InvalidJson);
    assert!(
        message.contains("the 2 elements of `repositories` before it are rows"),
        "{message}"
    );
    // Damaged gzip: unreadable, after the records before the damage.
    let many: Vec<String> = (0..3000).map(|i| repository(&format!("r{i}"))).collect();
    let packed = gzip(format!("[{}]", many.join(",")).as_bytes());
    let (_, streamed) = whole_and_streamed("cut.json.gz", &packed[..packed.len() / 2]);
    let last = streamed.last().expect("records");
    let (code, message) = err(last);
    assert_eq!(code, Code::Unreadable);
    assert!(message.starts_with("damaged gzip data: "), "{message}");
    assert!(streamed.len() > 100, "{}", streamed.len());
}

#[test]
fn a_large_document_of_a_shape_that_is_not_streamed_is_refused_after_reading_its_start() {
    // A CloudFormation template whose `Resources` runs past the element cap; what follows is
    // broken, so a reader that went on would say so instead.
    let resources: Vec<String> = (0..2000)
        .map(|i| format!(r#""R{i}":{{"Type":"AWS::ECR::Repository","Properties":{{"RepositoryName":"r{i}"}}}}"#))
        .collect();
    let text = format!(
        r#"{{"AWSTemplateFormatVersion":"2010-09-09","Resources":{{{}}} BROKEN"#,
        resources.join(",")
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("template.json");
    fs::write(&path, &text).expect("write");
    let source = named_source(&path);
    let small = stream::Caps {
        whole: 1024,
        line: 4096,
        ..stream::Caps::default()
    };
    assert!(text.len() > 10 * small.line);
    let records = read_with(&source, &small);
    let record = one(records);
    let (code, message) = err(&record);
    assert_eq!(code, Code::Unreadable);
    assert!(
        message.starts_with(
            "the file is larger than 1 KiB (after decompression) and not of a shape read in parts"
        ),
        "{message}"
    );
    // Whole, with its end mended, it is a template of 2,000 repositories.
    let mended = text.replace(" BROKEN", "}");
    fs::write(&path, &mended).expect("write");
    assert_eq!(read_with(&source, &stream::Caps::default()).len(), 2000);
    // A Terraform state the same way, and a document of no known shape.
    for text in [
        r#"{"format_version":"1.0","values":{"root_module":{"resources":[]}}}"#,
        r#"{"whatever":[1,2,3]}"#,
        r#""a JSON string""#,
        "services:\n  app: {}\n",
    ] {
        fs::write(&path, text).expect("write");
        let record = one(read_with(&source, &caps(8)));
        let (code, message) = err(&record);
        assert_eq!(code, Code::Unreadable, "{text}");
        assert!(
            message.contains("not of a shape read in parts"),
            "{text}: {message}"
        );
    }
}

#[test]
fn a_gzip_bomb_is_refused_from_its_first_bytes() {
    // Zeros: not JSON at the first byte, so nothing past the whole-document cap is inflated.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bomb.json.gz");
    fs::write(&path, gzip(&vec![0u8; 4 << 20])).expect("write");
    let record = one(read_with(&named_source(&path), &caps(64 << 10)));
    let (code, message) = err(&record);
    assert_eq!(code, Code::Unreadable);
    assert!(
        message.contains("not of a shape read in parts"),
        "{message}"
    );
}

#[test]
fn an_element_over_the_cap_ends_the_stream_with_an_error_record() {
    // Memory holds one element: one larger than a record can be is not held.
    let big = format!(
        r#"{{"registryId":"444455556666","repositoryName":"big","policyText":{}}}"#,
        quoted(&format!(
            r#"{{"Statement":[],"Pad":"{}"}}"#,
            "x".repeat(200_000)
        ))
    );
    let text = format!("[{},{big},{}]", repository("a"), repository("c"));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bulk.json");
    fs::write(&path, &text).expect("write");
    let small = stream::Caps {
        whole: 1024,
        line: 64 << 10,
        ..stream::Caps::default()
    };
    let records = read_with(&named_source(&path), &small);
    assert_eq!(records.len(), 2, "{records:#?}");
    assert_eq!(records[0].repo.repository.as_deref(), Some("a"));
    assert_eq!(records[1].record, 2);
    let (code, message) = err(&records[1]);
    assert_eq!(code, Code::InvalidJson);
    assert!(
        message.starts_with("record 2 is longer than 64 KiB"),
        "{message}"
    );
    // Inside an object's list, the same.
    let text = format!(
        r#"{{"repositories":[{{"repositoryName":"a"}},{{"repositoryName":"{}"}}]}}"#,
        "x".repeat(200_000)
    );
    fs::write(&path, &text).expect("write");
    let records = read_with(&named_source(&path), &small);
    assert_eq!(records.len(), 2, "{records:#?}");
    let (code, message) = err(&records[1]);
    assert_eq!(code, Code::InvalidJson);
    assert!(
        message.starts_with("element 2 of `repositories` is longer than 64 KiB"),
        "{message}"
    );
}

#[test]
fn a_list_read_before_a_key_that_changes_the_shape_is_reported() {
    // The whole-document path reads `configurationItems` (AWS Config comes first); streamed, the
    // `repositories` before it were read as they came, and an error record says so.
    let text = format!(
        r#"{{"repositories":[{{"repositoryName":"a"}}],"configurationItems":[{}]}}"#,
        config_item("b", false)
    );
    let (whole, streamed) = whole_and_streamed("mixed.json", text.as_bytes());
    assert_eq!(whole.len(), 1);
    assert_eq!(whole[0].shape, Shape::AwsConfig);
    assert_eq!(streamed.len(), 2, "{streamed:#?}");
    assert_eq!(streamed[0].shape, Shape::DescribeRepositories);
    let (code, message) = err(&streamed[1]);
    assert_eq!(code, Code::InvalidJson);
    assert!(
        message.contains("make `configurationItems` the list to read"),
        "{message}"
    );
    // A repeated key: refused as the whole-document path does, after the list.
    let text = r#"{"repositories":[{"repositoryName":"a"}],"repositories":[]}"#;
    let (whole, streamed) = whole_and_streamed("twice.json", text.as_bytes());
    assert!(err(&whole[0]).1.contains("repeats a key"));
    assert!(
        err(streamed.last().expect("records"))
            .1
            .contains("repeats a key")
    );
}

#[test]
fn a_streamed_csv_export_gives_the_records_of_the_whole_document() {
    let policy = GITPOD.replace('"', "\"\"");
    let text = format!(
        "repository_name,registry_id,region,policy\na,444455556666,eu-west-1,\"{policy}\"\nb,444455556666,eu-west-1,\nc,444455556666\n,,,\n"
    );
    let records = same_both_ways(&text);
    assert_eq!(records.len(), 4, "{records:#?}");
    assert_eq!(records[0].shape, Shape::Steampipe);
    assert!(matches!(records[1].body, Body::NoPolicy));
}

#[test]
fn a_large_walked_yaml_or_csv_of_no_streamed_shape_is_skipped_with_a_note() {
    let dir = tempfile::tempdir().expect("temp dir");
    let body = "name,size\n".to_owned() + &"a,1\n".repeat(1000);
    fs::write(dir.path().join("sizes.csv"), &body).expect("write");
    fs::write(
        dir.path().join("compose.yml"),
        "services:\n  app: {}\n".repeat(300),
    )
    .expect("write");
    let sources = discover(&[dir.path().to_string_lossy().into_owned()]).expect("exists");
    assert_eq!(sources.len(), 2);
    for source in &sources {
        let mut records = Vec::new();
        let outcome = read_source_with(source, &caps(1024), &mut Reader::default(), &mut |r| {
            records.push(r)
        });
        assert!(records.is_empty(), "{records:#?}");
        let Outcome::Skipped(note) = outcome else {
            panic!("{}: not skipped", source.display);
        };
        assert!(
            note.contains("larger than 1 KiB and of no export shape read in parts"),
            "{note}"
        );
    }
}

#[test]
fn a_streamed_element_that_is_not_json_is_an_error_record_and_the_next_are_read() {
    // The framing finds where each element ends (strings, escapes, nesting); an element that
    // does not parse is an error record of its own, as a bad JSON Lines line is.
    let text = format!(
        r#"[{{"repositoryName":"a", tru}}, {}, {{"registryId":"444455556666","repositoryName":"b]}}\"[{{","policyText":{}}}]"#,
        repository("c"),
        quoted(GITPOD)
    );
    let (whole, streamed) = whole_and_streamed("bulk.json", text.as_bytes());
    assert_eq!(whole.len(), 1, "{whole:#?}");
    assert_eq!(streamed.len(), 3, "{streamed:#?}");
    let (code, message) = err(&streamed[0]);
    assert_eq!(code, Code::InvalidJson);
    assert!(
        message.starts_with("record 1 is not valid JSON: "),
        "{message}"
    );
    assert_eq!(streamed[1].repo.repository.as_deref(), Some("c"));
    assert_eq!(streamed[2].repo.repository.as_deref(), Some("b]}\"[{"));
    assert!(matches!(streamed[2].body, Body::Policy(_)));
}

#[test]
fn the_head_read_before_streaming_is_freed_once_read() {
    use std::io::Read;
    let mut r = read::Prefixed::new(b"abc".to_vec(), &b"def"[..]);
    let mut out = [0u8; 2];
    assert_eq!(r.read(&mut out).expect("read"), 2);
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).expect("read");
    assert_eq!(rest, b"cdef");
    assert_eq!(r.held(), 0);
}

#[test]
fn a_streamed_csv_row_over_the_cap_ends_the_file_with_an_error_record() {
    let text = format!(
        "repository_name,registry_id,region,policy\na,444455556666,eu-west-1,\nb,444455556666,eu-west-1,\"{}\"\nc,444455556666,eu-west-1,\n",
        "x".repeat(300_000)
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("rows.csv");
    fs::write(&path, &text).expect("write");
    let small = stream::Caps {
        whole: 1024,
        line: 64 << 10,
        ..stream::Caps::default()
    };
    let records = read_with(&named_source(&path), &small);
    assert_eq!(records.len(), 2, "{records:#?}");
    assert_eq!(records[0].repo.repository.as_deref(), Some("a"));
    let (code, message) = err(&records[1]);
    assert_eq!(code, Code::Unreadable);
    assert!(
        message.contains("the row is longer than 64 KiB, more than one record may have"),
        "{message}"
    );
}

#[test]
fn every_sample_export_streamed_gives_its_records_read_whole_or_is_refused() {
    // The sample exports of every shape, each read whole and then as if too large to hold.
    let root = format!("{}/testdata/export", env!("CARGO_MANIFEST_DIR"));
    let mut same = 0;
    let mut compared = Vec::new();
    let mut refused = Vec::new();
    for source in discover(std::slice::from_ref(&root)).expect("testdata") {
        let mut whole = Vec::new();
        let whole_outcome = read_source_with(
            &source,
            &stream::Caps::default(),
            &mut Reader::default(),
            &mut |r| whole.push(r),
        );
        let mut streamed = Vec::new();
        let outcome = read_source_with(&source, &caps(1), &mut Reader::default(), &mut |r| {
            streamed.push(r)
        });
        if matches!(whole_outcome, Outcome::Skipped(_)) {
            assert!(matches!(outcome, Outcome::Skipped(_)), "{}", source.display);
            continue;
        }
        // Refused: an error record, or for a YAML or CSV file found by the walk, a note.
        let refusal = matches!(outcome, Outcome::Skipped(_)) && streamed.is_empty()
            || streamed.len() == 1
                && matches!(&streamed[0].body, Body::Error { message, .. }
                    if message.contains("not of a shape read in parts"));
        // A sample broken on purpose is one error record whole; streamed, it keeps what came
        // before the break.
        let broken_whole = whole.len() == 1 && matches!(whole[0].body, Body::Error { .. });
        if refusal {
            refused.push(whole[0].shape);
        } else if !broken_whole {
            assert_eq!(
                format!("{whole:#?}"),
                format!("{streamed:#?}"),
                "{}",
                source.display
            );
            same += 1;
            compared.extend(whole.iter().map(|r| r.shape));
        }
    }
    // Samples of every streamed shape were compared.
    for shape in [
        Shape::AwsConfig,
        Shape::Bulk,
        Shape::DescribeRepositories,
        Shape::Steampipe,
        Shape::CloudQuery,
    ] {
        assert!(compared.contains(&shape), "{shape:?} not compared");
    }
    assert!(same >= 8, "{same} samples compared");
    // What is refused is what cannot be streamed: never a shape that is.
    for shape in refused {
        assert!(
            !matches!(
                shape,
                Shape::AwsConfig | Shape::Bulk | Shape::DescribeRepositories | Shape::Steampipe
            ),
            "{shape:?} refused"
        );
    }
}

mod framing {
    use proptest::prelude::*;

    use super::{GITPOD, quoted, whole_and_streamed};

    /// JSON blanks between tokens, as a producer might write them.
    fn blank() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["", " ", "\n", "\r\n  ", "\t"]).prop_map(str::to_owned)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Names full of what framing must follow (quotes, backslashes, brackets, escapes,
        /// non-ASCII), any blanks between tokens: streamed, the same records as read whole.
        #[test]
        fn streamed_arrays_and_lists_give_the_records_read_whole(
            names in prop::collection::vec("[a-z\\\\\"\\[\\]{},:\u{e9}\u{1F600}/]{0,6}", 0..8),
            blanks in prop::collection::vec(blank(), 12),
            as_object in any::<bool>(),
        ) {
            let b = |i: usize| blanks[i % blanks.len()].as_str();
            let elements: Vec<String> = names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    format!(
                        "{{{}\"registryId\"{}:{}\"444455556666\",\"repositoryName\":{}{},\"policyText\":{}}}",
                        b(i),
                        b(i + 1),
                        b(i + 2),
                        serde_json::to_string(name).expect("a string"),
                        b(i + 3),
                        quoted(GITPOD)
                    )
                })
                .collect();
            let sep = format!("{},{}", b(4), b(5));
            let list = format!("[{}{}{}]", b(6), elements.join(&sep), b(7));
            let text = if as_object {
                // `describe-repositories`: the elements are inventory entries.
                format!("{}{{{}\"repositories\"{}:{list},\"nextToken\":\"x\"}}{}", b(8), b(9), b(10), b(11))
            } else {
                format!("{}{list}{}", b(8), b(9))
            };
            let (whole, streamed) = whole_and_streamed("export.json", text.as_bytes());
            prop_assert_eq!(format!("{whole:#?}"), format!("{streamed:#?}"));
            if !names.is_empty() {
                prop_assert_eq!(whole.len(), names.len());
            }
        }
    }
}

/// The blocks a JSON Lines file is read in (`stream::Lines`, `LineReader::next_line_into`) give
/// the records of its lines taken one by one from the whole file: split at each `\n`, a `\r`
/// before it dropped, a UTF-8 byte order mark dropped from the first, each line read alone
/// (`shape::line`), a line that is not UTF-8 an error record, "file is empty" when every line is
/// blank, the file's cap on anonymous error records counted in its order. The reference here
/// shares none of the streaming code.
#[test]
fn json_lines_read_in_blocks_give_the_records_of_each_line_read_alone() {
    let by_hand = |bytes: &[u8], source: &Source| -> Vec<Record> {
        let ctx = common::Ctx {
            label: source.label(),
            json_lines: true,
            judged_here: false,
        };
        let mut made = Vec::new();
        let mut any = false;
        let mut emit = |n: u64, shape: Shape, repo: RepoId, body: Body| {
            made.push((n, shape, repo, body));
        };
        for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
            let n = i as u64 + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let raw = if i == 0 {
                raw.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(raw)
            } else {
                raw
            };
            match std::str::from_utf8(raw) {
                Ok(text) => {
                    any |= !text.trim().is_empty();
                    shape::line(i, text, &ctx, &mut emit);
                }
                Err(e) => {
                    any = true;
                    emit(
                        n,
                        Shape::Unrecognised,
                        RepoId::default(),
                        common::error(
                            Code::Unreadable,
                            format!(
                                "line {n} is not UTF-8 at byte {} of the line; JSON exports must be UTF-8 text",
                                e.valid_up_to()
                            ),
                        ),
                    );
                }
            }
        }
        if !any {
            emit(
                1,
                Shape::Unrecognised,
                RepoId::default(),
                common::error(Code::InvalidJson, "file is empty".to_owned()),
            );
        }
        let mut cap = ErrorCap::default();
        let mut records: Vec<Record> = made
            .into_iter()
            .filter(|(n, _, repo, body)| {
                ErrorCap::anonymous(repo, body).is_none_or(|code| !cap.takes(*n, code))
            })
            .map(|(record, shape, repo, body)| Record {
                source: Arc::clone(&source.display),
                record,
                shape,
                repo,
                body,
            })
            .collect();
        records.extend(cap.summary(source));
        records
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let cases: [(&str, Vec<u8>); 4] = [
        ("mixed.jsonl", crate::pipeline::tests::mixed_lines(24_000)),
        ("few.ndjson", crate::pipeline::tests::mixed_lines(45)),
        ("blank.jsonl", b"\xEF\xBB\xBF \r\n\t\n\x0B".to_vec()),
        ("no-end.jsonl", b"{\"a\":1}\r\n\r\n[1]".to_vec()),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        fs::write(&path, &bytes).expect("write");
        let source = named_source(&path);
        let expected = by_hand(&bytes, &source);
        let mut got = Vec::new();
        read_source(&source, &mut |r| got.push(r));
        assert_eq!(got.len(), expected.len(), "{name}");
        for (g, e) in got.iter().zip(&expected) {
            assert_eq!(g, e, "{name}");
        }
        // And gzip'd: the same records.
        let gz_path = dir.path().join(format!("{name}.gz"));
        fs::write(&gz_path, gzip(&bytes)).expect("write");
        let mut gz = Vec::new();
        read_source(&named_source(&gz_path), &mut |r| gz.push(r));
        let lines = |records: &[Record]| -> Vec<String> {
            records
                .iter()
                .map(|r| format!("{} {:?} {:?} {:?}", r.record, r.shape, r.repo, r.body))
                .collect()
        };
        assert_eq!(lines(&gz), lines(&got), "{name}.gz");
    }
}

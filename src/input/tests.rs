//! Tests of the input layer, one per rule of SPEC 3 and the input brief, on files built in code.

use std::fs;
use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;

use super::*;

const GITPOD: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Gitpod Access","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root"]},"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#;

/// `GITPOD` as the JSON string `policyText` holds.
fn quoted(policy: &str) -> String {
    serde_json::to_string(policy).expect("a string serialises")
}

fn named_source(path: &Path) -> Source {
    let arg = path.to_string_lossy().into_owned();
    let mut sources = discover(&[arg]).expect("the file exists");
    assert_eq!(sources.len(), 1);
    sources.remove(0)
}

fn read_all(source: &Source) -> (Vec<Record>, Outcome) {
    read_capped(source, read::MAX_WHOLE)
}

fn read_capped(source: &Source, limit: u64) -> (Vec<Record>, Outcome) {
    let mut records = Vec::new();
    let outcome = read_source_capped(source, limit, &mut |r| records.push(r));
    (records, outcome)
}

/// Writes `bytes` to a file called `name` in a fresh folder and reads it as named on the
/// command line.
fn read_named(name: &str, bytes: impl AsRef<[u8]>) -> Vec<Record> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    fs::write(&path, bytes).expect("write");
    let (records, outcome) = read_all(&named_source(&path));
    assert_eq!(outcome, Outcome::Read);
    records
}

/// Writes `bytes` as `name` inside a folder and reads it as found by the walk.
fn read_walked(name: &str, bytes: impl AsRef<[u8]>) -> (Vec<Record>, Outcome) {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(dir.path().join(name), bytes).expect("write");
    let sources = discover(&[dir.path().to_string_lossy().into_owned()]).expect("exists");
    assert_eq!(sources.len(), 1, "{sources:?}");
    assert!(!sources[0].named);
    read_all(&sources[0])
}

fn one(records: Vec<Record>) -> Record {
    assert_eq!(records.len(), 1, "{records:#?}");
    records.into_iter().next().expect("one record")
}

/// The error code and message of an error record.
fn err(record: &Record) -> (Code, &str) {
    match &record.body {
        Body::Error { code, message } => (*code, message.as_str()),
        other => panic!("expected an error record, got {other:?}"),
    }
}

fn repo(registry: Option<&str>, region: Option<&str>, repository: &str) -> RepoId {
    RepoId {
        registry: registry.map(str::to_owned),
        region: region.map(str::to_owned),
        repository: Some(repository.to_owned()),
        arn: None,
        name_from_path: false,
    }
}

fn label_repo(label: &str) -> RepoId {
    RepoId {
        repository: Some(label.to_owned()),
        name_from_path: true,
        ..RepoId::default()
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

// ---- get-repository-policy output -------------------------------------------------------------

#[test]
fn get_repository_policy_output_gives_the_policy_text_and_identity() {
    let text = format!(
        "{{\n  \"registryId\": \"444455556666\",\n  \"repositoryName\": \"gitpod/workspace-base\",\n  \"policyText\": {}\n}}\n",
        quoted(GITPOD)
    );
    let r = one(read_named("workspace-base.json", text));
    assert_eq!(r.record, 1);
    assert_eq!(
        r.repo,
        repo(Some("444455556666"), None, "gitpod/workspace-base")
    );
    assert_eq!(r.body, Body::Policy(GITPOD.into()));
    assert!(r.source.ends_with("workspace-base.json"));
}

#[test]
fn a_repository_arn_next_to_the_policy_fills_region_and_registry() {
    let text = format!(
        r#"{{"repositoryName":"app","repositoryArn":"arn:aws:ecr:eu-west-1:444455556666:repository/app","policyText":{}}}"#,
        quoted(GITPOD)
    );
    let r = one(read_named("x.json", text));
    assert_eq!(r.repo.region.as_deref(), Some("eu-west-1"));
    assert_eq!(r.repo.registry.as_deref(), Some("444455556666"));
    assert_eq!(
        r.repo.arn.as_deref(),
        Some("arn:aws:ecr:eu-west-1:444455556666:repository/app")
    );
}

// ---- bare policy documents --------------------------------------------------------------------

#[test]
fn a_bare_policy_document_is_named_by_its_path_and_passed_as_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let team = dir.path().join("export/team");
    fs::create_dir_all(&team).expect("mkdir");
    fs::write(team.join("app.json"), format!("\n\n  {GITPOD}  \n")).expect("write");
    let root = dir.path().join("export").to_string_lossy().into_owned();
    let sources = discover(std::slice::from_ref(&root)).expect("exists");
    assert_eq!(sources.len(), 1);
    assert_eq!(&*sources[0].display, format!("{root}/team/app.json"));
    assert_eq!(sources[0].label(), Some("team/app"));
    let r = one(read_all(&sources[0]).0);
    assert_eq!(r.repo, label_repo("team/app"));
    assert_eq!(r.repo.known_name(), None);
    // The text of the object itself, without the surrounding whitespace.
    assert_eq!(r.body, Body::Policy(GITPOD.into()));
}

#[test]
fn a_json_string_holding_a_policy_is_a_bare_document() {
    // `aws ecr get-repository-policy --query policyText` with the default JSON output.
    let r = one(read_named("app.json", quoted(GITPOD)));
    assert_eq!(r.repo, label_repo("app"));
    assert_eq!(r.body, Body::Policy(GITPOD.into()));
}

// ---- bulk exports -----------------------------------------------------------------------------

#[test]
fn a_json_array_gives_one_record_per_element_numbered_from_one() {
    let text = format!(
        r#"[
  {{"registryId":"444455556666","repositoryName":"gitpod/workspace-base","policyText":{q}}},
  {GITPOD},
  {{"repositoryName":"platform/build-images","policy":{GITPOD},"region":"us-east-1"}},
  {{"repositoryName":"platform/ci","Policy":null,"awsRegion":"us-west-2","registryId":"777788889999"}},
  {{"repositoryName":"platform/empty","policyText":""}},
  42,
  {{"foo":1,"bar":2}},
  {{"repositoryName":"platform/odd","policy":[1]}}
]"#,
        q = quoted(GITPOD)
    );
    let records = read_named("bulk.json", text);
    let numbers: Vec<u64> = records.iter().map(|r| r.record).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(
        records[0].repo,
        repo(Some("444455556666"), None, "gitpod/workspace-base")
    );
    assert_eq!(records[0].body, Body::Policy(GITPOD.into()));
    assert_eq!(records[1].repo, label_repo("bulk"));
    assert_eq!(records[1].body, Body::Policy(GITPOD.into()));
    assert_eq!(
        records[2].repo,
        repo(None, Some("us-east-1"), "platform/build-images")
    );
    assert_eq!(records[2].body, Body::Policy(GITPOD.into()));
    assert_eq!(
        records[3].repo,
        repo(Some("777788889999"), Some("us-west-2"), "platform/ci")
    );
    assert_eq!(records[3].body, Body::NoPolicy);
    assert_eq!(records[4].body, Body::NoPolicy);
    assert_eq!(
        err(&records[5]),
        (
            Code::UnsupportedInput,
            "record 6 is a JSON number; expected a policy document, get-repository-policy output, a bulk export, AWS Config, Terraform show -json, a CloudFormation template, Steampipe or CloudQuery rows, describe-repositories, get-registry-policy or get-account-setting output"
        )
    );
    assert_eq!(
        err(&records[6]),
        (
            Code::UnsupportedInput,
            "record 7 is a JSON object with keys `foo`, `bar`; expected a policy document, get-repository-policy output, a bulk export, AWS Config, Terraform show -json, a CloudFormation template, Steampipe or CloudQuery rows, describe-repositories, get-registry-policy or get-account-setting output"
        )
    );
    let (code, message) = err(&records[7]);
    assert_eq!(code, Code::UnsupportedInput);
    assert!(
        message.starts_with("`policy` of record 8 is a JSON array"),
        "{message}"
    );
}

#[test]
fn an_empty_array_has_no_records() {
    assert!(read_named("none.json", "[ ]").is_empty());
}

#[test]
fn json_lines_are_numbered_by_line_and_a_bad_line_does_not_stop_the_others() {
    let text = format!(
        "{{\"repositoryName\":\"a\",\"policyText\":{q}}}\n\n{{\"repositoryName\":\"b\",\"policy\":null}}\r\n{{\"repositoryName\":\"c\",\n\n{GITPOD}\n[1]\n",
        q = quoted(GITPOD)
    );
    // Recognised from the content, whatever the name.
    let records = read_named("export.txt", text);
    let numbers: Vec<u64> = records.iter().map(|r| r.record).collect();
    assert_eq!(numbers, [1, 3, 4, 6, 7]);
    assert_eq!(records[0].repo.repository.as_deref(), Some("a"));
    assert_eq!(records[0].body, Body::Policy(GITPOD.into()));
    assert_eq!(records[1].repo.repository.as_deref(), Some("b"));
    assert_eq!(records[1].body, Body::NoPolicy);
    assert_eq!(
        err(&records[2]),
        (
            Code::InvalidJson,
            "line 4 is not valid JSON: EOF while parsing a value at column 22"
        )
    );
    assert_eq!(records[3].repo, label_repo("export"));
    assert_eq!(records[3].body, Body::Policy(GITPOD.into()));
    assert_eq!(err(&records[4]).0, Code::UnsupportedInput);
    assert!(err(&records[4]).1.starts_with("line 7 is a JSON array"));
}

#[test]
fn a_jsonl_name_means_json_lines_even_for_one_line() {
    let text = format!(
        "\n\n{{\"repositoryName\":\"a\",\"policyText\":{}}}\n",
        quoted(GITPOD)
    );
    let r = one(read_named("repos.jsonl", text));
    assert_eq!(r.record, 3);
    assert_eq!(r.repo.repository.as_deref(), Some("a"));
    let r = one(read_named("repos.NDJSON", "{\"Statement\":[]}"));
    assert_eq!(r.record, 1);
    assert_eq!(r.body, Body::Policy("{\"Statement\":[]}".into()));
}

// ---- AWS Config -------------------------------------------------------------------------------

fn config_item(name: &str, policy: &str, extra: &str) -> String {
    format!(
        r#"{{"resourceType":"AWS::ECR::Repository","resourceName":"{name}","awsAccountId":"444455556666","awsRegion":"eu-west-1","ARN":"arn:aws:ecr:eu-west-1:444455556666:repository/{name}","configurationItemStatus":"OK",{extra}"configuration":{{"RepositoryName":"{name}"{policy}}}}}"#
    )
}

#[test]
fn a_config_snapshot_gives_ecr_repositories_and_skips_the_rest() {
    let policy = format!(",\"RepositoryPolicyText\":{}", quoted(GITPOD));
    let items = [
        config_item("gitpod/a", &policy, ""),
        config_item("gitpod/b", ",\"RepositoryPolicyText\":{}", ""),
        config_item("gitpod/c", "", ""),
        r#"{"resourceType":"AWS::S3::Bucket","resourceName":"logs","configuration":{"x":1}}"#
            .to_owned(),
        config_item("gitpod/d", &policy, "").replace("\"OK\"", "\"ResourceDeleted\""),
        config_item("gitpod/e", ",\"RepositoryPolicyText\":null", ""),
        config_item("gitpod/f", "", "").replace("\"OK\"", "\"ResourceNotRecorded\""),
        config_item(
            "gitpod/g",
            ",\"RepositoryPolicyText\":{\"Statement\":[]}",
            "",
        ),
    ];
    let text = format!(
        r#"{{"fileVersion":"1.0","configSnapshotId":"5f0e","configurationItems":[{}]}}"#,
        items.join(",")
    );
    let records = read_named("snapshot.json", text);
    let numbers: Vec<u64> = records.iter().map(|r| r.record).collect();
    assert_eq!(numbers, [1, 2, 3, 6, 7, 8]);
    let a = &records[0];
    assert_eq!(
        a.repo,
        RepoId {
            registry: Some("444455556666".into()),
            region: Some("eu-west-1".into()),
            repository: Some("gitpod/a".into()),
            arn: Some("arn:aws:ecr:eu-west-1:444455556666:repository/gitpod/a".into()),
            name_from_path: false,
        }
    );
    assert_eq!(a.body, Body::Policy(GITPOD.into()));
    assert_eq!(records[1].body, Body::NoPolicy);
    assert_eq!(records[2].body, Body::NoPolicy);
    assert_eq!(records[3].body, Body::NoPolicy);
    let (code, message) = err(&records[4]);
    assert_eq!(code, Code::UnsupportedInput);
    assert!(message.contains("ResourceNotRecorded"), "{message}");
    assert_eq!(records[4].repo.repository.as_deref(), Some("gitpod/f"));
    assert_eq!(records[5].body, Body::Policy("{\"Statement\":[]}".into()));
}

#[test]
fn select_resource_config_results_are_json_strings_of_items() {
    let item = |name: &str| {
        format!(
            r#"{{"accountId":"777788889999","awsRegion":"us-west-2","resourceName":"{name}","arn":"arn:aws:ecr:us-west-2:777788889999:repository/{name}","resourceType":"AWS::ECR::Repository","configuration":{{"RepositoryName":"{name}","RepositoryPolicyText":{q}}}}}"#,
            q = quoted(GITPOD)
        )
    };
    let results = [
        quoted(&item("platform/base")),
        quoted("{not json"),
        quoted(&item("platform/node")),
    ];
    let text = format!(
        r#"{{"Results":[{}],"QueryInfo":{{"SelectFields":[{{"Name":"configuration"}}]}}}}"#,
        results.join(",")
    );
    let records = read_named("select.json", text);
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].record, 1);
    assert_eq!(
        records[0].repo,
        RepoId {
            registry: Some("777788889999".into()),
            region: Some("us-west-2".into()),
            repository: Some("platform/base".into()),
            arn: Some("arn:aws:ecr:us-west-2:777788889999:repository/platform/base".into()),
            name_from_path: false,
        }
    );
    assert_eq!(records[0].body, Body::Policy(GITPOD.into()));
    assert_eq!(records[1].record, 2);
    let (code, message) = err(&records[1]);
    assert_eq!(code, Code::InvalidJson);
    assert!(
        message.starts_with("result 2 is not valid JSON: key must be a string at line 1 column 2"),
        "{message}"
    );
    assert_eq!(records[2].record, 3);
    assert_eq!(records[2].repo.repository.as_deref(), Some("platform/node"));
}

#[test]
fn api_items_carry_configuration_as_a_json_string() {
    let configuration = format!(
        r#"{{"RepositoryName":"gitpod/ide","Arn":"arn:aws:ecr:us-east-1:444455556666:repository/gitpod/ide","RepositoryPolicyText":{}}}"#,
        quoted(GITPOD)
    );
    let text = format!(
        r#"{{"configurationItems":[{{"version":"1.3","accountId":"444455556666","configurationItemStatus":"ResourceDiscovered","resourceType":"AWS::ECR::Repository","resourceId":"gitpod/ide","awsRegion":"us-east-1","configuration":{c}}},{{"accountId":"444455556666","resourceType":"AWS::ECR::Repository","configuration":"{{\"RepositoryName\":\"x\",\"RepositoryPolicyText\":\"{{}}\"}}"}}]}}"#,
        c = quoted(&configuration)
    );
    let records = read_named("history.json", text);
    assert_eq!(records.len(), 2);
    // No resourceName: the name comes from the configuration, the ARN too.
    assert_eq!(
        records[0].repo,
        RepoId {
            registry: Some("444455556666".into()),
            region: Some("us-east-1".into()),
            repository: Some("gitpod/ide".into()),
            arn: Some("arn:aws:ecr:us-east-1:444455556666:repository/gitpod/ide".into()),
            name_from_path: false,
        }
    );
    assert_eq!(records[0].body, Body::Policy(GITPOD.into()));
    // A string "{}" is policy text for the policy parser to judge, not "no policy".
    assert_eq!(records[1].body, Body::Policy("{}".into()));
}

#[test]
fn config_items_without_resource_type_need_an_ecr_configuration() {
    let text = r#"{"Results":["{\"resourceName\":\"a\",\"configuration\":{\"RepositoryName\":\"a\"}}","{\"resourceName\":\"b\",\"configuration\":{\"BucketName\":\"b\"}}"]}"#;
    let records = read_named("q.json", text);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].repo.repository.as_deref(), Some("a"));
    assert_eq!(records[0].body, Body::NoPolicy);
    let (code, message) = err(&records[1]);
    assert_eq!(code, Code::UnsupportedInput);
    assert!(
        message.starts_with("result 2 is a JSON object with keys `resourceName`, `configuration`;"),
        "{message}"
    );
}

#[test]
fn an_ecr_config_item_without_configuration_is_an_error_not_no_policy() {
    let text =
        r#"{"Results":["{\"resourceType\":\"AWS::ECR::Repository\",\"resourceName\":\"a\"}"]}"#;
    let r = one(read_named("q.json", text));
    assert_eq!(
        err(&r),
        (
            Code::UnsupportedInput,
            "result 1 has no `configuration`, so its repository policy is unknown"
        )
    );
    assert_eq!(r.repo.repository.as_deref(), Some("a"));
}

#[test]
fn a_single_config_item_of_another_type_is_skipped() {
    let text = r#"{"resourceType":"AWS::S3::Bucket","resourceName":"logs","configuration":{}}"#;
    assert!(read_named("item.json", text).is_empty());
}

// ---- no-policy markers ------------------------------------------------------------------------

#[test]
fn json_no_policy_markers_take_identity_from_fields_or_message() {
    let r = one(read_named(
        "a.json",
        r#"{"Code":"RepositoryPolicyNotFoundException","Message":"Repository policy does not exist for the repository with name 'gitpod/ide' in the registry with id '444455556666'"}"#,
    ));
    assert_eq!(r.body, Body::NoPolicy);
    assert_eq!(r.repo, repo(Some("444455556666"), None, "gitpod/ide"));

    let r = one(read_named(
        "b.json",
        r#"{"__type":"com.amazonaws.ecr#RepositoryPolicyNotFoundException","message":"nope","repositoryName":"x","registryId":"777788889999"}"#,
    ));
    assert_eq!(r.body, Body::NoPolicy);
    assert_eq!(r.repo, repo(Some("777788889999"), None, "x"));

    let r = one(read_named(
        "team-app.json",
        r#"{"Error":{"Code":"RepositoryPolicyNotFoundException","Message":"Repository policy does not exist"}}"#,
    ));
    assert_eq!(r.body, Body::NoPolicy);
    assert_eq!(r.repo, label_repo("team-app"));
}

#[test]
fn another_aws_error_is_unsupported_and_named() {
    let r = one(read_named(
        "a.json",
        r#"{"__type":"RepositoryNotFoundException","message":"The repository with name 'x' does not exist"}"#,
    ));
    assert_eq!(
        err(&r),
        (
            Code::UnsupportedInput,
            "the file is an AWS error response (RepositoryNotFoundException: The repository with name 'x' does not exist), not a repository policy"
        )
    );
}

#[test]
fn cli_error_lines_are_no_policy_records_numbered_by_line() {
    let text = "An error occurred (RepositoryPolicyNotFoundException) when calling the GetRepositoryPolicy operation: Repository policy does not exist for the repository with name 'app' in the registry with id '123456789012'\n\nAn error occurred (RepositoryPolicyNotFoundException) when calling the GetRepositoryPolicy operation: Repository policy does not exist for the repository with name 'gitpod/ide' in the registry with id '444455556666'\nAn error occurred (AccessDeniedException) when calling the GetRepositoryPolicy operation: denied\nsome other text\n";
    let records = read_named("errors.txt", text);
    let numbers: Vec<u64> = records.iter().map(|r| r.record).collect();
    assert_eq!(numbers, [1, 3, 4, 5]);
    assert_eq!(records[0].repo, repo(Some("123456789012"), None, "app"));
    assert_eq!(records[0].body, Body::NoPolicy);
    assert_eq!(
        records[1].repo,
        repo(Some("444455556666"), None, "gitpod/ide")
    );
    assert_eq!(
        err(&records[2]),
        (
            Code::UnsupportedInput,
            "line 4 is an AWS CLI error (AccessDeniedException: denied), not a repository policy"
        )
    );
    assert_eq!(err(&records[3]).0, Code::InvalidJson);
    assert!(err(&records[3]).1.starts_with("line 5 is not valid JSON"));
}

// ---- unsupported and broken -------------------------------------------------------------------

#[test]
fn an_unknown_object_says_what_it_found() {
    let r = one(read_named(
        "describe.json",
        r#"{"images":[{"repositoryName":"a"}],"nextToken":"x"}"#,
    ));
    assert_eq!(r.record, 1);
    assert_eq!(r.repo, RepoId::default());
    assert_eq!(
        err(&r),
        (
            Code::UnsupportedInput,
            "the file is a JSON object with keys `images`, `nextToken`; expected a policy document, get-repository-policy output, a bulk export, AWS Config, Terraform show -json, a CloudFormation template, Steampipe or CloudQuery rows, describe-repositories, get-registry-policy or get-account-setting output"
        )
    );
    let r = one(read_named("n.json", "true"));
    assert!(err(&r).1.starts_with("the file is a JSON boolean;"));
    let r = one(read_named("s.json", "\"hello\""));
    assert!(
        err(&r)
            .1
            .starts_with("the file is a JSON string that holds no policy document;")
    );
    let r = one(read_named("e.json", "{}"));
    assert!(err(&r).1.starts_with("the file is an empty JSON object;"));
}

#[test]
fn many_keys_are_summarised() {
    let r = one(read_named(
        "k.json",
        r#"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8}"#,
    ));
    assert!(
        err(&r)
            .1
            .contains("keys `a`, `b`, `c`, `d`, `e`, `f`, … (8 keys in all);"),
        "{}",
        err(&r).1
    );
}

#[test]
fn empty_and_whitespace_only_files_are_invalid_json() {
    for text in ["", " \n\t\r\n "] {
        let r = one(read_named("e.json", text));
        assert_eq!(r.record, 1);
        assert_eq!(err(&r), (Code::InvalidJson, "file is empty"));
    }
}

#[test]
fn broken_json_is_one_record_with_line_and_column() {
    let r = one(read_named(
        "broken.json",
        "\n{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\",}\n  ]\n}\n",
    ));
    assert_eq!(r.record, 1);
    assert_eq!(
        err(&r),
        (
            Code::InvalidJson,
            "the file is not valid JSON: key must be a string at line 5 column 24"
        )
    );
}

#[test]
fn a_repeated_key_is_invalid_json() {
    let r = one(read_named("dup.json", r#"{"Statement":[],"Statement":[]}"#));
    let (code, message) = err(&r);
    assert_eq!(code, Code::InvalidJson);
    assert!(
        message.contains("repeats a key: duplicate field `Statement`"),
        "{message}"
    );
}

#[test]
fn deep_nesting_never_overflows_the_stack() {
    // Raw values are skipped without recursion: a deep `Statement` is passed on whole, for the
    // policy parser (which has the limit) to reject, and a deep array element is no shape.
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    let text = format!(r#"{{"Statement":{deep}}}"#);
    assert_eq!(
        one(read_named("deep.json", &text)).body,
        Body::Policy(text.into())
    );
    let r = one(read_named("deep-array.json", format!("[{deep}]")));
    assert_eq!(err(&r).0, Code::UnsupportedInput);
}

#[test]
fn a_bad_policy_text_is_passed_on_for_the_policy_parser_to_judge() {
    let r = one(read_named(
        "a.json",
        r#"{"repositoryName":"a","policyText":"{not json"}"#,
    ));
    assert_eq!(r.body, Body::Policy("{not json".into()));
}

// ---- encodings --------------------------------------------------------------------------------

#[test]
fn a_utf8_bom_is_accepted() {
    let r = one(read_named("bom.json", format!("\u{feff}{GITPOD}")));
    assert_eq!(r.body, Body::Policy(GITPOD.into()));
}

#[test]
fn utf16_with_bom_is_decoded() {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(GITPOD.encode_utf16().flat_map(u16::to_le_bytes));
    let r = one(read_named("ps.json", bytes));
    assert_eq!(r.body, Body::Policy(GITPOD.into()));
    let mut bytes = vec![0xFE, 0xFF];
    bytes.extend(GITPOD.encode_utf16().flat_map(u16::to_be_bytes));
    assert_eq!(
        one(read_named("be.json", bytes)).body,
        Body::Policy(GITPOD.into())
    );
}

#[test]
fn invalid_utf8_is_unreadable_with_the_byte_offset() {
    let r = one(read_named("latin1.json", b"{\"a\":\"caf\xe9\"}"));
    assert_eq!(
        err(&r),
        (
            Code::Unreadable,
            "not UTF-8 at byte 9; JSON exports must be UTF-8 text"
        )
    );
}

// ---- gzip -------------------------------------------------------------------------------------

#[test]
fn gzip_is_recognised_by_magic_bytes_not_name() {
    let r = one(read_named("policy.json", gzip(GITPOD.as_bytes())));
    assert_eq!(r.body, Body::Policy(GITPOD.into()));
    let r = one(read_named("app.json.gz", gzip(GITPOD.as_bytes())));
    assert_eq!(r.repo, label_repo("app"));
    // A `.gz` name over plain text is read as plain text.
    let r = one(read_named("plain.json.gz", GITPOD));
    assert_eq!(r.body, Body::Policy(GITPOD.into()));
}

#[test]
fn multi_member_gzip_is_read_in_full() {
    let mut bytes = gzip(b"{\"repositoryName\":\"a\",\"policy\":null}\n");
    bytes.extend(gzip(b"{\"repositoryName\":\"b\",\"policy\":null}\n"));
    let records = read_named("bulk.jsonl.gz", bytes);
    let names: Vec<_> = records
        .iter()
        .map(|r| (r.record, r.repo.repository.clone().unwrap_or_default()))
        .collect();
    assert_eq!(names, [(1, "a".to_owned()), (2, "b".to_owned())]);
}

#[test]
fn damaged_gzip_is_unreadable() {
    let bytes = gzip(GITPOD.as_bytes());
    let r = one(read_named("cut.json.gz", &bytes[..bytes.len() / 2]));
    let (code, message) = err(&r);
    assert_eq!(code, Code::Unreadable);
    assert!(message.starts_with("damaged gzip data: "), "{message}");
    let mut corrupt = bytes.clone();
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0xFF;
    corrupt[mid + 1] ^= 0xFF;
    let r = one(read_named("bad.json.gz", corrupt));
    assert_eq!(err(&r).0, Code::Unreadable);
}

#[test]
fn decompressed_size_is_capped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bomb.json.gz");
    fs::write(&path, gzip(&vec![b' '; 64 * 1024])).expect("write");
    let source = named_source(&path);
    // Over the cap of a document held whole, it is streamed (never held), and the stream is
    // capped too: blanks are no record, so only the cap's error record comes out.
    let (records, _) = read_capped(&source, 16 * 1024);
    assert_eq!(
        err(&one(records)),
        (
            Code::Unreadable,
            "decompressed size exceeds 16 KiB; the rest of the file is not read"
        )
    );
    // At the cap exactly, it is read.
    let (records, _) = read_capped(&source, 64 * 1024);
    assert_eq!(err(&one(records)), (Code::InvalidJson, "file is empty"));
}

#[test]
fn a_gzip_over_the_whole_document_cap_is_streamed_with_the_same_records() {
    // Compressed past 64 KiB and inflating past the cap: streamed as it inflates, never held.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let items: Vec<String> = (0..4000)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!(
                "{{\"registryId\":\"444455556666\",\"repositoryName\":\"r{i}-{x:016x}{:016x}\",\"policyText\":{}}}",
                x.rotate_left(29),
                quoted(GITPOD)
            )
        })
        .collect();
    let text = format!("[{}]", items.join(","));
    let packed = gzip(text.as_bytes());
    assert!(packed.len() > 64 << 10, "{}", packed.len());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bulk.json.gz");
    fs::write(&path, packed).expect("write");
    let source = named_source(&path);
    let (whole, _) = read_capped(&source, text.len() as u64);
    assert_eq!(whole.len(), 4000);
    assert!(whole.iter().all(|r| matches!(r.body, Body::Policy(_))));
    let caps = stream::Caps {
        whole: text.len() as u64 - 1,
        ..stream::Caps::default()
    };
    let mut streamed = Vec::new();
    read_source_with(&source, &caps, &mut Reader::default(), &mut |r| {
        streamed.push(r)
    });
    assert_eq!(format!("{whole:?}"), format!("{streamed:?}"));
}

#[test]
fn a_plain_file_over_the_cap_of_no_streamed_shape_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.json");
    fs::write(&path, GITPOD).expect("write");
    let (records, _) = read_capped(&named_source(&path), 100);
    let record = one(records);
    let (code, message) = err(&record);
    assert_eq!(code, Code::Unreadable);
    assert!(
        message.starts_with("the file is larger than 100 bytes (after decompression) and not of a shape read in parts"),
        "{message}"
    );
}

// ---- YAML and CSV found by the walk -----------------------------------------------------------

#[test]
fn walked_yaml_and_csv_that_are_not_json_are_skipped_with_a_note() {
    for (name, body) in [
        (
            "docker-compose.yml",
            &b"services:\n  app:\n    image: x\n"[..],
        ),
        ("inventory.csv", b"name,size\na,b\n"),
        ("empty.yaml", b""),
        ("latin1.csv", b"caf\xe9\n"),
        ("values.yaml", b"{\"replicas\": 3}"),
    ] {
        let (records, outcome) = read_walked(name, body);
        assert!(records.is_empty(), "{name}: {records:?}");
        let Outcome::Skipped(note) = outcome else {
            panic!("{name}: not skipped");
        };
        assert!(note.contains(name), "{note}");
    }
}

#[test]
fn walked_yaml_holding_a_json_export_is_read() {
    let (records, outcome) = read_walked("app.yaml", GITPOD);
    assert_eq!(outcome, Outcome::Read);
    assert_eq!(one(records).repo, label_repo("app"));
}

#[test]
fn named_yaml_that_is_not_json_is_an_error_record() {
    let r = one(read_named("compose.yml", "services: {}\n"));
    assert_eq!(err(&r).0, Code::InvalidJson);
}

#[test]
fn walked_txt_that_is_not_json_is_an_error_record() {
    let (records, outcome) = read_walked("notes.txt", "hello");
    assert_eq!(outcome, Outcome::Read);
    assert_eq!(err(&one(records)).0, Code::InvalidJson);
}

// ---- discovery --------------------------------------------------------------------------------

fn displays(sources: &[Source]) -> Vec<String> {
    sources.iter().map(|s| s.display.to_string()).collect()
}

#[test]
fn dash_is_standard_input_and_a_missing_path_is_an_error() {
    let sources = discover(&["-".to_owned()]).expect("stdin");
    assert_eq!(sources, [Source::stdin()]);
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nope").to_string_lossy().into_owned();
    let e = discover(&["-".to_owned(), missing.clone()]).expect_err("missing");
    assert_eq!(e.path, missing);
    assert_eq!(
        e.to_string(),
        format!("{missing}: no such file or directory")
    );
}

#[test]
fn a_named_file_is_read_whatever_its_name_and_labelled_by_its_stem() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, label) in [
        ("app.json.gz", "app"),
        ("APP.Policy", "APP"),
        ("policy.bak", "policy"),
        ("noext", "noext"),
        ("my.repo.json", "my.repo"),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, GITPOD).expect("write");
        let s = named_source(&path);
        assert!(s.named);
        assert_eq!(&*s.display, path.to_string_lossy());
        assert_eq!(s.label(), Some(label), "{name}");
        assert_eq!(one(read_all(&s).0).repo, label_repo(label));
    }
}

#[test]
fn folders_are_walked_for_known_extensions_sorted_with_hidden_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("export");
    for rel in [
        "zeta.json",
        "team/app.json",
        "team/sub/deep.POLICY",
        "team/b.ndjson.gz",
        ".hidden/h.json",
        ".dot.yaml",
        "a.JSON.GZ",
        "x.txt",
        "t.template",
        "c.csv",
        "y.yml",
        "l.jsonl",
        "ignored.md",
        "ignored.gz",
        "ignored.json.bak",
        "ignored/.gitignore",
    ] {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, "x").expect("write");
    }
    fs::write(root.join(".gitignore"), "*.json\n").expect("write");
    let arg = format!("{}/", root.to_string_lossy());
    let sources = discover(&[arg]).expect("exists");
    let base = root.to_string_lossy();
    let expected: Vec<String> = [
        ".dot.yaml",
        ".hidden/h.json",
        "a.JSON.GZ",
        "c.csv",
        "l.jsonl",
        "t.template",
        "team/app.json",
        "team/b.ndjson.gz",
        "team/sub/deep.POLICY",
        "x.txt",
        "y.yml",
        "zeta.json",
    ]
    .iter()
    .map(|rel| format!("{base}/{rel}"))
    .collect();
    assert_eq!(displays(&sources), expected);
    let labels: Vec<_> = sources.iter().filter_map(|s| s.label()).collect();
    assert_eq!(
        labels,
        [
            ".dot",
            ".hidden/h",
            "a",
            "c",
            "l",
            "t",
            "team/app",
            "team/b",
            "team/sub/deep",
            "x",
            "y",
            "zeta"
        ]
    );
    assert!(sources.iter().all(|s| !s.named && s.walk_error().is_none()));
}

#[test]
fn sources_from_several_arguments_are_sorted_by_display() {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::create_dir_all(dir.path().join("b")).expect("mkdir");
    fs::write(dir.path().join("b/2.json"), "x").expect("write");
    fs::write(dir.path().join("b/1.json"), "x").expect("write");
    fs::write(dir.path().join("a.json"), "x").expect("write");
    let d = dir.path().to_string_lossy();
    let sources =
        discover(&[format!("{d}/b"), "-".to_owned(), format!("{d}/a.json")]).expect("exists");
    assert_eq!(
        displays(&sources),
        [
            "-".to_owned(),
            format!("{d}/a.json"),
            format!("{d}/b/1.json"),
            format!("{d}/b/2.json")
        ]
    );
}

#[cfg(unix)]
#[test]
fn symlinks_are_followed_and_a_loop_is_one_unreadable_source() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("export");
    fs::create_dir_all(root.join("team")).expect("mkdir");
    fs::write(root.join("team/app.json"), GITPOD).expect("write");
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).expect("mkdir");
    fs::write(elsewhere.join("other.json"), GITPOD).expect("write");
    symlink(&elsewhere, root.join("linked")).expect("symlink");
    symlink(&root, root.join("team/loop")).expect("symlink");
    let sources = discover(&[root.to_string_lossy().into_owned()]).expect("exists");
    let base = root.to_string_lossy();
    assert_eq!(
        displays(&sources),
        [
            format!("{base}/linked/other.json"),
            format!("{base}/team/app.json"),
            format!("{base}/team/loop"),
        ]
    );
    assert_eq!(sources[0].label(), Some("linked/other"));
    let looped = &sources[2];
    let message = looped.walk_error().expect("a walk error");
    assert!(message.starts_with("symbolic link loop"), "{message}");
    let r = one(read_all(looped).0);
    assert_eq!(r.source.as_ref(), format!("{base}/team/loop"));
    assert_eq!(err(&r), (Code::Unreadable, message));
}

#[cfg(unix)]
#[test]
fn a_dangling_link_with_a_known_extension_is_unreadable_and_others_are_ignored() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().expect("temp dir");
    symlink(dir.path().join("gone.json"), dir.path().join("app.json")).expect("symlink");
    symlink(dir.path().join("gone"), dir.path().join("README")).expect("symlink");
    let sources = discover(&[dir.path().to_string_lossy().into_owned()]).expect("exists");
    assert_eq!(sources.len(), 1, "{sources:?}");
    assert!(sources[0].display.ends_with("/app.json"));
    let r = one(read_all(&sources[0]).0);
    assert_eq!(
        err(&r),
        (
            Code::Unreadable,
            "broken symbolic link: its target does not exist"
        )
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_in_a_folder_is_never_opened() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("pipe.json");
    match std::process::Command::new("mkfifo").arg(&fifo).status() {
        Ok(status) if status.success() => {}
        _ => {
            eprintln!("mkfifo is unavailable; skipping");
            return;
        }
    }
    fs::write(dir.path().join("real.json"), GITPOD).expect("write");
    // A symlink to the FIFO is no better: its target's type counts.
    #[cfg(unix)]
    std::os::unix::fs::symlink(&fifo, dir.path().join("via-link.json")).expect("symlink");
    let sources = discover(&[dir.path().to_string_lossy().into_owned()]).expect("exists");
    assert_eq!(sources.len(), 1, "{sources:?}");
    assert!(sources[0].display.ends_with("/real.json"));
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_or_folder_is_an_error_not_a_stop() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let locked = dir.path().join("locked");
    fs::create_dir_all(&locked).expect("mkdir");
    fs::write(locked.join("a.json"), GITPOD).expect("write");
    let secret = dir.path().join("secret.json");
    fs::write(&secret, GITPOD).expect("write");
    fs::write(dir.path().join("ok.json"), GITPOD).expect("write");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).expect("chmod");
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).expect("chmod");
    if fs::read(&secret).is_ok() {
        // Running as root: permissions do not stop reads.
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).expect("chmod");
        eprintln!("running as root; skipping");
        return;
    }
    let sources = discover(&[dir.path().to_string_lossy().into_owned()]).expect("exists");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).expect("chmod");
    assert_eq!(sources.len(), 3, "{sources:?}");
    assert!(sources[0].display.ends_with("/locked"));
    let message = sources[0].walk_error().expect("walk error");
    assert!(message.starts_with("cannot list the folder: "), "{message}");
    assert!(sources[2].display.ends_with("/secret.json"));
    let record = one(read_all(&sources[2]).0);
    let (code, message) = err(&record);
    assert_eq!(code, Code::Unreadable);
    assert!(message.starts_with("cannot open the file: "), "{message}");
}

#[test]
fn display_joins_without_doubled_slashes() {
    assert_eq!(
        walk_display("testdata", "team/app.json"),
        "testdata/team/app.json"
    );
    assert_eq!(
        walk_display("testdata/", "team/app.json"),
        "testdata/team/app.json"
    );
    assert_eq!(walk_display("testdata//", "a.json"), "testdata/a.json");
    assert_eq!(walk_display("/", "etc/a.json"), "/etc/a.json");
    assert_eq!(walk_display(".", "a.json"), "./a.json");
}

fn walk_display(arg: &str, rel: &str) -> String {
    walk::join_display(arg, rel)
}

// ---- the sample export in testdata/ -----------------------------------------------------------

#[test]
fn the_sample_export_reads_as_its_readme_says() {
    let root = format!("{}/testdata/export", env!("CARGO_MANIFEST_DIR"));
    let sources = discover(std::slice::from_ref(&root)).expect("testdata exists");
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    for source in &sources {
        let outcome = read_source(source, &mut |r| {
            let what = match &r.body {
                Body::Policy(_) => "policy".to_owned(),
                Body::NoPolicy => "no-policy".to_owned(),
                Body::Error { code, .. } => code.id().to_owned(),
                Body::Unresolved(_) => "unresolved".to_owned(),
                Body::RegistryPolicy(_) => "registry-policy".to_owned(),
                Body::Inventory => "inventory".to_owned(),
                Body::RegistryPolicyScope(v) => format!("scope-{v:?}"),
            };
            let rel = r.source[root.len() + 1..].to_owned();
            let repo = r.repo;
            rows.push(format!(
                "{rel} #{} {} {}/{}/{}{} {what}",
                r.record,
                r.shape.name(),
                repo.registry.unwrap_or_default(),
                repo.region.unwrap_or_default(),
                repo.repository.unwrap_or_default(),
                if repo.name_from_path { " (path)" } else { "" },
            ));
        });
        if let Outcome::Skipped(note) = outcome {
            skipped.push(note[root.len() + 1..].to_owned());
        }
    }
    let snapshot = "444455556666_Config_us-east-1_ConfigSnapshot_20240502T091407Z.json";
    let expected = [
        format!("aws-config/{snapshot} #1 aws-config 444455556666/us-east-1/gitpod/vscode-server policy"),
        format!("aws-config/{snapshot} #3 aws-config 444455556666/eu-west-1/platform/legacy-app no-policy"),
        "aws-config/get-resource-config-history.json #1 aws-config 444455556666/eu-west-1/gitpod/workspace-full policy".to_owned(),
        "aws-config/select-resource-config.json #1 aws-config 777788889999/us-west-2/platform/go-builder policy".to_owned(),
        "aws-config/select-resource-config.json #2 aws-config 777788889999/us-west-2/platform/rust-builder policy".to_owned(),
        "broken/cloudquery-interrupted.jsonl.gz #1 unrecognised // unreadable".to_owned(),
        "broken/platform-metrics.json #1 unrecognised // invalid-json".to_owned(),
        "bulk/repositories.json #1 bulk 444455556666/us-east-1/gitpod/ide-images policy".to_owned(),
        "bulk/repositories.json #2 bulk 444455556666/eu-west-1/platform/base-node no-policy".to_owned(),
        "bulk/repositories.json #3 bulk 444455556666/eu-west-1/platform/grafana policy".to_owned(),
        "bulk/repositories.json #4 bulk 444455556666/us-east-1/tools/renovate policy".to_owned(),
        "bulk/us-west-2.jsonl #1 bulk 777788889999/us-west-2/platform/go-toolchain policy".to_owned(),
        "bulk/us-west-2.jsonl #3 bulk 777788889999/us-west-2/platform/secrets-sync policy".to_owned(),
        "bulk/us-west-2.jsonl #4 bulk 777788889999/us-west-2/platform/nightly no-policy".to_owned(),
        "cloudformation/analytics-stack.json #1 cloudformation //analytics/dashboards policy".to_owned(),
        "cloudformation/analytics-stack.json #3 cloudformation //analytics/notebooks policy".to_owned(),
        "cloudformation/workspace-images.yaml #1 cloudformation //gitpod/cfn-workspace policy".to_owned(),
        "cloudformation/workspace-images.yaml #2 cloudformation //TeamRepository (path) unresolved".to_owned(),
        "cloudformation/workspace-images.yaml #3 cloudformation //tools/cfn-scratch no-policy".to_owned(),
        "cloudquery/aws_ecr_repository_policies.jsonl #1 cloudquery 555566667777/ap-southeast-2/data/ingest policy".to_owned(),
        "cloudquery/aws_ecr_repository_policies.jsonl #2 cloudquery 555566667777/ap-southeast-2/data/reports policy".to_owned(),
        "duplicates/2024-q4/platform-build-images.json #1 get-repository-policy 444455556666//platform/build-images policy".to_owned(),
        "get-repository-policy/gitpod-workspace-base.json #1 get-repository-policy 444455556666//gitpod/workspace-base policy".to_owned(),
        "get-repository-policy/platform-build-images.json #1 get-repository-policy 444455556666//platform/build-images policy".to_owned(),
        "get-repository-policy/platform-ci-runner.json #1 get-repository-policy 777788889999//platform/ci-runner policy".to_owned(),
        "inventory/describe-repositories.json #1 describe-repositories 444455556666/us-east-1/gitpod/workspace-base inventory".to_owned(),
        "inventory/describe-repositories.json #2 describe-repositories 444455556666/us-east-1/platform/payments-api inventory".to_owned(),
        "inventory/describe-repositories.json #3 describe-repositories 444455556666/us-east-1/gitpod/ide-images inventory".to_owned(),
        "no-policy/get-repository-policy.stderr.txt #1 no-policy-marker 777788889999//platform/sandbox no-policy".to_owned(),
        "no-policy/get-repository-policy.stderr.txt #2 no-policy-marker 444455556666//tools/scratch no-policy".to_owned(),
        "no-policy/gitpod-legacy-images.json #1 no-policy-marker 444455556666//gitpod/legacy-images no-policy".to_owned(),
        "registry/555566667777-get-account-setting.json #1 registry-policy-scope 555566667777// scope-V2".to_owned(),
        "registry/555566667777-get-registry-policy.json #1 get-registry-policy 555566667777// registry-policy".to_owned(),
        "registry/777788889999-get-account-setting.json #1 registry-policy-scope 777788889999// scope-V1".to_owned(),
        "registry/777788889999-get-registry-policy.json #1 get-registry-policy 777788889999// registry-policy".to_owned(),
        "safety/get-repository-policy.jsonl #1 bulk 444455556666//safety/public-push policy".to_owned(),
        "safety/get-repository-policy.jsonl #2 bulk 444455556666//safety/org-wildcard policy".to_owned(),
        "safety/get-repository-policy.jsonl #3 bulk 444455556666//safety/partner-push policy".to_owned(),
        "safety/get-repository-policy.jsonl #4 bulk 444455556666//safety/scoped-push policy".to_owned(),
        "safety/get-repository-policy.jsonl #5 bulk 444455556666//safety/typo-principal policy".to_owned(),
        "safety/get-repository-policy.jsonl #6 bulk 444455556666//safety/deleted-principal policy".to_owned(),
        "safety/get-repository-policy.jsonl #7 bulk 444455556666//safety/ip-allow policy".to_owned(),
        "steampipe/aws_ecr_repository.csv #1 steampipe 777788889999/us-west-2/platform/renderer policy".to_owned(),
        "steampipe/aws_ecr_repository.csv #2 steampipe 777788889999/us-west-2/platform/tmp no-policy".to_owned(),
        "steampipe/aws_ecr_repository.json #1 steampipe 555566667777/ap-southeast-2/data/etl policy".to_owned(),
        "steampipe/aws_ecr_repository.json #2 steampipe 555566667777/ap-southeast-2/data/warehouse no-policy".to_owned(),
        "teams/.shared/base-images.json #1 policy-document //teams/.shared/base-images (path) policy".to_owned(),
        "teams/data/notebook.json #1 policy-document //teams/data/notebook (path) policy".to_owned(),
        "teams/data/spark.policy #1 policy-document //teams/data/spark (path) policy".to_owned(),
        "teams/ml/trainer.json.gz #1 policy-document //teams/ml/trainer (path) policy".to_owned(),
        "teams/web/frontend.json #1 policy-document //teams/web/frontend (path) policy".to_owned(),
        "terraform/terraform-show-plan.json #2 terraform //platform/api unresolved".to_owned(),
        "terraform/terraform-show-plan.json #3 terraform 444455556666//platform/docs policy".to_owned(),
        "terraform/terraform-show-state.json #2 terraform 444455556666/us-east-1/gitpod/workspace-images policy".to_owned(),
        "terraform/terraform-show-state.json #3 terraform 444455556666/us-east-1/ml/models no-policy".to_owned(),
        "terraform/terraform-show-state.json #5 terraform 444455556666/us-east-1/ml/features policy".to_owned(),
    ];
    assert_eq!(rows, expected);
    assert_eq!(skipped.len(), 1);
    assert!(
        skipped[0].starts_with("teams/web/ci.yml: skipped, not JSON;"),
        "{skipped:?}"
    );
}

#[test]
fn batch_get_resource_config_base_items_are_read() {
    let text = r#"{"baseConfigurationItems":[{"accountId":"444455556666","arn":"arn:aws:ecr:us-east-1:444455556666:repository/a","resourceType":"AWS::ECR::Repository","resourceName":"a","awsRegion":"us-east-1","configuration":"{\"RepositoryName\":\"a\"}"}],"unprocessedResourceKeys":[]}"#;
    let r = one(read_named("batch.json", text));
    assert_eq!(r.repo.repository.as_deref(), Some("a"));
    assert_eq!(r.repo.registry.as_deref(), Some("444455556666"));
    assert_eq!(r.body, Body::NoPolicy);
}

#[test]
fn a_single_config_item_is_one_record() {
    // `get-resource-config-history --query 'configurationItems[0]'`.
    let text = config_item(
        "gitpod/a",
        &format!(",\"RepositoryPolicyText\":{}", quoted(GITPOD)),
        "",
    );
    let r = one(read_named("item.json", text));
    assert_eq!(r.record, 1);
    assert_eq!(r.repo.region.as_deref(), Some("eu-west-1"));
    assert_eq!(r.body, Body::Policy(GITPOD.into()));
}

#[test]
fn trailing_garbage_after_gzip_is_unreadable() {
    let mut bytes = gzip(GITPOD.as_bytes());
    bytes.extend_from_slice(b"garbage");
    let record = one(read_named("tail.json.gz", bytes));
    let (code, message) = err(&record);
    assert_eq!(code, Code::Unreadable, "{message}");
}

#[test]
fn crlf_pretty_json_is_one_document() {
    let text = GITPOD.replace(",", ",\r\n");
    let r = one(read_named("crlf.json", &text));
    assert_eq!(r.body, Body::Policy(text.clone().into()));
}

#[test]
fn names_are_split_case_insensitively() {
    use walk::split_name;
    let n = split_name("App.Json.GZ");
    assert_eq!((n.stem, n.ext, n.gz), ("App", Some("json"), true));
    let n = split_name("x.tar.gz");
    assert_eq!((n.stem, n.ext, n.gz), ("x.tar", None, true));
    let n = split_name(".json");
    assert_eq!((n.stem, n.ext, n.gz), (".json", Some("json"), false));
    let n = split_name("a.jsonl");
    assert_eq!(n.ext, Some("jsonl"));
    let n = split_name("a.xjson");
    assert_eq!(n.ext, None);
}

#[path = "tests_shapes.rs"]
mod shapes;

#[path = "tests_hostile.rs"]
mod hostile;

#[path = "tests_prop.rs"]
mod prop;

#[path = "tests_linear.rs"]
mod linear;

#[path = "tests_stream.rs"]
mod stream_tests;

#[test]
fn a_source_keeps_its_path_and_label_inside_display_where_it_can() {
    use std::path::PathBuf;
    let s = Source::file(
        PathBuf::from("export/team/app.json"),
        std::sync::Arc::from("export/team/app.json"),
        Some("team/app".into()),
        false,
        None,
    );
    assert_eq!(s.path(), Some(Path::new("export/team/app.json")));
    assert_eq!(s.label(), Some("team/app"));
    // A path display only shows lossily, and a label that is no part of it, are kept apart.
    let s = Source::file(
        PathBuf::from("export/caf\u{e9}.json"),
        std::sync::Arc::from("export/caf?.json"),
        Some("other".into()),
        false,
        None,
    );
    assert_eq!(s.path(), Some(Path::new("export/caf\u{e9}.json")));
    assert_eq!(s.label(), Some("other"));
    assert_eq!(Source::stdin().path(), None);
    assert_eq!(Source::stdin().label(), None);
}

#[test]
fn a_policy_in_a_json_string_is_kept_encoded_only_when_it_decodes_for_sure() {
    use super::common::lazy_literal;
    assert!(lazy_literal(r#""{\"Version\":\"2012-10-17\"}""#));
    // Blank, or no document: decoded now, so that "" and blanks are `no-policy`.
    assert!(!lazy_literal(r#""""#));
    assert!(!lazy_literal(r#""\n""#));
    assert!(!lazy_literal(r#""[]""#));
    // A \u escape may be a lone surrogate, which fails to decode: decoded now, with its error.
    assert!(!lazy_literal(r#""{\"Sid\":\"\u0041\"}""#));
    for text in [
        r#"{"policyText":"\n","repositoryName":"a"}"#,
        r#"{"policyText":"","repositoryName":"a"}"#,
    ] {
        assert_eq!(
            one(read_named("a.json", text)).body,
            Body::NoPolicy,
            "{text}"
        );
    }
    let surrogate = r#"{"policyText":"{\"Sid\":\"\ud800\"}","repositoryName":"a"}"#;
    let r = one(read_named("a.json", surrogate));
    assert!(
        matches!(
            r.body,
            Body::Error {
                code: Code::InvalidJson,
                ..
            }
        ),
        "{:?}",
        r.body
    );
}

#[test]
fn a_folder_is_walked_in_the_order_of_display_so_a_scan_need_not_sort() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = [
        "team/x.json",
        "team-b/x.json",
        "team.json",
        "team/sub/y.json",
        "team/sub-2.json",
        "a b/c.json",
        "a/c.json",
        "a.b/c.json",
        "Z.json",
        "z/_.json",
        "z/.hidden.json",
        "ü/é.json",
    ];
    for f in files {
        let p = dir.path().join(f);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(&p, "{}").expect("write");
    }
    // A link to a folder is ordered as the folder it leads to (`s/…` after `s-x/…`).
    let outside = tempfile::tempdir().expect("temp dir");
    fs::write(outside.path().join("in.json"), "{}").expect("write");
    fs::create_dir_all(dir.path().join("s-x")).expect("mkdir");
    fs::write(dir.path().join("s-x/a.json"), "{}").expect("write");
    std::os::unix::fs::symlink(outside.path(), dir.path().join("s")).expect("symlink");
    let arg = dir.path().to_string_lossy().into_owned();
    let mut walked = Vec::new();
    walk_folder(&arg, &mut |s| walked.push(s.display.to_string()));
    let discovered: Vec<String> = discover(std::slice::from_ref(&arg))
        .expect("discover")
        .into_iter()
        .map(|s| s.display.to_string())
        .collect();
    assert_eq!(walked.len(), files.len() + 2);
    assert_eq!(walked, discovered, "the walk order is the sorted order");
    assert_eq!(
        single_folder(std::slice::from_ref(&arg)),
        Some(arg.as_str())
    );
    assert_eq!(single_folder(&[arg.clone(), arg.clone()]), None);
    assert_eq!(single_folder(&["-".to_owned()]), None);
}

#[test]
fn a_source_stays_five_words() {
    // A million are held during a scan (see `Source`).
    assert!(
        std::mem::size_of::<Source>() <= 40,
        "{}",
        std::mem::size_of::<Source>()
    );
}

#[test]
fn one_reader_for_many_files_reads_each_as_a_fresh_reader_does() {
    // Files of every size around the first buffer (8 KiB) and the largest kept (64 KiB), in an
    // order where a large buffer is kept before small files, a non-UTF-8 file, a UTF-16 one, a
    // gzip, an empty file; and under a cap smaller than the buffer kept, which must still refuse
    // or stream exactly as a fresh reader does.
    let dir = tempfile::tempdir().expect("temp dir");
    let record = |name: &str, pad: usize| {
        format!(
            r#"{{"registryId":"111122223333","repositoryName":"{name}","policyText":{},"pad":"{}"}}"#,
            quoted(GITPOD),
            "x".repeat(pad)
        )
    };
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, pad) in [0, 60_000, 10, 8_000, 8_192, 9_000, 70_000, 5, 200_000, 1]
        .into_iter()
        .enumerate()
    {
        files.push((
            format!("f{i:02}.json"),
            record(&format!("r{i}"), pad).into_bytes(),
        ));
    }
    files.push(("g1.json".into(), b"\xff\xfe{\x00}\x00".to_vec()));
    files.push(("g2.json".into(), b"{\"a\": \"\xe9\"}".to_vec()));
    files.push(("g3.json.gz".into(), gzip(record("gz", 30_000).as_bytes())));
    files.push(("g4.json".into(), Vec::new()));
    files.push(("g5.json".into(), record("last", 3).into_bytes()));
    for (name, bytes) in &files {
        fs::write(dir.path().join(name), bytes).expect("write");
    }
    for limit in [read::MAX_WHOLE, 9_000, 100] {
        let caps = if limit == read::MAX_WHOLE {
            stream::Caps::default()
        } else {
            stream::Caps::scaled(limit)
        };
        let mut reader = Reader::default();
        for (name, _) in &files {
            let source = named_source(&dir.path().join(name));
            let (mut fresh, mut kept) = (Vec::new(), Vec::new());
            let a = read_source_with(&source, &caps, &mut Reader::default(), &mut |r| {
                fresh.push(r)
            });
            let b = read_source_with(&source, &caps, &mut reader, &mut |r| kept.push(r));
            assert_eq!(a, b, "{name} under {limit}");
            assert_eq!(
                format!("{fresh:?}"),
                format!("{kept:?}"),
                "{name} under {limit}"
            );
            assert!(
                !fresh.is_empty() || matches!(a, Outcome::Skipped(_)),
                "{name}"
            );
        }
    }
}

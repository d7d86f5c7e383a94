//! Property test (issues 3 and 10): valid exports of every shape, mutated at random, never make
//! the tool panic; every record read is folded by a join or gives exactly one row per account; a
//! row is `error` only with an error finding.

use std::io::Read as _;
use std::sync::LazyLock;

use proptest::prelude::*;

use super::*;
use crate::eval::Puller;
use crate::finding::{Severity, Status};

/// Every sample file of `testdata/export` (gunzipped), with its name: real exports of every shape.
static SEEDS: LazyLock<Vec<(String, Vec<u8>)>> = LazyLock::new(|| {
    let root = format!("{}/testdata/export", env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for s in discover(std::slice::from_ref(&root)).expect("testdata") {
        let Some(path) = s.path() else { continue };
        let Ok(bytes) = fs::read(path) else { continue };
        let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut plain = Vec::new();
            // A damaged sample gives what it can.
            let _ = flate2::read::MultiGzDecoder::new(bytes.as_slice()).read_to_end(&mut plain);
            plain
        } else {
            bytes
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().trim_end_matches(".gz").to_owned())
            .unwrap_or_default();
        out.push((name, bytes));
    }
    out
});

const TOKENS: &[&str] = &[
    "null",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\",
    "0",
    "-1e999",
    "\u{feff}",
    "\r\n",
    "\n",
    "\0",
    "\"Statement\"",
    "\"policyText\"",
    "\"Fn::Sub\"",
    "!Ref ",
    "${x}",
    "\u{e9}",
    "\u{ffff}",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, token: usize },
    Byte { at: usize, value: u8 },
    Truncate { at: usize },
    Repeat { at: usize, len: usize, times: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, token)| Mutation::Insert { at, token }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::Byte { at, value }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), 1usize..20, 2usize..50).prop_map(|(at, len, times)| Mutation::Repeat {
            at,
            len,
            times
        }),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let pos = |at: usize, len: usize| if len == 0 { 0 } else { at % (len + 1) };
    match *m {
        Mutation::Delete { at, len } => {
            let start = pos(at, bytes.len());
            let end = (start + len).min(bytes.len());
            bytes.drain(start..end);
        }
        Mutation::Insert { at, token } => {
            let at = pos(at, bytes.len());
            bytes.splice(at..at, TOKENS[token].bytes());
        }
        Mutation::Byte { at, value } => {
            if !bytes.is_empty() {
                let at = at % bytes.len();
                bytes[at] = value;
            }
        }
        Mutation::Truncate { at } => bytes.truncate(pos(at, bytes.len())),
        Mutation::Repeat { at, len, times } => {
            let start = pos(at, bytes.len());
            let end = (start + len).min(bytes.len());
            let slice = bytes[start..end].repeat(times);
            bytes.splice(end..end, slice);
        }
    }
}

const EXTENSIONS: &[&str] = &["json", "jsonl", "yaml", "csv", "template", "txt"];

proptest! {
    // 400 cases by default; `PROPTEST_CASES=100000` for a long hunt.
    #![proptest_config(ProptestConfig { cases: ProptestConfig::default().cases.max(400), ..ProptestConfig::default() })]

    #[test]
    fn mutated_exports_give_one_row_per_record_and_error_only_with_an_error_finding(
        seed in any::<proptest::sample::Index>(),
        ext in 0..EXTENSIONS.len(),
        keep_name in any::<bool>(),
        gz in any::<bool>(),
        mutations in proptest::collection::vec(mutation(), 0..6),
    ) {
        let (name, bytes) = seed.get(&SEEDS);
        let mut bytes = bytes.clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let name = if keep_name { name.clone() } else { format!("mutant.{}", EXTENSIONS[ext]) };
        let (name, bytes) = if gz { (format!("{name}.gz"), gzip(&bytes)) } else { (name, bytes) };
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(&name);
        fs::write(&path, &bytes).expect("write");
        let pullers = [
            Puller { account: "111122223333".into(), ..Puller::default() },
            Puller { account: "999988887777".into(), ..Puller::default() },
        ];
        // Through the one pipeline every command uses (issue 10): every record read is either
        // folded by a join (counted) or one row per account.
        let pool = crate::run::pool(Some(1)).expect("pool");
        let paths = [path.to_string_lossy().into_owned()];
        let judged = crate::pipeline::run(
            &crate::pipeline::Request {
                paths: &paths,
                pullers: &pullers,
                progress: crate::config::Progress::Never,
                keep_stdin: false,
                registry_scope: None,
            },
            &pool,
        )
        .expect("pipeline");
        let t = &judged.tally;
        let rowful = t.records_read() - t.records_folded();
        prop_assert_eq!(judged.records, rowful);
        prop_assert_eq!(judged.rows.len() as u64, rowful * pullers.len() as u64);
        let rows = judged.rows;
        for row in &rows {
            if row.status == Status::Error {
                prop_assert!(row.findings.iter().any(|f| f.severity() == Severity::Error), "{row:?}");
                prop_assert!(!row.detail().is_empty());
            }
            prop_assert_eq!(row.status, Status::worst(row.findings.iter()));
        }
    }
}

//! The documentation speaks of the same codes as the catalog.

use ecr_audit::finding::Code;

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))).expect(rel)
}

#[test]
fn readme_lists_every_finding_code_with_its_severity_and_a_link() {
    let readme = read("README.md");
    for code in Code::ALL {
        let id = code.id();
        let row = format!("| [`{id}`](docs/findings.md#{id}) | {} |", code.severity());
        assert!(readme.contains(&row), "README lacks the row {row}");
    }
}

#[test]
fn findings_doc_explains_every_code_with_its_severity() {
    let doc = read("docs/findings.md");
    for code in Code::ALL {
        let heading = format!("## {}\n\n**{}.**", code.id(), code.severity());
        assert!(doc.contains(&heading), "docs/findings.md lacks {heading:?}");
    }
}

#[test]
fn readme_starts_with_the_two_commands() {
    let readme = read("README.md");
    let block: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("```sh"))
        .skip(1)
        .take(2)
        .collect();
    assert!(
        block[0].starts_with("cargo run --release -- scan testdata/export --account 111122223333")
    );
    // The test command installs what the tests drive when missing (a fresh machine has no
    // browser), then runs them: CI runs the same script.
    assert!(block[1].starts_with("bash .ci/run"));
    let ci = read(".ci/run");
    assert!(
        ci.contains("cargo test --locked"),
        "the script runs the tests"
    );
}

#[test]
fn judgement_doc_lists_every_context_key_with_the_date_taken() {
    use ecr_audit::eval::keys::{GLOBAL_KEYS, KEYS_DATE, TAG_KEY_PREFIXES};
    let doc = read("docs/judgement.md");
    assert!(doc.contains(&format!("taken on {KEYS_DATE}")), "date");
    for key in GLOBAL_KEYS {
        assert!(
            doc.contains(&format!("`{key}`")),
            "docs/judgement.md lacks {key}"
        );
    }
    for prefix in TAG_KEY_PREFIXES {
        assert!(
            doc.contains(&format!("`{prefix}…`")),
            "docs/judgement.md lacks {prefix}"
        );
    }
}

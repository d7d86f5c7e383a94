//! The documentation speaks of the same codes as the catalog.

use ecr_audit::finding::Code;

#[test]
fn readme_lists_every_finding_code_with_its_severity() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    for code in Code::ALL {
        let row = format!("| `{}` | {} |", code.id(), code.severity());
        assert!(readme.contains(&row), "README lacks the row {row}");
    }
}

#[test]
fn readme_starts_with_the_two_commands() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let block: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("```sh"))
        .skip(1)
        .take(2)
        .collect();
    assert!(block[0].starts_with("cargo run --release -- scan testdata --account 111122223333"));
    assert!(block[1].starts_with("cargo test"));
    let ci =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).expect(".ci/run");
    assert!(
        ci.contains("cargo test"),
        "CI runs the README's test command"
    );
}

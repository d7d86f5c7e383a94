//! The cross-check, one rule per test, on rows made in code.

use std::sync::Arc;

use super::*;
use crate::finding::Status as ScanStatus;
use crate::record::RepoId;

const A: &str = "111122223333";

fn export_row(registry: &str, region: Option<&str>, name: &str, status: ScanStatus) -> Row {
    Row {
        source: Arc::from("export/x.json"),
        record: 1,
        repo: RepoId {
            registry: Some(registry.into()),
            region: region.map(Into::into),
            repository: Some(name.into()),
            ..RepoId::default()
        }
        .into(),
        account: Arc::from(A),
        status,
        actions: None,
        // One finding of the row's status, so that the derived detail says which it is.
        findings: match status {
            ScanStatus::Pass => Vec::new(),
            ScanStatus::Warn => vec![crate::finding::Finding::new(
                crate::finding::Code::ConditionalAllow,
                "warn detail",
            )],
            ScanStatus::Fail => vec![crate::finding::Finding::new(
                crate::finding::Code::ActionNotGranted,
                "fail detail",
            )],
            ScanStatus::Error => vec![crate::finding::Finding::new(
                crate::finding::Code::InvalidJson,
                "error detail",
            )],
        }
        .into(),
    }
}

fn direct(image: &str) -> Use {
    Use {
        image: Ok(image.into()),
        written: None,
        tag_written: None,
        via: None,
        instruction: "",
        default: false,
    }
}

fn check(rows: &[Row], u: &Use) -> GitpodRow {
    judge("p/.gitpod.yml", u, &Arc::from(A), &Index::new(rows))
}

fn codes(r: &GitpodRow) -> Vec<Code> {
    r.findings.iter().map(|f| f.code).collect()
}

const BASE: &str = "444455556666.dkr.ecr.us-east-1.amazonaws.com/gitpod/workspace-base:1";

#[test]
fn the_repositorys_verdict_is_carried_over() {
    for (scan, want) in [
        (ScanStatus::Pass, Status::Pass),
        (ScanStatus::Warn, Status::Warn),
        (ScanStatus::Fail, Status::Fail),
        (ScanStatus::Error, Status::Error),
    ] {
        let rows = [export_row(
            "444455556666",
            Some("us-east-1"),
            "gitpod/workspace-base",
            scan,
        )];
        let r = check(&rows, &direct(BASE));
        assert_eq!(r.status, want);
        assert_eq!(r.verdict.as_ref().map(|v| v.status), Some(scan));
        assert!(codes(&r).is_empty());
        assert!(r.detail.contains("export/x.json:1"), "{}", r.detail);
    }
}

#[test]
fn a_repository_missing_from_the_export_fails() {
    let rows = [export_row(
        "444455556666",
        Some("eu-west-1"),
        "gitpod/workspace-base",
        ScanStatus::Pass,
    )];
    let r = check(&rows, &direct(BASE));
    assert_eq!(
        r.status,
        Status::Fail,
        "another region is another repository"
    );
    assert_eq!(codes(&r), vec![Code::ImageNotInExport]);
    assert!(r.verdict.is_none());
}

#[test]
fn another_accounts_verdict_does_not_count() {
    let mut row = export_row(
        "444455556666",
        Some("us-east-1"),
        "gitpod/workspace-base",
        ScanStatus::Pass,
    );
    row.account = Arc::from("999988887777");
    let r = check(&[row], &direct(BASE));
    assert_eq!(codes(&r), vec![Code::ImageNotInExport]);
}

#[test]
fn a_repository_without_region_matches_by_registry_and_name_and_says_so() {
    let rows = [export_row(
        "444455556666",
        None,
        "gitpod/workspace-base",
        ScanStatus::Pass,
    )];
    let r = check(&rows, &direct(BASE));
    assert_eq!(r.status, Status::Pass, "a note does not change the status");
    assert_eq!(codes(&r), vec![Code::RegionUnknown]);
}

#[test]
fn the_exact_region_wins_over_a_regionless_record() {
    let rows = [
        export_row(
            "444455556666",
            None,
            "gitpod/workspace-base",
            ScanStatus::Fail,
        ),
        export_row(
            "444455556666",
            Some("us-east-1"),
            "gitpod/workspace-base",
            ScanStatus::Pass,
        ),
    ];
    let r = check(&rows, &direct(BASE));
    assert_eq!(r.status, Status::Pass);
    assert!(codes(&r).is_empty());
}

#[test]
fn several_records_of_one_repository_give_the_worst_verdict() {
    let rows = [
        export_row(
            "444455556666",
            Some("us-east-1"),
            "gitpod/workspace-base",
            ScanStatus::Pass,
        ),
        export_row(
            "444455556666",
            Some("us-east-1"),
            "gitpod/workspace-base",
            ScanStatus::Warn,
        ),
    ];
    let r = check(&rows, &direct(BASE));
    assert_eq!(r.status, Status::Warn);
    assert!(r.detail.contains("worst of 2 records"), "{}", r.detail);
}

#[test]
fn a_path_labelled_bare_document_never_matches() {
    let mut row = export_row(
        "444455556666",
        Some("us-east-1"),
        "gitpod/workspace-base",
        ScanStatus::Pass,
    );
    row.repo.name_from_path = true;
    let r = check(&[row], &direct(BASE));
    assert_eq!(codes(&r), vec![Code::ImageNotInExport]);
}

#[test]
fn an_ecr_image_in_a_dockerfile_warns_on_top_of_the_verdict() {
    let rows = [export_row(
        "444455556666",
        Some("us-east-1"),
        "gitpod/workspace-base",
        ScanStatus::Pass,
    )];
    let u = Use {
        via: Some("p/.gitpod.Dockerfile:3".into()),
        instruction: "FROM",
        ..direct(BASE)
    };
    let r = check(&rows, &u);
    assert_eq!(r.status, Status::Warn);
    assert_eq!(codes(&r), vec![Code::EcrImageInDockerfile]);
    assert!(r.detail.contains("not supported"), "{}", r.detail);
    // A failing verdict stays the status, and speaks first.
    let rows = [export_row(
        "444455556666",
        Some("us-east-1"),
        "gitpod/workspace-base",
        ScanStatus::Fail,
    )];
    let r = check(&rows, &u);
    assert_eq!(r.status, Status::Fail);
    assert!(r.detail.contains(": fail in the export"), "{}", r.detail);
}

#[test]
fn docker_hub_public_ecr_and_the_default_image_are_not_applicable() {
    for image in [
        "gitpod/workspace-full:2024-05-20",
        "public.ecr.aws/docker/library/node:20",
    ] {
        let r = check(&[], &direct(image));
        assert_eq!(r.status, Status::NotApplicable, "{image}");
        assert_eq!(codes(&r), vec![Code::NotPrivateEcr]);
    }
    let r = check(
        &[],
        &Use {
            default: true,
            ..direct(yml::DEFAULT_IMAGE)
        },
    );
    assert_eq!(r.status, Status::NotApplicable);
    assert!(r.detail.contains("default"), "{}", r.detail);
}

#[test]
fn a_malformed_ecr_reference_is_an_error() {
    let r = check(
        &[],
        &direct("44445555666.dkr.ecr.us-east-1.amazonaws.com/app"),
    );
    assert_eq!(r.status, Status::Error);
    assert_eq!(codes(&r), vec![Code::InvalidImage]);
}

#[test]
fn an_unresolved_variable_warns_and_keeps_the_reference_as_written() {
    let u = Use {
        image: Err(Finding::new(Code::UnresolvedVariable, "BASE has no value")),
        written: Some("${BASE}".into()),
        tag_written: None,
        via: Some("p/Dockerfile:2".into()),
        instruction: "FROM",
        default: false,
    };
    let r = check(&[], &u);
    assert_eq!(r.status, Status::Warn);
    assert_eq!(r.image.as_deref(), Some("${BASE}"));
    assert_eq!(codes(&r), vec![Code::UnresolvedVariable]);
}

#[test]
fn an_unresolved_tag_still_checks_the_repository_with_a_note() {
    let rows = [export_row(
        "444455556666",
        Some("us-east-1"),
        "gitpod/workspace-base",
        ScanStatus::Pass,
    )];
    let u = Use {
        image: Ok("444455556666.dkr.ecr.us-east-1.amazonaws.com/gitpod/workspace-base".into()),
        written: Some("${REG}/gitpod/workspace-base:${TAG}".into()),
        tag_written: Some(":${TAG}".into()),
        via: Some("p/Dockerfile:4".into()),
        instruction: "FROM",
        default: false,
    };
    let r = check(&rows, &u);
    assert_eq!(
        r.status,
        Status::Warn,
        "the Dockerfile warning, not the tag"
    );
    assert_eq!(
        codes(&r),
        vec![Code::EcrImageInDockerfile, Code::UnresolvedTag]
    );
    assert_eq!(
        r.image.as_deref(),
        Some("444455556666.dkr.ecr.us-east-1.amazonaws.com/gitpod/workspace-base:${TAG}")
    );
    assert_eq!(r.ecr.and_then(|e| e.reference).as_deref(), Some(":${TAG}"));
}

//! The cross-check, one rule per test, on rows made in code.

use std::sync::Arc;

use super::*;
use crate::eval::Partition;
use crate::finding::Status as ScanStatus;
use crate::record::RepoId;
use dockerfile::Role;

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
    Use::named(Ok(image.into()))
}

fn puller(partition: Partition) -> Puller {
    Puller {
        account: A.into(),
        partition,
        context: Default::default(),
    }
}

fn check(rows: &[Row], u: &Use) -> GitpodRow {
    check_in(Partition::Aws, rows, u)
}

fn check_in(partition: Partition, rows: &[Row], u: &Use) -> GitpodRow {
    judge("p/.gitpod.yml", u, &puller(partition), &Index::new(rows))
}

fn codes(r: &GitpodRow) -> Vec<Code> {
    r.findings.iter().map(|f| f.code).collect()
}

const BASE: &str = "444455556666.dkr.ecr.us-east-1.amazonaws.com/gitpod/workspace-base:1";

#[test]
fn the_repositorys_verdict_is_carried_over() {
    for (scan, want) in [
        (ScanStatus::Pass, Some(Status::Pass)),
        (ScanStatus::Warn, Some(Status::Warn)),
        (ScanStatus::Fail, Some(Status::Fail)),
        (ScanStatus::Error, Some(Status::Error)),
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
        Some(Status::Fail),
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
    assert_eq!(
        r.status,
        Some(Status::Pass),
        "a note does not change the status"
    );
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
    assert_eq!(r.status, Some(Status::Pass));
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
    assert_eq!(r.status, Some(Status::Warn));
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
        role: Some(Role::Workspace),
        ..direct(BASE)
    };
    let r = check(&rows, &u);
    assert_eq!(r.status, Some(Status::Warn));
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
    assert_eq!(r.status, Some(Status::Fail));
    assert!(r.detail.contains(": fail in the export"), "{}", r.detail);
}

#[test]
fn docker_hub_public_ecr_and_the_default_image_are_not_applicable() {
    for image in [
        "gitpod/workspace-full:2024-05-20",
        "public.ecr.aws/docker/library/node:20",
    ] {
        let r = check(&[], &direct(image));
        assert_eq!(r.status, None, "{image}");
        assert_eq!(codes(&r), vec![Code::NotPrivateEcr]);
    }
    let r = check(
        &[],
        &Use {
            default: true,
            ..direct(yml::DEFAULT_IMAGE)
        },
    );
    assert_eq!(r.status, None);
    assert!(r.detail.contains("default"), "{}", r.detail);
}

#[test]
fn a_malformed_ecr_reference_is_an_error() {
    let r = check(
        &[],
        &direct("44445555666.dkr.ecr.us-east-1.amazonaws.com/app"),
    );
    assert_eq!(r.status, Some(Status::Error));
    assert_eq!(codes(&r), vec![Code::InvalidImage]);
}

#[test]
fn an_unresolved_variable_warns_and_keeps_the_reference_as_written() {
    let u = Use {
        written: Some("${BASE}".into()),
        via: Some("p/Dockerfile:2".into()),
        instruction: "FROM",
        role: Some(Role::Workspace),
        ..Use::named(Err(Finding::new(
            Code::UnresolvedVariable,
            "BASE has no value",
        )))
    };
    let r = check(&[], &u);
    assert_eq!(r.status, Some(Status::Warn));
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
        written: Some("${REG}/gitpod/workspace-base:${TAG}".into()),
        tag_written: Some(":${TAG}".into()),
        via: Some("p/Dockerfile:4".into()),
        instruction: "FROM",
        role: Some(Role::Workspace),
        ..direct("444455556666.dkr.ecr.us-east-1.amazonaws.com/gitpod/workspace-base")
    };
    let r = check(&rows, &u);
    assert_eq!(
        r.status,
        Some(Status::Warn),
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

fn in_dockerfile(image: &str, role: Role, instruction: &'static str) -> Use {
    Use {
        via: Some("p/Dockerfile:7".into()),
        instruction,
        role: Some(role),
        ..direct(image)
    }
}

#[test]
fn the_dockerfile_advice_fits_where_the_image_is_used() {
    let rows = [export_row(
        "444455556666",
        Some("us-east-1"),
        "gitpod/workspace-base",
        ScanStatus::Pass,
    )];
    let msg = |u: Use| {
        let r = check(&rows, &u);
        assert_eq!(codes(&r), vec![Code::EcrImageInDockerfile]);
        r.findings[0].message.to_string()
    };
    let base = msg(in_dockerfile(BASE, Role::Workspace, "FROM"));
    assert!(base.contains("workspace's base image"), "{base}");
    assert!(base.contains("name it in .gitpod.yml `image:`"), "{base}");
    let builder = msg(in_dockerfile(BASE, Role::Builder, "FROM"));
    assert!(builder.contains("would not help"), "{builder}");
    let copy = msg(in_dockerfile(BASE, Role::CopyFrom, "COPY --from"));
    assert!(copy.contains("vendor the files it copies"), "{copy}");
    assert!(!copy.contains("name it in .gitpod.yml"), "{copy}");
    let frontend = msg(in_dockerfile(BASE, Role::Frontend, "# syntax"));
    assert!(frontend.contains("frontend"), "{frontend}");
}

#[test]
fn an_image_of_an_unused_stage_is_a_note_and_not_looked_up() {
    let u = Use {
        not_pulled: Some("tools".into()),
        ..in_dockerfile(BASE, Role::Builder, "FROM")
    };
    let r = check(&[], &u);
    assert_eq!(r.status, None);
    assert_eq!(codes(&r), vec![Code::NotPulled]);
    assert!(r.detail.contains("stage `tools`"), "{}", r.detail);
}

#[test]
fn the_image_partition_must_be_the_audited_one() {
    let cn = "444455556666.dkr.ecr.cn-north-1.amazonaws.com.cn/app:1";
    let regionless = export_row("444455556666", None, "app", ScanStatus::Pass);
    // Judged for `aws`: a China image's verdict cannot be carried.
    let r = check(std::slice::from_ref(&regionless), &direct(cn));
    assert_eq!(r.status, Some(Status::Error));
    assert_eq!(codes(&r), vec![Code::PartitionMismatch]);
    assert!(r.detail.contains("--partition aws-cn"), "{}", r.detail);
    // Judged for `aws-cn`, a regionless record without an ARN is in the judged partition.
    let r = check_in(
        Partition::AwsCn,
        std::slice::from_ref(&regionless),
        &direct(cn),
    );
    assert_eq!(r.status, Some(Status::Pass));
    // A regionless record whose ARN names another partition is another repository.
    let mut commercial = regionless;
    commercial.repo = commercial
        .repo
        .with_arn(Some("arn:aws:ecr:us-east-1:444455556666:repository/app"));
    let r = check_in(Partition::AwsCn, &[commercial], &direct(cn));
    assert_eq!(codes(&r), vec![Code::ImageNotInExport]);
    let gov = "444455556666.dkr.ecr.us-gov-west-1.amazonaws.com/app";
    assert_eq!(
        codes(&check(&[], &direct(gov))),
        vec![Code::PartitionMismatch]
    );
}

#[test]
fn docker_rejected_references_are_invalid_images() {
    for image in [
        "<aws-ecr-url-prefix>.amazonaws.com/<your-image-name:tag>",
        "Node:Buster",
    ] {
        let r = check(&[], &direct(image));
        assert_eq!(r.status, Some(Status::Error), "{image}");
        assert_eq!(codes(&r), vec![Code::InvalidImage], "{image}");
    }
}

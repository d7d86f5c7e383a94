//! `ecr-audit gitpod`: cross-checks the images that Gitpod configurations use against the
//! verdicts of a scanned export.
//!
//! The export is judged by the same engine as `scan` (`pipeline::run`); every `.gitpod.yml` found
//! under the paths gives the images it uses (its `image`, or the `FROM` lines of the Dockerfile
//! it builds); each private ECR image is looked up by (registry, region, repository) among the
//! export's rows for the account, and one row per (configuration, image, account) is reported.

pub mod catalog;
pub mod dockerfile;
pub mod image;
pub mod report;
pub mod yml;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crate::audit::Row;
use crate::config::RunConfig;
use crate::pipeline::{self, Judged, Request};
use crate::run::{self, RunError};

use catalog::{Code, Finding, Status};
use image::{EcrImage, Image};
use yml::{DEFAULT_IMAGE, ImageSpec};

/// Report format of the gitpod command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Table,
    Csv,
    Json,
    Markdown,
}

/// Everything `gitpod` needs, validated.
#[derive(Clone, Debug)]
pub struct GitpodConfig {
    /// Where to look for `.gitpod.yml` files.
    pub paths: Vec<String>,
    /// The export to scan, with `scan`'s path semantics.
    pub exports: Vec<String>,
    pub format: Format,
    pub run: RunConfig,
}

/// The export's verdict on a repository, carried onto a gitpod row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub status: crate::finding::Status,
    /// Where in the export: `source` and `record`.
    pub source: Arc<str>,
    pub record: u64,
    /// The scan finding codes, in catalog order.
    pub codes: Vec<crate::finding::Code>,
    pub detail: String,
}

/// One line of the gitpod report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitpodRow {
    /// The `.gitpod.yml` as found.
    pub config: String,
    /// The image reference (after `ARG` substitution; as written when a variable is unresolved);
    /// `None` when the configuration could not be read.
    pub image: Option<String>,
    /// `Dockerfile:LINE` when the image is a `FROM` of the Dockerfile the configuration builds.
    pub via: Option<String>,
    pub ecr: Option<EcrImage>,
    pub account: Arc<str>,
    pub status: Status,
    pub verdict: Option<Verdict>,
    /// In `Code` order.
    pub findings: Vec<Finding>,
    pub detail: String,
}

/// What a gitpod run came to.
#[derive(Debug)]
pub struct GitpodOutcome {
    pub failed: bool,
    pub rows: usize,
}

/// Summary facts for the reports.
#[derive(Clone, Debug)]
pub struct Meta {
    pub accounts: Vec<String>,
    pub configs: usize,
    pub export_records: u64,
    pub elapsed: std::time::Duration,
}

pub fn run(cfg: &GitpodConfig) -> Result<GitpodOutcome, RunError> {
    let start = Instant::now();
    // Find the configurations first: a missing path is a usage error before any work.
    let found = yml::discover(&cfg.paths)?;
    let workers = run::pool(cfg.run.jobs)?;
    let Judged { rows, records, .. } = pipeline::run(
        &Request {
            paths: &cfg.exports,
            pullers: &cfg.run.pullers,
            progress: cfg.run.progress,
            keep_stdin: false,
        },
        &workers,
    )?;
    let index = Index::new(&rows);
    let accounts: Vec<Arc<str>> = cfg
        .run
        .pullers
        .iter()
        .map(|p| Arc::from(p.account.as_str()))
        .collect();
    let mut out = Vec::new();
    for f in &found {
        for use_ in uses(f) {
            for account in &accounts {
                out.push(judge(&f.display, &use_, account, &index));
            }
        }
    }
    let failed = out
        .iter()
        .any(|r| cfg.run.fail_on.trips(r.status.for_fail_on()));
    let meta = Meta {
        accounts: cfg.run.pullers.iter().map(|p| p.account.clone()).collect(),
        configs: found.len(),
        export_records: records,
        elapsed: start.elapsed(),
    };
    run::emit(cfg.run.output.as_deref(), cfg.run.color, |w, color| {
        report::write(cfg.format, &out, &meta, color, w)
    })?;
    Ok(GitpodOutcome {
        failed,
        rows: out.len(),
    })
}

/// One image a configuration uses, or a problem reading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Use {
    /// The reference, or `Err` with the finding that replaces it.
    image: Result<String, Finding>,
    /// As written, for rows whose reference could not be (fully) resolved.
    written: Option<String>,
    /// When only the tag or digest is unresolved: it, as written (`image` is then the name
    /// alone), for the report's `reference`.
    tag_written: Option<String>,
    /// `Dockerfile:LINE` for a `FROM` (or `COPY --from`), and the instruction.
    via: Option<String>,
    instruction: &'static str,
    /// The configuration names no image: Gitpod's default is used.
    default: bool,
}

/// The images a configuration uses, in file order; reading problems become error uses.
pub(crate) fn uses(found: &Found) -> Vec<Use> {
    let error = |code, message: String| Use {
        image: Err(Finding::new(code, message)),
        written: None,
        tag_written: None,
        via: None,
        instruction: "",
        default: false,
    };
    if let Some(e) = &found.walk_error {
        return vec![error(Code::Unreadable, format!("{}: {e}", found.display))];
    }
    let text = match read_text(&found.path) {
        Ok(t) => t,
        Err(e) => return vec![error(Code::Unreadable, format!("{}: {e}", found.display))],
    };
    let spec = match yml::image_spec(&text) {
        Ok(s) => s,
        Err(e) => {
            return vec![error(
                Code::InvalidGitpodConfig,
                format!("{}: {e}", found.display),
            )];
        }
    };
    match spec {
        ImageSpec::Default => vec![Use {
            image: Ok(DEFAULT_IMAGE.into()),
            written: None,
            tag_written: None,
            via: None,
            instruction: "",
            default: true,
        }],
        ImageSpec::Reference(r) => vec![Use {
            image: Ok(r),
            written: None,
            tag_written: None,
            via: None,
            instruction: "",
            default: false,
        }],
        ImageSpec::Dockerfile { file } => {
            // `file` is relative to the repository root, the folder of `.gitpod.yml`.
            let dir = found.path.parent().unwrap_or(Path::new(""));
            let shown = match found.display.rfind('/') {
                Some(i) => format!("{}/{file}", &found.display[..i]),
                None => file.clone(),
            };
            let text = match read_text(&dir.join(&file)) {
                Ok(t) => t,
                Err(e) => {
                    return vec![error(
                        Code::Unreadable,
                        format!("{shown} (the Dockerfile named by `image.file`): {e}"),
                    )];
                }
            };
            match dockerfile::base_images(&text) {
                Err(e) => vec![error(Code::InvalidDockerfile, format!("{shown}: {e}"))],
                Ok(images) => images
                    .into_iter()
                    .map(|b| {
                        let via = format!("{shown}:{}", b.line);
                        let (image, tag_written) = match (b.resolved, b.name_only) {
                            (Ok(r), _) => (Ok(r), None),
                            (Err(_), Some((name, tag))) => (Ok(name), Some(tag)),
                            (Err(vars), None) => (
                                Err(Finding::new(
                                    Code::UnresolvedVariable,
                                    format!(
                                        "{via}: `{} {}` uses {} with no value before the first FROM; the image cannot be checked (give the ARG a default, or name the image in .gitpod.yml).",
                                        b.instruction,
                                        b.written,
                                        vars.iter()
                                            .map(|v| format!("`{v}`"))
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    ),
                                )),
                                None,
                            ),
                        };
                        Use {
                            image,
                            written: Some(b.written),
                            tag_written,
                            via: Some(via),
                            instruction: b.instruction,
                            default: false,
                        }
                    })
                    .collect(),
            }
        }
    }
}

/// Reads a text file, refusing what is not UTF-8 or is too large to be a configuration.
fn read_text(path: &Path) -> Result<String, String> {
    const MAX: u64 = 8 << 20;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > MAX {
        return Err(format!("larger than {} MiB", MAX >> 20));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    String::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()))
}

/// The export's rows by (account, registry, region, repository); rows without a region are found
/// by (account, registry, repository).
pub(crate) struct Index<'a> {
    exact: HashMap<(&'a str, &'a str, &'a str, &'a str), Vec<&'a Row>>,
    regionless: HashMap<(&'a str, &'a str, &'a str), Vec<&'a Row>>,
}

impl<'a> Index<'a> {
    pub(crate) fn new(rows: impl IntoIterator<Item = &'a Row>) -> Index<'a> {
        let mut exact: HashMap<_, Vec<&Row>> = HashMap::new();
        let mut regionless: HashMap<_, Vec<&Row>> = HashMap::new();
        for r in rows {
            // A path-derived label (bare policy document) is no repository name: it cannot match.
            let (Some(registry), Some(name)) = (r.repo.registry.as_deref(), r.repo.known_name())
            else {
                continue;
            };
            match r.repo.region.as_deref() {
                Some(region) => exact
                    .entry((&*r.account, registry, region, name))
                    .or_default()
                    .push(r),
                None => regionless
                    .entry((&*r.account, registry, name))
                    .or_default()
                    .push(r),
            }
        }
        Index { exact, regionless }
    }

    /// The worst matching row, and whether it was matched without a region.
    fn find(&self, account: &str, e: &EcrImage) -> Option<(&'a Row, bool, usize)> {
        let key = (
            account,
            e.registry.as_str(),
            e.region.as_str(),
            e.repository.as_str(),
        );
        let (rows, regionless) = match self.exact.get(&key) {
            Some(rows) => (rows, false),
            None => (
                self.regionless
                    .get(&(account, e.registry.as_str(), e.repository.as_str()))?,
                true,
            ),
        };
        // Several records of one repository (e.g. two exports): the worst verdict stands.
        let worst = rows.iter().copied().max_by_key(|r| r.status)?;
        Some((worst, regionless, rows.len()))
    }
}

fn judge(config: &str, u: &Use, account: &Arc<str>, index: &Index<'_>) -> GitpodRow {
    let mut row = GitpodRow {
        config: config.to_owned(),
        image: None,
        via: u.via.clone(),
        ecr: None,
        account: Arc::clone(account),
        status: Status::NotApplicable,
        verdict: None,
        findings: Vec::new(),
        detail: String::new(),
    };
    let reference = match &u.image {
        Err(f) => {
            row.image = u.written.clone();
            row.findings.push(f.clone());
            return finish(row);
        }
        Ok(r) => r,
    };
    // With an unresolved tag, the resolved name and the tag as written.
    row.image = Some(format!(
        "{reference}{}",
        u.tag_written.as_deref().unwrap_or_default()
    ));
    if let Some(tag) = &u.tag_written {
        row.findings.push(Finding::new(
            Code::UnresolvedTag,
            format!(
                "{}: the tag or digest `{tag}` uses a build variable with no value; the repository does not depend on it and is checked.",
                u.via.as_deref().unwrap_or(config)
            ),
        ));
    }
    let ecr = match image::parse(reference) {
        Err(e) => {
            let at = u.via.as_deref().unwrap_or(config);
            row.findings
                .push(Finding::new(Code::InvalidImage, format!("{at}: {e}")));
            return finish(row);
        }
        Ok(Image::Other { registry }) => {
            let msg = if u.default {
                format!(
                    "No `image` in the configuration: Gitpod's default {DEFAULT_IMAGE} (Docker Hub) is used; not a private ECR image."
                )
            } else {
                format!(
                    "The image is on {registry}, not in a private ECR registry: the export does not apply."
                )
            };
            row.findings.push(Finding::new(Code::NotPrivateEcr, msg));
            return finish(row);
        }
        Ok(Image::Ecr(mut e)) => {
            if let Some(tag) = &u.tag_written {
                e.reference = Some(tag.clone());
            }
            e
        }
    };
    let repo = format!("{}/{}/{}", ecr.registry, ecr.region, ecr.repository);
    match index.find(account, &ecr) {
        None => row.findings.push(Finding::new(
            Code::ImageNotInExport,
            format!(
                "Repository {repo} is not in the export: nothing shows that account {account} can pull it; export its repository policy and scan again."
            ),
        )),
        Some((found, regionless, n)) => {
            if regionless {
                row.findings.push(Finding::new(
                    Code::RegionUnknown,
                    format!(
                        "The export gives no region for {}/{} ({}:{}): matched by registry and name, assuming region {}.",
                        ecr.registry, ecr.repository, found.source, found.record, ecr.region
                    ),
                ));
            }
            let more = if n > 1 {
                format!(" (worst of {n} records)")
            } else {
                String::new()
            };
            row.verdict = Some(Verdict {
                status: found.status,
                source: Arc::clone(&found.source),
                record: found.record,
                codes: found.codes(),
                detail: format!(
                    "{repo}: {} in the export ({}:{}{more}): {}",
                    found.status, found.source, found.record, found.detail()
                ),
            });
        }
    }
    if let Some(via) = &u.via {
        row.findings.push(Finding::new(
            Code::EcrImageInDockerfile,
            format!(
                "{via}: a private ECR image pulled by `{}` in a custom Dockerfile that the installation builds, which Gitpod Dedicated has documented as not supported; name the image in .gitpod.yml `image:` directly.",
                u.instruction
            ),
        ));
    }
    row.ecr = Some(ecr);
    finish(row)
}

/// Sorts the findings, and sets the status (the carried verdict and the worst finding) and the
/// detail (the worst finding's message, or the carried verdict's).
fn finish(mut row: GitpodRow) -> GitpodRow {
    row.findings.sort_by_key(|f| f.code);
    let from_findings = row
        .findings
        .iter()
        .map(|f| f.code.severity().status())
        .max()
        .unwrap_or(Status::NotApplicable);
    let carried = row
        .verdict
        .as_ref()
        .map(|v| Status::carried(v.status))
        .unwrap_or(Status::NotApplicable);
    row.status = from_findings.max(carried);
    let worst_finding = row
        .findings
        .iter()
        .filter(|f| f.code.severity() != catalog::Severity::Note)
        .max_by_key(|f| (f.code.severity(), std::cmp::Reverse(f.code)));
    row.detail = match (worst_finding, &row.verdict) {
        // The verdict speaks first when it is at least as bad as the worst finding.
        (Some(f), Some(v)) if Status::carried(v.status) >= f.code.severity().status() => {
            v.detail.clone()
        }
        (Some(f), _) => f.message.clone(),
        (None, Some(v)) => v.detail.clone(),
        (None, None) => row
            .findings
            .first()
            .map(|f| f.message.clone())
            .unwrap_or_default(),
    };
    row
}

pub use yml::Found;

#[cfg(test)]
mod tests;

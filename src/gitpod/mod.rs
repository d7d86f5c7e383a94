//! `ecr-audit gitpod`: cross-checks the images that Gitpod configurations use against the
//! verdicts of a scanned export.
//!
//! The export is judged by the same engine as `scan` (`pipeline::run`); every configuration found
//! under the paths (the names Gitpod reads, in its order) gives the images it uses (its `image`,
//! or what building the Dockerfile it names pulls), read only inside its repository root and
//! only up to a size (`confine`); each private ECR image is looked up by (partition, registry,
//! region, repository) among the export's rows for the account, and one row per (configuration,
//! image, account) is reported. Rows, findings, statuses and formats are the scan's types; only
//! the codes are gitpod's own (`catalog`).

pub mod catalog;
pub mod confine;
pub mod dockerfile;
pub mod image;
pub mod report;
pub mod yml;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crate::audit::Row;
use crate::config::{Format, RunConfig};
use crate::eval::Puller;
use crate::finding::Status;
use crate::pipeline::{self, Judged, Request};
use crate::run::{self, RunError};

use catalog::{Code, Finding};
use confine::ReadError;
use dockerfile::Role;
use image::{EcrImage, Image};
use yml::{DEFAULT_IMAGE, ImageSpec, What};

/// Everything `gitpod` needs, validated.
#[derive(Clone, Debug)]
pub struct GitpodConfig {
    /// Where to look for configurations.
    pub paths: Vec<String>,
    /// The export to scan, with `scan`'s path semantics.
    pub exports: Vec<String>,
    /// The scan's format type; `gitpod` writes every format but SARIF (whose rules are the
    /// scan's policy findings).
    pub format: Format,
    pub run: RunConfig,
}

/// The export's verdict on a repository, carried onto a gitpod row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
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
    /// The configuration as found.
    pub config: String,
    /// The image reference (after `ARG` substitution; as written when a variable is unresolved);
    /// `None` when the configuration could not be read.
    pub image: Option<String>,
    /// `Dockerfile:LINE` when the image is pulled by the Dockerfile the configuration builds.
    pub via: Option<String>,
    pub ecr: Option<EcrImage>,
    pub account: Arc<str>,
    /// `None`: not applicable (the export has nothing to say about the image).
    pub status: Option<Status>,
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
    /// Configurations read (or tried).
    pub configs: usize,
    pub export_records: u64,
    pub elapsed: std::time::Duration,
}

/// Why a gitpod run did not report.
#[derive(Debug, thiserror::Error)]
pub enum GitpodError {
    #[error(transparent)]
    Run(#[from] RunError),
    /// Nothing to audit: no configuration, or an export without a record. No report claims a
    /// verdict then (exit 2); the message says what was found and skipped.
    #[error("nothing to audit: {0}")]
    NothingToAudit(String),
}

pub fn run(cfg: &GitpodConfig) -> Result<GitpodOutcome, GitpodError> {
    let start = Instant::now();
    // Find the configurations first: a missing path is a usage error before any work.
    let found = yml::discover(&cfg.paths).map_err(RunError::from)?;
    let configs = found.iter().filter(|f| f.what == What::Config).count();
    if configs == 0 {
        return Err(GitpodError::NothingToAudit(no_configuration(
            &cfg.paths, &found,
        )));
    }
    let workers = run::pool(cfg.run.jobs)?;
    let Judged {
        rows,
        records,
        sources,
        cache,
        ..
    } = pipeline::run(
        &Request {
            paths: &cfg.exports,
            pullers: &cfg.run.pullers,
            progress: cfg.run.progress,
            keep_stdin: false,
            registry_scope: cfg.run.registry_scope,
        },
        &workers,
    )?;
    // The verdict cache is only freed: on a thread of its own, while the images are checked.
    // (Should no thread be had, the closure is dropped here and the cache with it.)
    let _ = std::thread::Builder::new().spawn(move || drop(cache));
    if records == 0 {
        return Err(GitpodError::NothingToAudit(format!(
            "the export ({}) holds no record ({} file{} read), so no image can be checked; {configs} configuration{} found",
            cfg.exports.join(", "),
            sources.len(),
            plural(sources.len()),
            plural(configs),
        )));
    }
    // The rows' statuses as `scan` reports them: with the configuration file's suppressions.
    let mut rows = rows;
    crate::suppress::apply(&mut rows, &cfg.run.suppress, crate::suppress::today());
    let index = Index::new(&rows);
    let mut out = Vec::new();
    for f in &found {
        for use_ in uses(f) {
            for puller in &cfg.run.pullers {
                out.push(judge(&f.display, &use_, puller, &index));
            }
        }
    }
    let failed = out
        .iter()
        .any(|r| r.status.is_some_and(|s| cfg.run.fail_on.trips(s)));
    let meta = Meta {
        accounts: cfg.run.pullers.iter().map(|p| p.account.clone()).collect(),
        configs,
        export_records: records,
        elapsed: start.elapsed(),
    };
    let width = run::table_width(cfg.run.output.as_deref());
    run::emit(cfg.run.output.as_deref(), cfg.run.color, |w, color| {
        report::write(cfg.format, &out, &meta, color, width, w)
    })?;
    Ok(GitpodOutcome {
        failed,
        rows: out.len(),
    })
}

/// The one line saying what was found when no configuration was.
fn no_configuration(paths: &[String], found: &[yml::Found]) -> String {
    let notes = found
        .iter()
        .filter(|f| matches!(f.what, What::NotRead(_)))
        .count();
    let links = found
        .iter()
        .filter(|f| matches!(f.what, What::LinkLoop(_) | What::LinkOut(_)))
        .count();
    let walk = found
        .iter()
        .filter(|f| matches!(f.what, What::WalkError(_)))
        .count();
    let mut skipped = Vec::new();
    if notes > 0 {
        skipped.push(format!(
            "{notes} file{} Gitpod does not read",
            plural(notes)
        ));
    }
    if links > 0 {
        skipped.push(format!(
            "{links} symbolic link{} (loops, or folders outside the path)",
            plural(links)
        ));
    }
    if walk > 0 {
        skipped.push(format!(
            "{walk} place{} that could not be walked",
            plural(walk)
        ));
    }
    let skipped = if skipped.is_empty() {
        String::new()
    } else {
        format!("; skipped: {}", skipped.join(", "))
    };
    format!(
        "no Gitpod configuration ({} or {}) under {}{skipped}",
        yml::NAMES[0],
        yml::NAMES[1],
        paths.join(", ")
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
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
    /// `Dockerfile:LINE` for an image the Dockerfile pulls, and the instruction.
    via: Option<String>,
    instruction: &'static str,
    /// Where in the Dockerfile build; `None` for an image named in the configuration.
    role: Option<Role>,
    /// The image is in a stage the target does not need (the stage): not pulled.
    not_pulled: Option<String>,
    /// The configuration names no image: Gitpod's default is used.
    default: bool,
}

impl Use {
    fn named(image: Result<String, Finding>) -> Use {
        Use {
            image,
            written: None,
            tag_written: None,
            via: None,
            instruction: "",
            role: None,
            not_pulled: None,
            default: false,
        }
    }
}

/// The finding for a file that was not read.
fn not_read(shown: &str, what: &str, e: &ReadError) -> Finding {
    let code = match e {
        ReadError::DotDotOutside | ReadError::LinkOutside => Code::OutsideRepository,
        _ => Code::Unreadable,
    };
    Finding::new(code, format!("{shown}{what}: {e}."))
}

/// The images a configuration uses, in file order; reading problems become error uses.
pub(crate) fn uses(found: &yml::Found) -> Vec<Use> {
    let one = |code, message: String| vec![Use::named(Err(Finding::new(code, message)))];
    match &found.what {
        What::Config => {}
        What::WalkError(e) => return one(Code::Unreadable, format!("{}: {e}", found.display)),
        What::NotRead(n) => return one(Code::ConfigNotRead, format!("{}: {n}", found.display)),
        What::LinkLoop(n) => return one(Code::LinkLoop, format!("{}: {n}", found.display)),
        What::LinkOut(n) => return one(Code::LinkOut, format!("{}: {n}", found.display)),
    }
    let text = match confine::read_found(&found.path) {
        Ok(t) => t,
        Err(e) => return vec![Use::named(Err(not_read(&found.display, "", &e)))],
    };
    let spec = match yml::image_spec(&text) {
        Ok(s) => s,
        Err(e) => {
            return one(Code::InvalidGitpodConfig, format!("{}: {e}", found.display));
        }
    };
    let file = match spec {
        ImageSpec::Default => {
            return vec![Use {
                default: true,
                ..Use::named(Ok(DEFAULT_IMAGE.into()))
            }];
        }
        ImageSpec::Reference(r) => return vec![Use::named(Ok(r))],
        ImageSpec::Dockerfile { file } => file,
    };
    // `file` is relative to the repository root, the folder of the configuration; shown
    // normalised (`./.gitpod/Dockerfile` is `.gitpod/Dockerfile`).
    let dir = found.path.parent().unwrap_or(Path::new(""));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = match found.display.rfind('/') {
        Some(i) => &found.display[..=i],
        None => "",
    };
    let shown = match confine::normalise(&file) {
        Ok(parts) => format!("{prefix}{}", parts.join("/")),
        Err(_) => format!("{prefix}{file}"),
    };
    let text = match confine::read(dir, &file) {
        Ok(t) => t,
        Err(e) => {
            let what = if file.starts_with('/') {
                format!(
                    " (the Dockerfile named by `image.file` `{file}`, taken relative to the repository root as Gitpod does)"
                )
            } else {
                format!(" (the Dockerfile named by `image.file` `{file}`)")
            };
            return vec![Use::named(Err(not_read(&shown, &what, &e)))];
        }
    };
    let images = match dockerfile::base_images(&text) {
        Ok(images) => images,
        Err(e) => return one(Code::InvalidDockerfile, format!("{shown}: {e}")),
    };
    images
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
                            "{via}: `{} {}` uses {} with no value {}; the image cannot be checked (give the ARG a default, or name the image in .gitpod.yml).",
                            b.instruction,
                            b.written,
                            vars.iter()
                                .map(|v| format!("`{v}`"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            if b.instruction == "FROM" {
                                "before the first FROM"
                            } else {
                                "in its build stage (an ARG is in scope in a stage only when declared there)"
                            }
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
                role: Some(b.role),
                not_pulled: (!b.pulled).then_some(b.stage),
                default: false,
            }
        })
        .collect()
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

    /// The worst matching row, whether it was matched without a region, and how many matched.
    /// A regionless row matches only in the image's partition: the one its ARN names or, without
    /// an ARN, the one the export was judged for (`--partition`, which the caller has checked is
    /// the image's).
    fn find(&self, account: &str, e: &EcrImage) -> Option<(&'a Row, bool, usize)> {
        let key = (
            account,
            e.registry.as_str(),
            e.region.as_str(),
            e.repository.as_str(),
        );
        let (rows, regionless): (Vec<&Row>, bool) = match self.exact.get(&key) {
            Some(rows) => (rows.clone(), false),
            None => (
                self.regionless
                    .get(&(account, e.registry.as_str(), e.repository.as_str()))?
                    .iter()
                    .copied()
                    .filter(|r| arn_partition(r).is_none_or(|p| p == e.partition.as_str()))
                    .collect(),
                true,
            ),
        };
        // Several records of one repository (e.g. two exports): the worst verdict stands.
        let worst = rows.iter().copied().max_by_key(|r| r.status)?;
        Some((worst, regionless, rows.len()))
    }
}

/// The partition a row's ARN names (`arn:<partition>:ecr:…`), if it has one.
fn arn_partition(r: &Row) -> Option<String> {
    let arn = r.repo.arn()?;
    let mut parts = arn.split(':');
    (parts.next() == Some("arn"))
        .then(|| parts.next())
        .flatten()
        .map(str::to_owned)
}

/// The advice for a private ECR image pulled by a Dockerfile, by where the build uses it.
fn dockerfile_advice(via: &str, instruction: &str, role: Role) -> String {
    let unsupported = "in a custom Dockerfile that the installation builds, which Gitpod Dedicated has documented as not supported";
    match role {
        Role::Workspace => format!(
            "{via}: the workspace's base image is a private ECR image pulled by `{instruction}` {unsupported}; build the image elsewhere (for example in CI), push it to ECR, and name it in .gitpod.yml `image:` directly."
        ),
        Role::Builder => format!(
            "{via}: the `{instruction}` of a build stage the workspace image needs pulls a private ECR image {unsupported}; naming it in .gitpod.yml would not help (it is not the workspace image): build the workspace image outside Gitpod and name the result in `image:`, or vendor what the stage produces."
        ),
        Role::CopyFrom => format!(
            "{via}: `{instruction}` pulls a private ECR image {unsupported}; build the workspace image outside Gitpod, where it can copy from a published image, and name the result in `image:`, or vendor the files it copies into the repository."
        ),
        Role::Frontend => format!(
            "{via}: the `# syntax=` frontend is a private ECR image {unsupported}; use the public docker/dockerfile frontend or remove the directive."
        ),
    }
}

fn judge(config: &str, u: &Use, puller: &Puller, index: &Index<'_>) -> GitpodRow {
    let account: Arc<str> = Arc::from(puller.account.as_str());
    let mut row = GitpodRow {
        config: config.to_owned(),
        image: None,
        via: u.via.clone(),
        ecr: None,
        account: Arc::clone(&account),
        status: None,
        verdict: None,
        findings: Vec::new(),
        detail: String::new(),
    };
    if let Some(stage) = &u.not_pulled {
        // Not pulled: whatever the reference is, nothing depends on it.
        row.image = u.image.clone().ok().or_else(|| u.written.clone());
        row.findings.push(Finding::new(
            Code::NotPulled,
            format!(
                "{}: `{}` is in build stage `{stage}`, which the target (last) stage does not need: BuildKit does not pull it.",
                u.via.as_deref().unwrap_or(config),
                u.instruction
            ),
        ));
        return finish(row);
    }
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
                .push(Finding::new(Code::InvalidImage, format!("{at}: {e}.")));
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
    if ecr.partition != puller.partition {
        row.findings.push(Finding::new(
            Code::PartitionMismatch,
            format!(
                "{repo} is in partition {}, but the export was judged for partition {} (--partition): its verdicts do not apply; scan with --partition {}.",
                ecr.partition.as_str(),
                puller.partition.as_str(),
                ecr.partition.as_str()
            ),
        ));
    } else {
        match index.find(&account, &ecr) {
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
                        found.status,
                        found.source,
                        found.record,
                        found.detail()
                    ),
                });
            }
        }
    }
    if let (Some(via), Some(role)) = (&u.via, u.role) {
        row.findings.push(Finding::new(
            Code::EcrImageInDockerfile,
            dockerfile_advice(via, u.instruction, role),
        ));
    }
    row.ecr = Some(ecr);
    finish(row)
}

/// Sorts the findings, and sets the status (the carried verdict and the worst finding; `None`
/// when neither gives one) and the detail (the worst finding's message, or the carried
/// verdict's).
fn finish(mut row: GitpodRow) -> GitpodRow {
    row.findings.sort_by_key(|f| f.code);
    let from_findings = row
        .findings
        .iter()
        .filter_map(|f| catalog::status_of(f.code))
        .max();
    let carried = row.verdict.as_ref().map(|v| v.status);
    row.status = from_findings.max(carried);
    let worst_finding = row
        .findings
        .iter()
        .filter_map(|f| Some((catalog::status_of(f.code)?, f)))
        .max_by_key(|(s, f)| (*s, std::cmp::Reverse(f.code)));
    row.detail = match (worst_finding, &row.verdict) {
        // The verdict speaks first when it is at least as bad as the worst finding.
        (Some((s, _)), Some(v)) if v.status >= s => v.detail.clone(),
        (Some((_, f)), _) => f.message.to_string(),
        (None, Some(v)) => v.detail.clone(),
        (None, None) => row
            .findings
            .first()
            .map(|f| f.message.to_string())
            .unwrap_or_default(),
    };
    row
}

pub use yml::Found;

#[cfg(test)]
mod tests;

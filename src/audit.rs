//! Records to rows: parse a record's policy once, judge it for every audited account, and make
//! exactly one row per (record, account) — error records included.

use std::rc::Rc;
use std::sync::Arc;

use crate::catalog::REQUIRED;
use crate::eval::{self, ActionState, Puller};
use crate::finding::{Code, Finding, Severity, Status};
use crate::policy::{self, Policy};
use crate::record::{Body, Identity, PolicyText, Record, RepoId, ScopeV};
use crate::textcache::{Lookup, TextCache};

/// A row's repository identity, kept compact: rows are what a scan's memory grows with.
/// Registries and regions repeat across an estate, so each worker shares one copy of each.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RowRepo {
    pub registry: Option<Arc<str>>,
    pub region: Option<Arc<str>>,
    /// The repository name, or for a bare policy document the path it was found at (see
    /// `name_from_path`).
    pub repository: Option<Box<str>>,
    /// The ARN the input gave, unless it is the one the parts above spell (see [`Self::arn`]).
    pub(crate) arn: Option<Box<str>>,
    /// `repository` was derived from a file path: a label, not the repository's real name.
    pub name_from_path: bool,
    /// The input's ARN was `arn:<partition>:ecr:<region>:<registry>:repository/<name>` of the
    /// parts above, with the partition `PARTITIONS[arn_partition - 1]`: kept as this number, not
    /// as text (a million rows held a million ARNs). 0: the ARN is `arn`, or there is none.
    pub(crate) arn_partition: u8,
}

/// The partitions a repository ARN is kept as a number for (any other is kept as text).
const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

impl RowRepo {
    /// Registry, region and repository, each when known, in that order.
    pub fn parts(&self) -> [Option<&str>; 3] {
        [
            self.registry.as_deref(),
            self.region.as_deref(),
            self.repository.as_deref(),
        ]
    }

    /// `registry/region/name`, leaving out what is unknown (how reports name the repository).
    pub fn label(&self) -> String {
        self.parts()
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The compact copy, sharing this worker's copies of registries and regions.
    pub(crate) fn compact(repo: RepoId) -> RowRepo {
        let arn_partition = repo.arn.as_deref().map_or(0, |arn| spelt(&repo, arn));
        RowRepo {
            registry: repo.registry.map(|s| shared_str(&s)),
            region: repo.region.map(|s| shared_str(&s)),
            repository: repo.repository.map(String::into_boxed_str),
            arn: repo
                .arn
                .filter(|_| arn_partition == 0)
                .map(String::into_boxed_str),
            name_from_path: repo.name_from_path,
            arn_partition,
        }
    }

    /// The identity as records hold it (for judging a record made of an inventory entry).
    pub fn into_repo_id(self) -> RepoId {
        RepoId {
            arn: self.arn().map(String::from),
            registry: self.registry.as_deref().map(str::to_owned),
            region: self.region.as_deref().map(str::to_owned),
            repository: self.repository.map(String::from),
            name_from_path: self.name_from_path,
        }
    }

    /// With the ARN the input gave (for rows made in tests and by hand).
    pub fn with_arn(mut self, arn: Option<&str>) -> RowRepo {
        self.arn = arn.map(Box::from);
        self.arn_partition = 0;
        self
    }

    /// The repository's ARN, as the input gave it.
    pub fn arn(&self) -> Option<std::borrow::Cow<'_, str>> {
        if let Some(arn) = &self.arn {
            return Some(std::borrow::Cow::Borrowed(arn));
        }
        let partition = PARTITIONS.get(usize::from(self.arn_partition).checked_sub(1)?)?;
        let (Some(registry), Some(region), Some(name)) =
            (&self.registry, &self.region, &self.repository)
        else {
            return None;
        };
        Some(std::borrow::Cow::Owned(format!(
            "arn:{partition}:ecr:{region}:{registry}:repository/{name}"
        )))
    }
}

/// 1 + the index in `PARTITIONS` of the partition of `arn` when it is exactly the ARN that
/// `repo`'s registry, region and real name spell; else 0.
fn spelt(repo: &RepoId, arn: &str) -> u8 {
    let (Some(registry), Some(region), Some(name)) = (
        repo.registry.as_deref(),
        repo.region.as_deref(),
        repo.known_name(),
    ) else {
        return 0;
    };
    let Some((partition, rest)) = arn.strip_prefix("arn:").and_then(|a| a.split_once(':')) else {
        return 0;
    };
    let matches = rest
        .strip_prefix("ecr:")
        .and_then(|r| r.strip_prefix(region))
        .and_then(|r| r.strip_prefix(':'))
        .and_then(|r| r.strip_prefix(registry))
        .and_then(|r| r.strip_prefix(":repository/"))
        == Some(name);
    match PARTITIONS.iter().position(|p| *p == partition) {
        Some(i) if matches => i as u8 + 1,
        _ => 0,
    }
}

impl From<RepoId> for RowRepo {
    fn from(repo: RepoId) -> RowRepo {
        RowRepo::compact(repo)
    }
}

impl Identity for RowRepo {
    fn registry(&self) -> Option<&str> {
        self.registry.as_deref()
    }
    fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    fn known_name(&self) -> Option<&str> {
        if self.name_from_path {
            None
        } else {
            self.repository.as_deref()
        }
    }
    fn arn(&self) -> Option<std::borrow::Cow<'_, str>> {
        RowRepo::arn(self)
    }
}

impl RowRepo {
    /// The repository's real name, if the input gives it (not a path-derived label).
    pub fn known_name(&self) -> Option<&str> {
        Identity::known_name(self)
    }
}

/// One line of the report: the verdict on one record for one audited account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub source: Arc<str>,
    pub record: u64,
    pub repo: RowRepo,
    pub account: Arc<str>,
    pub status: Status,
    /// The state of each of `catalog::REQUIRED`; `None` when the record could not be judged
    /// (an error row).
    pub actions: Option<[ActionState; 3]>,
    /// In `Code` order. Shared between rows with the same findings (see `shared_findings`).
    pub findings: Arc<[Finding]>,
}

impl Row {
    /// One sentence a person can act on: the message of the worst finding. Derived when a report
    /// asks, not stored: rows are what a scan's memory grows with.
    pub fn detail(&self) -> String {
        detail(self.status, &self.findings, &self.account)
    }

    /// [`Row::detail`], appended to `out`: the usual detail, one finding's message, unpacked
    /// straight into it (a report that gathers its lines in one buffer makes no `String`).
    pub(crate) fn detail_into(&self, out: &mut Vec<u8>) {
        match sole(&self.findings) {
            Some(f) => f.message.unpack_into(out),
            None => out.extend_from_slice(self.detail().as_bytes()),
        }
    }

    /// The required actions in `state`, in catalog order.
    pub fn actions_in(&self, state: ActionState) -> impl Iterator<Item = &'static str> + '_ {
        REQUIRED
            .iter()
            .zip(self.actions.iter().flatten())
            .filter(move |(_, s)| **s == state)
            .map(|(a, _)| *a)
    }

    /// The distinct finding codes, in `Code` order.
    pub fn codes(&self) -> Vec<Code> {
        let mut codes: Vec<Code> = self.findings.iter().map(|f| f.code).collect();
        codes.sort_unstable();
        codes.dedup();
        codes
    }
}

/// A scan's rows in report order, kept in the groups they were made in (one per source):
/// gathering a million rows into one vector would hold them twice at its peak.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    groups: Vec<Vec<Row>>,
    len: usize,
}

impl Rows {
    pub fn new() -> Rows {
        Rows::default()
    }

    /// Appends a group of rows (after every row already held).
    pub fn push_group(&mut self, group: Vec<Row>) {
        if !group.is_empty() {
            self.len += group.len();
            self.groups.push(group);
        }
    }

    /// Keeps the rows for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Row) -> bool) {
        for g in &mut self.groups {
            g.retain(&mut keep);
        }
        self.groups.retain(|g| !g.is_empty());
        self.len = self.groups.iter().map(Vec::len).sum();
    }

    pub fn iter(&self) -> impl Iterator<Item = &Row> + Clone {
        self.groups.iter().flatten()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Row> {
        self.groups.iter_mut().flatten()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The rows in report order, as slices of at most `n` rows (for formatting them in
    /// parallel).
    pub fn slices(&self, n: usize) -> impl Iterator<Item = &[Row]> {
        self.groups.iter().flat_map(move |g| g.chunks(n.max(1)))
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Puts the rows in report order (source, then record; stable, so each record's accounts
    /// keep their order). Rows made source by source in source order are in it already, which
    /// is checked first; only rows the joins add out of order cost a sort.
    pub fn sort(&mut self) {
        let mut prev: Option<&Row> = None;
        let sorted = self.iter().all(|r| {
            let ok = prev.is_none_or(|p| (&p.source, p.record) <= (&r.source, r.record));
            prev = Some(r);
            ok
        });
        if sorted {
            return;
        }
        let mut all: Vec<Row> = Vec::with_capacity(self.len);
        for g in std::mem::take(&mut self.groups) {
            all.extend(g);
        }
        all.sort_by(|a, b| (&a.source, a.record).cmp(&(&b.source, b.record)));
        self.groups = vec![all];
    }
}

impl From<Vec<Row>> for Rows {
    fn from(rows: Vec<Row>) -> Rows {
        let mut r = Rows::new();
        r.push_group(rows);
        r
    }
}

impl<'a> IntoIterator for &'a Rows {
    type Item = &'a Row;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<Row>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.groups.iter().flatten()
    }
}

/// The accounts being audited, shared by every row.
pub struct Audit<'a> {
    pullers: &'a [Puller],
    accounts: Vec<Arc<str>>,
    /// What the workers remember of the policy texts judged so far.
    verdicts: TextCache<Cached>,
}

/// How many bytes of policy text a generation of the verdict cache holds (see `textcache`).
const VERDICT_CACHE_BYTES: usize = 4 << 20;

impl<'a> Audit<'a> {
    /// The verdict cache, to be freed elsewhere (see `pipeline::run`); the audit is done.
    pub fn into_cache(self) -> impl Send + use<> {
        self.verdicts
    }

    pub fn new(pullers: &'a [Puller]) -> Self {
        let accounts = pullers
            .iter()
            .map(|p| Arc::from(p.account.as_str()))
            .collect();
        Audit {
            pullers,
            accounts,
            verdicts: TextCache::new(VERDICT_CACHE_BYTES),
        }
    }

    /// Judges one record: one row per audited account, in account order. The policy is parsed
    /// once, whatever the number of accounts.
    pub fn rows(&self, record: Record, out: &mut Vec<Row>) {
        self.rows_with(record, None, out);
    }

    /// [`Audit::rows`], with the registry policy that applies to the record's repository, if
    /// any: its statements are judged together with the repository's own, and the row says so
    /// (`registry-policy`). A repository without a policy of its own is then judged on the
    /// registry policy alone. Registry-policy and inventory records give no row here (the scan
    /// handles them, see `run.rs`).
    pub fn rows_with(&self, record: Record, registry: Option<&RegistryPolicy>, out: &mut Vec<Row>) {
        let Record {
            source,
            record,
            repo,
            body,
            ..
        } = record;
        let mut verdicts: Vec<Verdict> = Vec::with_capacity(self.pullers.len());
        // In ECR's V1 scope the registry policy applies only to ReplicateImage,
        // BatchImportUpstreamImage and CreateRepository: it neither grants nor denies a pull, so
        // the repository is judged without it, and the row says why (issue 11).
        let v1 = registry.filter(|r| r.scope == Some(ScopeV::V1));
        let registry = registry.filter(|r| r.scope != Some(ScopeV::V1));
        match body {
            Body::Error { code, message } => {
                let f = shared_findings(vec![Finding::new(code, message)]);
                verdicts.extend(
                    self.pullers
                        .iter()
                        .map(|_| (Status::Error, None, f.clone())),
                );
            }
            Body::RegistryPolicy(_) | Body::Inventory | Body::RegistryPolicyScope(_) => return,
            Body::Unresolved(message) => {
                let f = shared_findings(vec![Finding::new(Code::UnresolvedPolicy, message)]);
                verdicts.extend(self.pullers.iter().map(|_| (Status::Warn, None, f.clone())));
            }
            Body::NoPolicy if registry.is_some() => {
                let empty = Policy::empty();
                self.judge(&empty, registry, &repo, &mut verdicts);
            }
            Body::NoPolicy => {
                for p in self.pullers {
                    let f = shared_findings(vec![Finding::new(
                        Code::NoPolicy,
                        format!(
                            "The repository has no repository policy: add an Allow of {} to {}.",
                            REQUIRED.join(", "),
                            root_arn(p)
                        ),
                    )]);
                    verdicts.push((Status::Fail, Some([ActionState::Missing; 3]), f));
                }
            }
            Body::Policy(mut text) if registry.is_none() => {
                self.policy(&mut text, &repo, &mut verdicts)
            }
            Body::Policy(mut text) => match policy_of(&mut text) {
                Err(findings) => self.invalid(findings, &mut verdicts),
                Ok(policy) => self.judge(&policy, registry, &repo, &mut verdicts),
            },
        }
        if let Some(r) = v1 {
            let note = Finding::new(
                Code::RegistryPolicyV1,
                format!(
                    "the registry policy of {} (from {}) is in ECR's V1 scope: it applies only to ecr:ReplicateImage, ecr:BatchImportUpstreamImage and ecr:CreateRepository, so the repository was judged on its own policy",
                    r.describe(),
                    r.source
                ),
            );
            for v in &mut verdicts {
                let mut findings = v.2.to_vec();
                findings.push(note.clone());
                findings.sort_by_key(|f| f.code);
                v.2 = shared_findings(findings);
            }
        }
        // One compact identity: the last account's row takes it, the others copy it.
        let last = verdicts.len().saturating_sub(1);
        let mut repo = Some(RowRepo::compact(repo));
        let accounts = self.local_accounts();
        for (i, ((status, actions, findings), account)) in
            verdicts.into_iter().zip(accounts.iter()).enumerate()
        {
            let repo = if i == last {
                repo.take().unwrap_or_default()
            } else {
                repo.clone().unwrap_or_default()
            };
            out.push(Row {
                source: source.clone(),
                record,
                repo,
                account: account.clone(),
                status,
                actions,
                findings,
            });
        }
    }
}

/// Whether a policy found inside a JSON string literal is read while its record is read
/// (`input::quick`, through `policy::read_in_literal`), instead of when it is judged: that
/// spares the scan that finds the literal's end first, where policies are seldom found in the
/// verdict cache (an estate whose texts differ); where they are, reading them early would be
/// wasted. Set from how the cache's look-ups went lately.
pub(crate) mod read_while_reading {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicBool, Ordering};

    static ON: AtomicBool = AtomicBool::new(false);

    thread_local! {
        /// This worker's look-ups lately, and how many found the text.
        static LOOKUPS: Cell<(u32, u32)> = const { Cell::new((0, 0)) };
    }

    #[cfg(test)]
    thread_local! {
        /// A test's own setting, on its thread only (tests run side by side).
        static FORCED: Cell<Option<bool>> = const { Cell::new(None) };
    }

    /// Whether to read policies early now.
    pub(crate) fn on() -> bool {
        #[cfg(test)]
        if let Some(on) = FORCED.get() {
            return on;
        }
        ON.load(Ordering::Relaxed)
    }

    /// Sets it on this thread, for tests of the readers (`None`: as the scan has it).
    #[cfg(test)]
    pub(crate) fn force(on: Option<bool>) {
        FORCED.set(on);
    }

    /// Whether `hits` found of `n` look-ups call for reading early: fewer than a quarter.
    fn early(n: u32, hits: u32) -> bool {
        hits < n / 4
    }

    #[test]
    fn policies_are_read_early_where_fewer_than_a_quarter_are_found() {
        assert!(early(256, 0));
        assert!(early(256, 63));
        assert!(!early(256, 64));
        assert!(!early(256, 256));
    }

    /// Counts a look-up of the verdict cache; every 256 of a worker's, sets whether policies
    /// are read early: when fewer than a quarter were found.
    pub(crate) fn counted(found: bool) {
        LOOKUPS.with(|l| {
            let (n, hits) = l.get();
            let (n, hits) = (n + 1, hits + u32::from(found));
            if n == 256 {
                let on = early(n, hits);
                if ON.load(Ordering::Relaxed) != on {
                    ON.store(on, Ordering::Relaxed);
                }
                l.set((0, 0));
            } else {
                l.set((n, hits));
            }
        });
    }
}

/// The policy of `text`: the one read with its record (see [`read_while_reading`]), else read
/// now. (A verdict found in the cache leaves a policy read with its record unused.)
fn policy_of(text: &mut PolicyText) -> Result<Policy, Vec<Finding>> {
    match text.take_read() {
        Some(policy) => Ok(policy),
        None => policy::parse_text(text),
    }
}

thread_local! {
    /// This worker's own copies of the audited accounts (see [`Audit::local_accounts`]).
    static ACCOUNTS: std::cell::RefCell<Rc<[Arc<str>]>> = std::cell::RefCell::new(Rc::new([]));
}

impl Audit<'_> {
    /// The audited accounts, as this worker's own copies: every row names its account, and
    /// workers that cloned the same `Arc` for each row would pass the line holding its count
    /// between their cores for every row (4 % of a scan of distinct policies in a profile).
    fn local_accounts(&self) -> Rc<[Arc<str>]> {
        ACCOUNTS.with_borrow_mut(|local| {
            let same = local.len() == self.accounts.len()
                && local.iter().zip(&self.accounts).all(|(a, b)| a == b);
            if !same {
                *local = self.accounts.iter().map(|a| Arc::from(&**a)).collect();
            }
            Rc::clone(local)
        })
    }

    fn judge(
        &self,
        policy: &Policy,
        registry: Option<&RegistryPolicy>,
        repo: &RepoId,
        verdicts: &mut Vec<Verdict>,
    ) {
        for p in self.pullers {
            // The worker's findings vector, reused record after record (given back below).
            let mut findings = FINDINGS.take();
            let actions =
                eval::judge_into(policy, registry.map(|r| &r.policy), p, repo, &mut findings);
            let mut j = eval::Judgement { actions, findings };
            if let Some(r) = registry.filter(|r| r.scope.is_none()) {
                // Unknown scope: judged as V2, but a pull that only the registry policy grants
                // would not be granted in V1 (issue 11).
                let alone = eval::judge(policy, p, repo);
                let resting: Vec<&str> = REQUIRED
                    .iter()
                    .zip(j.actions.iter().zip(alone.actions))
                    .filter(|(_, (with, without))| {
                        matches!(with, ActionState::Allowed | ActionState::Conditional)
                            && *without == ActionState::Missing
                    })
                    .map(|(a, _)| *a)
                    .collect();
                if !resting.is_empty() {
                    j.findings.push(Finding::new(
                        Code::RegistryPolicyScopeUnknown,
                        format!(
                            "{} {} granted only by the registry policy of {} (from {}), whose scope is unknown: in ECR's V1 scope a registry policy grants no pull; run aws ecr get-account-setting --name REGISTRY_POLICY_SCOPE for the registry and scan its output with the export, or pass --registry-policy-scope",
                            resting.join(", "),
                            if resting.len() == 1 { "is" } else { "are" },
                            r.describe(),
                            r.source
                        ),
                    ));
                }
            }
            if let Some(r) = registry {
                let own = if policy.statements().is_empty() {
                    "this repository has no policy of its own, so it was judged on the registry policy alone"
                } else {
                    "its statements were judged together with the repository policy's"
                };
                j.findings.push(Finding::new(
                    Code::RegistryPolicy,
                    format!(
                        "the registry policy of {} (from {}) applies to every repository of the registry; {own}",
                        r.describe(),
                        r.source
                    ),
                ));
                j.findings.sort_by_key(|f| f.code);
            }
            let status = Status::worst(&j.findings);
            verdicts.push((status, Some(j.actions), shared_findings_of(&mut j.findings)));
            FINDINGS.set(j.findings);
        }
    }

    /// A policy that cannot be judged: the same findings for every account.
    fn invalid(&self, findings: Vec<Finding>, verdicts: &mut Vec<Verdict>) {
        let status = Status::worst(&findings);
        let findings = shared_findings(findings);
        verdicts.extend(
            self.pullers
                .iter()
                .map(|_| (status, None, findings.clone())),
        );
    }

    /// Judges a repository's own policy text, through the verdict cache: estates
    /// apply the same few templated policies to thousands of repositories, and a verdict depends
    /// on the text and the accounts alone unless a statement names resources.
    fn policy(&self, text: &mut PolicyText, repo: &RepoId, verdicts: &mut Vec<Verdict>) {
        let start = verdicts.len();
        let hash = TextCache::<Cached>::hash(text.key());
        let found = self.verdicts.get(hash, text.key());
        read_while_reading::counted(matches!(found, Lookup::Hit(_)));
        let keep = match found {
            Lookup::Hit(Cached::Verdicts(known)) => {
                return verdicts.extend(known.iter().cloned());
            }
            Lookup::Hit(Cached::Parsed(policy)) => {
                return self.judge(&policy, None, repo, verdicts);
            }
            Lookup::Hit(Cached::ByOwner(by)) => {
                return by.verdicts(eval::owner(repo), verdicts, |v| {
                    self.judge(&by.policy, None, repo, v)
                });
            }
            // In an estate whose policies differ, a text is kept only the second time it is
            // seen: most are seen once, and keeping them (the text, its parse) was most of
            // what a scan of such an estate allocated and faulted in.
            Lookup::Keep => true,
            Lookup::Skip => false,
        };
        match policy_of(text) {
            Err(findings) => {
                self.invalid(findings, verdicts);
                if keep {
                    let v = &verdicts[start..];
                    self.verdicts
                        .keep(hash, text.key(), Cached::Verdicts(v.into()));
                }
            }
            Ok(policy) => {
                self.judge(&policy, None, repo, verdicts);
                if keep {
                    let v = &verdicts[start..];
                    let cached = if policy.statements().iter().any(|s| s.resources().is_some()) {
                        // The verdict depends on the repository's ARN: keep only the parse.
                        Cached::Parsed(Arc::new(policy))
                    } else if eval::depends_on_owner(&policy, self.pullers) {
                        // `cross-account-write` leaves the registry's owner out: the verdict
                        // depends on the registry, so it is kept per owner.
                        Cached::ByOwner(Arc::new(ByOwner::first(policy, eval::owner(repo), v)))
                    } else {
                        Cached::Verdicts(v.into())
                    };
                    self.verdicts.keep(hash, text.key(), cached);
                }
            }
        }
    }
}

type Verdict = (Status, Option<[ActionState; 3]>, Arc<[Finding]>);

/// What a worker remembers of a policy text it has judged.
#[derive(Clone)]
enum Cached {
    /// One verdict per audited account, whatever the repository.
    Verdicts(Arc<[Verdict]>),
    /// The parsed policy: a statement names resources, so each repository is judged afresh.
    Parsed(Arc<Policy>),
    /// The verdicts depend on the repository's registry (owner) alone: kept per owner.
    ByOwner(Arc<ByOwner>),
}

/// A policy whose verdict depends on which account owns the repository (see
/// [`eval::depends_on_owner`]), with the verdicts already made for each owner. Estates have a
/// handful of registries; past [`ByOwner::MOST`] owners a verdict is made and not kept.
/// An owner (none when the input does not say) and its verdicts.
type OwnerVerdicts = (Option<Box<str>>, Arc<[Verdict]>);

struct ByOwner {
    policy: Policy,
    kept: std::sync::Mutex<Vec<OwnerVerdicts>>,
}

impl ByOwner {
    const MOST: usize = 32;

    /// With the verdicts of its first owner (its list made at its size, with no lock taken).
    fn first(policy: Policy, owner: Option<&str>, verdicts: &[Verdict]) -> Self {
        ByOwner {
            policy,
            kept: std::sync::Mutex::new(vec![(owner.map(Box::from), verdicts.into())]),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<OwnerVerdicts>> {
        // A worker that panicked while holding it left a complete list (pushes are whole).
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn keep(&self, owner: Option<&str>, verdicts: &[Verdict]) {
        let mut kept = self.lock();
        if kept.len() < Self::MOST && !kept.iter().any(|(o, _)| o.as_deref() == owner) {
            kept.push((owner.map(Box::from), verdicts.into()));
        }
    }

    /// The verdicts for `owner`, from what is kept or made by `judge` (which appends them).
    fn verdicts(
        &self,
        owner: Option<&str>,
        out: &mut Vec<Verdict>,
        judge: impl FnOnce(&mut Vec<Verdict>),
    ) {
        let known = self
            .lock()
            .iter()
            .find(|(o, _)| o.as_deref() == owner)
            .map(|(_, v)| Arc::clone(v));
        match known {
            Some(v) => out.extend(v.iter().cloned()),
            None => {
                let start = out.len();
                judge(out);
                self.keep(owner, &out[start..]);
            }
        }
    }
}

/// A registry policy found in the scan, parsed once and shared by every repository it covers.
#[derive(Clone, Debug)]
pub struct RegistryPolicy {
    /// The registry (account) id.
    pub registry: String,
    /// The region, when the export says (a registry policy is per region).
    pub region: Option<String>,
    /// Where it was found (`source` column of the file).
    pub source: Arc<str>,
    /// Parsed with [`Policy::into_registry`].
    pub policy: Policy,
    /// Its ECR policy scope (`REGISTRY_POLICY_SCOPE`), when the export or the command line says.
    pub scope: Option<ScopeV>,
}

impl RegistryPolicy {
    /// Whether it applies to `repo`: same registry, and same region where both are known.
    pub fn covers(&self, repo: &impl Identity) -> bool {
        repo.registry() == Some(self.registry.as_str())
            && match (self.region.as_deref(), repo.region()) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }

    /// Whether it takes part in judging a pull: not in ECR's V1 scope.
    pub fn judges_pulls(&self) -> bool {
        self.scope != Some(ScopeV::V1)
    }

    fn describe(&self) -> String {
        match &self.region {
            Some(region) => format!("registry {} in {region}", self.registry),
            None => format!("registry {}", self.registry),
        }
    }
}

/// How many distinct messages, and findings lists, a worker remembers before it starts afresh.
const CACHE_LIMIT: usize = 1 << 16;

/// One copy of each value a worker has kept (at most [`CACHE_LIMIT`], then it starts afresh),
/// each with its hash: a value is hashed once, when it is looked up, and never again when the
/// table grows (rehashing the findings lists of a distinct estate, messages and all, was 2 % of
/// a scan's time).
struct Kept<T>(hashbrown::HashTable<(u64, T)>);

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept(hashbrown::HashTable::new())
    }
}

impl<T> Kept<T> {
    /// The kept value equal to `q`, whose hash (by [`hash`]) is `h`.
    fn find<Q: ?Sized + Eq>(&self, h: u64, q: &Q) -> Option<&T>
    where
        T: std::borrow::Borrow<Q>,
    {
        self.0
            .find(h, |(eh, t)| *eh == h && t.borrow() == q)
            .map(|(_, t)| t)
    }

    /// Keeps `t`, whose hash is `h` and which is not kept yet.
    fn keep(&mut self, h: u64, t: T) {
        if self.0.len() >= CACHE_LIMIT {
            self.0.clear();
        }
        self.0.insert_unique(h, (h, t), |e| e.0);
    }
}

/// The hash a value is kept under: that of what it is looked up by (`str` for `Arc<str>`, a
/// slice for `Arc<[Finding]>`), as `Borrow` promises.
fn hash<Q: std::hash::Hash + ?Sized>(q: &Q) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(q)
}

thread_local! {
    static STRINGS: std::cell::RefCell<Kept<Arc<str>>> = std::cell::RefCell::default();
    static MESSAGES: std::cell::RefCell<Kept<crate::message::Message>> =
        std::cell::RefCell::default();
    static LISTS: std::cell::RefCell<Kept<Arc<[Finding]>>> = std::cell::RefCell::default();
}

/// The hash a findings list is kept under in `LISTS`: each finding's code, statement and
/// suppression, and its message by its text when it was made afresh, but by its address when it
/// is shared already (a message remembered by `eval`'s memo, the same copy each time: hashing
/// its text again, record after record, cost more than the rest of sharing the list). Equal
/// lists made the same way hash the same, which is all sharing needs: an equal list that hashes
/// otherwise (a message remembered anew after the memo started afresh) is kept once more, a
/// copy, never a different list (`Kept::find` compares the lists).
fn list_hash(findings: &[Finding]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    h.write_usize(findings.len());
    for f in findings {
        f.code.hash(&mut h);
        if f.message.is_shared() {
            h.write_usize(f.message.address());
        } else {
            f.message.hash(&mut h);
        }
        f.statement.hash(&mut h);
        f.suppressed.hash(&mut h);
    }
    h.finish()
}

/// This worker's shared copy of `s` (a registry or region; bounded like the messages).
fn shared_str(s: &str) -> Arc<str> {
    let h = hash(s);
    STRINGS.with_borrow_mut(|kept| {
        if let Some(m) = kept.find(h, s) {
            return Arc::clone(m);
        }
        let m: Arc<str> = Arc::from(s);
        kept.keep(h, Arc::clone(&m));
        m
    })
}

thread_local! {
    /// The vector a worker's judgements write their findings into (see `Audit::judge`).
    static FINDINGS: std::cell::Cell<Vec<Finding>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Rows are what a scan's memory grows with, and most of a row is its findings, which repeat
/// across an estate's templated policies: each worker keeps one copy of each findings list and
/// each message it has seen (bounded), and rows share them.
fn shared_findings(mut findings: Vec<Finding>) -> Arc<[Finding]> {
    shared_findings_of(&mut findings)
}

/// [`shared_findings`] of the findings in `findings`, which it leaves empty (its room kept for
/// the next judgement: a list kept is moved into its `Arc`, not copied out of a vector that is
/// then freed).
fn shared_findings_of(findings: &mut Vec<Finding>) -> Arc<[Finding]> {
    let h = list_hash(findings);
    if let Some(list) = LISTS.with_borrow(|lists| lists.find(h, findings.as_slice()).cloned()) {
        findings.clear();
        return list;
    }
    MESSAGES.with_borrow_mut(|seen| {
        for f in findings.iter_mut().filter(|f| !f.message.is_shared()) {
            let mh = hash(&f.message);
            match seen.find(mh, &f.message) {
                Some(m) => f.message = m.clone(),
                None => seen.keep(mh, f.message.clone()),
            }
        }
    });
    // A message made afresh and now replaced by the kept copy was hashed by its text: the
    // list's hash is still `h` for the next list made the same way.
    let list: Arc<[Finding]> = findings.drain(..).collect();
    LISTS.with_borrow_mut(|lists| lists.keep(h, Arc::clone(&list)));
    list
}

fn root_arn(p: &Puller) -> String {
    format!("arn:{}:iam::{}:root", p.partition.as_str(), p.account)
}

/// The row's one actionable sentence: the message of its worst finding (findings are in `Code`
/// order, which is worst first), or a plain statement that the account can pull.
fn detail(status: Status, findings: &[Finding], account: &str) -> String {
    let counted = findings
        .iter()
        .any(|f| f.severity() != Severity::Note && f.suppressed.is_none());
    match accepted(findings) {
        None => detail_counted(status, findings, account),
        Some(accepted) if counted => {
            format!("{} {accepted}", detail_counted(status, findings, account))
        }
        // Never "can pull" when what stands in the way is only accepted.
        Some(accepted) => accepted,
    }
}

/// Accepted findings (issue 15), said with their reason in every report's detail:
/// `Suppressed: code (reason, FILE:LINE); ….`, or `None` when there are none.
pub(crate) fn accepted(findings: &[Finding]) -> Option<String> {
    let accepted: Vec<String> = findings
        .iter()
        .filter_map(|f| {
            f.suppressed
                .as_ref()
                .map(|s| format!("{} ({}, {})", f.code, s.reason, s.source))
        })
        .collect();
    (!accepted.is_empty()).then(|| format!("Suppressed: {}.", accepted.join("; ")))
}

/// The finding whose message alone is the detail, if any: none is accepted (no `Suppressed:`
/// sentence), and no other counted finding has the worst one's code (no "and N more").
fn sole(findings: &[Finding]) -> Option<&Finding> {
    if findings.iter().any(|f| f.suppressed.is_some()) {
        return None;
    }
    let f = worst(findings)?;
    (findings.iter().filter(|g| g.code == f.code).count() == 1).then_some(f)
}

/// The most severe finding that counts (not a note, not accepted), the first code first.
fn worst(findings: &[Finding]) -> Option<&Finding> {
    findings
        .iter()
        .filter(|f| f.severity() != Severity::Note && f.suppressed.is_none())
        .min_by_key(|f| (std::cmp::Reverse(f.severity()), f.code))
}

/// The detail from the findings that count (suppressed ones left out).
fn detail_counted(status: Status, findings: &[Finding], account: &str) -> String {
    match worst(findings) {
        Some(f) => {
            let more = findings
                .iter()
                .filter(|g| g.code == f.code && g.suppressed.is_none())
                .count()
                - 1;
            if more == 0 {
                f.message.text().into_owned()
            } else {
                format!("{} (and {more} more {})", f.message, f.code)
            }
        }
        None if status == Status::Pass => {
            format!("Account {account} can pull: all three pull actions are allowed.")
        }
        None => format!("The row's status is {status}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rows_arn_is_the_inputs_whether_kept_as_a_number_or_as_text() {
        let repo = |arn: &str, name_from_path: bool| RepoId {
            registry: Some("444455556666".into()),
            region: Some("cn-north-1".into()),
            repository: Some("team/app".into()),
            arn: Some(arn.into()),
            name_from_path,
        };
        let spelt = "arn:aws-cn:ecr:cn-north-1:444455556666:repository/team/app";
        let compact = RowRepo::compact(repo(spelt, false));
        assert_eq!((compact.arn.as_deref(), compact.arn_partition), (None, 2));
        assert_eq!(compact.arn().as_deref(), Some(spelt));
        // Anything else the parts do not spell is kept as it was given.
        for other in [
            "arn:aws-cn:ecr:cn-north-1:444455556666:repository/team/app2",
            "arn:aws-cn:ecr:cn-north-1:444455556666:repository/team",
            "arn:aws:ecr:eu-west-1:444455556666:repository/team/app",
            "arn:aws-xx:ecr:cn-north-1:444455556666:repository/team/app",
            "arn:aws-cn:ecr:cn-north-1:444455556667:repository/team/app",
            "not an arn",
        ] {
            let compact = RowRepo::compact(repo(other, false));
            assert_eq!(compact.arn_partition, 0, "{other}");
            assert_eq!(compact.arn().as_deref(), Some(other));
        }
        // A name taken from a path is no real name: the ARN stays text.
        let from_path = RowRepo::compact(repo(spelt, true));
        assert_eq!(from_path.arn().as_deref(), Some(spelt));
        assert_eq!(from_path.arn_partition, 0);
        let none = RowRepo::compact(RepoId::default());
        assert_eq!(none.arn(), None);
        assert_eq!(compact.clone().with_arn(None).arn(), None);
    }

    fn puller(account: &str) -> Puller {
        Puller {
            account: account.into(),
            ..Puller::default()
        }
    }

    fn record(body: Body) -> Record {
        Record {
            source: Arc::from("export/a.json"),
            record: 7,
            shape: crate::record::Shape::GetRepositoryPolicy,
            repo: RepoId {
                registry: Some("444455556666".into()),
                repository: Some("app".into()),
                ..RepoId::default()
            },
            body,
        }
    }

    #[test]
    fn error_record_gives_one_error_row_per_account() {
        let pullers = [puller("111122223333"), puller("222233334444")];
        let mut rows = Vec::new();
        Audit::new(&pullers).rows(
            record(Body::Error {
                code: Code::InvalidJson,
                message: "line 3: expected value".into(),
            }),
            &mut rows,
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(&*rows[0].account, "111122223333");
        assert_eq!(&*rows[1].account, "222233334444");
        for r in &rows {
            assert_eq!(r.status, Status::Error);
            assert_eq!(r.actions, None);
            assert_eq!(r.codes(), vec![Code::InvalidJson]);
            assert_eq!(r.detail(), "line 3: expected value");
            assert_eq!(r.record, 7);
        }
    }

    #[test]
    fn no_policy_fails_with_every_action_missing_and_names_the_fix() {
        let pullers = [puller("111122223333")];
        let mut rows = Vec::new();
        Audit::new(&pullers).rows(record(Body::NoPolicy), &mut rows);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.codes(), vec![Code::NoPolicy]);
        assert_eq!(r.actions_in(ActionState::Missing).count(), 3);
        assert!(
            r.detail().contains("arn:aws:iam::111122223333:root"),
            "{}",
            r.detail()
        );
    }

    #[test]
    fn rows_with_the_same_findings_share_one_list() {
        let pullers = [puller("111122223333")];
        let mut rows = Vec::new();
        let audit = Audit::new(&pullers);
        audit.rows(record(Body::NoPolicy), &mut rows);
        audit.rows(record(Body::NoPolicy), &mut rows);
        assert_eq!(rows[0].findings, rows[1].findings);
        assert!(Arc::ptr_eq(&rows[0].findings, &rows[1].findings));
    }

    #[test]
    fn different_texts_with_the_same_findings_share_one_list() {
        // Texts the verdict cache tells apart (spacing), judged afresh each: their findings,
        // messages remembered by the memo, are one list.
        let pullers = [puller("111122223333")];
        let audit = Audit::new(&pullers);
        let mut rows = Vec::new();
        for spaces in 0..6 {
            let pad = " ".repeat(spaces);
            let text = format!(
                r#"{{"Version":"2012-10-17",{pad}"Statement":[{{"Sid":"Ci","Effect":"Allow","Principal":{{"AWS":"111122223333"}},"Action":["ecr:BatchGetImage","ecr:PutImage"]}},{{"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{{"StringEquals":{{"aws:SourceVpce":"vpce-1"}}}}}}]}}"#
            );
            audit.rows(
                repo_record("app", Body::Policy(text.as_str().into())),
                &mut rows,
            );
        }
        assert!(rows[0].findings.len() >= 2, "{:?}", rows[0].findings);
        for r in &rows[1..] {
            assert_eq!(r.findings, rows[0].findings);
            assert!(Arc::ptr_eq(&r.findings, &rows[0].findings));
        }
    }

    #[test]
    fn a_rows_detail_written_into_a_buffer_is_its_detail() {
        let accepted = || {
            let mut f = Finding::new(Code::ExcessAccess, "excess, accepted");
            f.suppressed = Some(Arc::new(crate::finding::Suppressed {
                reason: "known".into(),
                ticket: None,
                expires: None,
                source: "ecr-audit.toml:3".into(),
            }));
            f
        };
        let lists: Vec<Vec<Finding>> = vec![
            vec![],
            vec![Finding::new(Code::LegacyVersion, "old")],
            vec![Finding::new(
                Code::PublicAccess,
                "statement 0 (Sid \"é\") allows every AWS principal",
            )],
            vec![
                Finding::new(Code::InvalidPolicy, "statement 0: bad Effect"),
                Finding::new(Code::InvalidPolicy, "statement 1: bad key"),
            ],
            vec![
                Finding::new(Code::ActionNotGranted, "grant it"),
                Finding::new(Code::LegacyVersion, "old"),
            ],
            vec![Finding::new(Code::ActionNotGranted, "grant it"), accepted()],
            vec![accepted()],
        ];
        for findings in lists {
            for status in [Status::Pass, Status::Warn, Status::Fail, Status::Error] {
                let row = Row {
                    source: Arc::from("s.jsonl"),
                    record: 1,
                    repo: RowRepo::default(),
                    account: Arc::from("111122223333"),
                    status,
                    actions: None,
                    findings: findings.clone().into(),
                };
                let mut out = b"before ".to_vec();
                row.detail_into(&mut out);
                assert_eq!(
                    String::from_utf8(out).expect("UTF-8"),
                    format!("before {}", row.detail())
                );
            }
        }
    }

    #[test]
    fn detail_prefers_the_worst_finding_and_ignores_notes() {
        let f = [
            Finding::new(Code::PublicAccess, "public"),
            Finding::new(Code::ActionNotGranted, "grant it"),
            Finding::new(Code::LegacyVersion, "old"),
        ];
        assert_eq!(detail(Status::Fail, &f, "1"), "grant it");
        let two = [
            Finding::new(Code::InvalidPolicy, "statement 0: bad Effect"),
            Finding::new(Code::InvalidPolicy, "statement 1: bad key"),
        ];
        assert_eq!(
            detail(Status::Error, &two, "1"),
            "statement 0: bad Effect (and 1 more invalid-policy)"
        );
        let notes = [Finding::new(Code::LegacyVersion, "old")];
        assert!(detail(Status::Pass, &notes, "1").contains("can pull"));
    }

    fn repo_record(name: &str, body: Body) -> Record {
        Record {
            repo: RepoId {
                registry: Some("444455556666".into()),
                region: Some("eu-west-1".into()),
                repository: Some(name.into()),
                ..RepoId::default()
            },
            ..record(body)
        }
    }

    /// Judges the record's policy afresh, without the audit's cache.
    fn fresh(pullers: &[Puller], r: &Record) -> Vec<(Status, Option<[ActionState; 3]>, Vec<Code>)> {
        let Body::Policy(text) = &r.body else {
            panic!("a policy record")
        };
        pullers
            .iter()
            .map(|p| match policy::parse_text(text) {
                Err(f) => (Status::worst(&f), None, f.iter().map(|f| f.code).collect()),
                Ok(policy) => {
                    let j = eval::judge(&policy, p, &r.repo);
                    let codes = j.findings.iter().map(|f| f.code).collect();
                    (Status::worst(&j.findings), Some(j.actions), codes)
                }
            })
            .collect()
    }

    fn judged(rows: &[Row]) -> Vec<(Status, Option<[ActionState; 3]>, Vec<Code>)> {
        rows.iter()
            .map(|r| {
                (
                    r.status,
                    r.actions,
                    r.findings.iter().map(|f| f.code).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn a_repeated_policy_is_judged_as_if_each_record_were_the_first() {
        let pullers = [puller("111122223333"), puller("222233334444")];
        let audit = Audit::new(&pullers);
        let texts = [
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ecr:BatchGetImage"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}"#,
            r#"{"Statement":[{"Effect":"Permit"}]}"#,
            r#"not json"#,
        ];
        // Each text several times, interleaved: first sight, second sight (kept), then hits.
        for round in 0..4 {
            for (i, t) in texts.iter().enumerate() {
                let r = repo_record(&format!("app-{round}-{i}"), Body::Policy((*t).into()));
                let mut rows = Vec::new();
                audit.rows(r.clone(), &mut rows);
                assert_eq!(
                    judged(&rows),
                    fresh(&pullers, &r),
                    "text {i}, round {round}"
                );
                assert_eq!(
                    rows[0].repo.known_name(),
                    Some(&*format!("app-{round}-{i}"))
                );
            }
        }
    }

    #[test]
    fn a_policy_granting_another_audited_account_is_judged_for_each_owner() {
        // Each audited account is "another account" in the other's verdict: whether
        // `cross-account-write` names it depends on whether it owns the repository.
        let pullers = [puller("111122223333"), puller("444455556666")];
        let audit = Audit::new(&pullers);
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["111122223333","444455556666"]},"Action":["ecr:BatchGetImage","ecr:PutImage"]}]}"#;
        for round in 0..3 {
            for owner in ["444455556666", "777788889999", "111122223333"] {
                let mut r = repo_record("app", Body::Policy(text.into()));
                r.repo.registry = Some(owner.into());
                let mut rows = Vec::new();
                audit.rows(r.clone(), &mut rows);
                assert_eq!(judged(&rows), fresh(&pullers, &r), "{owner}, round {round}");
            }
        }
    }

    #[test]
    fn a_repeated_policy_that_names_resources_is_judged_for_each_repository() {
        let pullers = [puller("111122223333")];
        let audit = Audit::new(&pullers);
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"arn:aws:ecr:eu-west-1:444455556666:repository/app"}]}"#;
        for _ in 0..3 {
            for (name, status) in [("app", Status::Pass), ("other", Status::Fail)] {
                let mut rows = Vec::new();
                audit.rows(repo_record(name, Body::Policy(text.into())), &mut rows);
                assert_eq!(rows[0].status, status, "{name}: {:?}", rows[0].findings);
            }
        }
    }

    #[test]
    fn two_audits_do_not_share_what_they_remember() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#;
        for (account, status) in [
            ("111122223333", Status::Pass),
            ("999988887777", Status::Fail),
        ] {
            let pullers = [puller(account)];
            let audit = Audit::new(&pullers);
            for _ in 0..3 {
                let mut rows = Vec::new();
                audit.rows(repo_record("app", Body::Policy(text.into())), &mut rows);
                assert_eq!(rows[0].status, status, "{account}");
            }
        }
    }

    /// Each worker names the accounts by copies of its own: rows of audits of different
    /// accounts, taken in turn on one thread, each name their own audit's accounts.
    #[test]
    fn rows_name_their_own_audits_accounts_whichever_audit_came_before() {
        let one = [puller("111122223333")];
        let two = [puller("444455556666"), puller("777788889999")];
        let (a, b) = (Audit::new(&one), Audit::new(&two));
        for _ in 0..3 {
            for (audit, accounts) in [
                (&a, vec!["111122223333"]),
                (&b, vec!["444455556666", "777788889999"]),
            ] {
                let mut rows = Vec::new();
                audit.rows(repo_record("app", Body::NoPolicy), &mut rows);
                let named: Vec<&str> = rows.iter().map(|r| &*r.account).collect();
                assert_eq!(named, accounts);
            }
        }
    }

    #[test]
    fn a_policy_found_as_a_json_string_is_judged_like_its_text() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"a\tb \"q\""}}}]}"#;
        let literal = serde_json::to_string(text).expect("a string");
        let encoded = PolicyText::encoded(&literal);
        assert_eq!(encoded.text(), text);
        assert_eq!(encoded, PolicyText::plain(text));
        assert_ne!(encoded.key(), PolicyText::plain(text).key());
        let pullers = [puller("111122223333")];
        let audit = Audit::new(&pullers);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        audit.rows(repo_record("app", Body::Policy(encoded)), &mut a);
        audit.rows(
            repo_record("app", Body::Policy(PolicyText::plain(text))),
            &mut b,
        );
        assert_eq!(judged(&a), judged(&b));
        assert_ne!(a[0].status, Status::Error, "{:?}", a[0].findings);
    }
}

#[cfg(test)]
mod issue3_tests {
    use super::*;

    fn record(body: Body) -> Record {
        Record {
            source: Arc::from("x.json"),
            record: 1,
            shape: crate::record::Shape::Bulk,
            repo: RepoId {
                registry: Some("444455556666".into()),
                region: Some("us-east-1".into()),
                repository: Some("app".into()),
                ..RepoId::default()
            },
            body,
        }
    }

    fn registry(region: Option<&str>) -> RegistryPolicy {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ecr:*"}]}"#;
        RegistryPolicy {
            registry: "444455556666".into(),
            region: region.map(str::to_owned),
            source: Arc::from("registry.json"),
            policy: policy::parse(text).expect("policy").into_registry(),
            scope: Some(ScopeV::V2),
        }
    }

    /// Issue 11: the registry policy's scope decides whether it takes part in a pull.
    #[test]
    fn a_registry_policy_grants_a_pull_in_v2_not_in_v1_and_warns_when_the_scope_is_unknown() {
        let pullers = [Puller {
            account: "111122223333".into(),
            ..Puller::default()
        }];
        let audit = Audit::new(&pullers);
        let judged = |scope: Option<ScopeV>, body: Body| {
            let r = RegistryPolicy {
                scope,
                ..registry(Some("us-east-1"))
            };
            let mut out = Vec::new();
            audit.rows_with(record(body), Some(&r), &mut out);
            out.pop().expect("row")
        };
        for body in [
            Body::NoPolicy,
            Body::Policy(PolicyText::plain(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"999988887777"},"Action":"ecr:BatchGetImage"}]}"#,
            )),
        ] {
            let v2 = judged(Some(ScopeV::V2), body.clone());
            assert_eq!(v2.status, Status::Warn, "excess-access only: {v2:?}");
            assert!(v2.codes().contains(&Code::RegistryPolicy));
            assert!(!v2.codes().contains(&Code::RegistryPolicyScopeUnknown));

            let v1 = judged(Some(ScopeV::V1), body.clone());
            assert_eq!(v1.status, Status::Fail, "{v1:?}");
            assert!(v1.codes().contains(&Code::RegistryPolicyV1));
            assert!(!v1.codes().contains(&Code::RegistryPolicy));
            assert!(
                !v1.codes().contains(&Code::ExcessAccess),
                "V1 grants nothing"
            );

            let unknown = judged(None, body);
            assert_eq!(unknown.actions, v2.actions, "judged as V2");
            assert!(
                unknown.codes().contains(&Code::RegistryPolicyScopeUnknown),
                "{unknown:?}"
            );
            assert_eq!(unknown.status, Status::Warn);
        }
        // A pull the repository policy grants by itself does not rest on the registry policy.
        let own = Body::Policy(PolicyText::plain(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}"#,
        ));
        let unknown = judged(None, own);
        assert!(
            !unknown.codes().contains(&Code::RegistryPolicyScopeUnknown),
            "{unknown:?}"
        );
    }

    #[test]
    fn an_unresolved_record_is_a_warn_row_without_action_states() {
        let pullers = [Puller {
            account: "111122223333".into(),
            ..Puller::default()
        }];
        let mut rows = Vec::new();
        Audit::new(&pullers).rows(
            record(Body::Unresolved("known after apply".into())),
            &mut rows,
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, Status::Warn);
        assert_eq!(rows[0].actions, None);
        assert_eq!(rows[0].codes(), vec![Code::UnresolvedPolicy]);
        assert_eq!(rows[0].detail(), "known after apply");
    }

    #[test]
    fn registry_policy_and_inventory_records_make_no_row_here() {
        let pullers = [Puller::default()];
        let mut rows = Vec::new();
        let audit = Audit::new(&pullers);
        audit.rows(record(Body::RegistryPolicy("{}".into())), &mut rows);
        audit.rows(record(Body::Inventory), &mut rows);
        assert!(rows.is_empty());
    }

    #[test]
    fn no_policy_under_a_registry_policy_is_judged_on_it_alone_with_a_note() {
        let pullers = [Puller {
            account: "111122223333".into(),
            ..Puller::default()
        }];
        let reg = registry(None);
        let mut rows = Vec::new();
        Audit::new(&pullers).rows_with(record(Body::NoPolicy), Some(&reg), &mut rows);
        let r = &rows[0];
        assert_eq!(r.actions, Some([ActionState::Allowed; 3]));
        assert!(r.codes().contains(&Code::RegistryPolicy));
        assert!(!r.codes().contains(&Code::NoPolicy));
        let note = r
            .findings
            .iter()
            .find(|f| f.code == Code::RegistryPolicy)
            .expect("note");
        assert!(
            note.message
                .contains("registry 444455556666 (from registry.json)"),
            "{}",
            note.message
        );
        assert!(
            note.message.contains("no policy of its own"),
            "{}",
            note.message
        );
    }

    #[test]
    fn a_registry_policy_covers_its_registry_and_region_only() {
        let repo = record(Body::NoPolicy).repo;
        assert!(registry(None).covers(&repo));
        assert!(registry(Some("us-east-1")).covers(&repo));
        assert!(!registry(Some("eu-west-1")).covers(&repo));
        let other = RepoId {
            registry: Some("777788889999".into()),
            ..repo.clone()
        };
        assert!(!registry(None).covers(&other));
        let unknown_region = RepoId {
            region: None,
            ..repo
        };
        assert!(registry(Some("eu-west-1")).covers(&unknown_region));
    }
}

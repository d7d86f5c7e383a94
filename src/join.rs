//! The joins that need every record of the scan before the last rows can be made (SPEC 3, issue
//! 3): registry policies, which apply to every repository of their registry, and inventories
//! (`aws ecr describe-repositories`), whose repositories that no other record names become
//! `no-policy` rows. Memory stays flat: the first pass keeps rows only, plus the (few) registry
//! policy and inventory records.

use std::collections::HashSet;
use std::sync::Arc;

use rayon::prelude::*;

use crate::audit::{Audit, RegistryPolicy, Row, RowRepo, Rows};
use crate::finding::{Code, Finding};
use crate::input::{self, Source};
use crate::message::Message;
use crate::pipeline::SHAPES;
use crate::policy;
use crate::record::{Body, Identity, PolicyText, Record, ScopeV};
use rustc_hash::{FxHashMap, FxHashSet};
use std::hash::BuildHasher;

/// What the first pass set aside instead of judging.
#[derive(Debug, Default)]
pub struct Aside {
    /// `Body::RegistryPolicy` records.
    pub registry_policies: Vec<Record>,
    /// `Body::Inventory` records, kept small (see [`Listed`]) in chunks of [`LISTED_CHUNK`].
    pub inventory: Vec<Vec<Listed>>,
    /// `Body::RegistryPolicyScope` records: the registry policies' scopes (see [`Scopes`]).
    pub scopes: Vec<Record>,
}

impl Aside {
    /// Whether nothing was set aside.
    pub fn is_empty(&self) -> bool {
        self.registry_policies.is_empty() && self.inventory.is_empty() && self.scopes.is_empty()
    }

    /// Takes `record` if it is one the joins need; gives it back otherwise.
    pub fn take(&mut self, record: Record) -> Option<Record> {
        match record.body {
            Body::RegistryPolicy(_) => self.registry_policies.push(record),
            Body::Inventory => {
                if self
                    .inventory
                    .last()
                    .is_none_or(|c| c.len() == LISTED_CHUNK)
                {
                    self.inventory
                        .push(Vec::with_capacity(LISTED_CHUNK.min(64)));
                }
                if let Some(chunk) = self.inventory.last_mut() {
                    chunk.push(Listed {
                        source: record.source,
                        record: record.record,
                        shape: record.shape,
                        repo: RowRepo::compact(record.repo),
                    });
                }
            }
            Body::RegistryPolicyScope(_) => self.scopes.push(record),
            _ => return Some(record),
        }
        None
    }

    pub fn append(&mut self, other: Aside) {
        self.registry_policies.extend(other.registry_policies);
        self.inventory.extend(other.inventory);
        self.scopes.extend(other.scopes);
    }
}

/// An inventory record (`Body::Inventory`) as the inventory join needs it. An inventory lists
/// every repository of an account (`describe-repositories` of 1.27 million entries is 500 MB):
/// each is held until every other row is made, so it is held as compactly as a row's identity,
/// in chunks (no vector of a million entries doubling).
#[derive(Debug)]
pub struct Listed {
    pub source: Arc<str>,
    pub record: u64,
    pub shape: crate::record::Shape,
    pub repo: RowRepo,
}

/// How many inventory records one chunk of [`Aside::inventory`] holds.
pub const LISTED_CHUNK: usize = 1 << 16;

/// What is known of the registries' policy scopes (`REGISTRY_POLICY_SCOPE`, issue 11): the
/// settings found in the export, and `--registry-policy-scope` for every other registry.
#[derive(Clone, Copy, Debug)]
pub struct Scopes<'a> {
    /// `Body::RegistryPolicyScope` records.
    pub records: &'a [Record],
    /// `--registry-policy-scope`, for registries the export gives no setting of.
    pub default: Option<ScopeV>,
}

impl Scopes<'_> {
    /// The scope of the registry policy of `registry` (and `region`, where known) found in
    /// `source`: a setting naming the registry (same region where both say), else a setting
    /// without a registry id in the same folder as the policy (as `get-account-setting` output
    /// saved beside `get-registry-policy` output), else the command line's, else unknown.
    pub fn of(&self, registry: &str, region: Option<&str>, source: &str) -> Option<ScopeV> {
        let value = |r: &Record| match r.body {
            Body::RegistryPolicyScope(v) => Some(v),
            _ => None,
        };
        let named = self.records.iter().find(|r| {
            r.repo.registry.as_deref() == Some(registry)
                && match (region, r.repo.region.as_deref()) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        });
        let folder = |p: &str| std::path::Path::new(p).parent().map(|d| d.to_path_buf());
        let beside = || {
            self.records.iter().find(|r| {
                r.repo.registry.is_none()
                    && &*r.source != "-"
                    && folder(&r.source) == folder(source)
            })
        };
        named.or_else(beside).and_then(value).or(self.default)
    }
}

/// Parses each registry policy once. A valid one is returned; one that is not (bad JSON, no
/// registry id) is an error row of its own, so it is not lost. Returns the number of records
/// that became rows.
pub fn registry_policies(
    audit: &Audit<'_>,
    records: Vec<Record>,
    scopes: Scopes<'_>,
    rows: &mut Vec<Row>,
    folded: &mut [u64; SHAPES],
) -> (Vec<RegistryPolicy>, u64) {
    let mut out = Vec::new();
    let mut errors = 0;
    // In report order, whatever order the sources were read in: the first registry policy of a
    // registry and region is the one that applies.
    let mut records = records;
    records.sort_by(|a, b| (&a.source, a.record).cmp(&(&b.source, b.record)));
    for rec in records {
        let Body::RegistryPolicy(text) = &rec.body else {
            continue;
        };
        let error = |code: Code, message: String| Record {
            body: Body::Error { code, message },
            ..rec.clone()
        };
        let Some(registry) = rec.repo.registry.clone() else {
            errors += 1;
            audit.rows(
                error(
                    Code::UnsupportedInput,
                    format!(
                        "record {} is a registry policy without `registryId`: the registry it applies to is unknown",
                        rec.record
                    ),
                ),
                rows,
            );
            continue;
        };
        match policy::parse(text) {
            Ok(policy) => {
                folded[rec.shape as usize] += 1;
                let scope = scopes.of(&registry, rec.repo.region.as_deref(), &rec.source);
                out.push(RegistryPolicy {
                    registry,
                    region: rec.repo.region.clone(),
                    source: Arc::clone(&rec.source),
                    policy: policy.into_registry(),
                    scope,
                })
            }
            Err(findings) => {
                // Reported as the registry policy's own row: the repositories of the registry
                // are judged without it, and this row says why.
                errors += 1;
                let rec = Record {
                    body: Body::Policy(PolicyText::plain(text)),
                    ..rec.clone()
                };
                debug_assert!(!findings.is_empty());
                audit.rows(rec, rows);
            }
        }
    }
    in_lookup_order(&mut out);
    (out, errors)
}

/// The order [`registry_for`] searches: by registry, so that a repository's are found by a
/// binary search; within a registry, exact region first, so that a repository of a known region
/// takes its region's policy (the sort is stable: report order within each).
fn in_lookup_order(policies: &mut [RegistryPolicy]) {
    policies
        .sort_by(|a, b| (&a.registry, a.region.is_none()).cmp(&(&b.registry, b.region.is_none())));
}

/// The registry policy that applies to `repo`, if any (the first of the same registry and
/// region; a policy of unknown region after those of a known one). `policies` are in the
/// order [`registry_policies`] gives them (by registry): a binary search finds the registry's,
/// so that thousands of registry policies cost each repository a few comparisons.
pub fn registry_for<'r>(
    policies: &'r [RegistryPolicy],
    repo: &impl Identity,
) -> Option<&'r RegistryPolicy> {
    debug_assert!(policies.is_sorted_by(|a, b| a.registry <= b.registry));
    let registry = repo.registry()?;
    let start = policies.partition_point(|r| r.registry.as_str() < registry);
    policies[start..]
        .iter()
        .take_while(|r| r.registry == registry)
        .find(|r| r.covers(repo))
}

/// The inventory's repositories that no row names become `no-policy` rows (judged with the
/// registry policy when one applies). A repository listed twice gives one row. Returns the
/// number of records that became rows.
pub fn inventory(
    audit: &Audit<'_>,
    registries: &[RegistryPolicy],
    inventory: Vec<Vec<Listed>>,
    rows: &mut Rows,
    folded: &mut [u64; SHAPES],
) -> u64 {
    let total: usize = inventory.iter().map(Vec::len).sum();
    if total == 0 {
        return 0;
    }
    // One vector of exactly the records (each chunk freed once moved), in record order.
    let mut listed: Vec<Listed> = Vec::with_capacity(total);
    for chunk in inventory {
        listed.extend(chunk);
    }
    let order = |a: &Listed, b: &Listed| (&a.source, a.record).cmp(&(&b.source, b.record));
    if !listed.is_sorted_by(|a, b| order(a, b).is_le()) {
        listed.sort_by(order);
    }
    let keep = unnamed(rows, &listed);
    let mut n = 0;
    let mut added = Vec::new();
    for (item, keep) in listed.into_iter().zip(keep) {
        if !keep {
            folded[item.shape as usize] += 1;
            continue;
        }
        n += 1;
        let registry = registry_for(registries, &item.repo);
        audit.rows_with(
            Record {
                source: item.source,
                record: item.record,
                shape: item.shape,
                repo: item.repo.into_repo_id(),
                body: Body::NoPolicy,
            },
            registry,
            &mut added,
        );
        if added.len() >= LISTED_CHUNK {
            rows.push_group(std::mem::take(&mut added));
        }
    }
    rows.push_group(added);
    n
}

/// For each of `listed`, in order: whether it names a repository that no row and no record
/// before it names (the keys of [`named_as`] and [`looked_up_as`], without their text: a table of 8-byte entries, each a repository and which of its keys, hashed and
/// compared by the key it stands for).
fn unnamed(rows: &Rows, listed: &[Listed]) -> Vec<bool> {
    let ids: Vec<&RowRepo> = rows
        .iter()
        .map(|r| &r.repo)
        .chain(listed.iter().map(|l| &l.repo))
        .collect();
    let mut seen = Seen {
        ids: &ids,
        table: hashbrown::HashTable::with_capacity(0),
    };
    let first = ids.len() - listed.len();
    let mut last: Option<&RowRepo> = None;
    for (i, &id) in ids[..first].iter().enumerate() {
        // A record's rows (one per account) name one repository.
        if last != Some(id) {
            seen.add(i);
        }
        last = Some(id);
    }
    (first..ids.len())
        .map(|i| {
            let new = !seen.names(i);
            if new {
                seen.add(i);
            }
            new
        })
        .collect()
}

/// A key of the inventory join: an ARN, or a registry and name in a region, in every region
/// (`*`) or in one not known (`?`). A repository of one name may exist in several regions of a
/// registry, each its own; a record of unknown region names the repository of every region, and
/// every record is also found by a look-up of unknown region.
#[derive(Debug, PartialEq, Eq, Hash)]
enum JoinKey<'a> {
    Arn(std::borrow::Cow<'a, str>),
    Name(Slot<'a>, &'a str, &'a str),
}

#[derive(Debug, PartialEq, Eq, Hash)]
enum Slot<'a> {
    Every,
    Unknown,
    In(&'a str),
}

impl<'a> Slot<'a> {
    /// The slot a region's text stands for (the text keys wrote `*` and `?`).
    fn of(region: &'a str) -> Slot<'a> {
        match region {
            "*" => Slot::Every,
            "?" => Slot::Unknown,
            r => Slot::In(r),
        }
    }
}

/// Whether some key under which `named` names its repository is one under which `other` may be
/// named: `other`'s repository is `named`'s (how `explain` finds the row that folded an
/// inventory record, by the join's own keys).
pub fn names_repository_of(named: &impl Identity, other: &impl Identity) -> bool {
    (0..3).any(|a| {
        named_as(named, a)
            .is_some_and(|k| (0..3).any(|b| looked_up_as(other, b).as_ref() == Some(&k)))
    })
}

/// Key `kind` (0: the ARN, 1: the name in its region or every region, 2: the name in an
/// unknown region) under which `repo` names its repository.
fn named_as<I: Identity + ?Sized>(repo: &I, kind: usize) -> Option<JoinKey<'_>> {
    let name = || Some((repo.registry()?, repo.known_name()?));
    match kind {
        0 => repo.arn().map(JoinKey::Arn),
        1 => name()
            .map(|(reg, n)| JoinKey::Name(repo.region().map_or(Slot::Every, Slot::of), reg, n)),
        _ => name().map(|(reg, n)| JoinKey::Name(Slot::Unknown, reg, n)),
    }
}

/// Key `kind` (0: the ARN, 1: the name in every region, 2: the name in its region or an
/// unknown one) under which another record may name `repo`'s repository.
fn looked_up_as<I: Identity + ?Sized>(repo: &I, kind: usize) -> Option<JoinKey<'_>> {
    let name = || Some((repo.registry()?, repo.known_name()?));
    match kind {
        0 => repo.arn().map(JoinKey::Arn),
        1 => name().map(|(reg, n)| JoinKey::Name(Slot::Every, reg, n)),
        _ => name()
            .map(|(reg, n)| JoinKey::Name(repo.region().map_or(Slot::Unknown, Slot::of), reg, n)),
    }
}

/// The keys named so far: entries `index << 2 | kind` of `ids`, see [`named_as`].
struct Seen<'a> {
    ids: &'a [&'a RowRepo],
    table: hashbrown::HashTable<u64>,
}

impl Seen<'_> {
    fn hash(key: &JoinKey<'_>) -> u64 {
        rustc_hash::FxBuildHasher.hash_one(key)
    }

    fn key(&self, entry: u64) -> Option<JoinKey<'_>> {
        named_as(self.ids[(entry >> 2) as usize], (entry & 3) as usize)
    }

    fn has(&self, key: &JoinKey<'_>) -> bool {
        self.table
            .find(Self::hash(key), |&e| self.key(e).as_ref() == Some(key))
            .is_some()
    }

    /// Adds the keys of `ids[i]` not yet held.
    fn add(&mut self, i: usize) {
        for kind in 0..3 {
            let Some(key) = named_as(self.ids[i], kind) else {
                continue;
            };
            if self.has(&key) {
                continue;
            }
            let h = Self::hash(&key);
            let entry = (i as u64) << 2 | kind as u64;
            let ids = self.ids;
            self.table.insert_unique(h, entry, |&e| {
                // Only entries with a key are held.
                named_as(ids[(e >> 2) as usize], (e & 3) as usize).map_or(0, |k| Self::hash(&k))
            });
        }
    }

    /// Whether some key held names `ids[i]`'s repository.
    fn names(&self, i: usize) -> bool {
        (0..3).any(|kind| looked_up_as(self.ids[i], kind).is_some_and(|k| self.has(&k)))
    }
}

/// Rows of one source and, for standard input, its records of a known registry (it cannot be
/// read twice).
/// The second pass, when registry policies were found: only the sources holding a repository
/// of a covered registry are read again and their records judged with the registry policy
/// (parsed once, shared); their first-pass rows are replaced. Without registry policies it does
/// nothing. `kept` holds standard input's records by source index (it cannot be read twice).
pub fn second_pass(
    pool: &rayon::ThreadPool,
    audit: &Audit<'_>,
    sources: &[Source],
    registries: &[RegistryPolicy],
    rows: &mut Rows,
    kept: &[(usize, Vec<Record>)],
) {
    if registries.is_empty() {
        return;
    }
    let redo_names: HashSet<Arc<str>> = rows
        .iter()
        .filter(|r| registry_for(registries, &r.repo).is_some())
        .map(|r| Arc::clone(&r.source))
        .collect();
    if redo_names.is_empty() {
        return;
    }
    let redo: Vec<usize> = sources
        .iter()
        .enumerate()
        .filter(|(_, s)| redo_names.contains(&*s.display))
        .map(|(i, _)| i)
        .collect();
    // Their first-pass rows are replaced: free them before making the new ones. Standard
    // input keeps the rows of records of no known registry (those are not re-judged).
    rows.retain(|r| {
        !redo_names.contains(&*r.source) || (&*r.source == "-" && r.repo.registry.is_none())
    });
    let again: Vec<Vec<Row>> = pool.install(|| {
        redo.par_iter()
            .map(|&i| {
                let mut rows = Vec::new();
                let mut judge = |rec: Record| {
                    let registry = registry_for(registries, &rec.repo);
                    audit.rows_with(rec, registry, &mut rows);
                };
                if sources[i].path().is_none() {
                    let records = kept.iter().filter(|(k, _)| *k == i).flat_map(|(_, r)| r);
                    for rec in records.cloned() {
                        judge(rec);
                    }
                } else {
                    input::read_source(&sources[i], &mut |rec| {
                        if !matches!(
                            rec.body,
                            Body::RegistryPolicy(_)
                                | Body::Inventory
                                | Body::RegistryPolicyScope(_)
                        ) {
                            judge(rec);
                        }
                    });
                }
                rows
            })
            .collect()
    });
    // Appended after every other row: the caller's sort puts them in place.
    for group in again {
        rows.push_group(group);
    }
}

/// Rows hashed per task by [`duplicates`].
const HASH_SLICE: usize = 8192;

/// Ties together records that name the same repository (issue 11): two exports, or an export
/// and a Terraform plan, would otherwise give a pass row and a fail row with nothing between
/// them. The same repository is the same registry and real name (never a name taken from a
/// path), in the same region where both records say which. Every row of such a record gets a
/// `duplicate-record` note naming the other records (a few, then how many more). Returns how
/// many records were tied. Rows must be in report order. The hashing runs on the current rayon
/// pool (the caller's `install`).
pub fn duplicates(rows: &mut Rows) -> u64 {
    type Key<'r> = (&'r str, &'r str);
    /// A record: source, number, region.
    type At<'r> = (&'r Arc<str>, u64, Option<&'r str>);
    // Each record once (its rows, one per account, are consecutive), with its registry and
    // real name. Counted first, so that only repeated repositories cost a list.
    fn records_in<'r>(
        rows: impl Iterator<Item = &'r Row>,
    ) -> impl Iterator<Item = (Key<'r>, (&'r Arc<str>, u64), Option<&'r str>)> {
        let mut last: Option<(&Arc<str>, u64)> = None;
        rows.filter_map(move |r| {
            let at = (&r.source, r.record);
            if last == Some(at) {
                return None;
            }
            last = Some(at);
            let key: Key<'_> = (r.repo.registry.as_deref()?, r.repo.known_name()?);
            Some((key, at, r.repo.region.as_deref()))
        })
    }
    // Which keys may repeat: their hashes, sorted, 8 bytes a record (a map of the keys
    // themselves cost ten times that for a million rows, issue 13). A hash that repeats only
    // by chance makes a candidate of a repository named once, which the lists below drop.
    let hash = |key: &Key<'_>| rustc_hash::FxBuildHasher.hash_one(key);
    // Hashed and sorted on the workers (this runs after judging, while the user waits): slices
    // of rows, each record's key once but where a slice starts inside a record (two accounts
    // or more), whose key is then hashed twice — a candidate, dropped below like any other.
    // Each slice writes into its own part of one vector of a hash a row (a collect of the
    // slices' own vectors held the hashes twice at the scan's peak of memory), then the parts
    // are moved together.
    let mut hashes = vec![0u64; rows.len()];
    let mut parts: Vec<(&[Row], &mut [u64])> = Vec::new();
    let mut free = hashes.as_mut_slice();
    for slice in rows.slices(HASH_SLICE) {
        let (part, rest) = free.split_at_mut(slice.len());
        parts.push((slice, part));
        free = rest;
    }
    let filled: Vec<usize> = parts
        .into_par_iter()
        .map(|(slice, part)| {
            let mut n = 0;
            for (key, _, _) in records_in(slice.iter()) {
                part[n] = hash(&key);
                n += 1;
            }
            n
        })
        .collect();
    let (mut start, mut len) = (0, 0);
    for (slice, n) in rows.slices(HASH_SLICE).zip(filled) {
        hashes.copy_within(start..start + n, len);
        start += slice.len();
        len += n;
    }
    hashes.truncate(len);
    hashes.par_sort_unstable();
    let mut repeated: FxHashSet<u64> = hashes
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    drop(hashes);
    if repeated.is_empty() {
        return 0;
    }
    repeated.shrink_to_fit();
    let mut by_repo: FxHashMap<Key<'_>, Vec<At<'_>>> = FxHashMap::default();
    for (key, (source, record), region) in records_in(rows.iter()) {
        if repeated.contains(&hash(&key)) {
            by_repo
                .entry(key)
                .or_default()
                .push((source, record, region));
        }
    }
    // (source, record) → the others, for the records that have any. Linear in the records of
    // a repository, however many there are (issue 13): each record's others are counted from
    // per-region counts, and the few it names are taken from the first few of its region and
    // of the records that give no region.
    const SHOWN: usize = 3;
    by_repo.retain(|_, records| records.len() > 1);
    let mut notes: FxHashMap<(Arc<str>, u64), Message> = FxHashMap::default();
    for records in by_repo.values() {
        // Positions of the records of each region, and of those of no region: the first few.
        let mut by_region: FxHashMap<Option<&str>, (usize, Vec<usize>)> = FxHashMap::default();
        for (i, &(_, _, region)) in records.iter().enumerate() {
            let (n, first) = by_region.entry(region).or_default();
            *n += 1;
            if first.len() <= SHOWN {
                first.push(i);
            }
        }
        let first_all: Vec<usize> = (0..records.len().min(SHOWN + 1)).collect();
        let none = by_region.get(&None).cloned().unwrap_or_default();
        for (i, &(source, record, region)) in records.iter().enumerate() {
            let (count, mut firsts) = match region {
                None => (records.len() - 1, first_all.clone()),
                Some(_) => {
                    let own = &by_region[&region];
                    let mut firsts: Vec<usize> = own.1.iter().chain(&none.1).copied().collect();
                    firsts.sort_unstable();
                    (own.0 + none.0 - 1, firsts)
                }
            };
            if count == 0 {
                continue;
            }
            firsts.retain(|&j| j != i);
            firsts.truncate(SHOWN);
            #[cfg(test)]
            policy::steps::add(1 + firsts.len() as u64);
            let mut list = firsts
                .iter()
                .map(|&j| format!("{}:{}", records[j].0, records[j].1))
                .collect::<Vec<_>>()
                .join(", ");
            if count > SHOWN {
                list.push_str(&format!(" and {} more", count - SHOWN));
            }
            // Packed now (a million duplicated records hold a million notes until their rows
            // take them), keyed by the row's own copy of the source.
            notes.insert(
                (Arc::clone(source), record),
                Message::from(format_args!(
                    "another record names the same repository: {list}; its verdict may differ, so check which record is current"
                )),
            );
        }
    }
    if notes.is_empty() {
        return 0;
    }
    let tied = notes.len() as u64;
    for row in rows.iter_mut() {
        if let Some(note) = notes.get(&(Arc::clone(&row.source), row.record)) {
            let mut findings = row.findings.to_vec();
            findings.push(Finding::new(Code::DuplicateRecord, note.clone()));
            findings.sort_by_key(|f| f.code);
            row.findings = findings.into();
        }
    }
    tied
}

/// Registries whose registry policy the export could not read (issue 11's leftover): the error
/// record `scripts/export-ecr.sh` writes in `registry-policy.json` (an AWS error naming the
/// registry and region, e.g. `AccessDeniedException`), or any AWS error row of a registry alone
/// whose message names `GetRegistryPolicy`. Such a policy, in ECR's V2 scope, applies to every
/// repository of the registry and may deny a pull the repository policy grants, so every row
/// of a repository of that registry (same region where both say) gets `registry-policy-unreadable`
/// (warn) — unless a registry policy of it was read after all, or its scope is known to be V1.
/// Returns how many records were marked.
pub fn unreadable_registry_policies(
    rows: &mut Rows,
    registries: &[RegistryPolicy],
    scopes: Scopes<'_>,
) -> u64 {
    // (registry, region, where).
    let mut unread: Vec<(Arc<str>, Option<Arc<str>>, String)> = Vec::new();
    for r in rows.iter() {
        let (Some(registry), None) = (&r.repo.registry, &r.repo.repository) else {
            continue;
        };
        let file = std::path::Path::new(&*r.source)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        let named = matches!(file, "registry-policy.json" | "registry-policy.json.gz")
            || r.findings
                .iter()
                .any(|f| f.message.contains("GetRegistryPolicy"));
        let is_error = r.status == crate::finding::Status::Error
            && r.findings.iter().all(|f| f.code == Code::UnsupportedInput);
        let place = format!("{}:{}", r.source, r.record);
        if named && is_error && !unread.iter().any(|(_, _, p)| *p == place) {
            unread.push((Arc::clone(registry), r.repo.region.clone(), place));
        }
    }
    if unread.is_empty() {
        return 0;
    }
    let mut marked = 0;
    let mut last: Option<(Arc<str>, u64)> = None;
    for row in rows.iter_mut() {
        if row.status == crate::finding::Status::Error || row.repo.repository.is_none() {
            continue;
        }
        let Some(registry) = row.repo.registry.as_deref() else {
            continue;
        };
        let region = row.repo.region.as_deref();
        let Some((_, unread_region, place)) = unread.iter().find(|(g, r, _)| {
            &**g == registry
                && match (r.as_deref(), region) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        }) else {
            continue;
        };
        if registry_for(registries, &row.repo).is_some()
            || scopes.of(registry, region, &row.source) == Some(ScopeV::V1)
        {
            continue;
        }
        let at = match unread_region.as_deref().or(region) {
            Some(r) => format!("registry {registry} in {r}"),
            None => format!("registry {registry}"),
        };
        let mut findings = row.findings.to_vec();
        findings.push(Finding::new(
            Code::RegistryPolicyUnreadable,
            format!(
                "the registry policy of {at} could not be read (the error is {place}): in ECR's V2 scope a registry policy applies to every repository of the registry and may deny this pull; export it with aws ecr get-registry-policy and scan it with the export"
            ),
        ));
        findings.sort_by_key(|f| f.code);
        row.status = row.status.max(crate::finding::Status::Warn);
        row.findings = findings.into();
        let this = (Arc::clone(&row.source), row.record);
        if last.as_ref() != Some(&this) {
            marked += 1;
            last = Some(this);
        }
    }
    marked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::RowRepo;
    use crate::finding::Status;
    use crate::record::RepoId;
    use proptest::prelude::*;

    /// The keys under which a record names its repository, as text: the ARN, and
    /// `region|registry/name` with `*` for a record of unknown region, and `?|registry/name`.
    fn text_keys(repo: &impl Identity) -> Vec<String> {
        let mut keys: Vec<String> = repo.arn().map(Into::into).into_iter().collect();
        if let (Some(registry), Some(name)) = (repo.registry(), repo.known_name()) {
            keys.push(format!(
                "{}|{registry}/{name}",
                repo.region().unwrap_or("*")
            ));
            keys.push(format!("?|{registry}/{name}"));
        }
        keys
    }

    /// The keys under which another record may name the repository, as text.
    fn text_lookup(repo: &impl Identity) -> Vec<String> {
        let mut keys: Vec<String> = repo.arn().map(Into::into).into_iter().collect();
        if let (Some(registry), Some(name)) = (repo.registry(), repo.known_name()) {
            keys.push(format!("*|{registry}/{name}"));
            keys.push(format!(
                "{}|{registry}/{name}",
                repo.region().unwrap_or("?")
            ));
        }
        keys
    }

    /// The inventory join as first written: every key as text in a set.
    fn unnamed_by_text(rows: &Rows, listed: &[Listed]) -> Vec<bool> {
        let mut seen: HashSet<String> = rows.iter().flat_map(|r| text_keys(&r.repo)).collect();
        listed
            .iter()
            .map(|l| {
                if text_lookup(&l.repo).iter().any(|k| seen.contains(k)) {
                    return false;
                }
                seen.extend(text_keys(&l.repo));
                true
            })
            .collect()
    }

    fn identity() -> impl Strategy<Value = RepoId> {
        (
            prop::option::of(prop::sample::select(vec!["444455556666", "111122223333"])),
            prop::option::of(prop::sample::select(vec![
                "eu-west-1",
                "us-east-1",
                "*",
                "?",
            ])),
            prop::option::of(prop::sample::select(vec!["app", "team/app"])),
            0..4usize,
            any::<bool>(),
        )
            .prop_map(|(registry, region, name, arn, name_from_path)| {
                let spelt = format!(
                    "arn:aws:ecr:{}:{}:repository/{}",
                    region.unwrap_or("eu-west-1"),
                    registry.unwrap_or("444455556666"),
                    name.unwrap_or("app")
                );
                RepoId {
                    registry: registry.map(str::to_owned),
                    region: region.map(str::to_owned),
                    repository: name.map(str::to_owned),
                    arn: match arn {
                        0 => None,
                        1 => Some(spelt),
                        2 => Some(spelt.replace("arn:aws:", "arn:aws-cn:")),
                        _ => Some("arn:aws:ecr:eu-west-1:444455556666:repository/other".into()),
                    },
                    name_from_path,
                }
            })
    }

    proptest! {
        #[test]
        fn the_inventory_join_folds_exactly_what_text_keys_fold(
            named in prop::collection::vec(identity(), 0..6),
            listed in prop::collection::vec(identity(), 1..10),
        ) {
            let mut rows = Rows::new();
            rows.push_group(
                named
                    .into_iter()
                    .enumerate()
                    .map(|(i, repo)| row("a.json", i as u64 + 1, RowRepo::compact(repo)))
                    .collect(),
            );
            let listed: Vec<Listed> = listed
                .into_iter()
                .enumerate()
                .map(|(i, repo)| Listed {
                    source: Arc::from("inventory.json"),
                    record: i as u64 + 1,
                    shape: crate::record::Shape::DescribeRepositories,
                    repo: RowRepo::compact(repo),
                })
                .collect();
            prop_assert_eq!(unnamed(&rows, &listed), unnamed_by_text(&rows, &listed));
        }
    }

    /// A passing row of `record` in `source` naming `repo`, without findings.
    fn row(source: &str, record: u64, repo: RowRepo) -> Row {
        Row {
            source: Arc::from(source),
            record,
            repo,
            account: Arc::from("111122223333"),
            status: Status::Pass,
            actions: None,
            findings: Vec::new().into(),
        }
    }

    fn rows(regions: &[Option<&str>]) -> Rows {
        let mut rows = Rows::new();
        rows.push_group(
            regions
                .iter()
                .enumerate()
                .map(|(i, region)| {
                    let repo = RowRepo {
                        registry: Some(Arc::from("444455556666")),
                        region: region.map(Arc::from),
                        repository: Some("app".into()),
                        ..RowRepo::default()
                    };
                    row("s.jsonl", i as u64 + 1, repo)
                })
                .collect(),
        );
        rows
    }

    /// Each record's note as the first version wrote it: every compatible other listed, then
    /// the first three kept (quadratic in the records of a repository).
    fn reference(regions: &[Option<&str>]) -> Vec<Option<String>> {
        (0..regions.len())
            .map(|i| {
                let others: Vec<String> = (0..regions.len())
                    .filter(|&j| {
                        j != i
                            && (regions[i].is_none()
                                || regions[j].is_none()
                                || regions[i] == regions[j])
                    })
                    .map(|j| format!("s.jsonl:{}", j + 1))
                    .collect();
                if others.is_empty() {
                    return None;
                }
                let mut list = others[..others.len().min(3)].join(", ");
                if others.len() > 3 {
                    list.push_str(&format!(" and {} more", others.len() - 3));
                }
                Some(format!(
                    "another record names the same repository: {list}; its verdict may differ, so check which record is current"
                ))
            })
            .collect()
    }

    #[test]
    fn duplicate_notes_name_the_first_compatible_others_and_count_the_rest() {
        let (a, b) = (Some("eu-west-1"), Some("us-east-1"));
        for regions in [
            vec![a, a],
            vec![a, b],
            vec![None, a, b],
            vec![a, b, a, b, None, a, b, b, None, a],
            vec![b, b, b, b, b, a, a, a, a, a, a],
            vec![None, None, None, None, None],
            vec![a; 40],
        ] {
            let mut r = rows(&regions);
            let tied = duplicates(&mut r);
            let notes: Vec<Option<String>> = r
                .iter()
                .map(|row| {
                    row.findings
                        .iter()
                        .find(|f| f.code == Code::DuplicateRecord)
                        .map(|f| f.message.to_string())
                })
                .collect();
            let want = reference(&regions);
            assert_eq!(notes, want, "{regions:?}");
            assert_eq!(tied, want.iter().flatten().count() as u64);
        }
    }

    /// Records are hashed in slices of rows on the workers: a record whose rows (one per account)
    /// a slice boundary cuts is still one record, not a duplicate of itself, and two records of
    /// one repository in different slices are tied.
    #[test]
    fn records_hashed_in_slices_are_tied_only_to_other_records() {
        const ACCOUNTS: u64 = 3;
        let records = 2 * HASH_SLICE as u64 / ACCOUNTS + 5;
        let (first, last) = (7, records - 2);
        let mut all = Vec::new();
        for record in 1..=records {
            // Every record its own repository but `last`, which names `first`'s.
            let name = if record == last { first } else { record };
            for _ in 0..ACCOUNTS {
                let repo = RowRepo {
                    registry: Some(Arc::from("444455556666")),
                    region: Some(Arc::from("eu-west-1")),
                    repository: Some(format!("app-{name}").into()),
                    ..RowRepo::default()
                };
                all.push(row("s.jsonl", record, repo));
            }
        }
        // Some record straddles the first slice boundary.
        assert_ne!(HASH_SLICE as u64 % ACCOUNTS, 0);
        let mut r = Rows::from(all);
        let tied = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a pool")
            .install(|| duplicates(&mut r));
        assert_eq!(tied, 2);
        let noted: Vec<u64> = r
            .iter()
            .filter(|row| row.findings.iter().any(|f| f.code == Code::DuplicateRecord))
            .map(|row| row.record)
            .collect();
        let want: Vec<u64> = [first, last]
            .iter()
            .flat_map(|&n| [n; ACCOUNTS as usize])
            .collect();
        assert_eq!(noted, want);
    }

    /// Thousands of registry policies: each repository finds its registry's by a binary search,
    /// its region's before one of no region, the first in report order among equals.
    #[test]
    fn a_repository_finds_its_registrys_policy_among_many() {
        use crate::record::RepoId;
        let policy = |registry: String, region: Option<&str>, source: &str| RegistryPolicy {
            registry,
            region: region.map(str::to_owned),
            source: Arc::from(source),
            policy: crate::policy::Policy::empty(),
            scope: None,
        };
        let mut all: Vec<RegistryPolicy> = (0..3000)
            .rev()
            .map(|i| {
                policy(
                    format!("{:012}", 100_000_000_000u64 + i),
                    Some("eu-west-1"),
                    "a",
                )
            })
            .collect();
        let reg = "100000001234".to_owned();
        all.push(policy(reg.clone(), None, "none"));
        all.push(policy(reg.clone(), Some("us-east-1"), "us-first"));
        all.push(policy(reg.clone(), Some("us-east-1"), "us-second"));
        // As registry_policies leaves them.
        in_lookup_order(&mut all);
        let found = |registry: &str, region: Option<&str>| {
            let repo = RepoId {
                registry: Some(registry.to_owned()),
                region: region.map(str::to_owned),
                repository: Some("app".into()),
                ..RepoId::default()
            };
            registry_for(&all, &repo).map(|r| (r.region.clone(), r.source.to_string()))
        };
        assert_eq!(
            found(&reg, Some("us-east-1")),
            Some((Some("us-east-1".into()), "us-first".into()))
        );
        assert_eq!(
            found(&reg, Some("eu-west-1")),
            Some((Some("eu-west-1".into()), "a".into()))
        );
        assert_eq!(found(&reg, Some("ap-south-1")), Some((None, "none".into())));
        assert_eq!(
            found("100000002999", Some("eu-west-1")),
            Some((Some("eu-west-1".into()), "a".into()))
        );
        assert_eq!(found("100000003000", Some("eu-west-1")), None);
        assert_eq!(found("100000000000", Some("us-east-1")), None);
    }

    /// Linear in the records of one repository (issue 13; the first version listed every other
    /// record for each: 60,000 copies of one record took 285 s): the work counted for 4 times
    /// the records is at most 5 times as much.
    #[test]
    fn tying_many_records_of_one_repository_is_linear() {
        let work = |n: usize| {
            let regions: Vec<Option<&str>> = (0..n)
                .map(|i| match i % 3 {
                    0 => Some("eu-west-1"),
                    1 => Some("us-east-1"),
                    _ => None,
                })
                .collect();
            let mut r = rows(&regions);
            policy::steps::take();
            duplicates(&mut r);
            policy::steps::take()
        };
        let (small, large) = (work(2_000), work(8_000));
        assert!(small > 0);
        assert!(large <= 5 * small, "{small} then {large}");
    }
}

//! SPEC 4.6: turning per-statement verdicts and per-action states into findings, each with a
//! one-sentence message a person can act on and, where it has one, its statement.

use std::sync::LazyLock;

use crate::catalog::{self, ACTIONS};
use crate::finding::{Code, Finding};
use crate::message::{Write, phrase};
use crate::policy::{Effect, Policy, Resources, Version, Who};

use super::{ActionState, Puller, Tri, View, audience, condition};

/// How many excess actions a message names before it says "and N more".
const EXCESS_SHOWN: usize = 4;

pub(super) fn collect(
    policy: &Policy,
    puller: &Puller,
    owner: Option<&str>,
    views: &[View<'_>],
    actions: &[ActionState; 3],
    allow_true: u8,
    out: &mut Vec<Finding>,
) {
    debug_assert!(out.is_empty());
    let account = puller.account.as_str();
    // The account's root ARN, written only into a message that is not remembered (its key holds
    // the account and the partition it is made of).
    let root = || Root(puller);

    match policy.version() {
        Version::Missing => out.push(Finding::new(
            Code::LegacyVersion,
            "the policy has no Version, so IAM reads it with the 2008-10-17 rules; add \"Version\": \"2012-10-17\"",
        )),
        Version::V2008_10_17 => out.push(Finding::new(
            Code::LegacyVersion,
            "the policy uses Version \"2008-10-17\", which lacks policy variables; change it to \"2012-10-17\"",
        )),
        Version::V2012_10_17 => {}
    }

    let missing = names(|j| actions[j] == ActionState::Missing);
    if !missing.is_empty() {
        let key = Key::new(Code::ActionNotGranted)
            .text(account)
            .number(puller.partition as u128)
            .number(missing.bits());
        out.push(Finding::new(
            Code::ActionNotGranted,
            memo(key, || {
                format_args!(
                    "account {account} is not granted {}; add an Allow statement with Principal {{\"AWS\": \"{}\"}} for {}",
                    missing,
                    root(),
                    if missing.len() == 1 { "it" } else { "them" }
                )
                .into()
            }),
        ));
    }

    // Whether some Allow certainly grants each required action (`allow_true`, bit `j`); without
    // one, an undecided Allow is what makes the action conditional.
    // Actions a Deny certainly takes away do not count as excess.
    let denied_mask = views
        .iter()
        .filter(|v| v.stmt.effect() == Effect::Deny && v.applies == Tri::True)
        .fold(0u128, |m, v| m | v.stmt.coverage());

    for v in views {
        let s = v.stmt;
        let on = |j: usize| v.on(j);
        match s.effect() {
            Effect::Deny => {
                let denied = names(|j| on(j) == Tri::True);
                if !denied.is_empty() {
                    let key = Key::new(Code::ActionDenied)
                        .label(s)
                        .text(account)
                        .number(denied.bits());
                    out.push(Finding::at(
                        Code::ActionDenied,
                        memo(key, || {
                            format_args!(
                                "{} denies {} to account {account}; remove the account from this Deny or narrow it",
                                s.label_parts(),
                                denied
                            )
                            .into()
                        }),
                        s.reference(),
                    ));
                }
                // Whether or not the action is granted today: the person who adds the grant
                // needs to know that this Deny may take it away (issue 10). An action another
                // Deny certainly takes away is action-denied already.
                let maybe = names(|j| on(j) == Tri::Unknown && actions[j] != ActionState::Denied);
                if !maybe.is_empty() {
                    let why = undecided(v, puller);
                    let key = Key::new(Code::ConditionalDeny)
                        .label(s)
                        .number(maybe.bits())
                        .undecided(&why);
                    out.push(Finding::at(
                        Code::ConditionalDeny,
                        memo(key, || {
                            format_args!(
                                "{} may deny {} depending on {}, which cannot be decided offline; pass the facts with --context KEY=VALUE or narrow the Deny",
                                s.label_parts(),
                                maybe,
                                why
                            )
                            .into()
                        }),
                        s.reference(),
                    ));
                }
            }
            Effect::Allow => {
                let maybe = names(|j| {
                    on(j) == Tri::Unknown
                        && actions[j] == ActionState::Conditional
                        && allow_true & 1 << j == 0
                });
                if !maybe.is_empty() {
                    let why = undecided(v, puller);
                    let key = Key::new(Code::ConditionalAllow)
                        .label(s)
                        .number(maybe.bits())
                        .undecided(&why);
                    out.push(Finding::at(
                        Code::ConditionalAllow,
                        memo(key, || {
                            format_args!(
                                "{} allows {} only depending on {}, which cannot be decided offline; pass the facts with --context KEY=VALUE or grant the account without them",
                                s.label_parts(),
                                maybe,
                                why
                            )
                            .into()
                        }),
                        s.reference(),
                    ));
                }
                public_access(v, out);
                let mention = v.mention;
                let pulls = v.required != 0;
                if mention.specific_only && pulls {
                    let named = v.first_specific.unwrap_or(account);
                    let key = Key::new(Code::PrincipalNotRoot)
                        .label(s)
                        .text(account)
                        .text(named)
                        .number(puller.partition as u128);
                    out.push(Finding::at(
                        Code::PrincipalNotRoot,
                        memo(key, || {
                            format_args!(
                                "{} names account {account} only as the specific principal {named}, which does not cover Gitpod's role session; use \"{}\" instead",
                                s.label_parts(),
                                root()
                            )
                            .into()
                        }),
                        s.reference(),
                    ));
                }
                // Excess is about the whole account, not only Gitpod's role: a grant to a user
                // of the account behind an aws:PrincipalArn condition is still a grant.
                if mention.any
                    && v.resource != Tri::False
                    && condition::block_for_account(s.conditions(), puller) != Tri::False
                {
                    excess_access(v, account, denied_mask, out);
                }
                cross_account_write(v, puller, owner, views, out);
            }
        }
        unknown_actions(v, out);
        // A registry policy names its repositories in `Resource` (AWS's own examples do): the
        // note is for repository policies only.
        if let Some(r) = s.resources().filter(|_| !s.is_registry()) {
            let element = match r {
                Resources::Resource(_) => "Resource",
                Resources::NotResource(_) => "NotResource",
            };
            let key = Key::new(Code::ResourceElement).label(s).text(element);
            out.push(Finding::at(
                Code::ResourceElement,
                memo(key, || {
                    format_args!(
                        "{} has a {element} element, which repository policies omit and ECR has rejected; remove it",
                        s.label_parts()
                    )
                    .into()
                }),
                s.reference(),
            ));
        }
    }

    out.sort_by_key(|f| (f.code, f.statement.as_ref().map(|r| r.index)));
    out.dedup_by_key(|f| (f.code, f.statement.as_ref().map(|r| r.index)));
}

/// The required actions (full names, report order) for which `pick(j)` holds.
fn names(pick: impl Fn(usize) -> bool) -> Required {
    Required(
        (0..catalog::REQUIRED.len())
            .filter(|j| pick(*j))
            .fold(0, |m, j| m | 1 << j),
    )
}

/// Some of `catalog::REQUIRED` (bit `j`: `catalog::REQUIRED[j]`), written as [`list`] writes
/// their names, without a `Vec` of them.
#[derive(Clone, Copy)]
struct Required(u8);

impl Required {
    fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The bits, for a [`Key`].
    fn bits(self) -> u128 {
        u128::from(self.0)
    }
}

impl std::fmt::Display for Required {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.len();
        let picked = (0..catalog::REQUIRED.len()).filter(|j| self.0 & 1 << j != 0);
        for (i, j) in picked.enumerate() {
            if i > 0 {
                f.write_str(if i + 1 == n { " and " } else { ", " })?;
            }
            f.write_str(catalog::REQUIRED[j])?;
        }
        Ok(())
    }
}

/// `arn:<partition>:iam::<account>:root`, written (as one part, as messages always had it)
/// only when a message is made.
struct Root<'a>(&'a Puller);

impl std::fmt::Display for Root<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format!(
            "arn:{}:iam::{}:root",
            self.0.partition.as_str(),
            self.0.account
        ))
    }
}

/// `a`, `a and b`, `a, b and c`, written an item at a time (each action or key name a part of
/// its own, which a message packs as a phrase: see `message`).
fn list<T: std::fmt::Display>(items: &[T]) -> List<'_, T> {
    List(items)
}

/// See [`list`].
struct List<'a, T>(&'a [T]);

/// [`list`] of the first [`NAMED`] items, and then `N more` (followed by `noun`) for the rest:
/// `a, b, … h and 3 more`.
fn few<'a, T: Piece>(items: &'a [T], noun: &'static str) -> Few<'a, T> {
    Few { items, noun }
}

/// See [`few`].
struct Few<'a, T> {
    items: &'a [T],
    noun: &'static str,
}

/// An item of a message's list, written to the message's parts (see `message::Write`).
trait Piece {
    fn write_to<W: Write>(&self, w: &mut W) -> std::fmt::Result;
}

impl Piece for &str {
    fn write_to<W: Write>(&self, w: &mut W) -> std::fmt::Result {
        w.write_str(self)
    }
}

impl<T: Piece> Piece for Few<'_, T> {
    fn write_to<W: Write>(&self, w: &mut W) -> std::fmt::Result {
        let n = self.items.len();
        let shown = n.min(NAMED);
        for (i, item) in self.items[..shown].iter().enumerate() {
            if i > 0 {
                if i + 1 == n {
                    phrase!(w, " and ")?;
                } else {
                    phrase!(w, ", ")?;
                }
            }
            item.write_to(w)?;
        }
        if n > NAMED {
            phrase!(w, " and ")?;
            w.number((n - NAMED) as u64)?;
            phrase!(w, " more")?;
            w.write_str(self.noun)?;
        }
        Ok(())
    }
}

impl<T: Piece> std::fmt::Display for Few<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.write_to(f)
    }
}

impl<T: std::fmt::Display> std::fmt::Display for List<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(if i + 1 == self.0.len() { " and " } else { ", " })?;
            }
            item.fmt(f)?;
        }
        Ok(())
    }
}

/// What leaves a statement undecided: its principal, its resource, its condition keys.
fn undecided<'a>(v: &View<'a>, puller: &Puller) -> Undecided<'a> {
    // Keys named once whatever their case (a set, so that a statement of many keys stays
    // linear); the message names the first few and counts the rest.
    // The first few lower-cased keys are compared directly (no set for the usual one or two),
    // and kept on the stack (no `Vec` for them).
    let mut keys = Keys::default();
    let mut few: [&str; FEW] = [""; FEW];
    let mut seen = rustc_hash::FxHashSet::default();
    for (i, c) in v.stmt.conditions().iter().enumerate() {
        if !v.undecided(i, &c, puller) {
            continue;
        }
        let lower = c.key_lower();
        let n = keys.len();
        let new = if n < FEW {
            !few[..n].contains(&lower)
        } else {
            if seen.is_empty() {
                seen.extend(few);
            }
            seen.insert(lower)
        };
        if new {
            if let Some(slot) = few.get_mut(n) {
                *slot = lower;
            }
            keys.push(c.key());
        }
    }
    Undecided {
        principal: v.principal == Tri::Unknown,
        resource: v.resource == Tri::Unknown,
        keys,
    }
}

/// How many keys [`undecided`] compares directly and [`Keys`] keeps on the stack.
const FEW: usize = 8;

/// The undecided keys, in order: the first [`FEW`] on the stack, all of them in a `Vec` once
/// there are more.
#[derive(Default)]
struct Keys<'a> {
    few: [&'a str; FEW],
    n: usize,
    many: Vec<&'a str>,
}

impl<'a> Keys<'a> {
    fn len(&self) -> usize {
        self.n
    }

    fn push(&mut self, key: &'a str) {
        if self.n < FEW {
            self.few[self.n] = key;
        } else {
            if self.many.is_empty() {
                self.many.extend_from_slice(&self.few);
            }
            self.many.push(key);
        }
        self.n += 1;
    }

    fn as_slice(&self) -> &[&'a str] {
        if self.n <= FEW {
            &self.few[..self.n]
        } else {
            &self.many
        }
    }
}

/// See [`undecided`]: written a part at a time, each key a part of its own.
struct Undecided<'a> {
    principal: bool,
    resource: bool,
    keys: Keys<'a>,
}

impl std::fmt::Display for Undecided<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        enum Item<'k> {
            Text(&'static str),
            Keys(&'k [&'k str]),
        }
        impl std::fmt::Display for Item<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    Item::Text(t) => f.write_str(t),
                    Item::Keys([one]) => {
                        f.write_str("the condition key ")?;
                        f.write_str(one)
                    }
                    Item::Keys(keys) => {
                        f.write_str("the condition keys ")?;
                        few(keys, "").fmt(f)
                    }
                }
            }
        }
        let mut items: Vec<Item<'_>> = Vec::with_capacity(3);
        if self.principal {
            items.push(Item::Text("whether Gitpod's role is among its principals"));
        }
        if self.resource {
            items.push(Item::Text(
                "whether its resource pattern matches the repository",
            ));
        }
        if self.keys.len() > 0 {
            items.push(Item::Keys(self.keys.as_slice()));
        }
        list(&items).fmt(f)
    }
}

/// Everything a message is written from, as bytes: the code, then each input, a text with its
/// length before it, so that two different lists of inputs never make the same key.
struct Key(Vec<u8>);

impl Key {
    fn new(code: Code) -> Key {
        // The worker's buffer (given back by `memo`): a key looked up costs no allocation.
        let mut k = KEY_BUFFER.take();
        k.clear();
        k.reserve(128);
        k.push(code as u8);
        Key(k)
    }

    fn text(mut self, s: &str) -> Key {
        self.0.extend_from_slice(&(s.len() as u64).to_le_bytes());
        self.0.extend_from_slice(s.as_bytes());
        self
    }

    fn number(mut self, n: u128) -> Key {
        self.0.extend_from_slice(&n.to_le_bytes());
        self
    }

    /// What [`Statement::label_parts`] writes from.
    fn label(self, s: &crate::policy::Statement) -> Key {
        let k = self.number((s.index() as u128) << 1 | u128::from(s.is_registry()));
        match s.sid() {
            Some(sid) => k.number(1).text(sid),
            None => k.number(0),
        }
    }

    /// What [`Undecided`] writes from.
    fn undecided(self, u: &Undecided<'_>) -> Key {
        let mut k = self
            .number(u128::from(u.principal) | u128::from(u.resource) << 1)
            .number(u.keys.len() as u128);
        for key in u.keys.as_slice() {
            k = k.text(key);
        }
        k
    }
}

thread_local! {
    /// The bytes of the last key looked up, for the next [`Key::new`].
    static KEY_BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// How many messages a worker remembers before it starts afresh.
const MEMO_LIMIT: usize = 1 << 14;

/// The message for `key`: remembered by this worker, or made by `make` (and remembered). In an
/// estate whose policies differ, most findings still say the same thing word for word (the
/// same Sid, actions and keys): a look-up costs a fraction of writing and packing the message.
/// A key holds every input its message is written from, so the text is the one `make` would
/// write; builds with debug assertions (the tests) check exactly that on every hit.
fn memo(key: Key, make: impl FnOnce() -> crate::message::Message) -> crate::message::Message {
    use crate::message::Message;
    use std::cell::RefCell;
    thread_local! {
        static MEMO: RefCell<rustc_hash::FxHashMap<Box<[u8]>, Message>> =
            RefCell::new(rustc_hash::FxHashMap::default());
    }
    if let Some(m) = MEMO.with_borrow(|memo| memo.get(key.0.as_slice()).cloned()) {
        #[cfg(debug_assertions)]
        assert_eq!(
            m,
            make(),
            "a remembered message differs from the one its inputs write"
        );
        KEY_BUFFER.set(key.0);
        return m;
    }
    let m = make();
    MEMO.with_borrow_mut(|memo| {
        if memo.len() >= MEMO_LIMIT {
            memo.clear();
        }
        memo.insert(key.0.as_slice().into(), m.clone());
    });
    KEY_BUFFER.set(key.0);
    m
}

/// How many items a message names before it counts the rest ("… and 39,995 more").
const NAMED: usize = 8;

/// An Allow to every AWS principal without a condition that certainly narrows who the
/// principal is (see [`audience::narrows`]).
fn public_access(v: &View<'_>, out: &mut Vec<Finding>) {
    let s = v.stmt;
    let Who::Principal(p) = s.who() else {
        return;
    };
    if !p.is_everyone() || s.conditions().iter().any(|c| audience::narrows(&c)) {
        return;
    }
    let wide = s
        .conditions()
        .iter()
        .find(|c| c.operator().is_plain())
        .map(|c| format!(" (its {} on {} excludes no one)", c.operator(), c.key()))
        .unwrap_or_default();
    out.push(Finding::at(
        Code::PublicAccess,
        format_args!(
            "{} allows every AWS principal (\"*\") with no condition that narrows who the principal is{wide}; name the account, or add StringEquals on aws:PrincipalOrgID or aws:PrincipalAccount with a literal value",
            s.label_parts()
        ),
        s.reference(),
    ));
}

/// Write, Permissions management and Tagging actions that an Allow grants (certainly or
/// possibly) to accounts other than the audited one and the registry's owner. Each named
/// account is judged as "some principal of that account": its conditions for that account, and
/// the actions a Deny certainly takes from every principal of it left out.
fn cross_account_write(
    v: &View<'_>,
    puller: &Puller,
    owner: Option<&str>,
    views: &[View<'_>],
    out: &mut Vec<Finding>,
) {
    let s = v.stmt;
    let excess = s.coverage() & excess_mask();
    if excess == 0 || v.resource == Tri::False {
        return;
    }
    // The accounts granted, the first few on the stack (no allocation for the usual one).
    let mut few = [Granted::NONE; 4];
    let mut n = 0;
    let mut more: Vec<Granted<'_>> = Vec::new();
    // Which accounts each Deny names as a whole, looked up once (and only once some other
    // account is named: most statements name none): a statement may name thousands of
    // accounts, and a Deny thousands of principals.
    let mut denies: Option<Vec<(&View<'_>, DenyWho<'_>)>> = None;
    // "Some principal of that account": made once, its account written for each one named.
    let mut them = Puller {
        account: String::new(),
        partition: puller.partition,
        context: Default::default(),
    };
    for other in audience::named_accounts_once(s) {
        if other == puller.account || Some(other) == owner {
            continue;
        }
        them.account.clear();
        them.account.push_str(other);
        let cond = condition::block_for_account(s.conditions(), &them);
        if cond == Tri::False {
            continue;
        }
        let denied = denies
            .get_or_insert_with(|| {
                views
                    .iter()
                    .filter(|d| d.stmt.effect() == Effect::Deny && d.resource == Tri::True)
                    .map(|d| (d, DenyWho::of(d, puller)))
                    .collect()
            })
            .iter()
            .filter(|(d, who)| denies_every_principal_of(d, who, &them))
            .fold(0u128, |m, (d, _)| m | d.stmt.coverage());
        let actions = excess & !denied;
        if actions == 0 {
            continue;
        }
        let g = Granted {
            certainly: cond == Tri::True && v.resource == Tri::True,
            account: other,
            actions,
        };
        if let Some(slot) = few.get_mut(n) {
            *slot = g;
        } else {
            if more.is_empty() {
                more.extend_from_slice(&few);
            }
            more.push(g);
        }
        n += 1;
    }
    let granted = if n <= few.len() { &few[..n] } else { &more[..] };
    if granted.is_empty() {
        return;
    }
    out.push(Finding::at(
        Code::CrossAccountWrite,
        cross_account_message(s, granted, &puller.account, owner),
        s.reference(),
    ));
}

/// The message of `cross-account-write`, written straight into its packed bytes: not
/// remembered (its accounts differ per record), it is written for most findings of an estate
/// whose policies name CI accounts, where `format_args!` cost several times the writing.
/// `tests::the_cross_account_message_reads_as_format_wrote_it` holds it to the text that
/// `format!` wrote.
#[inline(never)] // kept apart: its cost is measured on its own (docs/performance.md)
fn cross_account_message(
    s: &crate::policy::Statement,
    granted: &[Granted<'_>],
    audited: &str,
    owner: Option<&str>,
) -> crate::message::Message {
    // About a fifth of the text's bytes, packed; a few more for each account named.
    let mut m = crate::message::Packer::with_capacity(48 + 40 * granted.len().min(NAMED));
    // Writing to a packer cannot fail.
    let _ = write_cross_account(&mut m, s, granted, audited, owner);
    m.finish()
}

/// See [`cross_account_message`]: "{label} grants {accounts} beyond pulling, to an account that
/// is neither the audited account {audited} nor the registry's owner {owner}; grant it only
/// what it needs", each part as `format_args!` had handed it to the packer.
fn write_cross_account<W: Write>(
    w: &mut W,
    s: &crate::policy::Statement,
    granted: &[Granted<'_>],
    audited: &str,
    owner: Option<&str>,
) -> std::fmt::Result {
    let one = granted.len() == 1;
    s.write_label(w)?;
    phrase!(w, " grants ")?;
    // A statement may name thousands of accounts: the first few, and a count.
    few(granted, " accounts").write_to(w)?;
    phrase!(w, " beyond pulling, to ")?;
    if one {
        phrase!(w, "an account that is")?;
    } else {
        phrase!(w, "accounts that are")?;
    }
    phrase!(w, " neither the audited account ")?;
    w.write_str(audited)?;
    phrase!(w, " nor ")?;
    match owner {
        Some(o) => {
            phrase!(w, "the registry's owner ")?;
            w.write_str(o)?;
        }
        None => phrase!(w, "the registry's owner (not known from the input)")?,
    }
    phrase!(w, "; grant ")?;
    if one {
        phrase!(w, "it")?;
    } else {
        phrase!(w, "each")?;
    }
    phrase!(w, " only what ")?;
    if one {
        phrase!(w, "it")?;
    } else {
        phrase!(w, "each")?;
    }
    phrase!(w, " needs")
}

/// One account of a `cross-account-write` message, written a part at a time.
#[derive(Clone, Copy)]
struct Granted<'a> {
    /// Whether the account is certainly granted the actions (else "possibly").
    certainly: bool,
    account: &'a str,
    actions: u128,
}

impl Granted<'_> {
    /// A filler for the unused places of an array.
    const NONE: Granted<'static> = Granted {
        certainly: false,
        account: "",
        actions: 0,
    };
}

impl Piece for Granted<'_> {
    fn write_to<W: Write>(&self, w: &mut W) -> std::fmt::Result {
        let n = self.actions.count_ones();
        if !self.certainly {
            phrase!(w, "possibly ")?;
        }
        phrase!(w, "account ")?;
        w.write_str(self.account)?;
        phrase!(w, " ")?;
        w.number(u64::from(n))?;
        phrase!(w, " action")?;
        if n != 1 {
            phrase!(w, "s")?;
        }
        phrase!(w, " (")?;
        shortened(self.actions).write_to(w)?;
        phrase!(w, ")")
    }
}

/// Whom a Deny names, by account, for [`denies_every_principal_of`].
enum DenyWho<'a> {
    /// `Principal` `*`/`{"AWS": "*"}`.
    Everyone,
    /// `Principal`: the accounts it names as a whole (`principal::Named::Account` for an
    /// account of the puller's partition).
    Accounts(rustc_hash::FxHashSet<&'a str>),
    /// `NotPrincipal` of `*`: it denies no one.
    NoOne,
    /// `NotPrincipal`: the accounts of anything it lists (`audience::account_of`).
    AllBut(rustc_hash::FxHashSet<&'a str>),
}

impl<'a> DenyWho<'a> {
    fn of(d: &View<'a>, puller: &Puller) -> Self {
        #[cfg(test)]
        crate::policy::steps::add(match d.stmt.who() {
            Who::Principal(p) | Who::NotPrincipal(p) => p.aws().len() as u64,
        });
        match d.stmt.who() {
            Who::Principal(p) if p.is_everyone() => DenyWho::Everyone,
            Who::Principal(p) => DenyWho::Accounts(
                p.aws()
                    .iter()
                    .filter_map(|a| whole_account(a, puller.partition.as_str()))
                    .collect(),
            ),
            Who::NotPrincipal(p) if p.is_everyone() => DenyWho::NoOne,
            Who::NotPrincipal(p) => DenyWho::AllBut(
                p.aws()
                    .iter()
                    .filter_map(|a| audience::account_of(a))
                    .collect(),
            ),
        }
    }
}

/// The account a principal value names as a whole in `partition` (an account ID, or the
/// account's `root` ARN): the account `a` for which `principal::name(value, a)` is `Account`.
fn whole_account<'a>(value: &'a str, partition: &str) -> Option<&'a str> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value);
    }
    match super::arn::six(value) {
        Some(["arn", p, "iam", "", account, "root"]) if p == partition => Some(account),
        _ => None,
    }
}

/// Whether a Deny certainly applies to every principal of the account `them` stands for.
fn denies_every_principal_of(d: &View<'_>, who: &DenyWho<'_>, them: &Puller) -> bool {
    #[cfg(test)]
    crate::policy::steps::add(1);
    let covers = match who {
        DenyWho::Everyone => true,
        DenyWho::Accounts(accounts) => accounts.contains(them.account.as_str()),
        DenyWho::NoOne => false,
        // NotPrincipal denies everyone it does not list: every principal of the account only if
        // nothing of the account is listed.
        DenyWho::AllBut(listed) => !listed.contains(them.account.as_str()),
    };
    covers && condition::block_for_account(d.stmt.conditions(), them) == Tri::True
}

/// The mask of catalog actions of access level Write, Permissions management or Tagging.
fn excess_mask() -> u128 {
    static MASK: LazyLock<u128> = LazyLock::new(|| {
        ACTIONS
            .iter()
            .enumerate()
            .filter(|(_, a)| a.level.is_excess())
            .fold(0, |m, (i, _)| m | (1 << i))
    });
    *MASK
}

/// The actions of `mask` as `ecr:` names, the first few and "N more", written a part at a time
/// (each action's name a part of its own).
fn shortened(mask: u128) -> Shortened {
    Shortened(mask)
}

/// See [`shortened`].
struct Shortened(u128);

impl Piece for Shortened {
    fn write_to<W: Write>(&self, w: &mut W) -> std::fmt::Result {
        let mask = self.0 & ((1u128 << ACTIONS.len()) - 1);
        let total = mask.count_ones() as usize;
        let shown = total.min(EXCESS_SHOWN);
        let parts = shown + usize::from(total > EXCESS_SHOWN);
        // The set bits in order, lowest first.
        let names = std::iter::successors(Some(mask), |m| Some(m & (m - 1)))
            .take_while(|m| *m != 0)
            .map(|m| m.trailing_zeros() as usize)
            .take(shown);
        for (i, a) in names.enumerate() {
            if i > 0 {
                if i + 1 == parts {
                    phrase!(w, " and ")?;
                } else {
                    phrase!(w, ", ")?;
                }
            }
            // `ecr`, `:` and the name, each a part of its own, packed once.
            w.known(&[catalog::SERVICE, ":", ACTIONS[a].name], || {
                &action_parts()[a]
            })?;
        }
        if total > EXCESS_SHOWN {
            if shown > 0 {
                phrase!(w, " and ")?;
            }
            w.number((total - EXCESS_SHOWN) as u64)?;
            phrase!(w, " more")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Shortened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.write_to(f)
    }
}

/// For each catalog action, the packed parts `ecr`, `:` and its name (each packed as one part).
fn action_parts() -> &'static [Box<[u8]>] {
    static PARTS: LazyLock<Vec<Box<[u8]>>> = LazyLock::new(|| {
        ACTIONS
            .iter()
            .map(|a| {
                [catalog::SERVICE, ":", a.name]
                    .iter()
                    .flat_map(|p| crate::message::packed_part(p).into_vec())
                    .collect()
            })
            .collect()
    });
    &PARTS
}

/// Write, Permissions management and Tagging actions granted to the account by an Allow.
fn excess_access(v: &View<'_>, account: &str, denied_mask: u128, out: &mut Vec<Finding>) {
    let s = v.stmt;
    let excess = s.coverage() & !denied_mask & excess_mask();
    if excess == 0 {
        return;
    }
    let n = excess.count_ones();
    let certainly = if v.applies == Tri::True {
        ""
    } else {
        "possibly "
    };
    let key = Key::new(Code::ExcessAccess)
        .label(s)
        .text(certainly)
        .text(account)
        .number(excess);
    out.push(Finding::at(
        Code::ExcessAccess,
        memo(key, || {
            format_args!(
                "{} {certainly}grants account {account} {n} action{} beyond pulling ({}); grant only {}",
                s.label_parts(),
                if n == 1 { "" } else { "s" },
                shortened(excess),
                list(&catalog::REQUIRED)
            )
            .into()
        }),
        s.reference(),
    ));
}

/// Action patterns that name no ECR action.
fn unknown_actions(v: &View<'_>, out: &mut Vec<Finding>) {
    let s = v.stmt;
    if s.unknown_actions().is_empty() {
        return;
    }
    let items: Vec<String> = s
        .unknown_actions()
        .iter()
        .map(|u| {
            let what = if u.not_ecr {
                "is not of the ecr: service"
            } else {
                "names no ECR action"
            };
            match &u.suggestion {
                Some(sug) => format!("{:?} {what} (did you mean {sug:?}?)", u.pattern),
                None => format!("{:?} {what}", u.pattern),
            }
        })
        .collect();
    out.push(Finding::at(
        Code::UnknownAction,
        format_args!(
            "{}: {}; fix or remove {}",
            s.label_parts(),
            list(&items),
            if items.len() == 1 { "it" } else { "them" }
        ),
        s.reference(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list as `list` writes it, from every name: what `shortened` must say.
    fn reference(mask: u128) -> String {
        let names: Vec<String> = ACTIONS
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, a)| format!("{}:{}", catalog::SERVICE, a.name))
            .collect();
        let mut shown: Vec<String> = names.iter().take(EXCESS_SHOWN).cloned().collect();
        if names.len() > EXCESS_SHOWN {
            shown.push(format!("{} more", names.len() - EXCESS_SHOWN));
        }
        list(&shown).to_string()
    }

    /// The `cross-account-write` message as `format!` wrote it before it was written by hand:
    /// the text, from the reference lists, and the message packed through `format_args!`.
    fn cross_account_by_format(
        s: &crate::policy::Statement,
        granted: &[Granted<'_>],
        audited: &str,
        owner: Option<&str>,
    ) -> (String, crate::message::Message) {
        let items: Vec<String> = granted
            .iter()
            .map(|g| {
                let n = g.actions.count_ones();
                format!(
                    "{}account {} {n} action{} ({})",
                    if g.certainly { "" } else { "possibly " },
                    g.account,
                    if n == 1 { "" } else { "s" },
                    reference(g.actions)
                )
            })
            .collect();
        let accounts = if items.len() > NAMED {
            format!(
                "{} and {} more accounts",
                items[..NAMED].join(", "),
                items.len() - NAMED
            )
        } else {
            list(&items).to_string()
        };
        let one = granted.len() == 1;
        let owner = match owner {
            Some(o) => format!("the registry's owner {o}"),
            None => "the registry's owner (not known from the input)".to_owned(),
        };
        let text = format!(
            "{} grants {accounts} beyond pulling, to {} neither the audited account {audited} nor {owner}; grant {} only what {} needs",
            s.label(),
            if one {
                "an account that is"
            } else {
                "accounts that are"
            },
            if one { "it" } else { "each" },
            if one { "it" } else { "each" }
        );
        let packed = crate::message::Message::from(format_args!(
            "{} grants {} beyond pulling, to {} neither the audited account {} nor {owner}; grant {} only what {} needs",
            s.label_parts(),
            few(granted, " accounts"),
            if one {
                "an account that is"
            } else {
                "accounts that are"
            },
            audited,
            if one { "it" } else { "each" },
            if one { "it" } else { "each" }
        ));
        (text, packed)
    }

    #[test]
    fn the_cross_account_message_reads_as_format_wrote_it() {
        let all = (1u128 << ACTIONS.len()) - 1;
        let sids = [
            r#""Sid": "CI1", "#,
            r#""Sid": "with \"quote\" and \\ and é", "#,
            r#""Sid": "", "#,
            r#""Sid": "a long Sid of plain words, longer than a short part", "#,
            r#""Sid": "ünïcödé ✓", "#,
            "",
        ];
        let accounts: Vec<String> = (0..20)
            .map(|i| format!("{:012}", 100_000_000_007u64 * (i + 1)))
            .collect();
        let masks = [
            excess_mask(),
            1 << 3,
            all,
            0b1011_0000,
            excess_mask() & !(1 << 5),
        ];
        let owners = [
            Some("444455556666"),
            None,
            Some("an owner that is not a number"),
        ];
        let mut checked = 0;
        for sid in sids {
            let text = format!(
                r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}}, {{{sid}"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}}]}}"#
            );
            let p = crate::policy::parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
            let registry = p.clone().into_registry();
            for s in [&p.statements()[1], &registry.statements()[1]] {
                for n in [1, 2, 3, NAMED, NAMED + 1, 20] {
                    let granted: Vec<Granted<'_>> = accounts[..n]
                        .iter()
                        .enumerate()
                        .map(|(i, a)| Granted {
                            certainly: i % 3 != 1,
                            account: a,
                            actions: masks[(i + n) % masks.len()],
                        })
                        .collect();
                    for owner in owners {
                        let new = cross_account_message(s, &granted, "111122223333", owner);
                        let (text, by_format) =
                            cross_account_by_format(s, &granted, "111122223333", owner);
                        assert_eq!(new.text(), text);
                        assert_eq!(by_format.text(), text);
                        // Packed as the parts `format_args!` handed over were (the owner, once
                        // one part with its phrase, may pack otherwise: not in these cases).
                        assert_eq!(new, by_format, "{text}");
                        // The same text written again is the same message (rows share it).
                        assert_eq!(
                            new,
                            cross_account_message(s, &granted, "111122223333", owner)
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, sids.len() * 2 * 6 * owners.len());
    }

    #[test]
    fn shortened_lists_the_first_few_and_counts_the_rest() {
        let all = (1u128 << ACTIONS.len()) - 1;
        for mask in [
            0,
            1,
            0b10,
            0b110,
            0b1111,
            0b1_1111,
            0b10_1011_0101,
            all,
            all & !1,
        ] {
            assert_eq!(shortened(mask).to_string(), reference(mask), "{mask:b}");
        }
        assert_eq!(
            shortened(0b111).to_string(),
            format!(
                "ecr:{}, ecr:{} and ecr:{}",
                ACTIONS[0].name, ACTIONS[1].name, ACTIONS[2].name
            )
        );
        assert!(
            shortened(all)
                .to_string()
                .ends_with(&format!(" and {} more", ACTIONS.len() - 4))
        );
    }
}

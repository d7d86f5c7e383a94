//! The judgement: does a policy let the puller (a role session of the audited account) perform
//! the three pull actions, and is the policy safe? Pure functions over the model; no I/O.

mod arn;
mod audience;
pub mod condition;
mod findings;
pub mod keys;
pub mod principal;
mod resource;
mod trace;
pub mod tri;

use std::collections::HashMap;

use crate::catalog;
use crate::finding::Finding;
use crate::policy::{Effect, Policy, Statement};
use crate::record::RepoId;

pub use trace::{ConditionTrace, StatementTrace, Trace, explain, explain_with_registry};
pub use tri::Tri;

/// The ARN partition of the account principal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Partition {
    #[default]
    Aws,
    AwsCn,
    AwsUsGov,
}

impl Partition {
    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }
}

/// A fact given with `--context`: the key's values, or that the key is absent (`KEY=`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContextValue {
    Absent,
    /// One or more values (a key given several times is multi-valued).
    Values(Vec<String>),
}

/// Who pulls: a role session of `account` in `partition`, plus what `--context` says about its
/// requests. Context keys are stored lower-cased (condition key names are case-insensitive).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Puller {
    pub account: String,
    pub partition: Partition,
    pub context: HashMap<String, ContextValue>,
}

/// The state of one required action for the puller (SPEC 4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionState {
    Allowed,
    Conditional,
    Denied,
    Missing,
}

impl ActionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionState::Allowed => "allowed",
            ActionState::Conditional => "conditional",
            ActionState::Denied => "denied",
            ActionState::Missing => "missing",
        }
    }
}

/// The verdict on one policy for one puller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    /// The state of each of `catalog::REQUIRED`, in that order.
    pub actions: [ActionState; 3],
    /// Every finding except `no-policy` and the error codes, in `Code` order.
    pub findings: Vec<Finding>,
}

/// Judges `policy` for `puller` on the repository `repo` (whose unknown parts are judged in three
/// values, SPEC 4.3).
pub fn judge(policy: &Policy, puller: &Puller, repo: &RepoId) -> Judgement {
    judge_with_registry(policy, None, puller, repo)
}

/// [`judge`] with the registry policy's statements judged together with the repository
/// policy's: ECR evaluates both for a pull, so an Allow in either grants and a Deny in either
/// wins — which is exactly one document holding both statement lists. `registry` should come
/// from [`Policy::into_registry`], so that messages say which document a statement is from.
pub fn judge_with_registry(
    policy: &Policy,
    registry: Option<&Policy>,
    puller: &Puller,
    repo: &RepoId,
) -> Judgement {
    let mut findings = Vec::new();
    let actions = judged(policy, registry, puller, repo, &mut findings, |_, a| a);
    Judgement { actions, findings }
}

/// [`judge_with_registry`] with the findings appended to `findings` (which it clears first), so
/// that a worker judging record after record reuses one vector (see `audit`).
pub(crate) fn judge_into(
    policy: &Policy,
    registry: Option<&Policy>,
    puller: &Puller,
    repo: &RepoId,
    findings: &mut Vec<Finding>,
) -> [ActionState; 3] {
    findings.clear();
    judged(policy, registry, puller, repo, findings, |_, a| a)
}

/// The one code path of the judgement: views every statement for the puller, decides each
/// required action and collects the findings (into `findings`, which must be empty), then hands
/// the views and the actions' states to `then` ([`judge`] keeps the verdict; [`explain`] also
/// reads the views, so an explanation can never disagree with the verdict).
fn judged<R>(
    policy: &Policy,
    registry: Option<&Policy>,
    puller: &Puller,
    repo: &RepoId,
    findings: &mut Vec<Finding>,
    then: impl FnOnce(&[View<'_>], [ActionState; 3]) -> R,
) -> R {
    let repo_arn = resource::RepoArn::new(repo, puller.partition);
    // Sized at once: a chain through `flat_map` gives no useful size hint, and the vector grew
    // a step at a time.
    let statements = || {
        policy
            .statements()
            .iter()
            .chain(registry.into_iter().flat_map(|r| r.statements()))
    };
    let mut views: Vec<View<'_>> = Vec::with_capacity(
        policy.statements().len() + registry.map_or(0, |r| r.statements().len()),
    );
    views.extend(statements().map(|s| View::new(s, puller, &repo_arn)));
    let (actions, allow_true) = states(&views);
    #[cfg(debug_assertions)]
    for (j, a) in actions.iter().enumerate() {
        debug_assert_eq!(*a, state(&views, j));
        debug_assert_eq!(
            allow_true & 1 << j != 0,
            views
                .iter()
                .any(|v| v.stmt.effect() == Effect::Allow && v.on(j) == Tri::True)
        );
    }
    findings::collect(
        policy,
        puller,
        owner(repo),
        &views,
        &actions,
        allow_true,
        findings,
    );
    then(&views, actions)
}

/// The account that owns `repo`: its registry, or the account of its ARN.
pub fn owner(repo: &RepoId) -> Option<&str> {
    repo.registry.as_deref().or_else(|| {
        repo.arn
            .as_deref()
            .and_then(|a| a.split(':').nth(4))
            .filter(|a| audience::is_account_id(a))
    })
}

/// Whether `policy`'s verdict may depend on which registry owns the repository: an `Allow`
/// names an account other than one of the audited ones, and `cross-account-write` leaves the
/// registry's owner out. Such a verdict is not one to reuse for another repository (see
/// `audit`). An account that is another audited account counts too: for the first account, the
/// second is "another account", named in its verdict unless it owns the repository.
pub fn depends_on_owner(policy: &Policy, pullers: &[Puller]) -> bool {
    let other = |a: &str| pullers.iter().any(|p| p.account != a);
    let depends = policy.statements().iter().any(|s| {
        if s.effect() != Effect::Allow {
            return false;
        }
        match s.who() {
            // The usual Allow: its `AWS` principals are all it names (no chain of iterators
            // through its conditions, which name accounts only in a grant to `*`).
            crate::policy::Who::Principal(p) if !p.is_everyone() => {
                p.aws().iter().filter_map(audience::account_of).any(other)
            }
            _ => audience::named_accounts_iter(s).any(other),
        }
    });
    debug_assert_eq!(
        depends,
        policy.statements().iter().any(|s| {
            s.effect() == Effect::Allow && audience::named_accounts_iter(s).any(other)
        })
    );
    depends
}

/// The positions of `catalog::REQUIRED` in `catalog::ACTIONS`, found when the crate is built
/// (a required action missing from the catalog does not build).
const REQUIRED_INDEX: [usize; 3] = {
    /// Whether two strings are equal, in a constant.
    const fn same(a: &[u8], b: &[u8]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }
    let mut out = [0; 3];
    let mut j = 0;
    while j < 3 {
        // `ecr:Name` without its service.
        let full = catalog::REQUIRED[j].as_bytes();
        let (_, name) = full.split_at(catalog::SERVICE.len() + 1);
        let mut i = 0;
        while !same(catalog::ACTIONS[i].name.as_bytes(), name) {
            // Past the end: a compile-time panic (index out of bounds).
            i += 1;
        }
        out[j] = i;
        j += 1;
    }
    out
};

/// One statement judged for the puller and the repository, before looking at actions.
#[derive(Clone, Copy, Debug)]
struct View<'p> {
    stmt: &'p Statement,
    principal: Tri,
    /// For an `Allow`: how its `Principal` mentions the audited account (default otherwise).
    mention: principal::Mention,
    /// For an `Allow`: the first specific principal of the account it names.
    first_specific: Option<&'p str>,
    resource: Tri,
    /// `None` when not evaluated because the principal or resource already rules the statement
    /// out; see [`View::condition`].
    condition: Option<Tri>,
    /// Bit `i`: condition `i` (of the first 64) is undecided for the puller; complete when
    /// `condition` is neither `None` nor false (see [`View::undecided`]).
    unknown: u64,
    /// Principal AND resource AND conditions.
    applies: Tri,
    /// Bit `j`: the statement's action element covers `catalog::REQUIRED[j]`.
    required: u8,
}

impl<'p> View<'p> {
    fn new(stmt: &'p Statement, puller: &Puller, repo: &resource::RepoArn<'_>) -> View<'p> {
        let (principal, mention, first_specific) = principal::assess(stmt, puller);
        let resource = resource::applies(stmt.resources().as_ref(), repo);
        // Conditions are only worth evaluating when the rest may apply.
        let (condition, unknown) = if principal.and(resource) == Tri::False {
            (None, 0)
        } else {
            let (block, unknown) = condition::block_marked(stmt.conditions(), puller);
            (Some(block), unknown)
        };
        View {
            stmt,
            principal,
            mention,
            first_specific,
            resource,
            condition,
            unknown,
            applies: principal.and(resource).and(condition.unwrap_or(Tri::False)),
            required: {
                let covers = |j: usize| u8::from(stmt.covers(REQUIRED_INDEX[j]));
                covers(0) | covers(1) << 1 | covers(2) << 2
            },
        }
    }

    /// The statement's conditions for the puller, evaluated now if they were skipped.
    fn condition(&self, puller: &Puller) -> Tri {
        self.condition
            .unwrap_or_else(|| condition::block(self.stmt.conditions(), puller))
    }

    /// Whether condition `i` of the statement (`c`) is undecided for the puller: read from the
    /// marks `View::new` made while evaluating the block, when they are complete.
    fn undecided(&self, i: usize, c: &crate::policy::Condition<'_>, puller: &Puller) -> bool {
        let complete = matches!(self.condition, Some(t) if t != Tri::False);
        if complete && i < 64 {
            let marked = self.unknown & 1 << i != 0;
            debug_assert_eq!(marked, condition::eval(c, puller) == Tri::Unknown);
            marked
        } else {
            condition::eval(c, puller) == Tri::Unknown
        }
    }

    /// Whether the statement applies to the puller doing `catalog::REQUIRED[j]`.
    fn on(&self, j: usize) -> Tri {
        if self.required & 1 << j != 0 {
            self.applies
        } else {
            Tri::False
        }
    }
}

/// [`state`] of each of `catalog::REQUIRED`, in one pass over the views, and which of them
/// some Allow certainly grants (bit `j`). `tests::the_states_in_one_pass_are_the_states_one_by_one`.
fn states(views: &[View<'_>]) -> ([ActionState; 3], u8) {
    let (mut denied, mut deny_maybe, mut allow_true, mut allow_maybe) = (0u8, 0u8, 0u8, 0u8);
    for v in views {
        let bits = v.required;
        match (v.stmt.effect(), v.applies) {
            (Effect::Deny, Tri::True) => denied |= bits,
            (Effect::Deny, Tri::Unknown) => deny_maybe |= bits,
            (Effect::Allow, Tri::True) => allow_true |= bits,
            (Effect::Allow, Tri::Unknown) => allow_maybe |= bits,
            (_, Tri::False) => {}
        }
    }
    let actions = std::array::from_fn(|j| {
        let bit = 1 << j;
        if denied & bit != 0 {
            ActionState::Denied
        } else if (allow_true | allow_maybe) & bit == 0 {
            ActionState::Missing
        } else if allow_true & bit == 0 || deny_maybe & bit != 0 {
            ActionState::Conditional
        } else {
            ActionState::Allowed
        }
    });
    (actions, allow_true)
}

/// SPEC 4.5: an explicit deny wins; otherwise an allow is needed, and any doubt on either side
/// makes the action conditional. (Judging takes [`states`]; this is its reference, which
/// builds with debug assertions check it against.)
#[cfg(debug_assertions)]
fn state(views: &[View<'_>], j: usize) -> ActionState {
    let (mut allow_true, mut allow_maybe, mut deny_maybe) = (false, false, false);
    for v in views {
        match (v.stmt.effect(), v.on(j)) {
            (Effect::Deny, Tri::True) => return ActionState::Denied,
            (Effect::Deny, Tri::Unknown) => deny_maybe = true,
            (Effect::Allow, Tri::True) => allow_true = true,
            (Effect::Allow, Tri::Unknown) => allow_maybe = true,
            (_, Tri::False) => {}
        }
    }
    if !allow_true && !allow_maybe {
        ActionState::Missing
    } else if !allow_true || deny_maybe {
        ActionState::Conditional
    } else {
        ActionState::Allowed
    }
}

#[cfg(test)]
mod tests;

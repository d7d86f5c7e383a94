//! The judgement, statement by statement, for a person (`ecr-audit explain`). It is read off the
//! same views [`super::judge`] decides on, so the explanation and the verdict cannot disagree.

use crate::catalog::REQUIRED;
use crate::policy::{Condition, Effect, Policy};
use crate::record::RepoId;

use super::condition::{self, Fact};
use super::{Judgement, Puller, REQUIRED_INDEX, Tri, View, judged};

/// Why a policy got its verdict for one puller.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// One per statement, in document order.
    pub statements: Vec<StatementTrace>,
    /// The verdict, exactly as [`super::judge`] gives it.
    pub judgement: Judgement,
}

/// One statement judged for the puller.
#[derive(Clone, Debug, PartialEq)]
pub struct StatementTrace {
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    /// Does its `Principal`/`NotPrincipal` cover the puller?
    pub principal: Tri,
    /// Does its `Resource`/`NotResource` apply to the repository (true when absent)?
    pub resource: Tri,
    /// Each condition, in document order.
    pub conditions: Vec<ConditionTrace>,
    /// The conditions ANDed (true when there are none).
    pub condition: Tri,
    /// Principal AND resource AND conditions.
    pub applies: Tri,
    /// Whether its action element matches each of `catalog::REQUIRED`.
    pub required: [bool; 3],
}

/// One condition (operator, key, values) evaluated for the puller.
#[derive(Clone, Debug, PartialEq)]
pub struct ConditionTrace {
    /// As written, e.g. `ForAnyValue:StringLike`.
    pub operator: String,
    /// As written.
    pub key: String,
    pub values: Vec<String>,
    /// What is known about the key in the puller's requests: a value, `absent` or `unknown`.
    pub known: String,
    pub result: Tri,
}

impl StatementTrace {
    /// The required actions its action element matches.
    pub fn matched(&self) -> impl Iterator<Item = &'static str> + '_ {
        REQUIRED
            .iter()
            .zip(self.required)
            .filter(|(_, m)| *m)
            .map(|(a, _)| *a)
    }
}

/// Judges `policy` for `puller` on `repo` and says why, statement by statement.
pub fn explain(policy: &Policy, puller: &Puller, repo: &RepoId) -> Trace {
    explain_with_registry(policy, None, puller, repo)
}

/// [`explain`] with the registry policy's statements judged after the repository policy's, as
/// [`super::judge_with_registry`] judges them.
pub fn explain_with_registry(
    policy: &Policy,
    registry: Option<&Policy>,
    puller: &Puller,
    repo: &RepoId,
) -> Trace {
    let mut findings = Vec::new();
    let (statements, actions) =
        judged(policy, registry, puller, repo, &mut findings, |views, a| {
            (views.iter().map(|v| statement(v, puller)).collect(), a)
        });
    Trace {
        statements,
        judgement: Judgement { actions, findings },
    }
}

fn statement(v: &View<'_>, puller: &Puller) -> StatementTrace {
    let s = v.stmt;
    let required = REQUIRED_INDEX.map(|i| i < crate::catalog::ACTIONS.len() && s.covers(i));
    StatementTrace {
        index: s.index(),
        sid: s.sid().map(str::to_owned),
        effect: s.effect(),
        principal: v.principal,
        resource: v.resource,
        conditions: s.conditions().iter().map(|c| cond(&c, puller)).collect(),
        condition: v.condition(puller),
        applies: v.applies,
        required,
    }
}

fn cond(c: &Condition, puller: &Puller) -> ConditionTrace {
    let known = match condition::fact(c.key_lower(), puller) {
        Fact::Absent => "absent".to_owned(),
        Fact::Unknown => "unknown".to_owned(),
        Fact::One(v) => format!("{v:?}"),
        Fact::Many(vs) => vs
            .iter()
            .map(|v| format!("{v:?}"))
            .collect::<Vec<_>>()
            .join(", "),
        Fact::SomeRole => format!(
            "some role ARN arn:{}:iam::{}:role/… (name unknown)",
            puller.partition.as_str(),
            puller.account
        ),
    };
    ConditionTrace {
        operator: c.operator().to_string(),
        key: c.key().to_owned(),
        values: c.values().iter().map(|v| v.text().to_owned()).collect(),
        known,
        result: condition::eval(c, puller),
    }
}

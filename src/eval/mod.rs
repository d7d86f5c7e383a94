//! The judgement: does a policy let the puller (a role session of the audited account) perform
//! the three pull actions, and is the policy safe? Pure functions over the model; no I/O.

use std::collections::HashMap;

use crate::finding::Finding;
use crate::policy::Policy;
use crate::record::RepoId;

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
pub fn judge(_policy: &Policy, _puller: &Puller, _repo: &RepoId) -> Judgement {
    todo!("eval helper")
}

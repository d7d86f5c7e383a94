//! SPEC 4.6: turning per-statement verdicts and per-action states into findings, each with a
//! one-sentence message a person can act on and, where it has one, its statement.

use crate::catalog::{self, ACTIONS};
use crate::finding::{Code, Finding};
use crate::policy::{Effect, Policy, Resources, Version};

use super::{ActionState, Puller, REQUIRED_INDEX, Tri, View, condition, principal};

/// Condition keys that narrow who the principal is, when under a plain operator (SPEC 4.6).
const NARROWING_KEYS: [&str; 9] = [
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:sourceaccount",
    "aws:sourcearn",
];

/// How many excess actions a message names before it says "and N more".
const EXCESS_SHOWN: usize = 4;

pub(super) fn collect(
    policy: &Policy,
    puller: &Puller,
    views: &[View<'_>],
    actions: &[ActionState; 3],
) -> Vec<Finding> {
    let required = *REQUIRED_INDEX;
    let account = puller.account.as_str();
    let root = format!("arn:{}:iam::{account}:root", puller.partition.as_str());
    let mut out = Vec::new();

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
        out.push(Finding::new(
            Code::ActionNotGranted,
            format!(
                "account {account} is not granted {}; add an Allow statement with Principal {{\"AWS\": \"{root}\"}} for {}",
                list(&missing),
                if missing.len() == 1 { "it" } else { "them" }
            ),
        ));
    }

    // Whether some Allow certainly grants each required action; without one, an undecided Allow
    // is what makes the action conditional.
    let allow_true = required.map(|i| {
        views
            .iter()
            .any(|v| v.stmt.effect() == Effect::Allow && v.on(i) == Tri::True)
    });
    // Actions a Deny certainly takes away do not count as excess.
    let denied_mask = views
        .iter()
        .filter(|v| v.stmt.effect() == Effect::Deny && v.applies == Tri::True)
        .fold(0u128, |m, v| m | v.stmt.coverage());

    for v in views {
        let s = v.stmt;
        let on = |j: usize| v.on(required[j]);
        match s.effect() {
            Effect::Deny => {
                let denied = names(|j| on(j) == Tri::True);
                if !denied.is_empty() {
                    out.push(Finding::at(
                        Code::ActionDenied,
                        format!(
                            "{} denies {} to account {account}; remove the account from this Deny or narrow it",
                            s.label(),
                            list(&denied)
                        ),
                        s.reference(),
                    ));
                }
                let maybe =
                    names(|j| on(j) == Tri::Unknown && actions[j] == ActionState::Conditional);
                if !maybe.is_empty() {
                    out.push(Finding::at(
                        Code::ConditionalDeny,
                        format!(
                            "{} may deny {} depending on {}, which cannot be decided offline; pass the facts with --context KEY=VALUE or narrow the Deny",
                            s.label(),
                            list(&maybe),
                            undecided(v, puller)
                        ),
                        s.reference(),
                    ));
                }
            }
            Effect::Allow => {
                let maybe = names(|j| {
                    on(j) == Tri::Unknown
                        && actions[j] == ActionState::Conditional
                        && !allow_true[j]
                });
                if !maybe.is_empty() {
                    out.push(Finding::at(
                        Code::ConditionalAllow,
                        format!(
                            "{} allows {} only depending on {}, which cannot be decided offline; pass the facts with --context KEY=VALUE or grant the account without them",
                            s.label(),
                            list(&maybe),
                            undecided(v, puller)
                        ),
                        s.reference(),
                    ));
                }
                public_access(v, &mut out);
                let mention = principal::mention(s, puller);
                let pulls = required.iter().any(|i| *i < ACTIONS.len() && s.covers(*i));
                if mention.specific_only && pulls {
                    let named = principal::first_specific(s, puller).unwrap_or(account);
                    out.push(Finding::at(
                        Code::PrincipalNotRoot,
                        format!(
                            "{} names account {account} only as the specific principal {named}, which does not cover Gitpod's role session; use \"{root}\" instead",
                            s.label()
                        ),
                        s.reference(),
                    ));
                }
                // Excess is about the whole account, not only Gitpod's role: a grant to a user
                // of the account behind an aws:PrincipalArn condition is still a grant.
                if mention.any
                    && v.resource != Tri::False
                    && condition::block_for_account(s.conditions(), puller) != Tri::False
                {
                    excess_access(v, account, denied_mask, &mut out);
                }
            }
        }
        unknown_actions(v, &mut out);
        if let Some(r) = s.resources() {
            let element = match r {
                Resources::Resource(_) => "Resource",
                Resources::NotResource(_) => "NotResource",
            };
            out.push(Finding::at(
                Code::ResourceElement,
                format!(
                    "{} has a {element} element, which repository policies omit and ECR has rejected; remove it",
                    s.label()
                ),
                s.reference(),
            ));
        }
    }

    out.sort_by_key(|f| (f.code, f.statement.as_ref().map(|r| r.index)));
    out.dedup_by_key(|f| (f.code, f.statement.as_ref().map(|r| r.index)));
    out
}

/// The required actions (full names, report order) for which `pick(j)` holds.
fn names(pick: impl Fn(usize) -> bool) -> Vec<&'static str> {
    (0..catalog::REQUIRED.len())
        .filter(|j| pick(*j))
        .map(|j| catalog::REQUIRED[j])
        .collect()
}

/// `a`, `a and b`, `a, b and c`.
fn list<S: AsRef<str>>(items: &[S]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(if i + 1 == items.len() { " and " } else { ", " });
        }
        out.push_str(item.as_ref());
    }
    out
}

/// What leaves a statement undecided: its principal, its resource, its condition keys.
fn undecided(v: &View<'_>, puller: &Puller) -> String {
    let mut items: Vec<String> = Vec::new();
    if v.principal == Tri::Unknown {
        items.push("whether Gitpod's role is among its principals".to_owned());
    }
    if v.resource == Tri::Unknown {
        items.push("whether its resource pattern matches the repository".to_owned());
    }
    let mut keys: Vec<&str> = Vec::new();
    for c in v.stmt.conditions() {
        if condition::eval(c, puller) == Tri::Unknown
            && !keys.iter().any(|k| k.eq_ignore_ascii_case(c.key()))
        {
            keys.push(c.key());
        }
    }
    match keys.len() {
        0 => {}
        1 => items.push(format!("the condition key {}", keys[0])),
        _ => items.push(format!("the condition keys {}", list(&keys))),
    }
    list(&items)
}

/// An Allow to every AWS principal without a plain operator on a key that narrows who the
/// principal is.
fn public_access(v: &View<'_>, out: &mut Vec<Finding>) {
    let s = v.stmt;
    let crate::policy::Who::Principal(p) = s.who() else {
        return;
    };
    if !p.is_everyone() {
        return;
    }
    let narrowed = s
        .conditions()
        .iter()
        .any(|c| c.operator().is_plain() && NARROWING_KEYS.contains(&c.key_lower()));
    if !narrowed {
        out.push(Finding::at(
            Code::PublicAccess,
            format!(
                "{} allows every AWS principal (\"*\") with no condition on who the principal is; add a condition such as StringEquals on aws:PrincipalOrgID or aws:PrincipalAccount, or name the account",
                s.label()
            ),
            s.reference(),
        ));
    }
}

/// Write, Permissions management and Tagging actions granted to the account by an Allow.
fn excess_access(v: &View<'_>, account: &str, denied_mask: u128, out: &mut Vec<Finding>) {
    let s = v.stmt;
    let granted = s.coverage() & !denied_mask;
    let excess: Vec<&str> = ACTIONS
        .iter()
        .enumerate()
        .filter(|(i, a)| a.level.is_excess() && granted & (1 << i) != 0)
        .map(|(_, a)| a.name)
        .collect();
    if excess.is_empty() {
        return;
    }
    let mut shown: Vec<String> = excess
        .iter()
        .take(EXCESS_SHOWN)
        .map(|n| format!("{}:{n}", catalog::SERVICE))
        .collect();
    if excess.len() > EXCESS_SHOWN {
        shown.push(format!("{} more", excess.len() - EXCESS_SHOWN));
    }
    let certainly = if v.applies == Tri::True {
        ""
    } else {
        "possibly "
    };
    out.push(Finding::at(
        Code::ExcessAccess,
        format!(
            "{} {certainly}grants account {account} {} action{} beyond pulling ({}); grant only {}",
            s.label(),
            excess.len(),
            if excess.len() == 1 { "" } else { "s" },
            list(&shown),
            list(&catalog::REQUIRED)
        ),
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
        format!(
            "{}: {}; fix or remove {}",
            s.label(),
            list(&items),
            if items.len() == 1 { "it" } else { "them" }
        ),
        s.reference(),
    ));
}

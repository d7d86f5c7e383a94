//! Conditions in three values (SPEC 4.4): what is known about the puller's requests, overridden
//! by `--context`, and IAM's operator rules on top.

use std::cell::OnceCell;
use std::cmp::Ordering;

use crate::policy::{Base, CondValue, Condition, Conditions, Family, Qualifier, Typed, value};

use super::arn::{self, Part, Tail};
use super::tri::Tri;
use super::{ContextValue, Puller};
use crate::policy::glob::{self, Extension};

/// What is known about a condition key in the puller's requests.
#[derive(Clone, Copy, Debug)]
pub enum Fact<'a> {
    Absent,
    Unknown,
    One(&'a str),
    Many(&'a [String]),
    /// `aws:PrincipalArn`: some role ARN of the account, name unknown.
    SomeRole,
}

/// The known-facts table of SPEC 4.4; `key` is lower-cased.
pub fn fact<'a>(key: &str, puller: &'a Puller) -> Fact<'a> {
    match puller.context.get(key) {
        Some(ContextValue::Values(v)) if !v.is_empty() => return Fact::Many(v),
        Some(_) => return Fact::Absent,
        None => {}
    }
    match key {
        "aws:principalaccount" => Fact::One(&puller.account),
        "aws:principalarn" => Fact::SomeRole,
        "aws:principaltype" => Fact::One("AssumedRole"),
        "aws:principalisawsservice" | "aws:viaawsservice" => Fact::One("false"),
        "aws:securetransport" => Fact::One("true"),
        "aws:sourcearn" | "aws:sourceaccount" => Fact::Absent,
        k if k.starts_with("aws:calledvia") => Fact::Absent,
        _ => Fact::Unknown,
    }
}

/// One request value: a known string, or the puller's role ARN with unknown name.
#[derive(Clone, Copy)]
enum Req<'a> {
    Text(&'a str),
    SomeRole,
}

/// Evaluates one condition (operator, key, values) for the puller.
pub fn eval(c: &Condition, puller: &Puller) -> Tri {
    let op = c.operator();
    let fact = fact(c.key_lower(), puller);
    if op.base == Base::Null {
        // Null: "true" means the key is absent, "false" that it is present.
        let absent = match fact {
            Fact::Absent => Tri::True,
            Fact::Unknown => Tri::Unknown,
            _ => Tri::False,
        };
        return Tri::any(c.values().iter().map(|v| match v.typed() {
            Typed::Bool(true) => absent,
            Typed::Bool(false) => !absent,
            _ => Tri::False,
        }));
    }
    let negated = op.base.is_negated();
    let reqs: &mut dyn Iterator<Item = Req<'_>> = match fact {
        Fact::Absent => {
            // ForAnyValue needs some request value to match: with none it is false, IfExists
            // or not (AWS evaluates `ForAnyValue:StringEqualsIfExists` on a missing key as
            // false). Otherwise IfExists makes an absent key true.
            return match op.qualifier {
                Some(Qualifier::ForAnyValue) => Tri::False,
                Some(Qualifier::ForAllValues) => Tri::True,
                None if op.if_exists => Tri::True,
                None => negated.into(),
            };
        }
        Fact::Unknown => return Tri::Unknown,
        Fact::One(s) => &mut std::iter::once(Req::Text(s)),
        Fact::Many(vs) => &mut vs.iter().map(|s| Req::Text(s)),
        Fact::SomeRole => &mut std::iter::once(Req::SomeRole),
    };
    let ctx = RoleCtx {
        puller,
        prefix: OnceCell::new(),
    };
    // Per request value: it matches some policy value (ORed), or for a negated operator none.
    let mut one = |r: Req<'_>| {
        let any = Tri::any(c.values().iter().map(|v| compare(op.base, &v, r, &ctx)));
        if negated { !any } else { any }
    };
    // Over request values: ForAllValues needs every one; a plain negated operator needs every
    // one to match none; otherwise one is enough.
    let every =
        op.qualifier == Some(Qualifier::ForAllValues) || (op.qualifier.is_none() && negated);
    if every {
        Tri::all(reqs.map(&mut one))
    } else {
        Tri::any(reqs.map(&mut one))
    }
}

/// The puller's role ARN for comparisons; its known prefix is built once, and only when a
/// string operator needs it.
struct RoleCtx<'a> {
    puller: &'a Puller,
    prefix: OnceCell<String>,
}

impl RoleCtx<'_> {
    fn parts(&self) -> [Part<'_>; 6] {
        [
            Part::known("arn"),
            Part::known(self.puller.partition.as_str()),
            Part::known("iam"),
            Part::known(""),
            Part::known(&self.puller.account),
            Part {
                head: "role/",
                tail: Tail::Unknown,
            },
        ]
    }

    /// `arn:<partition>:iam::<account>:role/`, the known prefix of the puller's role ARN.
    fn prefix(&self) -> &str {
        self.prefix.get_or_init(|| {
            format!(
                "arn:{}:iam::{}:role/",
                self.puller.partition.as_str(),
                self.puller.account
            )
        })
    }

    fn string(&self, pat: &str, fold: bool, wild: bool) -> Tri {
        match glob::extension_cached(pat, self.prefix(), fold, wild) {
            Extension::Every => Tri::True,
            // A literal (StringEquals) names one role: unknown whether it is Gitpod's, unless it
            // is no role name at all (`role/*` under StringEquals is a classic mistake).
            Extension::Some if !wild && !could_be_role(&pat[self.prefix().len()..]) => Tri::False,
            Extension::Some => Tri::Unknown,
            Extension::None => Tri::False,
        }
    }
}

/// Whether `rest` (what follows `role/` in a role ARN) can be a role's path and name: IAM role
/// names are 1 to 64 of `A-Z a-z 0-9 + = , . @ _ -`, and path segments printable ASCII.
fn could_be_role(rest: &str) -> bool {
    let (path, name) = rest.rsplit_once('/').unwrap_or(("", rest));
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
        && path.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// The positive form of `base` (negation is applied by the caller) on one policy value and one
/// request value. A value that does not read for the operator compares false (IAM).
fn compare(base: Base, v: &CondValue, r: Req<'_>, role: &RoleCtx<'_>) -> Tri {
    use Base::*;
    let Req::Text(r) = r else {
        return match base {
            StringEquals | StringNotEquals | BinaryEquals => role.string(v.text(), false, false),
            StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
                role.string(v.text(), true, false)
            }
            StringLike | StringNotLike => role.string(v.text(), false, true),
            ArnEquals | ArnNotEquals | ArnLike | ArnNotLike => arn::like(v.text(), &role.parts()),
            // An ARN is no number, date, boolean or address.
            _ => Tri::False,
        };
    };
    let b = match base.family() {
        Family::String => match base {
            StringEquals | StringNotEquals => v.text() == r,
            StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => v
                .text()
                .chars()
                .flat_map(char::to_lowercase)
                .eq(r.chars().flat_map(char::to_lowercase)),
            _ => glob::matches(v.text(), r, false),
        },
        Family::Binary => v.text() == r,
        Family::Numeric => match (v.typed(), value::number(r)) {
            (Typed::Number(p), Some(q)) => ordered(base, q.partial_cmp(p)),
            _ => false,
        },
        Family::Date => match (v.typed(), value::date(r)) {
            (Typed::Time(p), Some(q)) => ordered(base, Some(q.cmp(p))),
            _ => false,
        },
        Family::Bool => {
            matches!((v.typed(), value::boolean(r)), (Typed::Bool(p), Some(q)) if *p == q)
        }
        Family::Ip => match (v.typed(), value::network(r)) {
            (Typed::Net(p), Some(q)) => p.contains(&q),
            _ => false,
        },
        Family::Arn => {
            return match arn::split(r) {
                Some(parts) => arn::like(v.text(), &parts),
                None => Tri::False,
            };
        }
        Family::Null => false,
    };
    b.into()
}

/// A comparison operator on `request.cmp(policy)`.
fn ordered(base: Base, ord: Option<Ordering>) -> bool {
    use Base::*;
    let Some(o) = ord else { return false };
    match base {
        NumericEquals | NumericNotEquals | DateEquals | DateNotEquals => o.is_eq(),
        NumericLessThan | DateLessThan => o.is_lt(),
        NumericLessThanEquals | DateLessThanEquals => o.is_le(),
        NumericGreaterThan | DateGreaterThan => o.is_gt(),
        NumericGreaterThanEquals | DateGreaterThanEquals => o.is_ge(),
        _ => false,
    }
}

/// A statement's condition block: every condition ANDed.
pub fn block(conditions: Conditions<'_>, puller: &Puller) -> Tri {
    Tri::all(conditions.iter().map(|c| eval(&c, puller)))
}

/// Keys that tell one principal of the account from another. What the puller's role session
/// says of them does not hold for the account's other principals.
const IDENTITY_KEYS: [&str; 3] = ["aws:principaltype", "aws:userid", "aws:username"];

/// A condition block for *some* principal of the puller's account rather than the puller:
/// `aws:PrincipalArn` is judged with what holds for every principal of the account (its ARN is
/// `arn:<partition>:iam::A:…` or, for a federated user, `arn:<partition>:sts::A:…`), other
/// conditions on who the principal is are unknown (unless `--context` says), the rest as for the
/// puller. `excess-access` and `cross-account-write` ask this: is the account granted more than
/// pulling?
///
/// True means every principal of the account meets the block, false that none does, unknown
/// that some may.
pub fn block_for_account(conditions: Conditions<'_>, puller: &Puller) -> Tri {
    Tri::all(conditions.iter().map(|c| {
        let key = c.key_lower();
        if puller.context.contains_key(key) {
            eval(&c, puller)
        } else if key == "aws:principalarn" {
            principal_arn_of_account(&c, puller)
        } else if IDENTITY_KEYS.contains(&key) || key.starts_with("aws:principaltag/") {
            Tri::Unknown
        } else {
            eval(&c, puller)
        }
    }))
}

/// `aws:PrincipalArn` for every principal of the account: present on every signed request, one
/// value, `arn:<partition>:iam::A:<root|user/…|role/…>` or `arn:<partition>:sts::A:federated-user/…`
/// (AWS global condition context keys, aws:PrincipalArn). A pattern naming another account or
/// service matches none of them.
fn principal_arn_of_account(c: &Condition, puller: &Puller) -> Tri {
    let op = c.operator();
    if op.base == Base::Null {
        // The key is present: `Null: true` is false, `Null: false` true.
        return Tri::any(c.values().iter().map(|v| match v.typed() {
            Typed::Bool(b) => Tri::from(!b),
            _ => Tri::False,
        }));
    }
    let partition = puller.partition.as_str();
    let account = puller.account.as_str();
    let of = |service: &'static str| -> [Part<'_>; 6] {
        [
            Part::known("arn"),
            Part::known(partition),
            Part::known(service),
            Part::known(""),
            Part::known(account),
            Part::unknown(),
        ]
    };
    // The two prefixes, written once per worker and account rather than per condition.
    thread_local! {
        static PREFIXES: std::cell::RefCell<(String, String, [String; 2])> =
            const { std::cell::RefCell::new((String::new(), String::new(), [String::new(), String::new()])) };
    }
    PREFIXES.with_borrow_mut(|(for_partition, for_account, prefixes)| {
        if for_partition != partition || for_account != account {
            for_partition.clear();
            for_partition.push_str(partition);
            for_account.clear();
            for_account.push_str(account);
            for (prefix, service) in prefixes.iter_mut().zip(["iam", "sts"]) {
                use std::fmt::Write;
                prefix.clear();
                // Writing to a `String` cannot fail.
                let _ = write!(prefix, "arn:{partition}:{service}::{account}:");
            }
        }
        of_account(c, op, prefixes, &of)
    })
}

/// [`principal_arn_of_account`] with the account's two ARN prefixes (`iam`, then `sts`) and
/// parts.
fn of_account<'p>(
    c: &Condition,
    op: crate::policy::Operator,
    prefixes: &[String; 2],
    of: &dyn Fn(&'static str) -> [Part<'p>; 6],
) -> Tri {
    // How one policy value relates to the account's principal ARNs: every, none, or some.
    let one = |v: CondValue| -> Tri {
        let per = |i: usize| -> Tri {
            use Base::*;
            let (fold, wild) = match op.base {
                StringEquals | StringNotEquals | BinaryEquals => (false, false),
                StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => (true, false),
                StringLike | StringNotLike => (false, true),
                ArnEquals | ArnNotEquals | ArnLike | ArnNotLike => {
                    return arn::like(v.text(), &of(if i == 0 { "iam" } else { "sts" }));
                }
                _ => return Tri::False,
            };
            match glob::extension_cached(v.text(), &prefixes[i], fold, wild) {
                Extension::Every => Tri::True,
                Extension::Some => Tri::Unknown,
                Extension::None => Tri::False,
            }
        };
        match (per(0), per(1)) {
            (Tri::True, Tri::True) => Tri::True,
            (Tri::False, Tri::False) => Tri::False,
            _ => Tri::Unknown,
        }
    };
    // Values are ORed; a negated operator needs the value to match none (every principal that
    // matches none of them: the complement of "every", "none" or "some").
    let any = Tri::any(c.values().iter().map(one));
    if op.base.is_negated() { !any } else { any }
}

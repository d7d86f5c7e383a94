//! Conditions in three values (SPEC 4.4): what is known about the puller's requests, overridden
//! by `--context`, and IAM's operator rules on top.

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
    let ctx = RoleCtx { puller };
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

/// The puller's role ARN for comparisons (its known prefix is one of the worker's [`PREFIXES`]).
struct RoleCtx<'a> {
    puller: &'a Puller,
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

    fn string(&self, pat: &str, fold: bool, wild: bool) -> Tri {
        // `arn:<partition>:iam::<account>:role/`, the known prefix of the puller's role ARN.
        PREFIXES.with_borrow_mut(|p| {
            let prefix = &p.of(self.puller, digitless(pat))[ROLE];
            match glob::extension_cached(pat, prefix, fold, wild) {
                Extension::Every => Tri::True,
                // A literal (StringEquals) names one role: unknown whether it is Gitpod's,
                // unless it is no role name at all (`role/*` under StringEquals is a classic
                // mistake).
                Extension::Some if !wild && !could_be_role(&pat[prefix.len()..]) => Tri::False,
                Extension::Some => Tri::Unknown,
                Extension::None => Tri::False,
            }
        })
    }
}

/// Whether a pattern holds no ASCII digit. Such a pattern cannot tell one digit of a text from
/// another (a digit matches only `*` or `?`, which match any character), so how it relates to
/// an ARN prefix is the same whatever digits its account is written with: the prefix is asked
/// about with every digit of the account written `0` ([`Prefixes::of`]), and the answers of
/// `glob::extension_cached` are shared by every account (an account named by one record only
/// had cost a fresh simulation each time). `tests::a_digitless_pattern_decides_every_account_alike`.
fn digitless(pat: &str) -> bool {
    !any_digit(pat.as_bytes())
}

/// A word with each of its eight bytes set to the name's value.
const EACH_0X30: u64 = u64::MAX / 255 * 0x30;
const EACH_10: u64 = u64::MAX / 255 * 10;
const EACH_6: u64 = u64::MAX / 255 * 6;
const EACH_0X80: u64 = u64::MAX / 255 * 0x80;
const EACH_0XF0: u64 = u64::MAX / 255 * 0xF0;
const EACH_0X0F: u64 = u64::MAX / 255 * 0x0F;

/// Whether `s` holds an ASCII digit, eight bytes at a time: a byte is a digit when it is below
/// 10 once `0x30` is taken off by `xor`, and "some byte below 10" is the classic word test
/// (exact for whether any byte is). `tests::digits_are_found_eight_bytes_at_a_time`.
fn any_digit(s: &[u8]) -> bool {
    let mut words = s.chunks_exact(8);
    for w in &mut words {
        let x = <[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes) ^ EACH_0X30;
        if x.wrapping_sub(EACH_10) & !x & EACH_0X80 != 0 {
            return true;
        }
    }
    words.remainder().iter().any(u8::is_ascii_digit)
}

/// Whether `zeroed` is `account` with its digits written `0` (twelve digits checked as a word
/// and a rest, without a loop over bytes).
fn is_zeroed(zeroed: &str, account: &str) -> bool {
    if let (Ok(z), Ok(a)) = (
        <&[u8; 12]>::try_from(zeroed.as_bytes()),
        <&[u8; 12]>::try_from(account.as_bytes()),
    ) {
        if *z == [b'0'; 12] {
            // All twelve are digits: none is not, and the rest after the first eight too.
            let (head, tail) = a.split_at(8);
            let x = <[u8; 8]>::try_from(head).map_or(0, u64::from_le_bytes);
            // Each byte's high nibble is 3 and its low nibble below 10 (adding 6 to it does not
            // reach the high nibble).
            let all_digits =
                x & EACH_0XF0 == EACH_0X30 && (x & EACH_0X0F).wrapping_add(EACH_6) & EACH_0XF0 == 0;
            return all_digits && tail.iter().all(u8::is_ascii_digit);
        }
    }
    zeroed.len() == account.len()
        && zeroed
            .bytes()
            .zip(account.bytes())
            .all(|(z, a)| z == zero(a))
}

/// Positions in [`Prefixes`]' lists: `arn:<partition>:iam::<account>:`,
/// `arn:<partition>:sts::<account>:` and `arn:<partition>:iam::<account>:role/`.
const IAM: usize = 0;
const STS: usize = 1;
const ROLE: usize = 2;

/// The ARN prefixes of an account, written once per worker and account rather than per
/// condition: for the account as written, and for it with its digits written `0` (see
/// [`digitless`]), each rewritten only when asked for another account.
#[derive(Default)]
struct Prefixes {
    /// Partition and account as written, then its prefixes.
    exact: (Option<super::Partition>, String, [String; 3]),
    /// Partition and account with its digits written `0`, then its prefixes.
    zeroed: (Option<super::Partition>, String, [String; 3]),
}

impl Prefixes {
    /// The prefixes of `puller`'s account; with `zeroed`, of it with its digits written `0`.
    fn of(&mut self, puller: &Puller, zeroed: bool) -> &[String; 3] {
        let partition = puller.partition;
        let account = puller.account.as_str();
        let (for_partition, for_account, prefixes) = if zeroed {
            &mut self.zeroed
        } else {
            &mut self.exact
        };
        let same = *for_partition == Some(partition)
            && if zeroed {
                is_zeroed(for_account, account)
            } else {
                for_account == account
            };
        if !same {
            *for_partition = Some(partition);
            for_account.clear();
            if zeroed {
                for_account.extend(account.chars().map(
                    |c| {
                        if c.is_ascii_digit() { '0' } else { c }
                    },
                ));
            } else {
                for_account.push_str(account);
            }
            for (prefix, (service, tail)) in
                prefixes
                    .iter_mut()
                    .zip([("iam", ""), ("sts", ""), ("iam", "role/")])
            {
                prefix.clear();
                for part in [
                    "arn:",
                    partition.as_str(),
                    ":",
                    service,
                    "::",
                    for_account,
                    ":",
                    tail,
                ] {
                    prefix.push_str(part);
                }
            }
        }
        prefixes
    }
}

/// A byte with an ASCII digit written `0`.
fn zero(b: u8) -> u8 {
    if b.is_ascii_digit() { b'0' } else { b }
}

thread_local! {
    static PREFIXES: std::cell::RefCell<Prefixes> = std::cell::RefCell::default();
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

/// [`block`], and which of the first 64 conditions are undecided (bit `i`: condition `i`
/// evaluates to unknown). Evaluation stops at the first false condition, as [`block`]'s does:
/// the marks are complete only when the block is not false.
pub fn block_marked(conditions: Conditions<'_>, puller: &Puller) -> (Tri, u64) {
    let mut acc = Tri::True;
    let mut unknown = 0u64;
    for (i, c) in conditions.iter().enumerate() {
        let t = eval(&c, puller);
        if t == Tri::Unknown && i < 64 {
            unknown |= 1 << i;
        }
        acc = acc.and(t);
        if acc == Tri::False {
            break;
        }
    }
    (acc, unknown)
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
    PREFIXES.with_borrow_mut(|prefixes| of_account(c, op, prefixes, puller, &of))
}

/// [`principal_arn_of_account`] with the account's ARN prefixes (given the pattern's
/// [`digitless`]: see [`Prefixes::of`]) and parts.
fn of_account<'p>(
    c: &Condition,
    op: crate::policy::Operator,
    prefixes: &mut Prefixes,
    puller: &Puller,
    of: &dyn Fn(&'static str) -> [Part<'p>; 6],
) -> Tri {
    // How one policy value relates to the account's principal ARNs: every, none, or some.
    let one = |v: CondValue| -> Tri {
        let prefixes = prefixes.of(puller, digitless(v.text()));
        let per = |i: usize| -> Tri {
            use Base::*;
            let (fold, wild) = match op.base {
                StringEquals | StringNotEquals | BinaryEquals => (false, false),
                StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => (true, false),
                StringLike | StringNotLike => (false, true),
                ArnEquals | ArnNotEquals | ArnLike | ArnNotLike => {
                    return arn::like(v.text(), &of(if i == IAM { "iam" } else { "sts" }));
                }
                _ => return Tri::False,
            };
            match glob::extension_cached(v.text(), &prefixes[i], fold, wild) {
                Extension::Every => Tri::True,
                Extension::Some => Tri::Unknown,
                Extension::None => Tri::False,
            }
        };
        match (per(IAM), per(STS)) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Partition;

    fn puller(account: &str, partition: Partition) -> Puller {
        Puller {
            account: account.to_owned(),
            partition,
            context: Default::default(),
        }
    }

    /// `aws:PrincipalArn` for every principal of the account as it was judged before the
    /// worker's prefixes: each prefix formatted afresh, each pattern simulated afresh.
    fn of_account_by_format(c: &Condition, puller: &Puller) -> Tri {
        let op = c.operator();
        if op.base == Base::Null {
            return principal_arn_of_account(c, puller);
        }
        let (partition, account) = (puller.partition.as_str(), puller.account.as_str());
        let one = |v: CondValue| -> Tri {
            let per = |service: &'static str| -> Tri {
                use Base::*;
                let (fold, wild) = match op.base {
                    StringEquals | StringNotEquals | BinaryEquals => (false, false),
                    StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => (true, false),
                    StringLike | StringNotLike => (false, true),
                    ArnEquals | ArnNotEquals | ArnLike | ArnNotLike => {
                        return arn::like(
                            v.text(),
                            &[
                                Part::known("arn"),
                                Part::known(partition),
                                Part::known(service),
                                Part::known(""),
                                Part::known(account),
                                Part::unknown(),
                            ],
                        );
                    }
                    _ => return Tri::False,
                };
                let prefix = format!("arn:{partition}:{service}::{account}:");
                match glob::extension(v.text(), &prefix, fold, wild) {
                    Extension::Every => Tri::True,
                    Extension::Some => Tri::Unknown,
                    Extension::None => Tri::False,
                }
            };
            match (per("iam"), per("sts")) {
                (Tri::True, Tri::True) => Tri::True,
                (Tri::False, Tri::False) => Tri::False,
                _ => Tri::Unknown,
            }
        };
        let any = Tri::any(c.values().iter().map(one));
        if op.base.is_negated() { !any } else { any }
    }

    /// The puller's role ARN compared with `pat` as before the worker's prefixes.
    fn role_by_format(pat: &str, puller: &Puller, fold: bool, wild: bool) -> Tri {
        let prefix = format!(
            "arn:{}:iam::{}:role/",
            puller.partition.as_str(),
            puller.account
        );
        match glob::extension(pat, &prefix, fold, wild) {
            Extension::Every => Tri::True,
            Extension::Some if !wild && !could_be_role(&pat[prefix.len()..]) => Tri::False,
            Extension::Some => Tri::Unknown,
            Extension::None => Tri::False,
        }
    }

    const OPERATORS: [&str; 10] = [
        "StringLike",
        "StringNotLike",
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "ArnLike",
        "ArnNotEquals",
        "BinaryEquals",
        "Null",
    ];

    proptest::proptest! {
        #[test]
        fn digits_are_found_eight_bytes_at_a_time(s in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            proptest::prop_assert_eq!(any_digit(&s), s.iter().any(u8::is_ascii_digit));
        }

        #[test]
        fn an_account_is_recognised_in_its_zeroed_form(
            account in "[0-9]{12}|[0-9]{11}[/:a0-9]|[/:0-9]{12}|[0-9a]{1,13}",
            other in "[0-9]{12}|0{12}|0{11}[0a]|[0a]{1,13}",
        ) {
            let by_bytes = |z: &str, a: &str| z.len() == a.len() && z.bytes().zip(a.bytes()).all(|(z, a)| z == zero(a));
            let zeroed: String = account.bytes().map(|b| char::from(zero(b))).collect();
            proptest::prop_assert!(is_zeroed(&zeroed, &account));
            proptest::prop_assert_eq!(is_zeroed(&other, &account), by_bytes(&other, &account));
            proptest::prop_assert_eq!(is_zeroed(&zeroed, &other), by_bytes(&zeroed, &other));
        }

        #[test]
        fn a_digitless_pattern_decides_every_account_alike(
            pat in "(arn:aws:(iam|sts)::|ARN:AWS:IAM::)?[0-9a*?:/é]{0,14}(role/)?[a*?]{0,3}",
            account in "[0-9]{12}|[0-9a]{1,13}",
            fold: bool,
            wild: bool,
        ) {
            let zeroed: String = account.bytes().map(|b| char::from(zero(b))).collect();
            for (service, tail) in [("iam", ""), ("sts", ""), ("iam", "role/")] {
                let exact = format!("arn:aws:{service}::{account}:{tail}");
                let with_zeros = format!("arn:aws:{service}::{zeroed}:{tail}");
                if digitless(&pat) {
                    proptest::prop_assert_eq!(
                        glob::extension(&pat, &exact, fold, wild),
                        glob::extension(&pat, &with_zeros, fold, wild),
                        "{} {}", pat, exact
                    );
                }
            }
        }

        #[test]
        fn principal_arn_conditions_are_judged_as_with_prefixes_written_afresh(
            values in proptest::collection::vec(
                "arn:aws:(iam|sts)::([0-9]{12}|\\*|[0-9?]{12}|44445555666\\*):(root|role/[a*]{1,3}|\\*)|[a*?:0-9]{0,8}|true|false",
                1..4,
            ),
            operator in 0..OPERATORS.len(),
            accounts in proptest::collection::vec("444455556666|111122223333|[0-9]{12}", 1..5),
            partition in 0..2usize,
        ) {
            let values: Vec<String> = values
                .iter()
                .map(|v| serde_json::to_string(v).unwrap_or_default())
                .collect();
            let text = format!(
                r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Deny", "Principal": "*", "Action": "ecr:*", "Condition": {{"{}": {{"aws:PrincipalArn": [{}]}}}}}}]}}"#,
                OPERATORS[operator],
                values.join(", ")
            );
            let Ok(policy) = crate::policy::parse(&text) else {
                // A value the operator refuses (Null takes only booleans).
                return Ok(());
            };
            let partition = [Partition::Aws, Partition::AwsCn][partition];
            // Several accounts in turn: the worker's prefixes are rewritten between them.
            for account in accounts.iter().chain(accounts.iter().rev()) {
                let p = puller(account, partition);
                for c in policy.statements()[0].conditions() {
                    proptest::prop_assert_eq!(
                        block_for_account(policy.statements()[0].conditions(), &p),
                        of_account_by_format(&c, &p),
                        "{} {}", text, account
                    );
                    if c.operator().base != Base::Null {
                        for v in c.values() {
                            let role = RoleCtx { puller: &p };
                            for (fold, wild) in [(false, false), (true, false), (false, true)] {
                                proptest::prop_assert_eq!(
                                    role.string(v.text(), fold, wild),
                                    role_by_format(v.text(), &p, fold, wild),
                                    "{} {}", v.text(), account
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

//! Who an `Allow` opens the repository to, beyond the audited account: whether a condition
//! really narrows a grant to every AWS principal (`public-access`), and which other accounts a
//! statement names (`cross-account-write`).

use crate::policy::glob::{self, Extension};
use crate::policy::{Base, Condition, Conditions, Family, Statement, Who};

/// Condition keys that can narrow who the principal is (SPEC 4.6), each with the prefix every
/// value of the key starts with (a pattern that matches every completion of it matches every
/// value the key can have).
const NARROWING_KEYS: [(&str, &str); 9] = [
    ("aws:principalaccount", ""),
    ("aws:principalarn", "arn:"),
    ("aws:principalorgid", "o-"),
    ("aws:principalorgpaths", "o-"),
    ("aws:sourcevpc", "vpc-"),
    ("aws:sourcevpce", "vpce-"),
    ("aws:sourceip", ""),
    ("aws:sourceaccount", ""),
    ("aws:sourcearn", "arn:"),
];

/// Whether a condition certainly excludes some principals from a grant to `*`: a plain
/// operator (not negated, not `Null`, not `…IfExists`, not `ForAllValues:` — each is true for a
/// request without the key) on a key that tells principals or networks apart, none of whose
/// values matches every value of the key (`*`, `?*`, `o-*`, `0.0.0.0/0`, an ARN whose account is
/// a wildcard: anyone can create an account, an organization or a role of any name).
pub fn narrows(c: &Condition) -> bool {
    let Some((key, prefix)) = NARROWING_KEYS.iter().find(|(k, _)| *k == c.key_lower()) else {
        return false;
    };
    let account_key = matches!(*key, "aws:principalaccount" | "aws:sourceaccount");
    c.operator().is_plain()
        && !c.values().iter().any(|v| {
            matches_every(c.operator().base, prefix, v.text())
                || (account_key && c.operator().base == Base::StringLike && every_account(v.text()))
        })
}

/// A pattern of wildcards alone that fits every 12-digit account id (`????????????`, `*`,
/// `???*`): it names no account.
fn every_account(pattern: &str) -> bool {
    let marks = pattern.bytes().filter(|b| *b == b'?').count();
    !pattern.is_empty()
        && pattern.bytes().all(|b| b == b'*' || b == b'?')
        && if pattern.contains('*') {
            marks <= 12
        } else {
            marks == 12
        }
}

/// Whether `value` under `base` matches every value the key can have (in the sense above).
fn matches_every(base: Base, prefix: &str, value: &str) -> bool {
    let arn_key = prefix == "arn:";
    match base.family() {
        Family::String if base == Base::StringLike => {
            glob::extension(value, prefix, false, true) == Extension::Every
                || (arn_key && any_account(value))
        }
        // ArnEquals and ArnLike both take wildcards, part by part.
        Family::Arn => value.bytes().all(|b| b == b'*') || any_account(value),
        Family::Ip => value.trim().ends_with("/0"),
        // Literals name one value; other families never match a string key (IAM compares false).
        _ => false,
    }
}

/// An ARN pattern whose account part is only wildcards, or which has fewer than six parts and a
/// wildcard (a `StringLike` `*` runs across colons): it names no account.
fn any_account(pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    match parts.get(4) {
        Some(account) if parts.len() == 6 => every_account(account),
        _ => pattern.contains('*'),
    }
}

/// The account a principal value names: a 12-digit id, or the account part of an IAM or STS
/// ARN. `None` for `*` and IAM unique ids (`AIDA…`), which name no account.
pub fn account_of(value: &str) -> Option<&str> {
    if is_account_id(value) {
        return Some(value);
    }
    // `arn:partition:iam::account[:resource]` (as `splitn(6, ':')` read it: the resource may
    // be missing), read by bytes: this runs for every principal of every judged Allow.
    let rest = value.strip_prefix("arn:")?;
    let partition_end = rest.bytes().position(|b| b == b':')?;
    let rest = &rest[partition_end + 1..];
    let rest = rest
        .strip_prefix("iam::")
        .or_else(|| rest.strip_prefix("sts::"))?;
    let account = match rest.as_bytes().get(12) {
        // The usual case: twelve bytes, then the resource.
        Some(b':') | None => rest.get(..12)?,
        Some(_) => rest.split_once(':').map_or(rest, |(account, _)| account),
    };
    is_account_id(account).then_some(account)
}

/// Twelve ASCII digits: tested as a word of eight bytes and one of four (each byte's high
/// nibble 3 and its low nibble below 10), not byte by byte: this runs for every principal of
/// every judged Allow (`tests::an_account_id_is_twelve_digits`).
pub fn is_account_id(s: &str) -> bool {
    let Ok(b) = <&[u8; 12]>::try_from(s.as_bytes()) else {
        return false;
    };
    let (head, tail) = b.split_at(8);
    let head = <[u8; 8]>::try_from(head).map_or(0, u64::from_le_bytes);
    let tail = <[u8; 4]>::try_from(tail).map_or(0, u32::from_le_bytes);
    // The four bytes of the tail as the low half of a word whose high half is digits too.
    let tail = u64::from(tail) | u64::from_le_bytes(*b"00000000") & !u64::from(u32::MAX);
    [head, tail].iter().all(|&x| {
        const EACH_0X30: u64 = u64::MAX / 255 * 0x30;
        const EACH_0XF0: u64 = u64::MAX / 255 * 0xF0;
        const EACH_0X0F: u64 = u64::MAX / 255 * 0x0F;
        const EACH_6: u64 = u64::MAX / 255 * 6;
        x & EACH_0XF0 == EACH_0X30 && (x & EACH_0X0F).wrapping_add(EACH_6) & EACH_0XF0 == 0
    })
}

/// The accounts an `Allow` statement names, in the order written: its `AWS` principals, and for
/// a grant to `*`, the accounts its plain conditions on `aws:PrincipalAccount` or
/// `aws:PrincipalArn` name (the usual way to write a cross-account grant with conditions).
#[cfg(test)] // the reference for `named_accounts_once`
pub fn named_accounts(stmt: &Statement) -> Vec<&str> {
    let mut candidates: Vec<&str> = named_accounts_iter(stmt).collect();
    // Once each, in order: a few compared directly; more through a set, so that a statement of
    // many principals stays linear.
    if candidates.len() <= 8 {
        let mut kept = 0;
        for i in 0..candidates.len() {
            let a = candidates[i];
            if !candidates[..kept].contains(&a) {
                candidates[kept] = a;
                kept += 1;
            }
        }
        candidates.truncate(kept);
        return candidates;
    }
    let mut seen = rustc_hash::FxHashSet::default();
    candidates.retain(|a| seen.insert(*a));
    candidates
}

/// [`named_accounts`] without a `Vec`: each account the first time it is named, the first few
/// compared directly, more through a set (a statement may name thousands). Held to
/// [`named_accounts`] by `tests::naming_each_account_once_keeps_the_order_written`.
pub fn named_accounts_once(stmt: &Statement) -> impl Iterator<Item = &str> + '_ {
    const FEW: usize = 8;
    let mut few: [&str; FEW] = [""; FEW];
    let mut n = 0;
    let mut seen = rustc_hash::FxHashSet::default();
    named_accounts_iter(stmt).filter(move |a| {
        let new = if n < FEW {
            !few[..n].contains(a)
        } else {
            if seen.is_empty() {
                seen.extend(few);
            }
            seen.insert(*a)
        };
        if new {
            if let Some(slot) = few.get_mut(n) {
                *slot = a;
            }
            n += 1;
        }
        new
    })
}

/// [`named_accounts`] as written, an account named twice given twice: no allocation, for a
/// question about any of them (see `eval::depends_on_owner`).
pub fn named_accounts_iter(stmt: &Statement) -> impl Iterator<Item = &str> + '_ {
    let (aws, conditions) = match stmt.who() {
        Who::Principal(p) if p.is_everyone() => (Some(p.aws()), stmt.conditions()),
        Who::Principal(p) => (Some(p.aws()), Conditions::none()),
        Who::NotPrincipal(_) => (None, Conditions::none()),
    };
    let principals = aws.into_iter().flatten().filter_map(account_of);
    let in_conditions = conditions
        .iter()
        .filter(|c| c.operator().is_plain())
        .flat_map(|c| {
            let (account, arn) = match c.key_lower() {
                "aws:principalaccount" => (true, false),
                "aws:principalarn" => (false, true),
                _ => (false, false),
            };
            c.values().iter().filter_map(move |v| {
                let t = v.text();
                let named = if account {
                    Some(t)
                } else if arn {
                    t.split(':').nth(4)
                } else {
                    None
                };
                named.filter(|t| is_account_id(t))
            })
        });
    principals.chain(in_conditions)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn an_account_id_is_twelve_digits(
            s in "[0-9]{12}|[0-9]{0,11}[/:a\u{0}\u{7f}é][0-9]{0,11}|[0-9]{0,14}|[/:0-9]{12}",
        ) {
            proptest::prop_assert_eq!(
                is_account_id(&s),
                s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()),
                "{:?}", s
            );
        }

        #[test]
        fn naming_each_account_once_keeps_the_order_written(
            principals in proptest::collection::vec(0..12usize, 0..24),
            in_conditions in proptest::collection::vec(0..12usize, 0..12),
            everyone: bool,
        ) {
            // Twelve accounts, some written as ARNs: repeats, and more than the few compared
            // directly.
            let account = |i: usize| format!("4444555566{i:02}");
            let written = |i: usize| {
                if i % 3 == 0 {
                    format!("\"arn:aws:iam::{}:role/ci\"", account(i))
                } else {
                    format!("\"{}\"", account(i))
                }
            };
            let mut aws: Vec<String> = principals.iter().map(|i| written(*i)).collect();
            if everyone || aws.is_empty() {
                aws.push("\"*\"".to_owned());
            }
            let condition: Vec<String> = in_conditions.iter().map(|i| format!("\"{}\"", account(*i))).collect();
            let condition = if condition.is_empty() {
                String::new()
            } else {
                format!(
                    r#", "Condition": {{"StringEquals": {{"aws:PrincipalAccount": [{}]}}}}"#,
                    condition.join(", ")
                )
            };
            let text = format!(
                r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"AWS": [{}]}}, "Action": "ecr:*"{condition}}}]}}"#,
                aws.join(", ")
            );
            let policy = crate::policy::parse(&text).map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{e:?}")))?;
            let s = &policy.statements()[0];
            let once: Vec<&str> = named_accounts_once(s).collect();
            proptest::prop_assert_eq!(&once, &named_accounts(s), "{}", text);
        }
    }

    /// What `account_of` said when it split the ARN into parts first.
    fn account_by_parts(value: &str) -> Option<&str> {
        if is_account_id(value) {
            return Some(value);
        }
        let Some((["arn", _, "iam" | "sts", ""], rest)) = crate::eval::arn::colons::<4>(value)
        else {
            return None;
        };
        let account = rest.split_once(':').map_or(rest, |(account, _)| account);
        is_account_id(account).then_some(account)
    }

    proptest::proptest! {
        #[test]
        fn reading_the_account_by_bytes_is_reading_it_by_parts(
            value in "(arn)?(:(aws|aws-cn|é)?)?(:(iam|sts|s3)?)?(:(x)?)?(:(444455556666|4444555566661|44445555666|é)?)?(:(role/x|:)?)?"
        ) {
            proptest::prop_assert_eq!(account_of(&value), account_by_parts(&value), "{}", value);
        }
    }

    #[test]
    fn account_of_reads_ids_and_iam_or_sts_arns() {
        assert_eq!(account_of("444455556666"), Some("444455556666"));
        assert_eq!(
            account_of("arn:aws:iam::444455556666:role/ci"),
            Some("444455556666")
        );
        assert_eq!(
            account_of("arn:aws-cn:sts::444455556666:assumed-role/ci/s"),
            Some("444455556666")
        );
        // No resource part: the account is still read (as before the split by `memchr`).
        assert_eq!(
            account_of("arn:aws:iam::444455556666"),
            Some("444455556666")
        );
        assert_eq!(account_of("arn:aws:iam:444455556666"), None);
        assert_eq!(account_of("*"), None);
        assert_eq!(account_of("AIDAJQABLZS4A3QDU576Q"), None);
        assert_eq!(account_of("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn patterns_that_name_no_account_match_every_value() {
        assert!(any_account("arn:aws:iam::*:role/admin"));
        assert!(any_account("arn:aws:*"));
        assert!(!any_account("arn:aws:iam::444455556666:*"));
        assert!(matches_every(Base::StringLike, "o-", "o-*"));
        // Twelve `?` fit every account id; eleven, or a digit, name some accounts only.
        assert!(every_account("????????????"));
        assert!(every_account("???*"));
        assert!(!every_account("???????????"));
        assert!(!every_account("1???????????"));
        assert!(any_account("arn:aws:iam::????????????:role/x"));
        assert!(matches_every(Base::StringLike, "o-", "?*"));
        assert!(!matches_every(Base::StringLike, "o-", "o-abc*"));
        assert!(!matches_every(Base::StringEquals, "o-", "*"));
        assert!(matches_every(Base::IpAddress, "", "0.0.0.0/0"));
        assert!(!matches_every(Base::IpAddress, "", "10.0.0.0/8"));
    }
}

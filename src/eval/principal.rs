//! Principal coverage (SPEC 4.1): does a statement's `Principal` / `NotPrincipal` cover a role
//! session of the audited account whose role name is unknown?

use crate::policy::{Effect, Principals, Statement, Who};

use super::Puller;
use super::tri::Tri;

/// What an `AWS` principal value names, relative to the audited account `A`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Named {
    /// `"*"`.
    Everyone,
    /// `A` as a bare id or `arn:<partition>:iam::A:root`: delegates to every principal of `A`.
    Account,
    /// `arn:…:iam::A:role/…`.
    Role,
    /// `arn:…:sts::A:assumed-role/…`.
    Session,
    /// `arn:…:iam::A:user/…`.
    User,
    /// Something else inside `A` (federated-user session, …), never a role session.
    OtherOfAccount,
    /// Another account, another partition, or not a principal of any account.
    Foreign,
}

impl Named {
    /// A specific principal of `A`, rather than the account itself.
    pub fn is_specific(self) -> bool {
        matches!(
            self,
            Named::Role | Named::Session | Named::User | Named::OtherOfAccount
        )
    }
}

pub fn name(value: &str, puller: &Puller) -> Named {
    if value == "*" {
        return Named::Everyone;
    }
    if super::audience::is_account_id(value) {
        return if value == puller.account {
            Named::Account
        } else {
            Named::Foreign
        };
    }
    // `arn:<partition>:<service>::<account>:<resource>`, read part by part and given up at the
    // first part that is not the puller's (the same answer as splitting it into six parts with
    // `arn::six` first, which this runs too often for: every principal of every judged
    // statement).
    let Some((service, resource)) = of_account(value, puller) else {
        return Named::Foreign;
    };
    match service {
        "iam" if resource == "root" => Named::Account,
        "iam" if resource.starts_with("role/") => Named::Role,
        "iam" if resource.starts_with("user/") => Named::User,
        "sts" if resource.starts_with("assumed-role/") => Named::Session,
        _ => Named::OtherOfAccount,
    }
}

/// The service and resource of `value` when it is `arn:<partition>:<service>::<account>:…` for
/// the puller's partition and account (byte searches: this runs for every `AWS` principal of
/// every judged statement).
fn of_account<'v>(value: &'v str, puller: &Puller) -> Option<(&'v str, &'v str)> {
    // Each partition's start a literal, compared without a call.
    let rest = match puller.partition {
        super::Partition::Aws => value.strip_prefix("arn:aws:")?,
        super::Partition::AwsCn => value.strip_prefix("arn:aws-cn:")?,
        super::Partition::AwsUsGov => value.strip_prefix("arn:aws-us-gov:")?,
    };
    // The usual services first; the region is empty.
    let (service, rest) = if let Some(rest) = rest.strip_prefix("iam::") {
        ("iam", rest)
    } else if let Some(rest) = rest.strip_prefix("sts::") {
        ("sts", rest)
    } else {
        let colon = rest.bytes().position(|b| b == b':')?;
        (&rest[..colon], rest[colon + 1..].strip_prefix(':')?)
    };
    // The account part ends at the next colon.
    let account = puller.account.as_bytes();
    if let Ok(twelve) = <&[u8; 12]>::try_from(account) {
        // The usual account: twelve bytes compared as an array (no call), then the colon.
        let head: &[u8; 12] = rest.as_bytes().get(..12)?.try_into().ok()?;
        return (head == twelve
            && rest.as_bytes().get(12) == Some(&b':')
            && !twelve.contains(&b':'))
        .then(|| (service, &rest[13..]));
    }
    let resource = rest
        .strip_prefix(puller.account.as_str())?
        .strip_prefix(':')?;
    // An account with a colon in it would end early in `value`: never the same part.
    (!account.contains(&b':')).then_some((service, resource))
}

/// Whether the statement's principal element covers the puller.
pub fn covers(stmt: &Statement, puller: &Puller) -> Tri {
    match stmt.who() {
        Who::Principal(p) => {
            if p.is_star() {
                return Tri::True;
            }
            Tri::any(p.aws().iter().map(|v| match name(v, puller) {
                Named::Everyone | Named::Account => Tri::True,
                // A role or session ARN of A may be the puller's own role in a Deny; in an Allow
                // it does not meet the requirement (the documented principal is the account, and
                // the puller's role is unknown).
                Named::Role | Named::Session if stmt.effect() == Effect::Deny => Tri::Unknown,
                // The puller is a role session: never a user or another kind of principal.
                _ => Tri::False,
            }))
            // Service, Federated and CanonicalUser never name an account's role session.
        }
        Who::NotPrincipal(p) => not_principal_deny(&p, puller),
    }
}

/// `NotPrincipal` with `Deny` applies to everyone not listed. A role session is exempt only if
/// both its account and its role (or session) are listed (IAM checks each).
fn not_principal_deny(p: &Principals, puller: &Puller) -> Tri {
    if p.is_everyone() {
        return Tri::False;
    }
    let mut account = false;
    let mut role = false;
    for v in p.aws() {
        match name(v, puller) {
            Named::Account => account = true,
            Named::Role | Named::Session => role = true,
            _ => {}
        }
    }
    if account && role {
        Tri::Unknown
    } else {
        Tri::True
    }
}

/// How an `Allow` statement's `Principal` mentions the audited account, for findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mention {
    /// Via `*`, the account, root, or a principal inside it.
    pub any: bool,
    /// Only as specific roles, users or sessions (not `*`, the account or root).
    pub specific_only: bool,
}

/// [`covers`], and for an `Allow` also how it mentions the account ([`Mention`]) and the first
/// specific principal of the account it names (for messages), in one pass over the `AWS` values
/// (each value is named once, not once per question).
pub(super) fn assess<'s>(stmt: &'s Statement, puller: &Puller) -> (Tri, Mention, Option<&'s str>) {
    let p = match stmt.who() {
        Who::Principal(p) if stmt.effect() == Effect::Allow => p,
        _ => return (covers(stmt, puller), Mention::default(), None),
    };
    // An Allow's principal covers the puller only through `*` or the account (see `covers`).
    let mut broad = p.is_star();
    let mut first = None;
    for v in p.aws() {
        match name(v, puller) {
            Named::Everyone | Named::Account => broad = true,
            n if n.is_specific() && first.is_none() => first = Some(v),
            _ => {}
        }
    }
    let specific = first.is_some();
    let mention = Mention {
        any: broad || specific,
        specific_only: specific && !broad,
    };
    (Tri::from(broad), mention, first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Partition;

    fn puller() -> Puller {
        Puller {
            account: "111122223333".into(),
            partition: Partition::Aws,
            ..Puller::default()
        }
    }

    /// What `name` said when it split the value into six parts first.
    fn by_six_parts(value: &str, puller: &Puller) -> Named {
        if value == "*" {
            return Named::Everyone;
        }
        if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
            return if value == puller.account {
                Named::Account
            } else {
                Named::Foreign
            };
        }
        let Some(["arn", partition, service, "", account, resource]) = crate::eval::arn::six(value)
        else {
            return Named::Foreign;
        };
        if partition != puller.partition.as_str() || account != puller.account {
            return Named::Foreign;
        }
        match service {
            "iam" if resource == "root" => Named::Account,
            "iam" if resource.starts_with("role/") => Named::Role,
            "iam" if resource.starts_with("user/") => Named::User,
            "sts" if resource.starts_with("assumed-role/") => Named::Session,
            _ => Named::OtherOfAccount,
        }
    }

    proptest::proptest! {
        #[test]
        fn naming_part_by_part_is_naming_by_six_parts(
            value in "(arn|ar|\\*)?(:(aws|aws-cn|aws-us-gov|a)?){0,2}(:(iam|sts|s3|ia)?)?(:(us-east-1)?)?(:(111122223333|444455556666|1|11112222333|111)?)?(:(root|role/x|user/y|assumed-role/r/s|federated-user/f|:)?){0,2}"
        ) {
            for (account, partition) in [
                ("111122223333", Partition::Aws),
                ("111122223333", Partition::AwsCn),
                ("1", Partition::Aws),
                ("11112222333:", Partition::Aws),
                ("111:", Partition::AwsUsGov),
            ] {
                let p = Puller { account: account.into(), partition, ..puller() };
                proptest::prop_assert_eq!(name(&value, &p), by_six_parts(&value, &p), "{} {}", value, account);
            }
        }
    }

    #[test]
    fn principal_values_are_named_relative_to_the_account() {
        let p = puller();
        assert_eq!(name("*", &p), Named::Everyone);
        assert_eq!(name("111122223333", &p), Named::Account);
        assert_eq!(name("arn:aws:iam::111122223333:root", &p), Named::Account);
        assert_eq!(
            name("arn:aws-cn:iam::111122223333:root", &p),
            Named::Foreign
        );
        assert_eq!(name("arn:aws:iam::111122223333:role/ci", &p), Named::Role);
        assert_eq!(name("arn:aws:iam::111122223333:user/bob", &p), Named::User);
        assert_eq!(
            name("arn:aws:sts::111122223333:assumed-role/ci/s", &p),
            Named::Session
        );
        assert_eq!(name("arn:aws:iam::444455556666:root", &p), Named::Foreign);
        assert_eq!(name("444455556666", &p), Named::Foreign);
        assert_eq!(name("AIDAEXAMPLEUNIQUEID", &p), Named::Foreign);
    }
}

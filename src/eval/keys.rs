//! The condition keys `--context` accepts: IAM's global condition keys, kept as data in one
//! place, and ECR's own `ecr:` keys. A misspelt key (`aws:PrincipleOrgID`) would otherwise be
//! accepted and change nothing.
//!
//! Source: IAM User Guide, "AWS global condition context keys" (the table at the top of the
//! page: properties of the principal, of a role session, of the network, of the resource and of
//! the request), as taken on [`KEYS_DATE`]. To refresh, replace the lists below and the date.

/// The day the lists below were taken from the IAM User Guide.
pub const KEYS_DATE: &str = "2026-11-27";

/// The global condition keys with a fixed name.
pub const GLOBAL_KEYS: &[&str] = &[
    // Properties of the principal
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalOrgID",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:PrincipalType",
    "aws:userid",
    "aws:username",
    // Properties of a role session
    "aws:AssumedRoot",
    "aws:FederatedProvider",
    "aws:TokenIssueTime",
    "aws:SignInSessionArn",
    "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent",
    "aws:ChatbotSourceArn",
    "aws:Ec2InstanceSourceVpc",
    "aws:Ec2InstanceSourcePrivateIPv4",
    "aws:SourceIdentity",
    "ec2:RoleDelivery",
    "ec2:SourceInstanceArn",
    "glue:RoleAssumedBy",
    "glue:CredentialIssuingService",
    "codebuild:BuildArn",
    "codebuild:ProjectArn",
    "lambda:SourceFunctionArn",
    "ssm:SourceInstanceArn",
    "identitystore:UserId",
    // Properties of the network
    "aws:SourceIp",
    "aws:SourceVpc",
    "aws:SourceVpcArn",
    "aws:SourceVpce",
    "aws:VpceAccount",
    "aws:VpceOrgID",
    "aws:VpceOrgPaths",
    "aws:VpcSourceIp",
    // Properties of the resource
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    // Properties of the request
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:CalledViaAWSMCP",
    "aws:ViaAWSService",
    "aws:ViaAWSMCPService",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:referer",
    "aws:RequestedRegion",
    "aws:TagKeys",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:UserAgent",
    "aws:IsMcpServiceAction",
];

/// The global keys that name a tag: the prefix, then any tag key (`aws:PrincipalTag/team`).
pub const TAG_KEY_PREFIXES: &[&str] = &["aws:PrincipalTag/", "aws:ResourceTag/", "aws:RequestTag/"];

/// ECR's own condition keys (`ecr:ResourceTag/…` and any the service adds) are accepted by
/// their prefix: the Service Authorization Reference lists them per service and they change.
pub const SERVICE_PREFIX: &str = "ecr:";

/// Why a `--context` key is refused, with the nearest known key when one is close.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKey {
    pub suggestion: Option<String>,
}

/// The global keys whose value has a type other than a string, by the IAM User Guide's
/// "Value type" of each key: what a `--context` value of them must read as.
const TYPED_KEYS: &[(&str, ValueType)] = &[
    ("aws:SourceIp", ValueType::Ip),
    ("aws:VpcSourceIp", ValueType::Ip),
    ("aws:Ec2InstanceSourcePrivateIPv4", ValueType::Ip),
    ("aws:SecureTransport", ValueType::Bool),
    ("aws:MultiFactorAuthPresent", ValueType::Bool),
    ("aws:PrincipalIsAWSService", ValueType::Bool),
    ("aws:ViaAWSService", ValueType::Bool),
    ("aws:ViaAWSMCPService", ValueType::Bool),
    ("aws:AssumedRoot", ValueType::Bool),
    ("aws:IsMcpServiceAction", ValueType::Bool),
    ("aws:CurrentTime", ValueType::Date),
    ("aws:EpochTime", ValueType::Date),
    ("aws:TokenIssueTime", ValueType::Date),
    ("aws:MultiFactorAuthAge", ValueType::Number),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueType {
    Ip,
    Bool,
    Date,
    Number,
}

/// Checks a `--context` value against its key's type (an IP address for `aws:SourceIp`, `true`
/// or `false` for `aws:SecureTransport`, …): a value the condition operators cannot read would
/// decide nothing, silently. `Err` says what the key takes.
pub fn check_value(key: &str, value: &str) -> Result<(), String> {
    use crate::policy::value;
    let Some((name, ty)) = TYPED_KEYS.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) else {
        return Ok(());
    };
    let (ok, what) = match ty {
        // A fact is one address; a range would say where the request may come from, not where
        // it comes from.
        ValueType::Ip => (
            value.parse::<std::net::IpAddr>().is_ok(),
            "an IP address (e.g. 203.0.113.10)",
        ),
        ValueType::Bool => (value::boolean(value).is_some(), "true or false"),
        ValueType::Date => (
            value::date(value).is_some(),
            "a date (ISO 8601, e.g. 2026-11-27T12:00:00Z, or epoch seconds)",
        ),
        ValueType::Number => (value::number(value).is_some(), "a number"),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{name} takes {what}, found {value:?}"))
    }
}

/// Checks a `--context` key; key names are case-insensitive, as IAM's are.
pub fn check(key: &str) -> Result<(), UnknownKey> {
    let lower = key.to_ascii_lowercase();
    let known = GLOBAL_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
        || TAG_KEY_PREFIXES
            .iter()
            .any(|p| lower.len() > p.len() && lower.starts_with(&p.to_ascii_lowercase()))
        || (lower.len() > SERVICE_PREFIX.len() && lower.starts_with(SERVICE_PREFIX));
    if known {
        Ok(())
    } else {
        Err(UnknownKey {
            suggestion: suggest(&lower),
        })
    }
}

/// The nearest known key by edit distance (ignoring case), when it is near enough to be a typo.
/// A key with a `/` is also compared as a tag key, keeping the tag key as written.
fn suggest(lower: &str) -> Option<String> {
    let mut candidates: Vec<(String, String)> = GLOBAL_KEYS
        .iter()
        .map(|k| (k.to_string(), k.to_ascii_lowercase()))
        .collect();
    if let Some((_, tag)) = lower.split_once('/').filter(|(_, t)| !t.is_empty()) {
        for p in TAG_KEY_PREFIXES {
            candidates.push((
                format!("{p}{tag}"),
                format!("{}{tag}", p.to_ascii_lowercase()),
            ));
        }
    }
    candidates
        .into_iter()
        .map(|(shown, cand)| (strsim::levenshtein(&cand, lower), shown))
        .filter(|(d, _)| *d <= 3.max(lower.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, shown)| shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_keys_tag_keys_and_ecr_keys_are_known_in_any_case() {
        for key in [
            "aws:PrincipalOrgID",
            "AWS:PRINCIPALORGID",
            "aws:sourcevpce",
            "aws:PrincipalTag/team",
            "aws:RequestTag/Cost-Center",
            "ecr:ResourceTag/env",
            "ec2:SourceInstanceArn",
        ] {
            assert_eq!(check(key), Ok(()), "{key}");
        }
    }

    #[test]
    fn misspelt_keys_are_refused_with_the_nearest_key() {
        for (key, near) in [
            ("aws:PrincipleOrgID", Some("aws:PrincipalOrgID")),
            ("aws:SourceVpcE1", Some("aws:SourceVpce")),
            ("aws:sourceIP4", Some("aws:SourceIp")),
            ("aws:PrincipalTags/team", Some("aws:PrincipalTag/team")),
            ("s3:prefix", None),
            ("PrincipalOrgID", None),
        ] {
            let got = check(key).expect_err(key);
            assert_eq!(got.suggestion.as_deref(), near, "{key}");
        }
    }

    #[test]
    fn a_prefix_alone_is_no_key() {
        assert!(check("ecr:").is_err());
        assert!(check("aws:ResourceTag/").is_err());
        assert!(check("aws:PrincipalTag/").is_err());
    }

    #[test]
    fn the_list_has_no_duplicates() {
        for (i, k) in GLOBAL_KEYS.iter().enumerate() {
            assert!(
                GLOBAL_KEYS[i + 1..]
                    .iter()
                    .all(|o| !o.eq_ignore_ascii_case(k)),
                "{k}"
            );
        }
    }
}

#[cfg(test)]
mod value_tests {
    use super::check_value;

    #[test]
    fn typed_keys_take_values_of_their_type() {
        for (key, good, bad) in [
            ("aws:SourceIp", "203.0.113.10", "not-an-ip"),
            ("aws:sourceip", "2001:db8::1", "10.0.0.0/8"),
            ("aws:SecureTransport", "false", "no"),
            ("aws:CurrentTime", "2026-11-27T12:00:00Z", "yesterday"),
            ("aws:EpochTime", "1764244800", "soon"),
            ("aws:MultiFactorAuthAge", "300", "5 minutes"),
        ] {
            assert_eq!(check_value(key, good), Ok(()), "{key}={good}");
            let err = check_value(key, bad).expect_err(bad);
            assert!(err.contains("takes") && err.contains(bad), "{err}");
        }
        // String keys take any value.
        assert_eq!(check_value("aws:PrincipalOrgID", "anything at all"), Ok(()));
    }
}

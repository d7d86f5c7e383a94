//! Container image references as Docker parses them, which registry an image comes from, and for
//! a private Amazon ECR image, the repository it names.
//!
//! The grammar is the distribution reference grammar, hand-written here so that a reference that
//! does not parse can say which rule it breaks (the crates that parse it, such as `oci-spec`'s
//! `distribution::Reference`, answer only "invalid reference format" and bring a regex engine and
//! builder macros): distribution/reference `reference.go` (the grammar: `name [":" tag]
//! ["@" digest]`, lower-case path components joined by `.`, `_`, `__` or dashes, a tag of at most
//! 128 word characters, `.` and `-`, a name of at most 255 characters), `normalize.go`
//! (`splitDockerDomain`: the first component is a registry host when it holds a `.` or `:`, is
//! `localhost`, or has an upper-case letter; otherwise the image is on Docker Hub; the
//! repository must be lower case; a 64-hex-digit name is refused) and opencontainers/go-digest
//! (`sha256`, `sha384`, `sha512` with 64, 96, 128 lower-case hex digits).
//!
//! Private ECR registry hosts (ECR user guide, "Making requests to Amazon ECR registries", and the
//! General Reference's ECR endpoints):
//! `<account>.dkr.ecr.<region>.amazonaws.com` (`.amazonaws.com.cn` in China),
//! `<account>.dkr.ecr-fips.<region>.amazonaws.com` (FIPS), and the dual-stack
//! `<account>.dkr-ecr.<region>.on.aws` and `<account>.dkr-ecr-fips.<region>.on.aws`.
//! Public ECR (`public.ecr.aws`) and every other registry are not private ECR. The partition
//! follows from the host and region: `.amazonaws.com.cn` (regions `cn-…`) is `aws-cn`, regions
//! `us-gov-…` are `aws-us-gov` (AWS General Reference, "AWS service endpoints").

use crate::eval::Partition;

/// What an image reference points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Image {
    /// A private Amazon ECR repository.
    Ecr(EcrImage),
    /// Any other registry (Docker Hub, public ECR, a self-hosted registry).
    Other { registry: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EcrImage {
    /// The 12-digit registry (account) id.
    pub registry: String,
    pub region: String,
    pub partition: Partition,
    pub repository: String,
    /// `:tag` or `@digest`, as written; `None` means `latest`.
    pub reference: Option<String>,
}

/// Why a reference cannot be used: the rule it breaks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadImage(pub String);

/// The longest name (`[host/]path`) Docker accepts.
const NAME_MAX: usize = 255;
/// The longest tag.
const TAG_MAX: usize = 128;

/// Parses an image reference (`[host[:port]/]path[:tag][@digest]`) by the distribution grammar.
pub fn parse(reference: &str) -> Result<Image, BadImage> {
    let r = reference;
    let why = |rule: String| BadImage(format!("`{r}` is not a valid image reference: {rule}"));
    let bad = |rule: String| Err(why(rule));
    if r.is_empty() {
        return Err(BadImage("the image reference is empty".into()));
    }
    if r.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("it contains white space or a control character".into());
    }
    // The digest goes first: it contains a colon that is not a tag.
    let (name_tag, digest) = match r.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (r, None),
    };
    // A tag is a colon after the last slash; a colon before it belongs to a host port.
    let last_slash = name_tag.rfind('/');
    let (name, tag) = match name_tag.rfind(':') {
        Some(c) if last_slash.is_none_or(|s| c > s) => (&name_tag[..c], Some(&name_tag[c + 1..])),
        _ => (name_tag, None),
    };
    if name.is_empty() {
        return bad("it names no repository".into());
    }
    if name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return bad("a repository name cannot be a 64-digit hexadecimal string".into());
    }
    let (host, path) = split_domain(name);
    if let Some(h) = host {
        check_host(h).map_err(why)?;
    }
    if path.chars().any(|c| c.is_ascii_uppercase()) {
        return bad(format!("the repository name `{path}` must be lower case"));
    }
    for component in path.split('/') {
        if !path_component(component) {
            return bad(format!(
                "the path component `{component}` is not lower-case letters and digits joined by `.`, `_`, `__` or dashes"
            ));
        }
    }
    if name.len() > NAME_MAX {
        return bad(format!("the name is longer than {NAME_MAX} characters"));
    }
    if let Some(t) = tag {
        check_tag(t).map_err(why)?;
    }
    if let Some(d) = digest {
        check_digest(d).map_err(why)?;
    }
    let Some(host) = host else {
        return Ok(Image::Other {
            registry: "docker.io".into(),
        });
    };
    let host_lc = host.to_ascii_lowercase();
    // ECR serves HTTPS on the default port only; a `:443` is the same registry.
    let bare_host = host_lc.strip_suffix(":443").unwrap_or(&host_lc);
    match ecr_host(bare_host) {
        Some(Ok((registry, region, partition))) => {
            let reference = match (tag, digest) {
                (_, Some(d)) => Some(format!("@{d}")),
                (Some(t), None) => Some(format!(":{t}")),
                (None, None) => None,
            };
            Ok(Image::Ecr(EcrImage {
                registry,
                region,
                partition,
                repository: path.to_owned(),
                reference,
            }))
        }
        Some(Err(rule)) => bad(rule),
        None if looks_like_ecr(bare_host) => bad(format!(
            "`{host}` looks like an Amazon ECR registry but is none of its host forms \
             (<account>.dkr.ecr.<region>.amazonaws.com[.cn], …dkr.ecr-fips…, \
             <account>.dkr-ecr[-fips].<region>.on.aws)"
        )),
        None => Ok(Image::Other {
            registry: host.to_owned(),
        }),
    }
}

/// `splitDockerDomain`: the registry host, if the first component is one, and the path.
fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

/// `host [":" port]`, the host a domain name (components of letters, digits and inner dashes)
/// or a bracketed IPv6 address.
fn check_host(h: &str) -> Result<(), String> {
    let (host, port) = if let Some(rest) = h.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return Err(format!(
                "the registry host `{h}` opens `[` without closing it"
            ));
        };
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("`[{v6}]` is not an IPv6 address"));
        }
        match after {
            "" => return Ok(()),
            a => match a.strip_prefix(':') {
                Some(p) => ("", Some(p)),
                None => return Err(format!("the registry host `{h}` has text after `]`")),
            },
        }
    } else {
        match h.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (h, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("the registry port `{p}` is not a number"));
        }
    }
    for c in host.split('.').filter(|_| !host.is_empty()) {
        let ok = !c.is_empty()
            && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !c.starts_with('-')
            && !c.ends_with('-');
        if !ok {
            return Err(format!(
                "`{c}` in the registry host `{h}` is not a host name component (letters, digits and inner dashes)"
            ));
        }
    }
    Ok(())
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        let sep = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let ok = match &c[sep..i] {
            "." | "_" | "__" => true,
            s => s.bytes().all(|x| x == b'-'),
        };
        if !ok || i == b.len() {
            return false;
        }
    }
}

/// `[\w][\w.-]{0,127}`
fn check_tag(t: &str) -> Result<(), String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let ok = t.len() <= TAG_MAX
        && t.chars().next().is_some_and(word)
        && t.chars().all(|c| word(c) || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the tag `{t}` must start with a letter, digit or `_` and hold only those, `.` and `-`, at most {TAG_MAX} characters"
        ))
    }
}

/// `algorithm ":" hex`, for the algorithms Docker knows, of their exact length.
fn check_digest(d: &str) -> Result<(), String> {
    let Some((alg, hex)) = d.split_once(':') else {
        return Err(format!("the digest `{d}` is not `algorithm:hex`"));
    };
    let len = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => {
            return Err(format!(
                "the digest algorithm `{alg}` is not sha256, sha384 or sha512"
            ));
        }
    };
    if hex.len() == len && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(format!(
            "a {alg} digest is {len} lower-case hexadecimal digits, not `{hex}`"
        ))
    }
}

/// For a private ECR registry host (lower-case, no port): its registry, region and partition, or
/// `Err` when the region does not belong to the host's partition.
fn ecr_host(host: &str) -> Option<Result<(String, String, Partition), String>> {
    let (account, rest) = host.split_once('.')?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (region, china) = [
        ("dkr.ecr.", ".amazonaws.com", false),
        ("dkr.ecr.", ".amazonaws.com.cn", true),
        ("dkr.ecr-fips.", ".amazonaws.com", false),
        ("dkr-ecr.", ".on.aws", false),
        ("dkr-ecr-fips.", ".on.aws", false),
    ]
    .iter()
    .find_map(|(pre, suf, cn)| Some((rest.strip_prefix(pre)?.strip_suffix(suf)?, *cn)))?;
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && region.contains('-');
    if !region_ok {
        return None;
    }
    let partition = if region.starts_with("cn-") {
        Partition::AwsCn
    } else if region.starts_with("us-gov-") {
        Partition::AwsUsGov
    } else {
        Partition::Aws
    };
    if china != (partition == Partition::AwsCn) {
        return Some(Err(format!(
            "region `{region}` is not served on this host: the China regions (cn-…) and only they are on amazonaws.com.cn"
        )));
    }
    Some(Ok((account.to_owned(), region.to_owned(), partition)))
}

/// A host that is meant to be ECR but is malformed (a short account id, a missing region): an
/// error rather than a silent "not applicable".
fn looks_like_ecr(host: &str) -> bool {
    (host.contains(".dkr.ecr") || host.contains(".dkr-ecr"))
        && (host.ends_with(".amazonaws.com")
            || host.ends_with(".amazonaws.com.cn")
            || host.ends_with(".on.aws"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ecr(r: &str) -> EcrImage {
        match parse(r) {
            Ok(Image::Ecr(e)) => e,
            other => panic!("{r}: {other:?}"),
        }
    }

    fn other(r: &str) -> String {
        match parse(r) {
            Ok(Image::Other { registry }) => registry,
            other => panic!("{r}: {other:?}"),
        }
    }

    #[test]
    fn standard_host_with_tag() {
        let e = ecr("444455556666.dkr.ecr.us-east-1.amazonaws.com/gitpod/workspace-base:2024.05");
        assert_eq!(e.registry, "444455556666");
        assert_eq!(e.region, "us-east-1");
        assert_eq!(e.repository, "gitpod/workspace-base");
        assert_eq!(e.reference.as_deref(), Some(":2024.05"));
    }

    #[test]
    fn china_fips_and_dual_stack_hosts() {
        let e = ecr("444455556666.dkr.ecr.cn-north-1.amazonaws.com.cn/app");
        assert_eq!((e.region.as_str(), e.reference), ("cn-north-1", None));
        assert_eq!(
            ecr("444455556666.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app").region,
            "us-gov-west-1"
        );
        assert_eq!(
            ecr("444455556666.dkr-ecr.eu-west-1.on.aws/team/app:1").region,
            "eu-west-1"
        );
        assert_eq!(
            ecr("444455556666.dkr-ecr-fips.us-east-2.on.aws/app").region,
            "us-east-2"
        );
    }

    #[test]
    fn host_is_case_insensitive_and_port_443_is_the_same_registry() {
        let e = ecr("444455556666.DKR.ECR.us-west-2.AMAZONAWS.COM:443/app:v1");
        assert_eq!(e.region, "us-west-2");
        assert_eq!(e.reference.as_deref(), Some(":v1"));
    }

    #[test]
    fn digest_and_tag_with_digest() {
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let e = ecr(&format!(
            "444455556666.dkr.ecr.us-east-1.amazonaws.com/app@{d}"
        ));
        assert_eq!(e.repository, "app");
        assert_eq!(e.reference, Some(format!("@{d}")));
        let e = ecr(&format!(
            "444455556666.dkr.ecr.us-east-1.amazonaws.com/app:1.2@{d}"
        ));
        assert_eq!(e.reference, Some(format!("@{d}")), "the digest wins");
    }

    #[test]
    fn port_is_not_a_tag() {
        assert_eq!(other("registry.local:5000/team/app"), "registry.local:5000");
        assert_eq!(other("localhost:5000/app:1"), "localhost:5000");
    }

    #[test]
    fn docker_hub_and_public_ecr_are_not_private_ecr() {
        assert_eq!(other("gitpod/workspace-full:latest"), "docker.io");
        assert_eq!(other("ubuntu"), "docker.io");
        assert_eq!(
            other("public.ecr.aws/docker/library/node:20"),
            "public.ecr.aws"
        );
    }

    #[test]
    fn malformed_ecr_hosts_are_errors_not_other_registries() {
        assert!(parse("44445555666.dkr.ecr.us-east-1.amazonaws.com/app").is_err());
        assert!(parse("444455556666.dkr.ecr..amazonaws.com/app").is_err());
        assert!(parse("444455556666.dkr.ecr.us-east-1.amazonaws.com/").is_err());
    }

    #[test]
    fn empty_and_spaced_references_are_errors() {
        assert!(parse("").is_err());
        assert!(parse("a b").is_err());
        assert!(parse("app:").is_err());
    }

    fn rule(r: &str) -> String {
        match parse(r) {
            Err(BadImage(m)) => m,
            other => panic!("{r}: {other:?}"),
        }
    }

    #[test]
    fn the_documentation_placeholder_and_upper_case_names_are_invalid() {
        let m = rule("<aws-ecr-url-prefix>.amazonaws.com/<your-image-name:tag>");
        assert!(m.contains("not a host name component"), "{m}");
        let m = rule("Node:Buster");
        assert!(m.contains("`Node` must be lower case"), "{m}");
        let m = rule("docker.io/Library/node");
        assert!(m.contains("must be lower case"), "{m}");
    }

    #[test]
    fn an_upper_case_first_component_is_a_host_as_docker_decides() {
        assert_eq!(other("MyRegistry/app:1"), "MyRegistry");
    }

    #[test]
    fn path_tag_and_digest_rules_are_named() {
        assert!(rule("team//app").contains("path component ``"));
        assert!(rule("team/-app").contains("path component `-app`"));
        assert!(rule("team/app_").contains("path component `app_`"));
        assert!(rule("team/a___b").contains("path component"));
        assert_eq!(other("team/a__b.c--d_e:1"), "docker.io");
        assert!(rule("app:.x").contains("the tag `.x`"));
        assert!(rule(&format!("app:{}", "a".repeat(129))).contains("at most 128"));
        assert!(rule("app@sha256:abc").contains("64 lower-case hexadecimal"));
        assert!(rule("app@md5:0123456789abcdef0123456789abcdef").contains("not sha256"));
        assert!(rule(&"a".repeat(64).replace('a', "e")).contains("64-digit hexadecimal"));
        assert!(rule(&format!("r.io/{}", "a".repeat(260))).contains("longer than 255"));
    }

    #[test]
    fn host_and_port_rules_are_named() {
        assert!(rule("reg-.io/app").contains("`reg-`"));
        assert!(rule("reg.io:port/app").contains("port `port`"));
        assert_eq!(other("[::1]:5000/app"), "[::1]:5000");
        assert!(rule("[zz]:5000/app").contains("IPv6"));
    }

    #[test]
    fn the_partition_follows_the_host_and_region() {
        assert_eq!(
            ecr("444455556666.dkr.ecr.cn-north-1.amazonaws.com.cn/app").partition,
            Partition::AwsCn
        );
        assert_eq!(
            ecr("444455556666.dkr.ecr.us-gov-west-1.amazonaws.com/app").partition,
            Partition::AwsUsGov
        );
        assert_eq!(
            ecr("444455556666.dkr.ecr.eu-west-1.amazonaws.com/app").partition,
            Partition::Aws
        );
        assert!(rule("444455556666.dkr.ecr.eu-west-1.amazonaws.com.cn/app").contains("China"));
        assert!(rule("444455556666.dkr.ecr.cn-north-1.amazonaws.com/app").contains("China"));
    }

    proptest::proptest! {
        /// Whatever the bytes, a reference parses or is refused with a rule; a private ECR
        /// image that parses has a lower-case repository of valid path components.
        #[test]
        fn any_text_parses_or_names_a_rule(s in "[a-zA-Z0-9._:/@<>\\[\\]${}-]{0,60}|\\PC{0,40}") {
            match parse(&s) {
                Ok(Image::Ecr(e)) => {
                    proptest::prop_assert!(e.repository.split('/').all(path_component));
                    proptest::prop_assert_eq!(e.registry.len(), 12);
                }
                Ok(Image::Other { .. }) => {}
                Err(BadImage(m)) => proptest::prop_assert!(!m.is_empty()),
            }
        }
    }
}

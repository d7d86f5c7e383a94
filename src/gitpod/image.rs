//! Container image references: which registry an image comes from, and for a private Amazon ECR
//! image, the repository it names.
//!
//! Private ECR registry hosts (ECR user guide, "Making requests to Amazon ECR registries", and the
//! General Reference's ECR endpoints):
//! `<account>.dkr.ecr.<region>.amazonaws.com` (`.amazonaws.com.cn` in China),
//! `<account>.dkr.ecr-fips.<region>.amazonaws.com` (FIPS), and the dual-stack
//! `<account>.dkr-ecr.<region>.on.aws` and `<account>.dkr-ecr-fips.<region>.on.aws`.
//! Public ECR (`public.ecr.aws`) and every other registry are not private ECR.

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
    pub repository: String,
    /// `:tag` or `@digest`, as written; `None` means `latest`.
    pub reference: Option<String>,
}

/// Why a reference cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadImage(pub String);

/// Parses an image reference (`[host[:port]/]path[:tag][@digest]`).
pub fn parse(reference: &str) -> Result<Image, BadImage> {
    let r = reference.trim();
    if r.is_empty() {
        return Err(BadImage("the image reference is empty".into()));
    }
    if r.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(BadImage(format!(
            "`{r}` is not an image reference (it contains white space)"
        )));
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
    if name.is_empty() || tag == Some("") || digest == Some("") {
        return Err(BadImage(format!("`{r}` is not an image reference")));
    }
    // The first component is a registry host when it looks like one (a dot, a port, or
    // `localhost`), as Docker decides; otherwise the image is on Docker Hub.
    let (host, path) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first, rest)
        }
        _ => {
            return Ok(Image::Other {
                registry: "docker.io".into(),
            });
        }
    };
    if path.is_empty() {
        return Err(BadImage(format!(
            "`{r}` names a registry but no repository"
        )));
    }
    let host_lc = host.to_ascii_lowercase();
    // ECR serves HTTPS on the default port only; a `:443` is the same registry.
    let bare_host = host_lc.strip_suffix(":443").unwrap_or(&host_lc);
    match ecr_host(bare_host) {
        Some((registry, region)) => {
            let reference = match (tag, digest) {
                (_, Some(d)) => Some(format!("@{d}")),
                (Some(t), None) => Some(format!(":{t}")),
                (None, None) => None,
            };
            Ok(Image::Ecr(EcrImage {
                registry,
                region,
                repository: path.to_owned(),
                reference,
            }))
        }
        None if looks_like_ecr(bare_host) => Err(BadImage(format!(
            "`{host}` looks like an Amazon ECR registry but is none of its host forms \
             (<account>.dkr.ecr.<region>.amazonaws.com[.cn], …dkr.ecr-fips…, \
             <account>.dkr-ecr[-fips].<region>.on.aws)"
        ))),
        None => Ok(Image::Other {
            registry: host.to_owned(),
        }),
    }
}

/// `(registry, region)` when `host` (lower-case, no port) is a private ECR registry host.
fn ecr_host(host: &str) -> Option<(String, String)> {
    let (account, rest) = host.split_once('.')?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let region = [
        ("dkr.ecr.", ".amazonaws.com"),
        ("dkr.ecr.", ".amazonaws.com.cn"),
        ("dkr.ecr-fips.", ".amazonaws.com"),
        ("dkr-ecr.", ".on.aws"),
        ("dkr-ecr-fips.", ".on.aws"),
    ]
    .iter()
    .find_map(|(pre, suf)| rest.strip_prefix(pre)?.strip_suffix(suf))?;
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && region.contains('-');
    region_ok.then(|| (account.to_owned(), region.to_owned()))
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
}

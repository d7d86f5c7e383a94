//! Writes a realistic synthetic export for benchmarks: N repositories across accounts and
//! regions, as a tree of files (a mix of `get-repository-policy` output and bare policy
//! documents, 1 to 5 statements each, with grants, denies, wildcards and conditions) and the same
//! records as one JSON Lines file.
//!
//! Usage: `cargo run --release --example gen_export -- <OUT_DIR> <N> [SEED]`
//! Writes `<OUT_DIR>/tree/...` and `<OUT_DIR>/export.jsonl`, and `<OUT_DIR>/export-unique.jsonl`:
//! the same records with a distinct `Id` in every policy, so that no two policy texts repeat
//! (the worst case for the scan's verdict cache; templated statements still repeat).
//! Deterministic for a given seed.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

const GITPOD: &str = "111122223333";
const REGISTRIES: [&str; 4] = [
    "444455556666",
    "777788889999",
    "222233334444",
    "555566667777",
];
const REGIONS: [&str; 4] = ["us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2"];
const TEAMS: [&str; 6] = ["gitpod", "platform", "data", "ml", "web", "tools"];
const PULL: &str =
    r#"["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]"#;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Values that vary per repository in a non-templated estate (`--distinct`): organisation,
/// VPC endpoints and team accounts.
struct Vary {
    org: String,
    vpce: [String; 2],
    account: String,
}

impl Vary {
    /// The templated values, the same for every repository.
    fn templated() -> Self {
        Vary {
            org: "o-abc123def4".to_owned(),
            vpce: ["vpce-0a1b2c3d".to_owned(), "vpce-4e5f6a7b".to_owned()],
            account: String::new(),
        }
    }

    fn distinct(rng: &mut Rng) -> Self {
        Vary {
            org: format!("o-{:010x}", rng.next() & 0xff_ffff_ffff),
            vpce: [
                format!("vpce-{:08x}", rng.next() as u32),
                format!("vpce-{:08x}", rng.next() as u32),
            ],
            account: format!("{:012}", rng.next() % 1_000_000_000_000),
        }
    }
}

fn statement(rng: &mut Rng, i: usize, v: &Vary) -> String {
    let Vary { org, vpce, account } = v;
    // A registry account of the template, or the repository's own team account.
    let other = |rng: &mut Rng| {
        if account.is_empty() {
            REGISTRIES[rng.below(REGISTRIES.len())].to_owned()
        } else {
            account.clone()
        }
    };
    match rng.below(9) {
        0 | 1 if !account.is_empty() => format!(
            r#"{{"Sid":"Gitpod{i}","Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::{GITPOD}:root","arn:aws:iam::{account}:role/team-ci"]}},"Action":{PULL}}}"#
        ),
        0 | 1 => format!(
            r#"{{"Sid":"Gitpod{i}","Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::{GITPOD}:root"]}},"Action":{PULL}}}"#
        ),
        2 => format!(
            r#"{{"Sid":"Short{i}","Effect":"Allow","Principal":{{"AWS":"{GITPOD}"}},"Action":["ecr:BatchGet*","ecr:GetDownloadUrlForLayer","ecr:batchchecklayeravailability"]}}"#
        ),
        3 => format!(
            r#"{{"Sid":"Org{i}","Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{{"StringEquals":{{"aws:PrincipalOrgID":"{org}"}}}}}}"#
        ),
        4 => format!(
            r#"{{"Sid":"CI{i}","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:role/ci-push"}},"Action":["ecr:PutImage","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload"]}}"#,
            other(rng)
        ),
        5 => format!(
            r#"{{"Sid":"NoDelete{i}","Effect":"Deny","Principal":"*","Action":["ecr:Delete*","ecr:BatchDeleteImage"],"Condition":{{"StringNotLike":{{"aws:PrincipalArn":"arn:aws:iam::*:role/admin-*"}}}}}}"#
        ),
        6 => format!(
            r#"{{"Sid":"Vpce{i}","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{{"StringNotEquals":{{"aws:SourceVpce":["{}","{}"]}},"Bool":{{"aws:PrincipalIsAWSService":"false"}}}}}}"#,
            vpce[0], vpce[1]
        ),
        7 => format!(
            r#"{{"Sid":"Tls{i}","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}"#
        ),
        _ => format!(
            r#"{{"Sid":"Other{i}","Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::{}:root"]}},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}}"#,
            other(rng)
        ),
    }
}

fn policy(rng: &mut Rng, v: &Vary) -> String {
    let n = 1 + rng.below(5);
    let statements: Vec<String> = (0..n).map(|i| statement(rng, i, v)).collect();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

fn main() -> std::io::Result<()> {
    let mut args: Vec<String> = std::env::args().collect();
    let distinct = args.iter().any(|a| a == "--distinct");
    args.retain(|a| a != "--distinct");
    if args.len() < 3 {
        eprintln!("usage: gen_export <OUT_DIR> <N> [SEED] [--distinct]");
        std::process::exit(2);
    }
    let out = PathBuf::from(&args[1]);
    let n: usize = args[2].parse().expect("N is a number");
    let seed: u64 = args
        .get(3)
        .map_or(42, |s| s.parse().expect("SEED is a number"));
    let mut rng = Rng(seed | 1);
    let tree = out.join("tree");
    fs::create_dir_all(&tree)?;
    let mut jsonl = BufWriter::new(fs::File::create(out.join("export.jsonl"))?);
    let mut unique = BufWriter::new(fs::File::create(out.join("export-unique.jsonl"))?);
    let mut texts = std::collections::HashSet::new();
    for i in 0..n {
        let vary = if distinct {
            Vary::distinct(&mut rng)
        } else {
            Vary::templated()
        };
        let registry = REGISTRIES[rng.below(REGISTRIES.len())];
        let region = REGIONS[rng.below(REGIONS.len())];
        let team = TEAMS[rng.below(TEAMS.len())];
        let name = format!("{team}/app-{i:07}");
        let text = policy(&mut rng, &vary);
        texts.insert(text.clone());
        // At most 1,000 files per folder, as exports usually shard.
        let dir = tree
            .join(registry)
            .join(region)
            .join(format!("{:04}", i / 1000));
        if i % 1000 == 0 || !dir.exists() {
            fs::create_dir_all(&dir)?;
        }
        let doc = serde_json::json!({
            "registryId": registry, "repositoryName": name, "policyText": text,
        });
        if rng.below(10) < 6 {
            fs::write(dir.join(format!("app-{i:07}.json")), doc.to_string())?;
        } else {
            fs::write(dir.join(format!("app-{i:07}.policy")), &text)?;
        }
        let line = serde_json::json!({
            "registryId": registry, "region": region, "repositoryName": name, "policyText": text,
        });
        writeln!(jsonl, "{line}")?;
        let text = text.replacen(
            r#"{"Version":"2012-10-17","#,
            &format!(r#"{{"Version":"2012-10-17","Id":"policy-{i:07}","#),
            1,
        );
        let line = serde_json::json!({
            "registryId": registry, "region": region, "repositoryName": name, "policyText": text,
        });
        writeln!(unique, "{line}")?;
    }
    jsonl.flush()?;
    unique.flush()?;
    eprintln!(
        "wrote {n} repositories under {} ({} distinct policy texts)",
        out.display(),
        texts.len()
    );
    Ok(())
}

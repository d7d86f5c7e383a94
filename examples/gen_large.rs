//! Writes single large documents for measuring peak memory (issue 13, point 3): one of each
//! shape that is streamed, the shapes that are refused above the whole-document cap, and a gzip
//! bomb. The data stays out of the repository: write it to a temporary folder.
//!
//! Usage: `cargo run --release --example gen_large -- <OUT_DIR> [SCALE]`, where SCALE (default
//! 1.0) multiplies every count. At 1.0 it writes:
//!
//! - `config.json`: an AWS Config snapshot (`configurationItems`) of 300,000 items, 100,000 of
//!   them ECR repositories with a policy, the rest other resource types (about 890 MB);
//! - `bulk.json`: a JSON array of 1,000,000 bulk records (about 500 MB);
//! - `describe.json`: `describe-repositories` output of 1,270,000 repositories (about 500 MB),
//!   with `nextToken` after the list;
//! - `steampipe.json`: `steampipe query --output json` of 530,000 rows (about 500 MB);
//! - `cfn.json.gz`: a CloudFormation template of 2,400,000 repositories;
//! - `tf.json.gz`: a Terraform state of 400,000 child modules;
//! - `bomb.json.gz`: 2 GiB of zeros, gzip'd (about 2 MB).
//!
//! Each line printed says the file and how many rows a scan with one account must give.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

/// A policy of about 1.1 KB whose values differ per repository.
fn policy(i: usize) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Gitpod Access","Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::111122223333:root"]}},"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}},{{"Sid":"CiPush{i}","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{acct:012}:role/ci-{i}"}},"Action":["ecr:PutImage","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload"]}},{{"Sid":"Org","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Condition":{{"StringEquals":{{"aws:PrincipalOrgID":"o-{i:010}"}}}}}},{{"Sid":"Vpce","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{{"StringNotEquals":{{"aws:SourceVpce":"vpce-{i:017x}"}},"Bool":{{"aws:PrincipalIsAWSService":"false"}}}}}}]}}"#,
        acct = 100_000_000_000u64 + i as u64
    )
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

fn create(dir: &Path, name: &str) -> std::io::Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(
        1 << 20,
        File::create(dir.join(name))?,
    ))
}

fn config(dir: &Path, n: usize) -> std::io::Result<usize> {
    let mut w = create(dir, "config.json")?;
    write!(
        w,
        r#"{{"fileVersion":"1.0","configSnapshotId":"0f1e2d3c","configurationItems":["#
    )?;
    let pad = "x".repeat(3370);
    let mut rows = 0;
    for i in 0..n {
        if i > 0 {
            w.write_all(b",")?;
        }
        if i % 3 == 0 {
            rows += 1;
            let name = format!("repo-{i}");
            let configuration = format!(
                r#"{{"RepositoryName":"{name}","Arn":"arn:aws:ecr:eu-west-1:444455556666:repository/{name}","RepositoryPolicyText":{}}}"#,
                quoted(&policy(i))
            );
            write!(
                w,
                r#"{{"version":"1.3","accountId":"444455556666","configurationItemCaptureTime":"2026-01-01T00:00:00.000Z","configurationItemStatus":"OK","configurationStateId":"{i}","awsRegion":"eu-west-1","resourceType":"AWS::ECR::Repository","resourceId":"{name}","resourceName":"{name}","ARN":"arn:aws:ecr:eu-west-1:444455556666:repository/{name}","awsAccountId":"444455556666","configuration":{configuration},"supplementaryConfiguration":{{}},"tags":{{"team":"t{}"}},"relationships":[]}}"#,
                i % 7
            )?;
        } else {
            write!(
                w,
                r#"{{"version":"1.3","accountId":"444455556666","configurationItemCaptureTime":"2026-01-01T00:00:00.000Z","configurationItemStatus":"OK","awsRegion":"eu-west-1","resourceType":"AWS::EC2::Instance","resourceId":"i-{i:017x}","resourceName":"i-{i:017x}","configuration":{{"instanceId":"i-{i:017x}","userData":"{pad}"}},"relationships":[]}}"#
            )?;
        }
    }
    write!(w, r#"],"trailer":{{"written":{n}}}}}"#)?;
    w.flush()?;
    Ok(rows)
}

fn bulk(dir: &Path, n: usize) -> std::io::Result<usize> {
    let mut w = create(dir, "bulk.json")?;
    w.write_all(b"[")?;
    for i in 0..n {
        if i > 0 {
            w.write_all(b",\n")?;
        }
        let p = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"S{i}","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:root"}},"Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Condition":{{"StringEquals":{{"aws:PrincipalOrgID":"o-{i:010}"}}}}}}]}}"#
        );
        write!(
            w,
            r#"{{"registryId":"444455556666","repositoryName":"bulk-{i}","arn":"arn:aws:ecr:eu-west-1:444455556666:repository/bulk-{i}","region":"eu-west-1","policyText":{}}}"#,
            quoted(&p)
        )?;
    }
    w.write_all(b"]\n")?;
    w.flush()?;
    Ok(n)
}

fn describe(dir: &Path, n: usize) -> std::io::Result<usize> {
    let mut w = create(dir, "describe.json")?;
    w.write_all(b"{\"repositories\":[")?;
    for i in 0..n {
        if i > 0 {
            w.write_all(b",")?;
        }
        write!(
            w,
            r#"{{"repositoryArn":"arn:aws:ecr:eu-west-1:444455556666:repository/team/app-{i}","registryId":"444455556666","repositoryName":"team/app-{i}","repositoryUri":"444455556666.dkr.ecr.eu-west-1.amazonaws.com/team/app-{i}","createdAt":"2026-01-01T00:00:00+00:00","imageTagMutability":"MUTABLE","imageScanningConfiguration":{{"scanOnPush":false}},"encryptionConfiguration":{{"encryptionType":"AES256"}}}}"#
        )?;
    }
    w.write_all(b"],\"nextToken\":\"eyJsYXN0In0=\"}\n")?;
    w.flush()?;
    Ok(n)
}

fn steampipe(dir: &Path, n: usize) -> std::io::Result<usize> {
    let mut w = create(dir, "steampipe.json")?;
    w.write_all(br#"{"columns":[{"name":"repository_name","data_type":"text"},{"name":"registry_id","data_type":"text"},{"name":"region","data_type":"text"},{"name":"policy","data_type":"jsonb"}],"rows":["#)?;
    for i in 0..n {
        if i > 0 {
            w.write_all(b",\n")?;
        }
        write!(
            w,
            r#"{{"repository_name":"sp-{i}","registry_id":"444455556666","region":"eu-west-1","arn":"arn:aws:ecr:eu-west-1:444455556666:repository/sp-{i}","policy":{}}}"#,
            policy(i)
        )?;
    }
    w.write_all(b"]}\n")?;
    w.flush()?;
    Ok(n)
}

fn gz(dir: &Path, name: &str) -> std::io::Result<GzEncoder<BufWriter<File>>> {
    Ok(GzEncoder::new(create(dir, name)?, Compression::default()))
}

fn cfn(dir: &Path, n: usize) -> std::io::Result<usize> {
    let mut w = gz(dir, "cfn.json.gz")?;
    w.write_all(br#"{"AWSTemplateFormatVersion":"2010-09-09","Resources":{"#)?;
    for i in 0..n {
        if i > 0 {
            w.write_all(b",")?;
        }
        write!(
            w,
            r#""Repo{i}":{{"Type":"AWS::ECR::Repository","Properties":{{"RepositoryName":"cfn-{i}"}}}}"#
        )?;
    }
    w.write_all(b"}}\n")?;
    w.finish()?.flush()?;
    Ok(1)
}

fn terraform(dir: &Path, n: usize) -> std::io::Result<usize> {
    let mut w = gz(dir, "tf.json.gz")?;
    w.write_all(
        br#"{"format_version":"1.0","values":{"root_module":{"resources":[],"child_modules":["#,
    )?;
    let p = quoted(&policy(0));
    for i in 0..n {
        if i > 0 {
            w.write_all(b",")?;
        }
        write!(
            w,
            r#"{{"address":"module.m{i}","resources":[{{"address":"module.m{i}.aws_ecr_repository.r","mode":"managed","type":"aws_ecr_repository","name":"r","values":{{"name":"tf-{i}","registry_id":"444455556666"}}}},{{"address":"module.m{i}.aws_ecr_repository_policy.p","mode":"managed","type":"aws_ecr_repository_policy","name":"p","values":{{"repository":"tf-{i}","registry_id":"444455556666","policy":{p}}}}}]}}"#
        )?;
    }
    w.write_all(b"]}}}\n")?;
    w.finish()?.flush()?;
    Ok(1)
}

fn bomb(dir: &Path, bytes: usize) -> std::io::Result<usize> {
    let mut w = gz(dir, "bomb.json.gz")?;
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..bytes >> 20 {
        w.write_all(&zeros)?;
    }
    w.finish()?.flush()?;
    Ok(1)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 2 {
        eprintln!("usage: gen_large <OUT_DIR> [SCALE]");
        std::process::exit(2);
    }
    let dir = PathBuf::from(&args[1]);
    std::fs::create_dir_all(&dir)?;
    let scale: f64 = args
        .get(2)
        .map_or(1.0, |s| s.parse().expect("SCALE is a number"));
    let n = |count: f64| ((count * scale) as usize).max(1);
    let mut out = std::io::stdout().lock();
    let files: [(&str, std::io::Result<usize>); 7] = [
        ("config.json", config(&dir, n(300_000.0))),
        ("bulk.json", bulk(&dir, n(1_000_000.0))),
        ("describe.json", describe(&dir, n(1_270_000.0))),
        ("steampipe.json", steampipe(&dir, n(530_000.0))),
        ("cfn.json.gz", cfn(&dir, n(2_400_000.0))),
        ("tf.json.gz", terraform(&dir, n(400_000.0))),
        ("bomb.json.gz", bomb(&dir, n(2048.0) << 20)),
    ];
    for (name, rows) in files {
        let size = std::fs::metadata(dir.join(name))?.len();
        writeln!(out, "{name}\t{size} bytes\t{} rows", rows?)?;
    }
    Ok(())
}

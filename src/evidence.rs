//! `--evidence`: the SHA-256 of every input file as it lies on disk (compressed files hashed
//! compressed), and one digest over all of them, so an auditor can later prove which snapshot a
//! verdict was made on.
//!
//! The digest is the SHA-256 of the manifest the `sha256sum` tool prints — one line
//! `<hex>  <path>\n` per hashed file, in report order (paths sorted as the scan sorts them) — so
//! it can be recomputed without this tool: `sha256sum FILE... | sha256sum`, with the files in the
//! order the report lists them.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::input::Source;

/// The digests of a scan's inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// One per source, in report order.
    pub files: Vec<FileDigest>,
    /// SHA-256 of the `sha256sum`-style manifest of the files that could be hashed.
    pub digest: String,
}

/// One input file's digest, or why it has none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDigest {
    /// The path as the report's `source` column shows it.
    pub path: String,
    /// Lower-case hex; `None` when the file could not be hashed.
    pub sha256: Option<String>,
    /// Why there is no digest (standard input is read once and not kept; an unreadable file).
    pub note: Option<String>,
}

/// Hashes every source (in parallel; sources come in report order and keep it).
pub fn of(sources: &[Source]) -> Evidence {
    let files: Vec<FileDigest> = sources
        .par_iter()
        .map(|s| {
            let path = s.display.to_string();
            let hashed = match s.path() {
                None => Err("standard input is read once and not kept, so it is not hashed".into()),
                Some(_) if s.walk_error().is_some() => Err("unreadable".into()),
                Some(p) => sha256_file(p).map_err(|e| format!("unreadable: {e}")),
            };
            match hashed {
                Ok(hex) => FileDigest {
                    path,
                    sha256: Some(hex),
                    note: None,
                },
                Err(note) => FileDigest {
                    path,
                    sha256: None,
                    note: Some(note),
                },
            }
        })
        .collect();
    let digest = hex(&Sha256::digest(manifest(&files).as_bytes()));
    Evidence { files, digest }
}

/// The `sha256sum`-format manifest of the hashed files.
pub fn manifest(files: &[FileDigest]) -> String {
    let mut m = String::new();
    for f in files {
        if let Some(h) = &f.sha256 {
            m.push_str(h);
            m.push_str("  ");
            m.push_str(&f.path);
            m.push('\n');
        }
    }
    m
}

fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_is_the_fips_vector() {
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn digest_is_over_the_sha256sum_manifest_of_hashed_files() {
        let files = vec![
            FileDigest {
                path: "a.json".into(),
                sha256: Some("00".repeat(32)),
                note: None,
            },
            FileDigest {
                path: "-".into(),
                sha256: None,
                note: Some("stdin".into()),
            },
        ];
        assert_eq!(manifest(&files), format!("{}  a.json\n", "00".repeat(32)));
    }
}

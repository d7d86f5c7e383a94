//! Build script: records the git commit the binary was built from, for `ecr-audit --version`.
//!
//! It must work where there is no git: a source tarball, a vendored copy, a machine without the
//! `git` program. Then the commit is simply left out (packagers may set `ECR_AUDIT_GIT_COMMIT`
//! themselves). Only the commit is recorded, not whether the tree had uncommitted changes: that
//! would need the build script to rerun on every file change.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=ECR_AUDIT_GIT_COMMIT");
    let commit = std::env::var("ECR_AUDIT_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(git_commit)
        .unwrap_or_default();
    println!("cargo:rustc-env=ECR_AUDIT_GIT_COMMIT={}", commit.trim());
}

/// The checkout's `HEAD` commit (12 hex digits), or `None` outside a git checkout.
fn git_commit() -> Option<String> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let dir = Path::new(&dir);
    // Not a checkout of this project (a tarball unpacked inside some other repository must not
    // pick up that repository's commit).
    if !dir.join(".git").exists() {
        return None;
    }
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()?;
        let text = String::from_utf8(out.stdout).ok()?;
        (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
    // Rebuild when HEAD moves: HEAD itself (a checkout), the branch it points to (a commit), and
    // packed-refs (a `git gc`). Only files that exist are named: cargo reruns a build script on
    // every build while a named file is missing.
    let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        let path = git(&["rev-parse", "--path-format=absolute", "--git-path", &name]);
        if let Some(path) = path.filter(|p| Path::new(p).exists()) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    Some(commit)
}

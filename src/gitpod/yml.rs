//! `.gitpod.yml`: finding the files and reading their `image`.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;
use yaml_serde::Value;

use crate::input::MissingPath;

/// The image Gitpod uses when `.gitpod.yml` names none (Gitpod's documented default).
pub const DEFAULT_IMAGE: &str = "gitpod/workspace-full";

/// What a configuration's `image` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageSpec {
    /// No `image`: the default workspace image.
    Default,
    /// `image: <reference>`.
    Reference(String),
    /// `image: {file, context}`: a Dockerfile the installation builds, relative to the
    /// repository root (the folder of `.gitpod.yml`).
    Dockerfile { file: String },
}

/// A file found under the paths: a configuration, a file Gitpod does not read, or a place the
/// walk could not enter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    /// As found: the command-line argument joined with the walked part.
    pub display: String,
    pub what: What,
}

/// What a found file is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum What {
    /// A configuration Gitpod reads.
    Config,
    /// A file with a configuration's name that Gitpod does not read (the reason): a note.
    NotRead(String),
    /// A symbolic link loop under the paths: a note, not an error.
    LinkLoop(String),
    /// A symbolic link to a folder outside the path given: not walked (a note).
    LinkOut(String),
    /// The walk could not enter it (permissions, a broken folder).
    WalkError(String),
}

/// The configuration file names Gitpod reads at a repository's root, in its order: the first that
/// exists is the configuration. From Gitpod's server, every repository host's
/// `FileProvider.getGitpodFileContent` (gitpod-io/gitpod,
/// `components/server/src/github/file-provider.ts`, likewise `gitlab/`, `bitbucket/`,
/// `azure-devops/`): `.gitpod.yml`, then the older `.gitpod`.
pub const NAMES: [&str; 2] = [".gitpod.yml", ".gitpod"];

/// A name people give configurations that Gitpod never reads.
const NOT_READ: &str = ".gitpod.yaml";

/// Every configuration under `paths`, with the files of a configuration's name that Gitpod does
/// not read (a file named on the command line is taken whatever its name), sorted by display
/// path. Folders are walked like `scan`'s (hidden files included, links followed with loop
/// detection), except that `.git` folders are not entered.
pub fn discover(paths: &[String]) -> Result<Vec<Found>, MissingPath> {
    for p in paths {
        if std::fs::metadata(p).is_err() {
            return Err(MissingPath { path: p.clone() });
        }
    }
    let mut out = Vec::new();
    for arg in paths {
        let root = Path::new(arg);
        let root_real = std::fs::canonicalize(root).ok();
        // Folders reached by a symbolic link that leads outside the path: not walked, so that a
        // checkout cannot make the tool walk (and read configurations in) the rest of the disk.
        let links_out = std::cell::RefCell::new(Vec::new());
        let walker = WalkDir::new(root)
            .follow_links(true)
            .into_iter()
            .filter_entry(|e| {
                if e.depth() == 0 {
                    return true;
                }
                if e.file_name() == ".git" {
                    return false;
                }
                if e.path_is_symlink() && e.file_type().is_dir() {
                    let inside = match (&root_real, std::fs::canonicalize(e.path())) {
                        (Some(r), Ok(target)) => target.starts_with(r),
                        _ => false,
                    };
                    if !inside {
                        links_out.borrow_mut().push(e.path().to_path_buf());
                        return false;
                    }
                }
                true
            });
        for entry in walker {
            match entry {
                Ok(e) => {
                    // A `.gitpod` folder (holding the Dockerfile, often) is no configuration.
                    if e.file_type().is_dir() {
                        continue;
                    }
                    let what = if e.depth() == 0 {
                        Some(What::Config)
                    } else {
                        classify(e.path())
                    };
                    if let Some(what) = what {
                        out.push(Found {
                            display: display(arg, root, e.path()),
                            path: e.path().to_path_buf(),
                            what,
                        });
                    }
                }
                Err(err) => {
                    let path = err.path().unwrap_or(root).to_path_buf();
                    let what = match err.loop_ancestor() {
                        // A loop is the walk's business, not the configuration's: a note.
                        Some(a) => What::LinkLoop(format!(
                            "a symbolic link loop (back to {}): not walked again",
                            display(arg, root, a)
                        )),
                        None => What::WalkError(format!("cannot walk into it: {err}")),
                    };
                    out.push(Found {
                        display: display(arg, root, &path),
                        path,
                        what,
                    });
                }
            }
        }
        for path in links_out.into_inner() {
            out.push(Found {
                display: display(arg, root, &path),
                what: What::LinkOut(format!(
                    "a symbolic link to a folder outside {arg}: not walked"
                )),
                path,
            });
        }
    }
    out.sort_by(|a, b| a.display.cmp(&b.display));
    out.dedup_by(|a, b| a.display == b.display);
    Ok(out)
}

/// What a walked file is, by its name and its siblings (Gitpod's order, [`NAMES`]).
fn classify(path: &Path) -> Option<What> {
    let name = path.file_name()?.to_str()?;
    let sibling = |n: &str| std::fs::symlink_metadata(path.with_file_name(n)).is_ok();
    if name == NAMES[0] {
        Some(What::Config)
    } else if name == NAMES[1] {
        if sibling(NAMES[0]) {
            Some(What::NotRead(format!(
                "Gitpod reads {} first, so it never reads this older {}: not the workspace's configuration.",
                NAMES[0], NAMES[1]
            )))
        } else {
            Some(What::Config)
        }
    } else if name == NOT_READ {
        let used = NAMES
            .iter()
            .find(|n| sibling(n))
            .map(|n| format!(" (the workspace uses the {n} beside it)"))
            .unwrap_or_default();
        Some(What::NotRead(format!(
            "Gitpod never reads {NOT_READ} (it reads {}, then {}): not the workspace's configuration{used}; rename it to {} if it is meant to be.",
            NAMES[0], NAMES[1], NAMES[0]
        )))
    } else {
        None
    }
}

fn display(arg: &str, root: &Path, path: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(rel) if rel.as_os_str().is_empty() => arg.to_owned(),
        Ok(rel) => format!("{}/{}", arg.trim_end_matches('/'), rel.display()),
        Err(_) => path.display().to_string(),
    }
}

/// Reads `image` from the text of a `.gitpod.yml`. `Err` says what is wrong, in one sentence.
pub fn image_spec(text: &str) -> Result<ImageSpec, String> {
    let doc: Value = yaml_serde::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
    let map = match &doc {
        Value::Null => return Ok(ImageSpec::Default),
        Value::Mapping(m) => m,
        _ => return Err("the top level is not a mapping of keys".into()),
    };
    match map.get("image") {
        None | Some(Value::Null) => Ok(ImageSpec::Default),
        Some(Value::String(s)) if !s.trim().is_empty() => {
            Ok(ImageSpec::Reference(s.trim().to_owned()))
        }
        Some(Value::Mapping(m)) => match m.get("file") {
            Some(Value::String(f)) if !f.trim().is_empty() => Ok(ImageSpec::Dockerfile {
                file: f.trim().to_owned(),
            }),
            _ => Err("`image` is an object without a string `file`".into()),
        },
        Some(_) => Err("`image` is neither an image reference nor an object with `file`".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_as_a_string() {
        assert_eq!(
            image_spec("image: 444455556666.dkr.ecr.us-east-1.amazonaws.com/app:1\ntasks: []\n"),
            Ok(ImageSpec::Reference(
                "444455556666.dkr.ecr.us-east-1.amazonaws.com/app:1".into()
            ))
        );
    }

    #[test]
    fn image_as_a_dockerfile_with_context() {
        assert_eq!(
            image_spec("image:\n  file: .gitpod.Dockerfile\n  context: docker\n"),
            Ok(ImageSpec::Dockerfile {
                file: ".gitpod.Dockerfile".into()
            })
        );
    }

    #[test]
    fn no_image_or_an_empty_file_is_the_default_image() {
        assert_eq!(
            image_spec("tasks:\n  - init: make\n"),
            Ok(ImageSpec::Default)
        );
        assert_eq!(image_spec(""), Ok(ImageSpec::Default));
        assert_eq!(image_spec("# only a comment\n"), Ok(ImageSpec::Default));
    }

    #[test]
    fn invalid_configurations_say_why() {
        assert!(image_spec("image: [a, b]\n").is_err());
        assert!(image_spec("image:\n  context: .\n").is_err());
        assert!(image_spec("- a\n- b\n").is_err());
        assert!(image_spec("image: \"unterminated\n").is_err());
    }
}

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

/// A configuration file found under the paths, or a place the walk could not enter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    /// As found: the command-line argument joined with the walked part.
    pub display: String,
    pub walk_error: Option<String>,
}

const NAMES: [&str; 2] = [".gitpod.yml", ".gitpod.yaml"];

/// Every `.gitpod.yml`/`.gitpod.yaml` under `paths` (a file named on the command line is taken
/// whatever its name), sorted by display path. Folders are walked like `scan`'s (hidden files
/// included, links followed with loop detection), except that `.git` folders are not entered.
pub fn discover(paths: &[String]) -> Result<Vec<Found>, MissingPath> {
    for p in paths {
        if std::fs::metadata(p).is_err() {
            return Err(MissingPath { path: p.clone() });
        }
    }
    let mut out = Vec::new();
    for arg in paths {
        let root = Path::new(arg);
        let walker = WalkDir::new(root)
            .follow_links(true)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || e.file_name() != ".git");
        for entry in walker {
            match entry {
                Ok(e) => {
                    let named = e.depth() == 0;
                    let wanted = e.file_type().is_file()
                        && (named || NAMES.iter().any(|n| e.file_name() == *n));
                    if wanted {
                        out.push(Found {
                            display: display(arg, root, e.path()),
                            path: e.path().to_path_buf(),
                            walk_error: None,
                        });
                    }
                }
                Err(err) => {
                    let path = err.path().unwrap_or(root).to_path_buf();
                    out.push(Found {
                        display: display(arg, root, &path),
                        path,
                        walk_error: Some(format!("cannot walk into it: {err}")),
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| a.display.cmp(&b.display));
    out.dedup_by(|a, b| a.display == b.display);
    Ok(out)
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

//! Turning command-line paths into sources: which files inside folders are read, how each is
//! named (`display`, `label`), and how walk problems become sources instead of stopping the run.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use walkdir::WalkDir;

use super::{MissingPath, Source};

/// Extensions read inside folders (each optionally followed by `.gz`), lower case; names are
/// matched case-insensitively (SPEC 3).
pub(crate) const EXTENSIONS: &[&str] = &[
    "json", "jsonl", "ndjson", "txt", "policy", "yaml", "yml", "template", "csv",
];

/// A file name split into its stem and the extensions the tool knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Name<'a> {
    /// The name without `.gz` and without the known extension.
    pub stem: &'a str,
    /// The known extension (lower case), if the name has one.
    pub ext: Option<&'static str>,
    pub gz: bool,
}

/// Splits `name` into stem, known extension and `.gz`, case-insensitively.
pub(crate) fn split_name(name: &str) -> Name<'_> {
    let (rest, gz) = match strip_suffix_ci(name, ".gz") {
        Some(rest) if !rest.is_empty() => (rest, true),
        _ => (name, false),
    };
    // No known extension holds a dot: a known one is all that follows the last dot.
    let known = memchr::memrchr(b'.', rest.as_bytes())
        .and_then(|dot| known_extension(&rest.as_bytes()[dot + 1..]).map(|e| (&rest[..dot], e)));
    match known {
        // `.json` alone (a hidden file with no stem) still ends in `.json`: it is read, and its
        // label keeps the whole name rather than becoming empty.
        Some((stem, ext)) => Name {
            stem: if stem.is_empty() { rest } else { stem },
            ext: Some(ext),
            gz,
        },
        None => Name {
            stem: rest,
            ext: None,
            gz,
        },
    }
}

/// The known extension `ext` is, case-insensitively.
fn known_extension(ext: &[u8]) -> Option<&'static str> {
    EXTENSIONS
        .iter()
        .find(|e| e.len() == ext.len() && e.as_bytes().eq_ignore_ascii_case(ext))
        .copied()
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    // `suffix` is ASCII, so a match ends on a char boundary; `get` guards the mismatch case.
    let tail = s.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &s[..cut])
}

/// The label of a file named on the command line: its file name without `.gz` and the known
/// extension; for another extension, without the last one (as `Path::file_stem`).
fn named_label(arg: &str) -> String {
    let file_name = Path::new(arg)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| arg.to_owned());
    let name = split_name(&file_name);
    if name.ext.is_some() {
        return name.stem.to_owned();
    }
    match name.stem.rfind('.') {
        Some(dot) if dot > 0 => name.stem[..dot].to_owned(),
        _ => name.stem.to_owned(),
    }
}

/// See [`super::discover`].
pub(crate) fn discover(paths: &[String]) -> Result<Vec<Source>, MissingPath> {
    // Check every path before walking any: a usage error should not wait for a long walk.
    let mut kinds = Vec::with_capacity(paths.len());
    for arg in paths {
        if arg == "-" {
            kinds.push(None);
            continue;
        }
        match std::fs::metadata(arg) {
            Err(e) if is_missing(&e) => {
                return Err(MissingPath { path: arg.clone() });
            }
            other => kinds.push(Some(other)),
        }
    }

    let mut out = Vec::new();
    for (arg, kind) in paths.iter().zip(kinds) {
        match kind {
            None => out.push(Source::stdin()),
            Some(Ok(meta)) if meta.is_dir() => walk(arg, &mut |s| out.push(s)),
            // A named file is read whatever it is: `<(zcat export.gz)` is a pipe.
            Some(Ok(_)) => out.push(named(arg, None)),
            Some(Err(e)) => out.push(named(arg, Some(format!("cannot open the file: {e}")))),
        }
    }
    out.sort_by(|a, b| a.display.cmp(&b.display));
    Ok(out)
}

fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

fn named(arg: &str, walk_error: Option<String>) -> Source {
    Source::file(
        PathBuf::from(arg),
        Arc::from(arg),
        Some(named_label(arg)),
        true,
        walk_error,
    )
}

/// The folder argument as the front of `display`: trailing slashes dropped so that joining adds
/// exactly one (`testdata/` + `team/app.json` → `testdata/team/app.json`).
pub(super) fn display_base(arg: &str) -> &str {
    let trimmed = arg.trim_end_matches('/');
    if trimmed.is_empty() && !arg.is_empty() {
        "/"
    } else {
        trimmed
    }
}

fn join(base: &str, rel: &str) -> String {
    if rel.is_empty() {
        base.to_owned()
    } else if base.ends_with('/') {
        format!("{base}{rel}")
    } else {
        format!("{base}/{rel}")
    }
}

/// Whether `r` is a relative path as the walk makes it: `/`-separated names, none `.` or `..`.
fn clean_relative(r: &str) -> bool {
    // No empty name (a leading, trailing or doubled `/`), `.` or `..`: each name checked at
    // the `/` after it, in one pass over the bytes.
    if std::path::MAIN_SEPARATOR != '/' {
        return false;
    }
    if r.is_empty() {
        return true;
    }
    let b = r.as_bytes();
    let mut start = 0;
    for (i, &c) in b.iter().chain(std::iter::once(&b'/')).enumerate() {
        if c == b'/' {
            if matches!(&b[start..i], b"" | b"." | b"..") {
                return false;
            }
            start = i + 1;
        }
    }
    true
}

/// `path` relative to `root`, `/`-separated whatever the platform.
fn relative(root: &Path, path: &Path) -> String {
    // What the walk gives is already clean: the root joined with names.
    // (No `let` chain: they need Rust 1.88, and the crate promises 1.85.)
    // The walk joins names to the root as it was given, so the root's bytes start the path: cut
    // them off as bytes (comparing the paths component by component cost 3,000 instructions a
    // file); anything else takes the long way below.
    let (r, p) = (
        root.as_os_str().as_encoded_bytes(),
        path.as_os_str().as_encoded_bytes(),
    );
    let cut = p.strip_prefix(r).and_then(|rest| {
        if r.is_empty() || r.ends_with(b"/") {
            Some(rest)
        } else {
            rest.strip_prefix(b"/")
        }
    });
    if let Some(clean) = cut
        .and_then(|rest| std::str::from_utf8(rest).ok())
        .filter(|rest| clean_relative(rest))
    {
        return clean.to_owned();
    }
    let rel = path.strip_prefix(root).unwrap_or(path);
    let clean = rel.to_str().filter(|r| clean_relative(r));
    if let Some(clean) = clean {
        return clean.to_owned();
    }
    let parts: Vec<_> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect();
    parts.join("/")
}

/// The sources of the folder `arg`, handed to `sink` as they are found, in the order of their
/// `display` (but see [`walk_order`]).
pub(crate) fn walk(arg: &str, sink: &mut dyn FnMut(Source)) {
    // On unix a walker of our own lists each folder once into reused buffers (walk_fast.rs);
    // elsewhere, walkdir.
    #[cfg(unix)]
    super::walk_fast::walk(arg, sink);
    #[cfg(not(unix))]
    walk_by_walkdir(arg, sink);
}

/// [`walk`] by walkdir: the walk everywhere but on unix, where it is the reference the walker
/// of walk_fast.rs is tested against (and the fallback for a root that is not a folder).
pub(crate) fn walk_by_walkdir(arg: &str, sink: &mut dyn FnMut(Source)) {
    let root = Path::new(arg);
    let base = display_base(arg);
    // walkdir detects loops itself when following links; hidden files and `.gitignore` get no
    // special treatment (SPEC 3).
    for entry in WalkDir::new(root).follow_links(true).sort_by(walk_order) {
        match entry {
            Ok(entry) => {
                // With `follow_links` this is the target's type: only regular files are opened,
                // so a FIFO, socket or device in the tree can never block the run.
                if !entry.file_type().is_file() {
                    continue;
                }
                if let Some(source) = file_source(root, base, entry.into_path()) {
                    sink(source);
                }
            }
            Err(err) => {
                if let Some(source) = walk_error(root, base, &err) {
                    sink(source);
                }
            }
        }
    }
}

/// The source of the regular file `path` found by walking the folder `root` (whose `display`
/// starts with `base`), or `None` when its name has no known extension.
pub(super) fn file_source(root: &Path, base: &str, path: PathBuf) -> Option<Source> {
    // The last name of the path (what `file_name` gives, found by bytes).
    let file_name = String::from_utf8_lossy(last_name(&path));
    let name = split_name(&file_name);
    name.ext?;
    let (display, rel_len) = display_of(root, base, &path);
    let rel = &display[display.len() - rel_len..];
    // The label (`label_of`) is `rel` up to the stem: a span of `display`.
    let start = display.len() - rel.len();
    let span = (rel.len() + name.stem.len())
        .checked_sub(file_name.len())
        .filter(|_| display.ends_with(&*file_name))
        .map(|len| start..start + len);
    let label = match span {
        Some(_) => None,
        None => Some(label_of(rel, &file_name, name.stem)),
    };
    let display: Arc<str> = Arc::from(display.as_ref());
    let ext = name.ext;
    Some(match span {
        Some(span) => Source::walked(Some(path), display, span, ext),
        None => Source::file(path, display, label, false, None),
    })
}

/// The `display` of `path`, found by walking the folder `root` (whose `display` starts with
/// `base`), and the length of its part relative to `root` (at its end).
pub(super) fn display_of<'p>(
    root: &Path,
    base: &str,
    path: &'p Path,
) -> (std::borrow::Cow<'p, str>, usize) {
    // The path is most often `base/rel` already, and then its text is `display`: no copy to
    // make it relative and none to join it again.
    let fast = path.to_str().and_then(|p| {
        let rel = p.strip_prefix(base)?.strip_prefix('/')?;
        clean_relative(rel).then_some((p, rel.len()))
    });
    match fast {
        Some((display, rel_len)) => (display.into(), rel_len),
        None => {
            let rel = relative(root, path);
            (join(base, &rel).into(), rel.len())
        }
    }
}

/// The order siblings are walked in, such that files come out in the order of their `display`
/// (`base/rel`, compared as strings): a folder's name compares as if followed by `/`, because
/// that is what follows it in the paths of its files (`team-b/x` comes before `team/x`, as `-`
/// comes before `/`). Only a walk error on a folder (shown without the `/`) can come out of
/// place; the scan checks the order and sorts when it must.
fn walk_order(a: &walkdir::DirEntry, b: &walkdir::DirEntry) -> std::cmp::Ordering {
    // Siblings' paths are their folder's path joined with their names, so the paths compare as
    // the names do (the folder's part is the same bytes); the name's bytes are UTF-8 for every
    // name `display` shows as it is (any other name is shown lossily and compares as it may,
    // and the scan sorts when it must).
    let (pa, pb) = (
        a.path().as_os_str().as_encoded_bytes(),
        b.path().as_os_str().as_encoded_bytes(),
    );
    let n = pa.len().min(pb.len());
    pa[..n].cmp(&pb[..n]).then_with(|| {
        // One name starts the other: what follows decides, a folder's `/` included (a name
        // holds no `/`, so the next byte is enough). Siblings are ordered before links are
        // followed: a link to a folder is a folder here.
        let dir = |e: &walkdir::DirEntry| {
            if e.path_is_symlink() {
                std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir())
            } else {
                e.file_type().is_dir()
            }
        };
        let next = |path: &[u8], e| path.get(n).copied().or(dir(e).then_some(b'/'));
        next(pa, a).cmp(&next(pb, b))
    })
}

/// A path's file name as bytes (`Path::file_name`, empty where it has none): the bytes after
/// the last `/`, found with one `memrchr`, unless they are empty, `.` or `..` (`Path` then reads
/// the path by its components).
pub(crate) fn last_name(path: &Path) -> &[u8] {
    let by_parts = || path.file_name().map_or(&b""[..], |n| n.as_encoded_bytes());
    if std::path::MAIN_SEPARATOR != '/' {
        return by_parts();
    }
    let bytes = path.as_os_str().as_encoded_bytes();
    match &bytes[memchr::memrchr(b'/', bytes).map_or(0, |i| i + 1)..] {
        b"" | b"." | b".." => by_parts(),
        name => name,
    }
}

/// `team/app.json.gz` → `team/app`.
fn label_of(rel: &str, file_name: &str, stem: &str) -> String {
    let dir_len = rel.len().saturating_sub(file_name.len());
    format!("{}{}", rel.get(..dir_len).unwrap_or(""), stem)
}

/// What went wrong at a walked path.
pub(super) enum Problem<'a> {
    /// A link leads back to `ancestor`, a folder being walked (walkdir's `Error::loop_ancestor`).
    Loop { ancestor: &'a Path },
    /// The entry could not be reached, stated or listed.
    Io(&'a io::Error),
    /// Any other walkdir error, by its message.
    Other(String),
}

/// A walkdir error as a source (see [`problem_source`]).
fn walk_error(root: &Path, base: &str, err: &walkdir::Error) -> Option<Source> {
    let problem = match (err.loop_ancestor(), err.io_error()) {
        (Some(ancestor), _) => Problem::Loop { ancestor },
        (None, Some(io)) => Problem::Io(io),
        (None, None) => Problem::Other(err.to_string()),
    };
    problem_source(root, base, err.path(), problem)
}

/// A walk problem at `path` (the root when `None`) as a source with `walk_error` set, or `None`
/// when the entry would not have been read anyway (a dangling link whose name has no known
/// extension).
pub(super) fn problem_source(
    root: &Path,
    base: &str,
    path: Option<&Path>,
    problem: Problem<'_>,
) -> Option<Source> {
    let path = path.unwrap_or(root);
    let rel = relative(root, path);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = split_name(&file_name);
    let cannot = |reason: String| {
        if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
            format!("cannot list the folder: {reason}")
        } else {
            format!("cannot read the entry: {reason}")
        }
    };
    let message = match problem {
        Problem::Loop { ancestor } => format!(
            "symbolic link loop: it leads back to the folder `{}` already being walked",
            ancestor.display()
        ),
        Problem::Io(io)
            if io.kind() == io::ErrorKind::NotFound
                && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) =>
        {
            name.ext?;
            "broken symbolic link: its target does not exist".to_owned()
        }
        Problem::Io(io) => cannot(io.to_string()),
        Problem::Other(text) => cannot(text),
    };
    Some(Source::file(
        path.to_path_buf(),
        Arc::from(join(base, &rel)),
        Some(label_of(&rel, &file_name, name.stem)),
        false,
        Some(message),
    ))
}

/// `display` of `rel` found under the folder argument `arg`.
#[cfg(test)]
pub(crate) fn join_display(arg: &str, rel: &str) -> String {
    join(display_base(arg), rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_splits_into_stem_and_known_extension() {
        // The reading by each extension in turn that `split_name` replaced.
        let reference = |name: &'static str| {
            let (rest, gz) = match strip_suffix_ci(name, ".gz") {
                Some(rest) if !rest.is_empty() => (rest, true),
                _ => (name, false),
            };
            for ext in EXTENSIONS {
                if let Some(stem) = rest
                    .len()
                    .checked_sub(ext.len() + 1)
                    .and_then(|_| strip_suffix_ci(rest, ext))
                    .and_then(|s| s.strip_suffix('.'))
                {
                    let stem = if stem.is_empty() { rest } else { stem };
                    return Name {
                        stem,
                        ext: Some(ext),
                        gz,
                    };
                }
            }
            Name {
                stem: rest,
                ext: None,
                gz,
            }
        };
        for name in [
            "a.json",
            "a.JSON",
            "a.json.gz",
            "a.gz",
            ".gz",
            ".json",
            "json",
            "a.b.json",
            "a.jsonx",
            "a.xjson",
            "a.",
            "a..json",
            "a.json.GZ",
            "a.tar.gz",
            "é.yml",
            "a.txt",
            "a",
            "",
            ".policy.gz",
            "a.NdJsOn",
            "a.template",
            "a.csv.gz.gz",
            "a.JSONL",
            "a.yaml.Gz",
            "a.templates",
            "a.emplate",
            "a.\0json",
            "a.jsonjson",
            "é.GZ",
            "a.é",
            "a.TEMPLATE.gz",
        ] {
            assert_eq!(split_name(name), reference(name), "{name:?}");
        }
    }

    #[test]
    fn a_last_name_is_the_file_name() {
        for p in [
            "a.json",
            "d/a.json",
            "/d/a.json",
            "d//a.json",
            "./a.json",
            "d/.",
            "d/..",
            "d/",
            "/",
            ".",
            "..",
            "",
            "a.json/",
            "d/.hidden.json",
            "d/a.json.gz",
        ] {
            let path = Path::new(p);
            let expected = path.file_name().map_or(&b""[..], |n| n.as_encoded_bytes());
            assert_eq!(last_name(path), expected, "{p:?}");
        }
    }

    #[test]
    fn a_clean_relative_path_has_only_names() {
        let reference = |r: &str| {
            !r.starts_with('/')
                && !r.ends_with('/')
                && !r.contains("//")
                && r.split('/').all(|c| c != "." && c != "..")
        };
        for r in [
            "", "a", "a/b.json", "/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "./a", "a/.",
            "a/..", ".a/b..", "/", "//", "a/b/", "...",
        ] {
            assert_eq!(clean_relative(r), reference(r), "{r:?}");
        }
    }

    #[test]
    fn a_walked_path_is_made_relative_to_the_root_as_given() {
        for (root, path, rel) in [
            ("dir", "dir/team/app.json", "team/app.json"),
            ("dir/", "dir/team/app.json", "team/app.json"),
            ("dir//", "dir//app.json", "app.json"),
            ("./dir", "./dir/app.json", "app.json"),
            (".", "./a/b.json", "a/b.json"),
            ("a/./b", "a/./b/x.json", "x.json"),
            ("/", "/x.json", "x.json"),
            // Not the root's bytes: the paths are compared part by part.
            ("dir", "dirx/app.json", "dirx/app.json"),
            ("dir", "dir/./app.json", "app.json"),
        ] {
            assert_eq!(
                relative(Path::new(root), Path::new(path)),
                rel,
                "{root} {path}"
            );
        }
    }
}

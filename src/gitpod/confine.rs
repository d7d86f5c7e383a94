//! Reading what a checkout names, and nothing else: every file `gitpod` reads (a configuration,
//! the Dockerfile it names) is resolved inside its repository root, must be a regular file, and
//! is read only up to [`MAX_BYTES`].
//!
//! A tool run over untrusted checkouts must not be made to read without bound (a link to
//! `/dev/zero`), to block (a FIFO), or to read the host's files (`file: /etc/hostname`, `../x`,
//! a link out of the checkout). Gitpod itself never sees the host: it fetches the configuration
//! and the Dockerfile from the repository host by a path joined onto the repository
//! (`[configBasePath, image.file].join('/')` in gitpod-io/gitpod
//! `components/server/src/workspace/config-provider.ts`), so an absolute `file` is taken
//! relative to the root here too.
//!
//! Paths are resolved without opening anything: the named path is normalised lexically (`.` and
//! `..` removed; a `..` above the root is refused), then its symbolic links are resolved
//! (`canonicalize` reads links, never files) and the result must still lie inside the resolved
//! root. Only then is its type checked (from the resolved path's metadata) and a regular file
//! opened.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The most bytes read from one configuration or Dockerfile. Real ones are a few kilobytes; a
/// larger file is refused, not truncated (a cut Dockerfile could drop its last stage).
pub const MAX_BYTES: u64 = 1 << 20;

/// Why a named file was not read. Each says, in a few words, what a person can check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The path climbs above the root with `..`.
    DotDotOutside,
    /// The path, through a symbolic link, leads outside the root.
    LinkOutside,
    /// A symbolic link in the path forms a loop.
    LinkLoop,
    /// The path does not exist (or a link in it is broken).
    Missing,
    /// A folder, device, FIFO or socket.
    NotRegular(&'static str),
    TooLarge,
    NotUtf8 {
        valid_up_to: usize,
    },
    Io(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::DotDotOutside => {
                f.write_str("the path leads outside the repository root (`..`); not read")
            }
            ReadError::LinkOutside => f.write_str(
                "a symbolic link in the path leads outside the repository root; not read",
            ),
            ReadError::LinkLoop => f.write_str("a symbolic link in the path forms a loop"),
            ReadError::Missing => f.write_str("no such file in the repository"),
            ReadError::NotRegular(kind) => write!(f, "not a regular file (a {kind}); not read"),
            ReadError::TooLarge => write!(
                f,
                "larger than {} KiB, too large for a configuration or Dockerfile; not read",
                MAX_BYTES >> 10
            ),
            ReadError::NotUtf8 { valid_up_to } => {
                write!(f, "not UTF-8 text (byte {valid_up_to})")
            }
            ReadError::Io(e) => f.write_str(e),
        }
    }
}

/// `named` with `.` and `..` removed and a leading `/` dropped (relative to the root, as Gitpod
/// joins it), as `/`-separated components; `Err` when a `..` climbs above the root.
pub fn normalise(named: &str) -> Result<Vec<&str>, ReadError> {
    let mut parts: Vec<&str> = Vec::new();
    for c in named.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(ReadError::DotDotOutside);
                }
            }
            c => parts.push(c),
        }
    }
    Ok(parts)
}

/// Reads `named` (a path as a configuration writes it) inside `root`: see the module comment.
pub fn read(root: &Path, named: &str) -> Result<String, ReadError> {
    let parts = normalise(named)?;
    if parts.is_empty() {
        return Err(ReadError::NotRegular("folder"));
    }
    let root_real = std::fs::canonicalize(root).map_err(|e| io_error(&e))?;
    let mut path = root_real.clone();
    path.extend(&parts);
    let real = resolve(&path)?;
    if !real.starts_with(&root_real) {
        return Err(ReadError::LinkOutside);
    }
    read_regular(&real)
}

/// Reads the file at `path`, which the walk found: the same checks, with its own folder as the
/// root (a configuration that is a link out of its folder is not read).
pub fn read_found(path: &Path) -> Result<String, ReadError> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(ReadError::NotRegular("folder"));
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let root_real = std::fs::canonicalize(dir).map_err(|e| io_error(&e))?;
    let real = resolve(&root_real.join(name))?;
    if !real.starts_with(&root_real) {
        return Err(ReadError::LinkOutside);
    }
    read_regular(&real)
}

/// Resolves every symbolic link in `path` (reading links only, never a file).
fn resolve(path: &Path) -> Result<PathBuf, ReadError> {
    // ELOOP: too many levels of symbolic links (Linux 40; macOS and the BSDs 62).
    const ELOOP: i32 = if cfg!(target_os = "linux") { 40 } else { 62 };
    std::fs::canonicalize(path).map_err(|e| {
        if cfg!(unix) && e.raw_os_error() == Some(ELOOP) {
            ReadError::LinkLoop
        } else {
            io_error(&e)
        }
    })
}

fn read_regular(real: &Path) -> Result<String, ReadError> {
    let meta = std::fs::metadata(real).map_err(|e| io_error(&e))?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind(&meta.file_type())));
    }
    if meta.len() > MAX_BYTES {
        return Err(ReadError::TooLarge);
    }
    let file = std::fs::File::open(real).map_err(|e| io_error(&e))?;
    // The length was checked, but a file can grow between the check and the read: the bound
    // holds whatever happens.
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(&e))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(ReadError::TooLarge);
    }
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        valid_up_to: e.utf8_error().valid_up_to(),
    })
}

fn kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "FIFO";
        }
        if t.is_char_device() {
            return "character device";
        }
        if t.is_block_device() {
            return "block device";
        }
        if t.is_socket() {
            return "socket";
        }
    }
    if t.is_dir() { "folder" } else { "special file" }
}

fn io_error(e: &std::io::Error) -> ReadError {
    match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::Missing,
        _ => ReadError::Io(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_drops_dots_and_a_leading_slash_and_refuses_climbing_out() {
        assert_eq!(
            normalise("./.gitpod/./Dockerfile"),
            Ok(vec![".gitpod", "Dockerfile"])
        );
        assert_eq!(normalise("/etc/hostname"), Ok(vec!["etc", "hostname"]));
        assert_eq!(normalise("a/../b"), Ok(vec!["b"]));
        assert_eq!(normalise("../x/Dockerfile"), Err(ReadError::DotDotOutside));
        assert_eq!(normalise("a/../../x"), Err(ReadError::DotDotOutside));
    }

    #[cfg(unix)]
    #[test]
    fn hostile_paths_are_refused_without_reading_them() {
        use std::os::unix::fs::symlink;
        let t = tempfile::tempdir().expect("tempdir");
        let root = t.path().join("repo");
        std::fs::create_dir_all(root.join("sub")).expect("mkdir");
        std::fs::write(t.path().join("secret"), "outside").expect("write");
        std::fs::write(root.join("sub/Dockerfile"), "FROM a\n").expect("write");
        symlink("/dev/zero", root.join("zero")).expect("link");
        symlink("../secret", root.join("out")).expect("link");
        symlink(t.path(), root.join("updir")).expect("link");
        symlink("sub/Dockerfile", root.join("in")).expect("link");
        symlink("loop", root.join("loop")).expect("link");
        assert_eq!(read(&root, "sub/Dockerfile").as_deref(), Ok("FROM a\n"));
        assert_eq!(read(&root, "/sub/Dockerfile").as_deref(), Ok("FROM a\n"));
        assert_eq!(
            read(&root, "in").as_deref(),
            Ok("FROM a\n"),
            "a link inside is fine"
        );
        assert_eq!(read(&root, "zero"), Err(ReadError::LinkOutside));
        assert_eq!(read(&root, "out"), Err(ReadError::LinkOutside));
        assert_eq!(read(&root, "updir/secret"), Err(ReadError::LinkOutside));
        assert_eq!(read(&root, "../secret"), Err(ReadError::DotDotOutside));
        assert_eq!(read(&root, "/etc/hostname"), Err(ReadError::Missing));
        assert_eq!(read(&root, "sub"), Err(ReadError::NotRegular("folder")));
        assert_eq!(read(&root, "loop"), Err(ReadError::LinkLoop));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_and_a_large_file_inside_the_root_are_not_read() {
        let t = tempfile::tempdir().expect("tempdir");
        let fifo = t.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            assert_eq!(read(t.path(), "fifo"), Err(ReadError::NotRegular("FIFO")));
        }
        let big = t.path().join("big");
        std::fs::write(&big, vec![b'#'; MAX_BYTES as usize + 1]).expect("write");
        assert_eq!(read(t.path(), "big"), Err(ReadError::TooLarge));
        std::fs::write(&big, vec![b'#'; MAX_BYTES as usize]).expect("write");
        assert!(read(t.path(), "big").is_ok(), "exactly the cap is read");
    }
}

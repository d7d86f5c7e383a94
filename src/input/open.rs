//! Opening the files of a walk: a file in the same folder as the one opened before it is opened
//! relative to that folder, so that the kernel looks up one name instead of every name of the
//! path. On a tree of small exports, looking up the path's names (`__d_lookup_rcu`) was a tenth of
//! the scan's time (docs/performance.md).
//!
//! A reader keeps one [`Folders`] for the files it reads one after another: at most one folder
//! is held open by each, so a tree of any size holds at most one folder handle a worker. The
//! handle is taken only when a second file in a row lies in the same folder, so a tree of one
//! file a folder costs no system call more than opening each file by its path. Whenever the
//! relative open fails, the file is opened by its path: errors, and their messages, are those of
//! the plain open.

use std::fs::File;
use std::io;
use std::path::Path;

/// The folder of the last file opened, and a handle on it once two files in a row were in it.
#[derive(Default)]
pub struct Folders {
    /// The bytes of the last file's path before its last `/`.
    #[cfg(unix)]
    last: Vec<u8>,
    /// The folder `last`, open; `None` until a second file in a row lies in it, and when it
    /// could not be opened.
    #[cfg(unix)]
    handle: Option<rustix::fd::OwnedFd>,
    /// Whether opening `last` was tried (and failed): it is not tried again for each file.
    #[cfg(unix)]
    tried: bool,
}

impl Folders {
    /// Opens the file `path` for reading, as `File::open` does.
    pub(crate) fn open(&mut self, path: &Path) -> io::Result<File> {
        #[cfg(unix)]
        if let Some(file) = self.open_relative(path) {
            return Ok(file);
        }
        File::open(path)
    }

    /// `path` opened relative to its folder when that folder is the last file's, else `None`.
    #[cfg(unix)]
    fn open_relative(&mut self, path: &Path) -> Option<File> {
        use rustix::fs::{Mode, OFlags};
        use std::os::unix::ffi::OsStrExt;

        let bytes = path.as_os_str().as_bytes();
        let cut = memchr::memrchr(b'/', bytes)?;
        let (folder, name) = (&bytes[..cut], &bytes[cut + 1..]);
        // `/x` (the root's folder is the empty string) and a path ending in `/` are left to
        // the plain open.
        if folder.is_empty() || name.is_empty() {
            return None;
        }
        if folder != self.last.as_slice() {
            self.last.clear();
            self.last.extend_from_slice(folder);
            self.handle = None;
            self.tried = false;
            return None;
        }
        if self.handle.is_none() && !self.tried {
            self.tried = true;
            self.handle = rustix::fs::open(folder, folder_flags(), Mode::empty()).ok();
        }
        let dir = self.handle.as_ref()?;
        rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
            .ok()
            .map(File::from)
    }
}

/// How a folder is opened to open files inside it: on Linux as a path only (no read permission
/// needed, nothing read), elsewhere for reading.
#[cfg(unix)]
fn folder_flags() -> rustix::fs::OFlags {
    use rustix::fs::OFlags;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let how = OFlags::PATH;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let how = OFlags::RDONLY;
    how | OFlags::DIRECTORY | OFlags::CLOEXEC
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn read(folders: &mut Folders, path: &Path) -> io::Result<String> {
        let mut text = String::new();
        folders.open(path)?.read_to_string(&mut text)?;
        Ok(text)
    }

    #[test]
    fn files_of_one_folder_and_of_others_read_as_by_their_paths() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        for (folder, names) in [
            (&a, ["1.json", "2.json", "3.json"]),
            (&b, ["1.json", "2.json", "3.json"]),
        ] {
            std::fs::create_dir(folder).expect("mkdir");
            for n in names {
                std::fs::write(folder.join(n), format!("{}/{n}", folder.display())).expect("write");
            }
        }
        let mut folders = Folders::default();
        // In a row in one folder, back and forth between folders, and again in a row.
        let order = [
            (&a, "1.json"),
            (&a, "2.json"),
            (&a, "3.json"),
            (&b, "1.json"),
            (&a, "1.json"),
            (&b, "2.json"),
            (&b, "3.json"),
            (&b, "1.json"),
        ];
        for (folder, n) in order {
            let path = folder.join(n);
            assert_eq!(
                read(&mut folders, &path).expect("read"),
                format!("{}/{n}", folder.display())
            );
        }
        #[cfg(unix)]
        assert!(
            folders.handle.is_some(),
            "the second file in a row is opened relative to its folder"
        );
    }

    #[test]
    fn a_missing_file_beside_an_opened_one_fails_as_the_plain_open_does() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("here.json"), "{}").expect("write");
        let mut folders = Folders::default();
        read(&mut folders, &dir.path().join("here.json")).expect("first");
        read(&mut folders, &dir.path().join("here.json")).expect("second, relative");
        let missing = dir.path().join("gone.json");
        let relative = folders.open(&missing).expect_err("missing");
        let plain = File::open(&missing).expect_err("missing");
        assert_eq!(relative.kind(), plain.kind());
        assert_eq!(relative.to_string(), plain.to_string());
        // A folder that is no longer there: the file is opened (and fails) by its path too.
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).expect("mkdir");
        std::fs::write(sub.join("x.json"), "{}").expect("write");
        read(&mut folders, &sub.join("x.json")).expect("first in sub");
        std::fs::remove_file(sub.join("x.json")).expect("rm");
        std::fs::remove_dir(&sub).expect("rmdir");
        let gone = folders.open(&sub.join("x.json")).expect_err("gone");
        assert_eq!(
            gone.to_string(),
            File::open(sub.join("x.json"))
                .expect_err("gone")
                .to_string()
        );
    }
}

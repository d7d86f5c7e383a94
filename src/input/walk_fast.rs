//! The folder walk on unix: each folder is listed once, by one system call per few hundred
//! entries, into buffers reused from one folder to the next, and each file's `display` is built
//! once in a reused `String`. It gives what walkdir 2.5 with `follow_links(true)` and
//! `sort_by(walk_order)` gives (`walk::walk_by_walkdir`, the reference it is tested against):
//! the same files in the same order, the same errors at the same places. walkdir cost 1,550
//! instructions a file (a `CString` per entry in std's `ReadDir`, a `PathBuf` per entry, the
//! sort over paths), and turning its entries into sources 1,800 more (docs/performance.md).
//!
//! What is replicated from walkdir (walkdir-2.5.1/src/lib.rs unless said):
//! - `IntoIter::push`: a folder is read whole and its entries sorted before any is handed on;
//!   entries that could not be read sort first; a folder that cannot be listed gives its error
//!   right after its own place, before its next sibling.
//! - `IntoIter::handle_entry` and `follow`: a link is followed (`fs::metadata` of its path); a
//!   link to a folder is entered after `check_loop`; a broken link is an error at its place.
//! - `check_loop`: the target's (dev, ino), from the file opened (`same_file::Handle`), is
//!   compared with the ancestors', deepest first, each opened again by its path; the ancestors
//!   are the folders being walked (paths as walked, the root as given), then the canonical
//!   root's own ancestors (`root_ancestors`).
//! - paths are joined as `Path::join` does (`DirEntry` paths), and the errors carry the same
//!   paths (`Error::from_path`) or none (`Error::from_io`).

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Source;
use super::walk::{Problem, display_base, display_of, file_source, problem_source, split_name};

/// What an entry of a folder is, as far as the walk cares.
enum Kind {
    File,
    Dir,
    /// A FIFO, socket, device: never opened.
    Other,
    /// A symbolic link, and what `stat` through it says (filled in once the folder is read).
    Link(io::Result<Target>),
    /// The entry could not be read; `named` when walkdir's error carries its path.
    Error {
        err: io::Error,
        named: bool,
    },
}

/// What a link leads to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    File,
    Dir,
    Other,
}

struct Entry {
    /// The name, as a range of [`Listing::names`].
    start: usize,
    end: usize,
    kind: Kind,
}

impl Entry {
    /// Whether the entry sorts as a folder (`walk_order`: a link by its target).
    fn sorts_as_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir | Kind::Link(Ok(Target::Dir)))
    }
}

/// The entries of one folder; kept from one folder to the next for their buffers.
#[derive(Default)]
struct Listing {
    /// The names, one after another, while the folder is read.
    names: Vec<u8>,
    /// The same bytes once the folder is read, when they are all UTF-8 (checked at once, not
    /// name by name); `names` is then empty.
    text: String,
    entries: Vec<Entry>,
    /// The entries in the order they are handed on: indices into `entries`, each in the low
    /// bytes (`index_mask`) of its sort key (see `sort`).
    order: Vec<u64>,
    index_mask: u64,
}

impl Listing {
    fn push(&mut self, name: &[u8], kind: Kind) {
        let start = self.names.len();
        self.names.extend_from_slice(name);
        self.entries.push(Entry {
            start,
            end: self.names.len(),
            kind,
        });
    }

    fn name(&self, e: &Entry) -> &[u8] {
        match self.text.is_empty() {
            true => &self.names[e.start..e.end],
            false => &self.text.as_bytes()[e.start..e.end],
        }
    }

    /// The name, if it is UTF-8.
    fn name_str(&self, e: &Entry) -> Option<&str> {
        match self.text.is_empty() {
            // Every name is UTF-8 when the whole is and each starts and ends on a character
            // boundary (which `get` checks).
            false => self.text.get(e.start..e.end),
            true => std::str::from_utf8(&self.names[e.start..e.end]).ok(),
        }
    }

    /// Done reading: checks the names' UTF-8 once, and orders the entries.
    fn finish(&mut self) {
        match String::from_utf8(std::mem::take(&mut self.names)) {
            Ok(text) => self.text = text,
            Err(err) => self.names = err.into_bytes(),
        }
        self.sort();
    }

    /// In `walk_order`'s order: entries that could not be read first, as read (walkdir's `push`
    /// sorts them before the others, and its sort is stable), then by name, a folder's name
    /// compared as if followed by `/`. Names are unique, so the order of the others is one.
    fn sort(&mut self) {
        let is_error = |e: &Entry| matches!(e.kind, Kind::Error { .. });
        let entries = &self.entries;
        // Each entry's place in `entries` takes the low bytes of its number (see below).
        let index_bytes = match entries.len() {
            0..=0x100 => 1,
            0x101..=0x1_0000 => 2,
            0x1_0001..=0x100_0000 => 3,
            _ => 4,
        };
        self.index_mask = (1u64 << (8 * index_bytes)) - 1;
        let order = &mut self.order;
        order.clear();
        let indices = 0..entries.len() as u64;
        order.extend(indices.clone().filter(|&i| is_error(&entries[i as usize])));
        let errors = order.len();
        order.extend(indices.filter(|&i| !is_error(&entries[i as usize])));
        let names = match self.text.is_empty() {
            true => &self.names[..],
            false => self.text.as_bytes(),
        };
        let mask = self.index_mask;
        let name = |key: u64| {
            let e = &entries[(key & mask) as usize];
            (&names[e.start..e.end], e.sorts_as_dir())
        };
        // walk_order's comparison: the names' common bytes, then what follows in the longer
        // one against a folder's `/` (or nothing) in the shorter one.
        let full = |a: u64, b: u64| {
            let ((x, x_dir), (y, y_dir)) = (name(a), name(b));
            let n = x.len().min(y.len());
            x[..n].cmp(&y[..n]).then_with(|| {
                let next = |name: &[u8], dir: bool| name.get(n).copied().or(dir.then_some(b'/'));
                next(x, x_dir).cmp(&next(y, y_dir))
            })
        };
        let rest = &mut order[errors..];
        if rest.len() < 2 {
            return;
        }
        // That is the order of each name followed by `/` if a folder. The bytes of it after
        // the prefix all names share (0 past its end: no name holds a 0 byte), as many as fit
        // above the index, make a big-endian number that decides most comparisons as numbers;
        // names whose bytes there agree are then ordered by `full`.
        let first = name(rest[0]).0;
        let shared = rest.iter().fold(first.len(), |shared, &i| {
            common_prefix(&first[..shared], name(i).0)
        });
        let room = 8 - index_bytes;
        for slot in rest.iter_mut() {
            let (x, dir) = name(*slot);
            let tail = &x[shared..];
            let mut window = [0u8; 8];
            let n = tail.len().min(room);
            window[..n].copy_from_slice(&tail[..n]);
            if dir && n < room {
                window[n] = b'/';
            }
            *slot |= u64::from_be_bytes(window);
        }
        rest.sort_unstable();
        for tied in rest.chunk_by_mut(|a, b| a & !mask == b & !mask) {
            if tied.len() > 1 {
                tied.sort_unstable_by(|&a, &b| full(a, b));
            }
        }
    }

    /// The place in `entries` of the `n`-th entry to hand on.
    fn nth(&self, n: usize) -> Option<usize> {
        self.order
            .get(n)
            .map(|key| (key & self.index_mask) as usize)
    }

    fn clear(&mut self) {
        if self.names.is_empty() {
            self.names = std::mem::take(&mut self.text).into_bytes();
        }
        self.names.clear();
        self.text.clear();
        self.entries.clear();
        self.order.clear();
    }
}

/// The length of the longest common prefix of `a` and `b`, 8 bytes at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n && a[i..i + 8] == b[i..i + 8] {
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// A folder being walked: its entries, the next one to hand on, and the lengths of the walk's
/// buffers inside it.
struct Frame {
    listing: Listing,
    next: usize,
    /// `Walk::path`'s length: the folder's path and the separator after it.
    path_len: usize,
    /// `Walk::display`'s length: the folder's `display` and a `/` (the prefix for the root).
    display_len: usize,
    /// Whether every name from the root down to this folder is UTF-8 (then `display` holds
    /// it; else the files below are named by `walk::file_source`, lossily).
    utf8: bool,
}

struct Walk<'a> {
    root: &'a Path,
    base: &'a str,
    sink: &'a mut dyn FnMut(Source),
    /// The path of the current entry as walkdir would give it: the root as given, then names,
    /// each joined as `Path::join` does.
    path: Vec<u8>,
    /// The `display` of the current folder's files up to their name.
    display: String,
    /// The length of the display's part before the relative path (the folder argument's).
    prefix_len: usize,
    /// Whether `display` is `path` for files whose names are UTF-8 (no `PathBuf` kept).
    display_is_path: bool,
    /// The folders being walked, as lengths of `path` (`ROOT` for the root as given).
    ancestors: Vec<usize>,
    /// The canonical root's ancestors, deepest first (walkdir's `root_ancestors`).
    root_ancestors: Vec<PathBuf>,
    /// Listings kept for their buffers.
    spare: Vec<Listing>,
    reader: Reader,
}

/// An ancestor that is the root as given, not a part of `Walk::path`.
const ROOT: usize = usize::MAX;

/// See [`super::walk::walk`].
pub(super) fn walk(arg: &str, sink: &mut dyn FnMut(Source)) {
    let root = Path::new(arg);
    let base = display_base(arg);
    // walkdir reads the root without following it, then follows it if it is a link
    // (`IntoIter::next`, `handle_entry`). A root that is not a folder (or is gone) is rare
    // enough to be left to walkdir itself.
    let root_link = match std::fs::symlink_metadata(root) {
        Ok(m) if m.is_dir() => false,
        Ok(m)
            if m.file_type().is_symlink() && std::fs::metadata(root).is_ok_and(|t| t.is_dir()) =>
        {
            true
        }
        _ => return super::walk::walk_by_walkdir(arg, sink),
    };
    // The display of a file is the same prefix followed by its relative path, whatever that
    // path (`display_of` for the root given, its trailing slashes, `.`): found once, on a
    // name; and the path the same way (`Path::join`).
    let sample = root.join("x");
    let (display, rel_len) = display_of(root, base, &sample);
    let sample = sample.as_os_str().as_bytes();
    let (Some(prefix), Some(path_prefix)) = (
        (rel_len == 1).then(|| display.strip_suffix('x')).flatten(),
        sample.strip_suffix(b"x"),
    ) else {
        return super::walk::walk_by_walkdir(arg, sink);
    };
    let mut walk = Walk {
        root,
        base,
        sink,
        path: path_prefix.to_vec(),
        display: prefix.to_owned(),
        prefix_len: prefix.len(),
        display_is_path: prefix.as_bytes() == path_prefix,
        ancestors: Vec::new(),
        root_ancestors: root
            .canonicalize()
            .map(|c| c.ancestors().skip(1).map(Path::to_path_buf).collect())
            .unwrap_or_default(),
        spare: Vec::new(),
        reader: Reader::default(),
    };
    let mut frames = Vec::new();
    if root_link {
        if let Err(problem) = walk.check_loop(root) {
            return walk.problem(problem.path, problem.problem.as_problem());
        }
    }
    walk.enter(&mut frames, true);
    walk.run(&mut frames);
}

/// A loop check's failure, with the path its error carries.
struct Failure {
    path: Option<PathBuf>,
    problem: Owned,
}

enum Owned {
    Loop(PathBuf),
    Io(io::Error),
}

impl Owned {
    fn as_problem(&self) -> Problem<'_> {
        match self {
            Owned::Loop(ancestor) => Problem::Loop { ancestor },
            Owned::Io(err) => Problem::Io(err),
        }
    }
}

fn path_of(bytes: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(bytes))
}

impl Walk<'_> {
    /// Hands on the entries of the folders in `frames`, depth first.
    fn run(&mut self, frames: &mut Vec<Frame>) {
        while let Some(top) = frames.last_mut() {
            let Some(index) = top.listing.nth(top.next) else {
                let mut done = frames.pop().map(|f| f.listing).unwrap_or_default();
                self.ancestors.pop();
                done.clear();
                self.spare.push(done);
                continue;
            };
            top.next += 1;
            let entry = &mut top.listing.entries[index];
            let kind = std::mem::replace(&mut entry.kind, Kind::Other);
            let entry = &top.listing.entries[index];
            self.display.truncate(top.display_len);
            // The name as text, when it and every folder's above it are UTF-8 (else `display`
            // is left to `walk::file_source`).
            let name = top.listing.name_str(entry).filter(|_| top.utf8);
            // The entry's path, but for a file whose display is its path.
            let plain_file = matches!(kind, Kind::File | Kind::Link(Ok(Target::File)))
                && name.is_some()
                && self.display_is_path;
            if !plain_file {
                self.path.truncate(top.path_len);
                self.path.extend_from_slice(top.listing.name(entry));
            }
            match kind {
                Kind::File | Kind::Link(Ok(Target::File)) => self.file(name),
                Kind::Dir => {
                    let utf8 = self.folder_display(name);
                    self.enter(frames, utf8);
                }
                Kind::Link(Ok(Target::Dir)) => match self.check_loop(path_of(&self.path)) {
                    Ok(()) => {
                        let utf8 = self.folder_display(name);
                        self.enter(frames, utf8);
                    }
                    Err(failure) => self.problem(failure.path, failure.problem.as_problem()),
                },
                Kind::Other | Kind::Link(Ok(Target::Other)) => {}
                Kind::Link(Err(err)) => {
                    let path = PathBuf::from(path_of(&self.path));
                    self.problem(Some(path), Problem::Io(&err));
                }
                Kind::Error { err, named } => {
                    let path = named.then(|| PathBuf::from(path_of(&self.path)));
                    self.problem(path, Problem::Io(&err));
                }
            }
        }
    }

    /// The regular file at `path` as a source, if its name has a known extension. `name` is
    /// its name when the path is UTF-8 below the root (and then `path` is set only when
    /// `display` is not the path).
    fn file(&mut self, name: Option<&str>) {
        let source = match name {
            Some(name) => {
                let split = split_name(name);
                let Some(ext) = split.ext else { return };
                self.display.push_str(name);
                // The label is the relative path up to the stem (`walk::label_of`).
                let label = self.prefix_len..self.display.len() - name.len() + split.stem.len();
                let path = (!self.display_is_path).then(|| PathBuf::from(path_of(&self.path)));
                Source::walked(path, Arc::from(self.display.as_str()), label, Some(ext))
            }
            // A name that is not UTF-8 here or above: shown lossily, the rare way.
            None => match file_source(self.root, self.base, PathBuf::from(path_of(&self.path))) {
                Some(source) => source,
                None => return,
            },
        };
        (self.sink)(source);
    }

    /// Adds the name of the folder about to be entered to `display`, when it is UTF-8 there
    /// and above (returned).
    fn folder_display(&mut self, name: Option<&str>) -> bool {
        if let Some(name) = name {
            self.display.push_str(name);
            self.display.push('/');
        }
        name.is_some()
    }

    /// Lists the folder at `path` (the root when `frames` is empty) into a new frame, or hands
    /// on the error of listing it.
    fn enter(&mut self, frames: &mut Vec<Frame>, utf8: bool) {
        let is_root = frames.is_empty();
        let dir_len = if is_root { ROOT } else { self.path.len() };
        let mut listing = self.spare.pop().unwrap_or_default();
        let dir: &[u8] = if is_root {
            self.root.as_os_str().as_bytes()
        } else {
            &self.path
        };
        if let Err(err) = self.reader.list(dir, &mut listing) {
            self.spare.push(listing);
            let path = PathBuf::from(path_of(dir));
            return self.problem(Some(path), Problem::Io(&err));
        }
        if !is_root {
            self.path.push(b'/');
        }
        // Links are followed by their paths (walkdir's `DirEntry::from_path`, `fs::metadata`).
        let at = self.path.len();
        for entry in &mut listing.entries {
            if let Kind::Link(target) = &mut entry.kind {
                self.path.truncate(at);
                self.path
                    .extend_from_slice(&listing.names[entry.start..entry.end]);
                *target = std::fs::metadata(path_of(&self.path)).map(|m| {
                    if m.is_dir() {
                        Target::Dir
                    } else if m.is_file() {
                        Target::File
                    } else {
                        Target::Other
                    }
                });
            }
        }
        self.path.truncate(at);
        listing.finish();
        self.ancestors.push(dir_len);
        frames.push(Frame {
            listing,
            next: 0,
            path_len: at,
            display_len: self.display.len(),
            utf8,
        });
    }

    /// walkdir's `check_loop` for a link to the folder `child`.
    fn check_loop(&self, child: &Path) -> Result<(), Failure> {
        // The errors of opening carry no path (walkdir's `Error::from_io`).
        let failed = |err| Failure {
            path: None,
            problem: Owned::Io(err),
        };
        let target = identity(child).map_err(failed)?;
        let walked = self.ancestors.iter().rev().map(|&len| {
            if len == ROOT {
                self.root
            } else {
                path_of(&self.path[..len])
            }
        });
        let above = self.root_ancestors.iter().map(PathBuf::as_path);
        for ancestor in walked.chain(above) {
            if identity(ancestor).map_err(failed)? == target {
                return Err(Failure {
                    path: Some(child.to_path_buf()),
                    problem: Owned::Loop(ancestor.to_path_buf()),
                });
            }
        }
        Ok(())
    }

    fn problem(&mut self, path: Option<PathBuf>, problem: Problem<'_>) {
        if let Some(source) = problem_source(self.root, self.base, path.as_deref(), problem) {
            (self.sink)(source);
        }
    }
}

/// A file's (device, inode) as `same_file::Handle::from_path` finds them: the file opened for
/// reading, then `fstat`.
fn identity(path: &Path) -> io::Result<(u64, u64)> {
    let meta = std::fs::File::open(path)?.metadata()?;
    Ok((meta.dev(), meta.ino()))
}

/// What lists folders: on Linux `getdents64` into one buffer kept for the walk (rustix's
/// `RawDir`: no allocation per entry); elsewhere std's `read_dir`.
#[derive(Default)]
struct Reader {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    buf: Vec<std::mem::MaybeUninit<u8>>,
}

impl Reader {
    /// The entries of the folder `dir` but `.` and `..`, unsorted, links not yet followed.
    /// The error is that of opening the folder (std's `read_dir`, as walkdir calls it).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn list(&mut self, dir: &[u8], out: &mut Listing) -> io::Result<()> {
        use rustix::fs::{AtFlags, FileType, Mode, OFlags, RawDir};

        let fd = rustix::fs::open(
            dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        if self.buf.is_empty() {
            self.buf = vec![std::mem::MaybeUninit::uninit(); 32 * 1024];
        }
        let mut raw = RawDir::new(&fd, &mut self.buf);
        while let Some(entry) = raw.next() {
            let entry = match entry {
                Ok(entry) => entry,
                // A failed read ends the listing, with an error that carries no path
                // (walkdir's `DirList::next`).
                Err(err) => {
                    out.push(
                        b"",
                        Kind::Error {
                            err: err.into(),
                            named: false,
                        },
                    );
                    break;
                }
            };
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let of = |ty: FileType| match ty {
                FileType::RegularFile => Kind::File,
                FileType::Directory => Kind::Dir,
                FileType::Symlink => Kind::Link(Ok(Target::Other)),
                _ => Kind::Other,
            };
            let kind = match entry.file_type() {
                // Some file systems do not say: then the entry is stated without following it
                // (std's `DirEntry::file_type`).
                FileType::Unknown => {
                    match rustix::fs::statat(&fd, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW) {
                        Ok(stat) => of(FileType::from_raw_mode(stat.st_mode)),
                        Err(err) => Kind::Error {
                            err: err.into(),
                            named: true,
                        },
                    }
                }
                ty => of(ty),
            };
            out.push(name, kind);
        }
        Ok(())
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn list(&mut self, dir: &[u8], out: &mut Listing) -> io::Result<()> {
        for entry in std::fs::read_dir(path_of(dir))? {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    out.push(b"", Kind::Error { err, named: false });
                    break;
                }
            };
            let kind = match entry.file_type() {
                Ok(ty) if ty.is_file() => Kind::File,
                Ok(ty) if ty.is_dir() => Kind::Dir,
                Ok(ty) if ty.is_symlink() => Kind::Link(Ok(Target::Other)),
                Ok(_) => Kind::Other,
                Err(err) => Kind::Error { err, named: true },
            };
            out.push(entry.file_name().as_bytes(), kind);
        }
        Ok(())
    }
}

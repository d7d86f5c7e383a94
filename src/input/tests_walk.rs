//! The walk of walk_fast.rs against walkdir's (`walk::walk_by_walkdir`, the walk it replaced on
//! unix): random trees of folders, files, links (to files, to folders, to ancestors, broken)
//! and FIFOs must give equal sources, in the same order.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::Source;
use super::walk::{display_base, display_of, walk, walk_by_walkdir};

fn fast(root: &str) -> Vec<Source> {
    let mut out = Vec::new();
    walk(root, &mut |s| out.push(s));
    out
}

/// Makes a FIFO at `path` (safe, through rustix).
fn mkfifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        0,
    )
    .expect("mkfifo");
}

fn reference(root: &str) -> Vec<Source> {
    let mut out = Vec::new();
    walk_by_walkdir(root, &mut |s| out.push(s));
    out
}

/// Names that sort around `-`, `/`, `.` and digits, with known, unknown, upper-case and `.gz`
/// extensions, hidden, not UTF-8, and alike but for their ends.
const NAMES: &[&[u8]] = &[
    b"team",
    b"team-b",
    b"team.json",
    b"team0",
    b"a",
    b"a.json",
    b"A.JSON",
    b"a-b.yml",
    b"a.json.gz",
    b"a.Policy",
    b"b.txt",
    b"b.bin",
    b".json",
    b".hidden.yaml",
    b"c.d.csv",
    b"1",
    b"10.json",
    b"2",
    b"x.",
    b"\xc3\xa9t\xc3\xa9.json",
    b"n\xff.json",
    b"\xfe",
    b"z.template",
    b"z.ndjson.GZ",
    // Names alike over more than the 8 bytes the sort compares as a number.
    b"a-long-prefix-x",
    b"a-long-prefix-x.json",
    b"a-long-prefix-x-b.yml",
    b"a-long-prefix-x0.json",
];

#[derive(Clone, Debug)]
enum Node {
    File,
    Dir,
    /// A link to the n-th file, FIFO or link to a file made so far (broken when there is none).
    LinkFile(usize),
    /// A link to the n-th folder made so far or to the root's parent: a folder elsewhere in
    /// the tree, the folder itself or an ancestor (a loop).
    LinkDir(usize),
    Broken,
    /// A link to itself (`stat` fails: too many levels of links).
    SelfLink,
    Fifo,
    /// A folder that cannot be listed once the tree is made (mode 000; root lists it anyway).
    Locked,
}

fn node() -> impl Strategy<Value = Node> {
    prop_oneof![
        4 => Just(Node::File),
        3 => Just(Node::Dir),
        1 => any::<usize>().prop_map(Node::LinkFile),
        1 => any::<usize>().prop_map(Node::LinkDir),
        1 => Just(Node::Broken),
        1 => Just(Node::SelfLink),
        1 => Just(Node::Fifo),
        1 => Just(Node::Locked),
    ]
}

/// Makes the tree of `ops` (each: the folder it goes in, by index among those made so far; its
/// name; what it is) under `root`; returns the folders to lock once it is made.
fn build(root: &Path, ops: &[(usize, usize, Node)]) -> Vec<PathBuf> {
    let mut locked = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    let mut files: Vec<PathBuf> = Vec::new();
    for (parent, name, node) in ops {
        let parent = dirs[parent % dirs.len()].clone();
        let path = parent.join(OsStr::from_bytes(NAMES[name % NAMES.len()]));
        if fs::symlink_metadata(&path).is_ok() {
            continue;
        }
        match node {
            Node::File => {
                fs::write(&path, "{}").expect("write");
                files.push(path);
            }
            Node::Dir => {
                fs::create_dir(&path).expect("mkdir");
                dirs.push(path);
            }
            Node::Locked => {
                fs::create_dir(&path).expect("mkdir");
                locked.push(path.clone());
                dirs.push(path);
            }
            Node::LinkFile(n) => {
                let target = files
                    .get(n % files.len().max(1))
                    .cloned()
                    .unwrap_or_else(|| root.join("no-file"));
                symlink(target, &path).expect("symlink");
                // Links to this link follow two links.
                files.push(path);
            }
            Node::LinkDir(n) => {
                let parent_of_root = root.parent().expect("a temp dir has a parent");
                let target = dirs
                    .get(n % (dirs.len() + 1))
                    .map_or(parent_of_root, PathBuf::as_path);
                symlink(target, &path).expect("symlink");
            }
            Node::Broken => {
                symlink(root.join("gone.json"), &path).expect("symlink");
                files.push(path);
            }
            Node::SelfLink => symlink(&path, &path).expect("symlink"),
            Node::Fifo => {
                mkfifo(&path);
                files.push(path);
            }
        }
    }
    locked
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_walk_gives_what_walkdir_gives(
        ops in proptest::collection::vec((0..8usize, 0..NAMES.len(), node()), 0..28),
        form in 0..6usize,
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("root");
        fs::create_dir(&root).expect("mkdir");
        let locked = build(&root, &ops);
        let plain = root.to_str().expect("a temp dir's path is UTF-8").to_owned();
        // The folder argument as a user may give it.
        let arg = match form {
            0 => plain,
            1 => format!("{plain}/"),
            2 => format!("{plain}//"),
            3 => format!("{plain}/."),
            4 => {
                fs::create_dir_all(dir.path().join("up")).expect("mkdir");
                format!("{}/up/../root", dir.path().display())
            }
            _ => {
                let link = dir.path().join("link-to-root");
                symlink(&root, &link).expect("symlink");
                link.to_str().expect("UTF-8").to_owned()
            }
        };
        // Locked deepest first and opened again outermost first: a folder inside a locked
        // one cannot be reached.
        let mode = |dir: &PathBuf, m| {
            fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(m))
                .expect("chmod");
        };
        locked.iter().rev().for_each(|d| mode(d, 0o000));
        let (got, expected) = (fast(&arg), reference(&arg));
        locked.iter().for_each(|d| mode(d, 0o755));
        prop_assert_eq!(&got, &expected);
    }
}

#[test]
fn a_display_is_the_roots_prefix_and_the_relative_path() {
    // walk_fast.rs finds the prefix once, on the name `x`, and adds each relative path to it
    // (and to the path the same way): what `display_of` and `Path::join` give for every path.
    for root in [
        ".", "./", "./x", "dir", "dir/", "dir//", "dir/.", "a/./b", "/", "//", "///", "/abs/dir",
        "..", "../up/", "d/../e",
    ] {
        let base = display_base(root);
        let sample = Path::new(root).join("x");
        let (display, rel_len) = display_of(Path::new(root), base, &sample);
        assert_eq!(rel_len, 1, "{root}");
        let prefix = display.strip_suffix('x').expect("ends with the name");
        let path_prefix = sample
            .as_os_str()
            .as_bytes()
            .strip_suffix(b"x")
            .expect("ends with the name");
        for rel in ["a.json", "team/app.json", "t-b/x/y.yml", ".json", "x"] {
            let path = Path::new(root).join(rel);
            let (d, n) = display_of(Path::new(root), base, &path);
            assert_eq!(d, format!("{prefix}{rel}"), "{root} {rel}");
            assert_eq!(n, rel.len(), "{root} {rel}");
            assert_eq!(
                path.as_os_str().as_bytes(),
                [path_prefix, rel.as_bytes()].concat(),
                "{root} {rel}"
            );
        }
    }
}

#[test]
fn names_that_are_not_utf8_are_shown_lossily_and_opened_by_their_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let odd = dir.path().join(OsStr::from_bytes(b"d\xff"));
    fs::create_dir(&odd).expect("mkdir");
    let file = odd.join(OsStr::from_bytes(b"caf\xe9.json"));
    fs::write(&file, "{}").expect("write");
    fs::write(dir.path().join("plain.json"), "{}").expect("write");
    let arg = dir.path().to_str().expect("UTF-8").to_owned();
    let got = fast(&arg);
    assert_eq!(got, reference(&arg));
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        &*got[0].display,
        format!("{arg}/d\u{fffd}/caf\u{fffd}.json")
    );
    assert_eq!(got[0].path(), Some(file.as_path()));
    assert_eq!(got[0].label(), Some("d\u{fffd}/caf\u{fffd}"));
    assert_eq!(got[1].path(), Some(dir.path().join("plain.json").as_path()));
}

#[test]
fn a_fifo_is_never_a_source() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("pipe.json");
    mkfifo(&fifo);
    symlink(&fifo, dir.path().join("via-link.json")).expect("symlink");
    fs::write(dir.path().join("real.json"), "{}").expect("write");
    let arg = dir.path().to_str().expect("UTF-8").to_owned();
    let got = fast(&arg);
    assert_eq!(got, reference(&arg));
    let displays: Vec<_> = got.iter().map(|s| &*s.display).collect();
    assert_eq!(displays, [format!("{arg}/real.json")]);
}

#[test]
fn a_folder_that_cannot_be_listed_is_an_error_in_its_place() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let locked = dir.path().join("b");
    fs::create_dir(&locked).expect("mkdir");
    fs::write(locked.join("in.json"), "{}").expect("write");
    fs::write(dir.path().join("a.json"), "{}").expect("write");
    fs::write(dir.path().join("c.json"), "{}").expect("write");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).expect("chmod");
    let listable = fs::read_dir(&locked).is_ok();
    let arg = dir.path().to_str().expect("UTF-8").to_owned();
    let got = fast(&arg);
    let expected = reference(&arg);
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).expect("chmod");
    assert_eq!(got, expected);
    if listable {
        eprintln!("running as root: permissions do not stop listing; the rest is skipped");
        return;
    }
    let displays: Vec<_> = got.iter().map(|s| s.display.to_string()).collect();
    assert_eq!(
        displays,
        [
            format!("{arg}/a.json"),
            format!("{arg}/b"),
            format!("{arg}/c.json")
        ]
    );
    let message = got[1].walk_error().expect("an error");
    assert!(message.starts_with("cannot list the folder: "), "{message}");
}

#[test]
fn loops_through_links_name_the_ancestor_as_walked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("root");
    fs::create_dir_all(root.join("real/deep")).expect("mkdir");
    fs::write(root.join("real/deep/x.json"), "{}").expect("write");
    // Through `via` the folder `real` is walked a second time, as `via`; the loop inside it
    // then leads back to `root/via`, the ancestor as walked.
    symlink(root.join("real"), root.join("via")).expect("symlink");
    symlink(root.join("real"), root.join("real/deep/back")).expect("symlink");
    symlink(dir.path(), root.join("up")).expect("symlink");
    let arg = root.to_str().expect("UTF-8").to_owned();
    let got = fast(&arg);
    assert_eq!(got, reference(&arg));
    let errors: Vec<_> = got
        .iter()
        .filter_map(|s| Some((s.display.to_string(), s.walk_error()?.to_owned())))
        .collect();
    let looped = |ancestor: &str| {
        format!("symbolic link loop: it leads back to the folder `{ancestor}` already being walked")
    };
    assert_eq!(
        errors,
        [
            (
                format!("{arg}/real/deep/back"),
                looped(&format!("{arg}/real"))
            ),
            (
                format!("{arg}/up"),
                looped(
                    &dir.path()
                        .canonicalize()
                        .expect("canonical")
                        .display()
                        .to_string()
                )
            ),
            (
                format!("{arg}/via/deep/back"),
                looped(&format!("{arg}/via"))
            ),
        ]
    );
}

#[test]
fn names_alike_past_the_sorts_number_are_ordered_as_walkdir_orders_them() {
    // The names agree on their first 8 bytes after what all share (nothing: `b.json`), so
    // the sort falls back to comparing them whole; the folder sorts as `a-long-prefix-x/`.
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("a-long-prefix-x");
    fs::create_dir(&folder).expect("mkdir");
    fs::write(folder.join("in.json"), "{}").expect("write");
    for name in [
        "a-long-prefix-x0.json",
        "a-long-prefix-x.json",
        "a-long-prefix-x-b.yml",
        "a-long-prefix-x/",
        "b.json",
    ] {
        if let Some(name) = name.strip_suffix('/') {
            symlink(&folder, dir.path().join(format!("{name}-link"))).expect("symlink");
        } else {
            fs::write(dir.path().join(name), "{}").expect("write");
        }
    }
    let arg = dir.path().to_str().expect("UTF-8").to_owned();
    let got = fast(&arg);
    assert_eq!(got, reference(&arg));
    let displays: Vec<_> = got
        .iter()
        .map(|s| s.display.strip_prefix(&*arg).unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        displays,
        [
            "/a-long-prefix-x-b.yml",
            "/a-long-prefix-x-link/in.json",
            "/a-long-prefix-x.json",
            "/a-long-prefix-x/in.json",
            "/a-long-prefix-x0.json",
            "/b.json",
        ]
    );
}

#[test]
fn a_folder_of_many_entries_is_ordered_as_walkdir_orders_it() {
    // Over 256 entries the sort's number keeps two bytes for the entry's place, not one.
    let dir = tempfile::tempdir().expect("temp dir");
    for i in 0..300 {
        let name = match i % 3 {
            0 => format!("app-{i}.json"),
            1 => format!("app-{i}"),
            _ => format!("app-{}-{i}.yml", i / 7),
        };
        if i % 3 == 1 {
            fs::create_dir(dir.path().join(&name)).expect("mkdir");
            fs::write(dir.path().join(name).join("x.json"), "{}").expect("write");
        } else {
            fs::write(dir.path().join(name), "{}").expect("write");
        }
    }
    let arg = dir.path().to_str().expect("UTF-8").to_owned();
    let got = fast(&arg);
    assert_eq!(got.len(), 300);
    assert_eq!(got, reference(&arg));
}

#[test]
fn a_root_that_cannot_be_listed_is_one_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("root");
    fs::create_dir(&root).expect("mkdir");
    fs::write(root.join("a.json"), "{}").expect("write");
    fs::set_permissions(&root, fs::Permissions::from_mode(0o000)).expect("chmod");
    let listable = fs::read_dir(&root).is_ok();
    let arg = root.to_str().expect("UTF-8").to_owned();
    let got = fast(&arg);
    let expected = reference(&arg);
    fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).expect("chmod");
    assert_eq!(got, expected);
    if listable {
        eprintln!("running as root: permissions do not stop listing; the rest is skipped");
        return;
    }
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(&*got[0].display, arg);
    let message = got[0].walk_error().expect("an error");
    assert!(message.starts_with("cannot list the folder: "), "{message}");
}

#[test]
fn folders_too_deep_to_open_by_their_path_are_errors_where_walkdir_puts_them() {
    // Paths past PATH_MAX (4,096 bytes on Linux) cannot be opened, even by root: the deep
    // folders are made one inside the other through handles, and both walks meet the error.
    use rustix::fs::{Mode, OFlags};
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(dir.path().join("a.json"), "{}").expect("write");
    let mode = Mode::RWXU;
    let mut fd = rustix::fs::open(dir.path(), OFlags::DIRECTORY | OFlags::RDONLY, mode)
        .expect("open the temp dir");
    for level in 0..20 {
        let name = format!("{level:02}{}", "x".repeat(240));
        let file = rustix::fs::openat(
            &fd,
            format!("{level:02}.json"),
            OFlags::CREATE | OFlags::WRONLY,
            Mode::RUSR | Mode::WUSR,
        )
        .expect("create a file");
        drop(file);
        rustix::fs::mkdirat(&fd, &name, mode).expect("mkdir");
        fd = rustix::fs::openat(&fd, &name, OFlags::DIRECTORY | OFlags::RDONLY, mode)
            .expect("open the new folder");
    }
    let arg = dir.path().to_str().expect("UTF-8").to_owned();
    let got = fast(&arg);
    assert_eq!(got, reference(&arg));
    let errors: Vec<_> = got.iter().filter_map(|s| s.walk_error()).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(got.len() > 10, "{}", got.len());
}

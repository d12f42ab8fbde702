use super::*;
use crate::image::unpack::{self, Compression};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use std::os::unix::fs::{symlink, PermissionsExt};

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// What the tests compare of an entry: path, type, mode, owner, mtime,
/// size or content, link name, device numbers and xattrs.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    path: String,
    kind: char,
    mode: u32,
    owner: (u64, u64),
    mtime: u64,
    content: String,
    link: String,
    device: (u32, u32),
    xattrs: Vec<(String, Vec<u8>)>,
}

fn entries(tar_bytes: &[u8]) -> Vec<Seen> {
    let mut archive = tar::Archive::new(tar_bytes);
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut xattrs = Vec::new();
        if let Some(extensions) = entry.pax_extensions().unwrap() {
            for ext in extensions {
                let ext = ext.unwrap();
                let key = ext.key().unwrap().to_string();
                xattrs.push((key, ext.value_bytes().to_vec()));
            }
        }
        let header = entry.header().clone();
        let mut content = String::new();
        entry.read_to_string(&mut content).unwrap();
        seen.push(Seen {
            path: entry.path().unwrap().display().to_string(),
            kind: header.entry_type().as_byte() as char,
            mode: header.mode().unwrap(),
            owner: (header.uid().unwrap(), header.gid().unwrap()),
            mtime: header.mtime().unwrap(),
            content,
            link: entry
                .link_name()
                .unwrap()
                .map(|l| l.display().to_string())
                .unwrap_or_default(),
            device: if matches!(
                header.entry_type(),
                tar::EntryType::Char | tar::EntryType::Block
            ) {
                (
                    header.device_major().unwrap().unwrap(),
                    header.device_minor().unwrap().unwrap(),
                )
            } else {
                (0, 0)
            },
            xattrs,
        });
    }
    seen
}

fn seen(path: &str, kind: char, mode: u32) -> Seen {
    Seen {
        path: path.to_string(),
        kind,
        mode,
        owner: (0, 0),
        mtime: 1_000,
        content: String::new(),
        link: String::new(),
        device: (0, 0),
        xattrs: Vec::new(),
    }
}

fn write_file(path: &Path, text: &str, mode: u32) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn decompress(blob: &[u8], compression: Compression) -> Vec<u8> {
    let mut out = Vec::new();
    match compression {
        Compression::None => out.extend_from_slice(blob),
        Compression::Gzip => {
            flate2::read::GzDecoder::new(blob)
                .read_to_end(&mut out)
                .unwrap();
        }
        Compression::Zstd => {
            zstd::stream::read::Decoder::new(blob)
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
        }
    }
    out
}

/// An upper directory as a container could leave it: a changed file with
/// an owner, a whiteout, an opaque directory, hard links, a symlink, a
/// device, a fifo, a socket, and xattrs kept and dropped.
fn sample_upper(upper: &Path) {
    fs::create_dir_all(upper.join("etc")).unwrap();
    chmod(&upper.join("etc"), 0o755);
    write_file(&upper.join("etc/motd"), "hello\n", 0o640);
    std::os::unix::fs::chown(upper.join("etc/motd"), Some(1000), Some(50)).unwrap();
    mknod(
        &upper.join("etc/issue"),
        SFlag::S_IFCHR,
        Mode::empty(),
        makedev(0, 0),
    )
    .unwrap();
    fs::create_dir(upper.join("srv")).unwrap();
    chmod(&upper.join("srv"), 0o750);
    xattr::set(upper.join("srv"), "trusted.overlay.opaque", b"y").unwrap();
    // Overlay's bookkeeping is not part of the layer.
    xattr::set(upper.join("srv"), "trusted.overlay.origin", b"x").unwrap();
    write_file(&upper.join("srv/new.txt"), "new\n", 0o644);
    // Sorted before `.wh..wh..opq` by bytes, still after the marker.
    write_file(&upper.join("srv/-early"), "", 0o644);
    fs::create_dir(upper.join("a")).unwrap();
    chmod(&upper.join("a"), 0o755);
    write_file(&upper.join("a/one"), "linked\n", 0o755);
    fs::hard_link(upper.join("a/one"), upper.join("a/two")).unwrap();
    xattr::set(upper.join("a/one"), "user.note", b"kept").unwrap();
    // CAP_NET_RAW permitted and effective (VFS_CAP_REVISION_2).
    let cap = [
        1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    xattr::set(upper.join("a/one"), "security.capability", &cap).unwrap();
    symlink("etc/motd", upper.join("link")).unwrap();
    mknod(
        &upper.join("null"),
        SFlag::S_IFCHR,
        Mode::from_bits_truncate(0o666),
        makedev(1, 3),
    )
    .unwrap();
    chmod(&upper.join("null"), 0o666);
    nix::unistd::mkfifo(&upper.join("pipe"), Mode::from_bits_truncate(0o600)).unwrap();
    chmod(&upper.join("pipe"), 0o600);
    let _socket = std::os::unix::net::UnixListener::bind(upper.join("sock")).unwrap();
}

#[test]
fn an_upper_directory_becomes_the_entries_oci_specifies() {
    if !is_root() {
        return; // whiteouts, trusted.* xattrs and chown need root
    }
    let dir = tempfile::tempdir().unwrap();
    let upper = dir.path().join("upper");
    sample_upper(&upper);
    let mut blob = Vec::new();
    let options = DiffOptions {
        compression: Compression::Gzip,
        mtime: Some(1_000),
    };
    let diff = write_layer(&upper, &mut blob, &options).unwrap();
    let tar_bytes = decompress(&blob, Compression::Gzip);
    assert_eq!(
        diff.diff_id,
        crate::image::store::layout::sha256_digest(&tar_bytes)
    );
    assert_eq!(
        diff.digest,
        crate::image::store::layout::sha256_digest(&blob)
    );
    assert_eq!(diff.size, blob.len() as u64);
    assert_eq!(
        diff.media_type,
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );

    let cap = xattr::get(upper.join("a/one"), "security.capability")
        .unwrap()
        .unwrap();
    let expected = vec![
        seen("a", '5', 0o755),
        Seen {
            content: "linked\n".into(),
            xattrs: vec![
                ("SCHILY.xattr.security.capability".into(), cap),
                ("SCHILY.xattr.user.note".into(), b"kept".to_vec()),
            ],
            ..seen("a/one", '0', 0o755)
        },
        Seen {
            link: "a/one".into(),
            xattrs: vec![],
            ..seen("a/two", '1', 0o755)
        },
        seen("etc", '5', 0o755),
        seen("etc/.wh.issue", '0', 0o600),
        Seen {
            owner: (1000, 50),
            content: "hello\n".into(),
            ..seen("etc/motd", '0', 0o640)
        },
        Seen {
            link: "etc/motd".into(),
            ..seen("link", '2', 0o777)
        },
        Seen {
            device: (1, 3),
            ..seen("null", '3', 0o666)
        },
        seen("pipe", '6', 0o600),
        seen("srv", '5', 0o750),
        seen("srv/.wh..wh..opq", '0', 0o600),
        seen("srv/-early", '0', 0o644),
        Seen {
            content: "new\n".into(),
            ..seen("srv/new.txt", '0', 0o644)
        },
    ];
    let mut got = entries(&tar_bytes);
    // The second name of a hard link carries the inode's xattrs too.
    got.iter_mut()
        .filter(|s| s.kind == '1')
        .for_each(|s| s.xattrs.clear());
    assert_eq!(got, expected);
}

#[test]
fn a_layer_unpacks_back_into_the_same_overlay_directory() {
    if !is_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let upper = dir.path().join("upper");
    sample_upper(&upper);
    for compression in [Compression::Gzip, Compression::Zstd, Compression::None] {
        let mut blob = Vec::new();
        let options = DiffOptions {
            compression,
            mtime: None,
        };
        let diff = write_layer(&upper, &mut blob, &options).unwrap();
        let dest = dir.path().join(format!("unpacked-{compression:?}"));
        let unpacked =
            unpack::unpack_layer(&blob[..], compression, &dest, "test", Some(&diff.digest))
                .unwrap();
        assert_eq!(unpacked.diff_id, diff.diff_id);
        let issue = fs::symlink_metadata(dest.join("etc/issue")).unwrap();
        assert!(issue.file_type().is_char_device() && issue.rdev() == 0);
        assert_eq!(
            xattr::get(dest.join("srv"), "trusted.overlay.opaque").unwrap(),
            Some(b"y".to_vec())
        );
        assert_eq!(
            xattr::get(dest.join("srv"), "trusted.overlay.origin").unwrap(),
            None
        );
        let one = fs::metadata(dest.join("a/one")).unwrap();
        assert_eq!(one.ino(), fs::metadata(dest.join("a/two")).unwrap().ino());
        assert_eq!(
            xattr::get(dest.join("a/one"), "user.note").unwrap(),
            Some(b"kept".to_vec())
        );
        let motd = fs::metadata(dest.join("etc/motd")).unwrap();
        let original = fs::metadata(upper.join("etc/motd")).unwrap();
        assert_eq!(
            (motd.uid(), motd.gid(), motd.mtime()),
            (1000, 50, original.mtime())
        );
        assert_eq!(
            fs::read_link(dest.join("link")).unwrap(),
            Path::new("etc/motd")
        );
        assert!(!dest.join("sock").exists());
    }
}

#[test]
fn fixed_times_make_the_same_changes_the_same_layer() {
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str, mtime: i64| {
        let upper = dir.path().join(name);
        fs::create_dir_all(upper.join("b/c")).unwrap();
        fs::write(upper.join("b/c/file"), "same\n").unwrap();
        fs::write(upper.join("z"), "last\n").unwrap();
        fs::write(upper.join("a"), "first\n").unwrap();
        let time = nix::sys::time::TimeSpec::new(mtime, 0);
        for path in ["b/c/file", "b/c", "b", "z", "a"] {
            nix::sys::stat::utimensat(
                nix::fcntl::AT_FDCWD,
                &upper.join(path),
                &time,
                &time,
                nix::sys::stat::UtimensatFlags::NoFollowSymlink,
            )
            .unwrap();
        }
        upper
    };
    let first = make("first", 100);
    let second = make("second", 200);
    let layer = |upper: &Path, mtime: Option<u64>| {
        let mut blob = Vec::new();
        let options = DiffOptions {
            compression: Compression::Gzip,
            mtime,
        };
        (write_layer(upper, &mut blob, &options).unwrap(), blob)
    };
    let (a, blob_a) = layer(&first, Some(0));
    let (b, blob_b) = layer(&second, Some(0));
    assert_eq!(a, b);
    assert_eq!(blob_a, blob_b);
    let paths: Vec<String> = entries(&decompress(&blob_a, Compression::Gzip))
        .into_iter()
        .map(|s| format!("{}@{}", s.path, s.mtime))
        .collect();
    assert_eq!(paths, ["a@0", "b@0", "b/c@0", "b/c/file@0", "z@0"]);
    // Own times kept otherwise: the layers differ.
    let (a, _) = layer(&first, None);
    let (b, blob_b) = layer(&second, None);
    assert_ne!(a.diff_id, b.diff_id);
    assert!(entries(&decompress(&blob_b, Compression::Gzip))
        .iter()
        .all(|s| s.mtime == 200));
    // Uncompressed: the blob is the tar.
    let mut blob = Vec::new();
    let options = DiffOptions {
        compression: Compression::None,
        mtime: None,
    };
    let plain = write_layer(&first, &mut blob, &options).unwrap();
    assert_eq!(plain.diff_id, plain.digest);
    assert_eq!(plain.media_type, "application/vnd.oci.image.layer.v1.tar");
}

#[test]
fn long_names_and_targets_survive() {
    let dir = tempfile::tempdir().unwrap();
    let deep = "d".repeat(90);
    let name = format!("{deep}/{}", "f".repeat(120));
    fs::create_dir(dir.path().join(&deep)).unwrap();
    fs::write(dir.path().join(&name), "x").unwrap();
    symlink(format!("/{name}"), dir.path().join("l")).unwrap();
    let mut blob = Vec::new();
    write_layer(dir.path(), &mut blob, &DiffOptions::default()).unwrap();
    let got = entries(&decompress(&blob, Compression::Gzip));
    let paths: Vec<(&str, &str)> = got
        .iter()
        .map(|s| (s.path.as_str(), s.link.as_str()))
        .collect();
    let target = format!("/{name}");
    assert_eq!(
        paths,
        [
            (deep.as_str(), ""),
            (name.as_str(), ""),
            ("l", target.as_str())
        ]
    );
}

#[test]
fn refuses_upper_directories_that_need_their_lower_layers() {
    if !is_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("moved")).unwrap();
    xattr::set(
        dir.path().join("moved"),
        "trusted.overlay.redirect",
        b"/old",
    )
    .unwrap();
    let err = write_layer(dir.path(), Vec::new(), &DiffOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("moved") && err.contains("redirect_dir"),
        "{err}"
    );
    let err = write_layer(
        &dir.path().join("missing"),
        Vec::new(),
        &DiffOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("missing"), "{err}");
}

//! Unpacking tests: every kind of entry, whiteouts, compressions, digests,
//! and hostile archives that try to write outside the layer directory.

use super::*;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

/// Appends an entry with a raw name (bypassing the tar crate's checks).
fn raw(
    builder: &mut tar::Builder<Vec<u8>>,
    name: &str,
    kind: tar::EntryType,
    data: &[u8],
    link: Option<&str>,
) {
    append_raw(builder, name, kind, data, 0o644, link);
}

/// Appends an entry whose name and link target go into the header as they
/// are (no normalization by the tar crate), with `data` and `mode`.
fn append_raw(
    builder: &mut tar::Builder<Vec<u8>>,
    name: &str,
    kind: tar::EntryType,
    data: &[u8],
    mode: u32,
    link: Option<&str>,
) {
    let mut header = tar::Header::new_gnu();
    {
        let old = header.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(link) = link {
            old.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
    }
    header.set_entry_type(kind);
    header.set_size(data.len() as u64);
    header.set_mode(mode);
    header.set_mtime(1_700_000_000);
    header.set_cksum();
    builder.append(&header, data).unwrap();
}

fn build(entries: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    entries(&mut builder);
    builder.into_inner().unwrap()
}

fn sha(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Unpacks into `<tmp>/layer`; returns the tempdir (to check nothing else changed).
fn unpack(tar: &[u8]) -> (tempfile::TempDir, Result<UnpackedLayer, UnpackError>) {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("layer")).unwrap();
    fs::create_dir(dir.path().join("outside")).unwrap();
    let result = unpack_layer(
        tar,
        Compression::None,
        &dir.path().join("layer"),
        "sha256:test",
        None,
    );
    (dir, result)
}

fn outside_untouched(dir: &tempfile::TempDir) {
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(fs::read_dir(dir.path().join("outside")).unwrap().count(), 0);
}

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

#[test]
fn media_types_and_sniffing() {
    assert_eq!(
        Compression::from_media_type("application/vnd.oci.image.layer.v1.tar+gzip"),
        Some(Compression::Gzip)
    );
    assert_eq!(
        Compression::from_media_type("application/vnd.oci.image.layer.v1.tar+zstd"),
        Some(Compression::Zstd)
    );
    assert_eq!(
        Compression::from_media_type("application/vnd.oci.image.layer.v1.tar"),
        Some(Compression::None)
    );
    assert_eq!(
        Compression::from_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip"),
        Some(Compression::Gzip)
    );
    assert_eq!(
        Compression::from_media_type("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"),
        Some(Compression::Gzip)
    );
    assert_eq!(
        Compression::from_media_type("application/vnd.oci.image.config.v1+json"),
        None
    );
    assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8]), Compression::Gzip);
    assert_eq!(
        Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
        Compression::Zstd
    );
    assert_eq!(Compression::sniff(b"ustar"), Compression::None);
}

#[test]
fn files_dirs_links_modes_owners() {
    let tar = build(|b| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o750);
        h.set_uid(1000);
        h.set_gid(1001);
        h.set_size(0);
        b.append_data(&mut h, "srv/", &b""[..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o4755);
        h.set_uid(0);
        h.set_size(5);
        h.set_mtime(1_600_000_000);
        b.append_data(&mut h, "srv/tool", &b"hello"[..]).unwrap();
        raw(
            b,
            "srv/link",
            tar::EntryType::Symlink,
            b"",
            Some("/etc/absolute-is-fine"),
        );
        raw(b, "srv/hard", tar::EntryType::Link, b"", Some("srv/tool"));
        let mut h = tar::Header::new_ustar();
        h.set_size(1);
        h.set_mode(0o644);
        b.append_pax_extensions([("SCHILY.xattr.user.berth", &b"yes"[..])])
            .unwrap();
        b.append_data(&mut h, "srv/attr", &b"x"[..]).unwrap();
    });
    let (dir, result) = unpack(&tar);
    let layer = dir.path().join("layer");
    let unpacked = result.unwrap();
    assert_eq!(unpacked.diff_id, sha(&tar));
    assert_eq!(unpacked.compressed_digest, sha(&tar));
    let srv = fs::metadata(layer.join("srv")).unwrap();
    assert_eq!(srv.permissions().mode() & 0o7777, 0o750);
    if is_root() {
        assert_eq!((srv.uid(), srv.gid()), (1000, 1001));
    }
    let tool = fs::metadata(layer.join("srv/tool")).unwrap();
    assert_eq!(tool.permissions().mode() & 0o7777, 0o4755);
    assert_eq!(tool.mtime(), 1_600_000_000);
    assert_eq!(
        fs::read_link(layer.join("srv/link")).unwrap(),
        Path::new("/etc/absolute-is-fine")
    );
    assert_eq!(
        fs::metadata(layer.join("srv/hard")).unwrap().ino(),
        tool.ino()
    );
    assert_eq!(
        xattr::get(layer.join("srv/attr"), "user.berth")
            .unwrap()
            .as_deref(),
        Some(&b"yes"[..])
    );
    outside_untouched(&dir);
}

#[test]
fn whiteouts_become_overlay_whiteouts() {
    if !is_root() {
        return;
    }
    let tar = build(|b| {
        raw(b, "etc/.wh.motd", tar::EntryType::Regular, b"", None);
        raw(
            b,
            "var/cache/.wh..wh..opq",
            tar::EntryType::Regular,
            b"",
            None,
        );
        raw(b, "dev/fifo", tar::EntryType::Fifo, b"", None);
    });
    let (dir, result) = unpack(&tar);
    result.unwrap();
    let layer = dir.path().join("layer");
    let whiteout = fs::symlink_metadata(layer.join("etc/motd")).unwrap();
    assert!(whiteout.file_type().is_char_device());
    assert_eq!(whiteout.rdev(), 0);
    assert!(!layer.join("etc/.wh.motd").exists());
    assert_eq!(
        xattr::get(layer.join("var/cache"), "trusted.overlay.opaque")
            .unwrap()
            .as_deref(),
        Some(&b"y"[..])
    );
    assert!(!layer.join("var/cache/.wh..wh..opq").exists());
    assert!(fs::symlink_metadata(layer.join("dev/fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
}

#[test]
fn compressions_and_digest_check() {
    let tar = build(|b| raw(b, "a.txt", tar::EntryType::Regular, b"abc", None));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::encode_all(&tar[..], 3).unwrap();
    for (blob, compression) in [
        (&gz, Compression::Gzip),
        (&zst, Compression::Zstd),
        (&tar, Compression::None),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let result =
            unpack_layer(&blob[..], compression, dir.path(), "l", Some(&sha(blob))).unwrap();
        assert_eq!(result.diff_id, sha(&tar));
        assert_eq!(result.compressed_digest, sha(blob));
        assert_eq!(result.size, blob.len() as u64);
        assert_eq!(fs::read(dir.path().join("a.txt")).unwrap(), b"abc");
    }
    let dir = tempfile::tempdir().unwrap();
    let err = unpack_layer(
        &gz[..],
        Compression::Gzip,
        dir.path(),
        "sha256:bad",
        Some("sha256:0000"),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("layer sha256:bad: digest mismatch"),
        "{err}"
    );
}

fn refused(tar: Vec<u8>, entry: &str) {
    let (dir, result) = unpack(&tar);
    let err = result.expect_err("hostile archive must be refused");
    let text = err.to_string();
    assert!(text.starts_with("layer sha256:test: entry"), "{text}");
    assert!(text.contains(entry), "{text} should name {entry}");
    outside_untouched(&dir);
}

#[test]
fn dot_dot_is_refused() {
    refused(
        build(|b| raw(b, "../outside/x", tar::EntryType::Regular, b"x", None)),
        "../outside/x",
    );
    refused(
        build(|b| raw(b, "a/../../outside/x", tar::EntryType::Regular, b"x", None)),
        "a/../../outside/x",
    );
}

#[test]
fn absolute_paths_stay_inside() {
    let tar = build(|b| raw(b, "/etc/absolute", tar::EntryType::Regular, b"x", None));
    let (dir, result) = unpack(&tar);
    result.unwrap();
    assert!(dir.path().join("layer/etc/absolute").exists());
    outside_untouched(&dir);
}

#[test]
fn symlink_traversal_is_refused() {
    refused(
        build(|b| {
            raw(b, "evil", tar::EntryType::Symlink, b"", Some("/"));
            raw(b, "evil/etc/x", tar::EntryType::Regular, b"x", None);
        }),
        "evil/etc/x",
    );
    refused(
        build(|b| {
            raw(b, "evil", tar::EntryType::Symlink, b"", Some("../outside"));
            raw(b, "evil/x", tar::EntryType::Regular, b"x", None);
        }),
        "evil/x",
    );
    // A symlink replaced by a file is fine: the link itself is removed, not followed.
    let tar = build(|b| {
        raw(
            b,
            "swap",
            tar::EntryType::Symlink,
            b"",
            Some("../outside/target"),
        );
        raw(b, "swap", tar::EntryType::Regular, b"x", None);
    });
    let (dir, result) = unpack(&tar);
    result.unwrap();
    assert!(fs::symlink_metadata(dir.path().join("layer/swap"))
        .unwrap()
        .is_file());
    outside_untouched(&dir);
}

#[test]
fn hostile_hardlinks_are_refused() {
    refused(
        build(|b| raw(b, "h", tar::EntryType::Link, b"", Some("../outside/passwd"))),
        "\"h\"",
    );
    refused(
        build(|b| {
            raw(b, "evil", tar::EntryType::Symlink, b"", Some("/etc"));
            raw(b, "h", tar::EntryType::Link, b"", Some("evil/passwd"));
        }),
        "\"h\"",
    );
    refused(
        build(|b| raw(b, "h", tar::EntryType::Link, b"", Some("missing"))),
        "\"h\"",
    );
}

#[test]
fn whiteout_through_symlink_is_refused() {
    refused(
        build(|b| {
            raw(b, "evil", tar::EntryType::Symlink, b"", Some("../outside"));
            raw(b, "evil/.wh.x", tar::EntryType::Regular, b"", None);
        }),
        "evil/.wh.x",
    );
}

#[test]
fn whiteouts_of_dot_and_dot_dot_are_refused() {
    refused(
        build(|b| raw(b, ".wh...", tar::EntryType::Regular, b"", None)),
        ".wh...",
    );
    refused(
        build(|b| raw(b, "etc/.wh..", tar::EntryType::Regular, b"", None)),
        "etc/.wh..",
    );
    // AUFS metadata is skipped, not an error.
    let (dir, result) = unpack(&build(|b| {
        raw(b, ".wh..wh.plnk", tar::EntryType::Directory, b"", None)
    }));
    result.unwrap();
    outside_untouched(&dir);
}

/// Appends an empty entry with a raw name and an explicit mode.
fn raw_mode(
    builder: &mut tar::Builder<Vec<u8>>,
    name: &str,
    kind: tar::EntryType,
    mode: u32,
    link: Option<&str>,
) {
    append_raw(builder, name, kind, b"", mode, link);
}

/// A host file outside the unpack directory, mode 0600; returns its dir and path.
fn host_file() -> (tempfile::TempDir, String) {
    let host = tempfile::tempdir().unwrap();
    let file = host.path().join("secret");
    fs::write(&file, "x").unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    let path = file.to_str().unwrap().to_string();
    (host, path)
}

fn mode_of(path: impl AsRef<Path>) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn directory_replaced_by_symlink_leaves_host_file_alone() {
    let (_host, secret) = host_file();
    let tar = build(|b| {
        raw_mode(b, "d/", tar::EntryType::Directory, 0o4777, None);
        raw_mode(b, "d", tar::EntryType::Symlink, 0o777, Some(&secret));
    });
    let (dir, result) = unpack(&tar);
    result.unwrap();
    assert_eq!(
        mode_of(&secret),
        0o600,
        "host file chmod'ed through the symlink"
    );
    assert_eq!(
        fs::read_link(dir.path().join("layer/d")).unwrap(),
        Path::new(&secret)
    );
    outside_untouched(&dir);
}

#[test]
fn nested_directory_under_replaced_parent_leaves_host_alone() {
    let host = tempfile::tempdir().unwrap();
    fs::create_dir(host.path().join("e")).unwrap();
    fs::set_permissions(host.path().join("e"), fs::Permissions::from_mode(0o700)).unwrap();
    let host_mode = mode_of(host.path());
    let target = host.path().to_str().unwrap().to_string();
    let tar = build(|b| {
        raw_mode(b, "d/", tar::EntryType::Directory, 0o755, None);
        raw_mode(b, "d/e/", tar::EntryType::Directory, 0o4777, None);
        raw_mode(b, "d", tar::EntryType::Symlink, 0o777, Some(&target));
    });
    let (dir, result) = unpack(&tar);
    result.unwrap();
    assert_eq!(mode_of(host.path().join("e")), 0o700);
    assert_eq!(mode_of(host.path()), host_mode);
    outside_untouched(&dir);
}

#[test]
fn directory_replaced_by_hardlink_leaves_targets_alone() {
    // Through a hardlink to a symlink that points at the host file.
    let (_host, secret) = host_file();
    let tar = build(|b| {
        raw_mode(b, "s", tar::EntryType::Symlink, 0o777, Some(&secret));
        raw_mode(b, "d/", tar::EntryType::Directory, 0o4777, None);
        raw_mode(b, "d", tar::EntryType::Link, 0o777, Some("s"));
    });
    let (dir, result) = unpack(&tar);
    result.unwrap();
    assert_eq!(
        mode_of(&secret),
        0o600,
        "host file chmod'ed through a hardlinked symlink"
    );
    assert!(fs::symlink_metadata(dir.path().join("layer/d"))
        .unwrap()
        .file_type()
        .is_symlink());
    // Through a hardlink to a file of the layer: the file keeps its own mode.
    let tar = build(|b| {
        raw_mode(b, "f", tar::EntryType::Regular, 0o644, None);
        raw_mode(b, "d/", tar::EntryType::Directory, 0o4777, None);
        raw_mode(b, "d", tar::EntryType::Link, 0o777, Some("f"));
    });
    let (dir, result) = unpack(&tar);
    result.unwrap();
    assert_eq!(mode_of(dir.path().join("layer/f")), 0o644);
    outside_untouched(&dir);
}

#[test]
fn directory_whited_out_then_symlinked_leaves_host_file_alone() {
    if !is_root() {
        return; // whiteouts are 0:0 character devices
    }
    let (_host, secret) = host_file();
    let tar = build(|b| {
        raw_mode(b, "d/", tar::EntryType::Directory, 0o4777, None);
        raw_mode(b, ".wh.d", tar::EntryType::Regular, 0o644, None);
        raw_mode(b, "d", tar::EntryType::Symlink, 0o777, Some(&secret));
    });
    let (dir, result) = unpack(&tar);
    result.unwrap();
    assert_eq!(
        mode_of(&secret),
        0o600,
        "host file chmod'ed after a whiteout"
    );
    outside_untouched(&dir);
}

#[test]
fn directory_listed_twice_takes_the_later_mode() {
    let tar = build(|b| {
        raw_mode(b, "d/", tar::EntryType::Directory, 0o700, None);
        raw_mode(b, "d/", tar::EntryType::Directory, 0o751, None);
        raw_mode(b, "d/e/", tar::EntryType::Directory, 0o710, None);
    });
    let (dir, result) = unpack(&tar);
    result.unwrap();
    assert_eq!(mode_of(dir.path().join("layer/d")), 0o751);
    assert_eq!(mode_of(dir.path().join("layer/d/e")), 0o710);
}

/// A `security.capability` value (revision 2) granting CAP_NET_BIND_SERVICE.
fn file_capability() -> Vec<u8> {
    let words: [u32; 5] = [0x0200_0000, 1 << 10, 0, 0, 0];
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[test]
fn only_safe_xattrs_are_applied() {
    if !is_root() {
        return; // trusted.* and security.* need CAP_SYS_ADMIN / CAP_SETFCAP
    }
    let capability = file_capability();
    let tar = build(|b| {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        b.append_pax_extensions([
            ("SCHILY.xattr.trusted.overlay.opaque", &b"y"[..]),
            ("SCHILY.xattr.trusted.overlay.redirect", &b"/etc"[..]),
            ("SCHILY.xattr.user.kept", &b"dir"[..]),
        ])
        .unwrap();
        b.append_data(&mut h, "dir/", &b""[..]).unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_size(1);
        h.set_mode(0o755);
        b.append_pax_extensions([
            ("SCHILY.xattr.trusted.overlay.metacopy", &b""[..]),
            ("SCHILY.xattr.trusted.other", &b"x"[..]),
            (
                "SCHILY.xattr.security.selinux",
                &b"system_u:object_r:shadow_t:s0"[..],
            ),
            ("SCHILY.xattr.security.capability", &capability[..]),
            ("SCHILY.xattr.user.kept", &b"file"[..]),
        ])
        .unwrap();
        b.append_data(&mut h, "dir/tool", &b"x"[..]).unwrap();
    });
    let (dir, result) = unpack(&tar);
    result.unwrap();
    let layer = dir.path().join("layer");
    let names = |path: &Path| -> Vec<String> {
        let mut names: Vec<_> = xattr::list(path)
            .unwrap()
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&layer.join("dir")), ["user.kept"]);
    assert_eq!(
        names(&layer.join("dir/tool")),
        ["security.capability", "user.kept"]
    );
    assert_eq!(
        xattr::get(layer.join("dir/tool"), "security.capability")
            .unwrap()
            .unwrap(),
        capability
    );
    assert_eq!(mode_of(layer.join("dir/tool")), 0o755);
}

#[test]
fn xattr_filter() {
    use super::entry::xattr_allowed;
    for kept in [
        "user.x",
        "security.capability",
        "system.posix_acl_access",
        "system.posix_acl_default",
    ] {
        assert!(xattr_allowed(kept), "{kept}");
    }
    for dropped in [
        "trusted.overlay.opaque",
        "trusted.overlay.redirect",
        "trusted.overlay.metacopy",
        "trusted.x",
        "security.selinux",
        "security.ima",
        "security.evm",
        "system.other",
    ] {
        assert!(!xattr_allowed(dropped), "{dropped}");
    }
}

//! Volumes end to end, as a non-root image uses them: a new volume (named
//! or anonymous) takes the owner and mode of the image directory it covers,
//! even an empty one, then its content (Docker's copy-up); a volume that was
//! already filled keeps its own.

mod support;

use support::containers::{can_run_containers, isolated};
use support::project::Project;

/// A layer with the test image's root filesystem plus `/d` (1234:4321,
/// 0700, empty) and `/e` (0751) holding a file owned 5:6.
fn owned_dirs_layer(rootfs_tar: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut base = tar::Archive::new(rootfs_tar);
    for entry in base.entries().unwrap() {
        let mut entry = entry.unwrap();
        let header = entry.header().clone();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        builder.append(&header, &data[..]).unwrap();
    }
    let mut add = |path: &str, kind: tar::EntryType, uid: u64, gid: u64, mode: u32, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_uid(uid);
        header.set_gid(gid);
        header.set_mtime(1_700_000_000);
        builder.append_data(&mut header, path, data).unwrap();
    };
    add("d", tar::EntryType::Directory, 1234, 4321, 0o700, b"");
    add("e", tar::EntryType::Directory, 0, 0, 0o751, b"");
    add(
        "e/f",
        tar::EntryType::Regular,
        5,
        6,
        0o640,
        b"from the image\n",
    );
    builder.into_inner().unwrap()
}

/// Loads `berth.test/owned:latest` (see [`owned_dirs_layer`]) into the
/// project's state root.
fn load_owned_image(p: &Project) {
    let images = p.root.parent().unwrap().join("images");
    let rootfs = std::fs::read(images.join("rootfs.tar")).unwrap();
    let archive = support::docker_save(
        &owned_dirs_layer(&rootfs),
        &["sh"],
        &["berth.test/owned:latest"],
    );
    let path = images.join("owned.tar");
    std::fs::write(&path, archive).unwrap();
    p.ok(&["image", "load", "-i", path.to_str().unwrap()]);
}

const COMPOSE: &str = r#"name: own
services:
  named:
    image: berth.test/owned:latest
    user: "1234:4321"
    stop_signal: SIGKILL
    command: [sh, -c, 'stat -c "d %u:%g %a" /d; stat -c "e %u:%g %a" /e; stat -c "f %u:%g %a" /e/f; echo written > /d/mine && echo wrote-named; sleep 60']
    volumes:
      - data:/d
      - files:/e
  anonymous:
    image: berth.test/owned:latest
    user: "1234:4321"
    stop_signal: SIGKILL
    command: [sh, -c, 'stat -c "d %u:%g %a" /d; echo written > /d/mine && echo wrote-anonymous; sleep 60']
    volumes:
      - /d
  seed:
    image: berth.test/owned:latest
    stop_signal: SIGKILL
    command: [sh, -c, 'stat -c "srv %u:%g %a" /srv; echo seeded; sleep 60']
    volumes:
      - kept:/srv
volumes:
  data: {}
  files: {}
  kept: {}
"#;

#[test]
fn new_volumes_take_the_owner_and_mode_of_the_image_directory() {
    if !can_run_containers() {
        return;
    }
    isolated(
        "new_volumes_take_the_owner_and_mode_of_the_image_directory",
        || {
            let p = Project::new(COMPOSE);
            load_owned_image(&p);
            p.ok(&["up", "-d"]);

            // A named volume over an empty 1234:4321 0700 directory: the
            // service running as 1234:4321 can write into it.
            let named = p.wait_for_logs("named", |l| l.contains("wrote-named"));
            assert_eq!(
                named, "d 1234:4321 700\ne 0:0 751\nf 5:6 640\nwrote-named\n",
                "{named}"
            );
            // The same for an anonymous volume.
            let anonymous = p.wait_for_logs("anonymous", |l| l.contains("wrote-anonymous"));
            assert_eq!(anonymous, "d 1234:4321 700\nwrote-anonymous\n");
            assert_eq!(
                p.wait_for_logs("seed", |l| l.contains("seeded")),
                "srv 0:0 755\nseeded\n"
            );

            // A volume filled before keeps its owner and mode, and its
            // content, when it is mounted over another directory.
            p.write(
                &COMPOSE
                    .replace("kept:/srv", "kept:/d")
                    .replace("/srv;", "/d; ls /d;"),
            );
            p.ok(&["up", "-d", "seed"]);
            let seed = p.wait_for_logs("seed", |l| l.contains("seeded"));
            assert_eq!(seed, "srv 0:0 755\nbase.txt\nseeded\n", "{seed}");

            p.ok(&["down", "-t", "0", "-v"]);
        },
    );
}

//! Seccomp: the system-call filter a container's processes run under.
//!
//! A profile (Docker's default, embedded from `default.json`, or one in
//! Docker's JSON format given with `seccomp=PROFILE.json`) is resolved for
//! the container's final capability set, the host's architecture and kernel
//! ([`profile`]), and compiled with libseccomp into a classic BPF program
//! in the process that creates the container. Programs are cached in memory
//! and in the state root's `seccomp/` directory, keyed by a digest of the
//! profile, the capability set, the architecture, the kernel and the
//! libseccomp version, so a profile is compiled once, not per container. `create` stores the program as
//! `seccomp.bpf` in the container's directory; the container's init and
//! `exec` read it before they leave the host's mount namespace and load it
//! with `seccomp(SECCOMP_SET_MODE_FILTER)` just before exec ([`load`]).
//! `privileged` and `seccomp=unconfined` get no filter.
//!
//! `default.json` is moby's default profile (`github.com/moby/profiles/seccomp`
//! v0.2.3, as vendored by moby/moby; Apache-2.0, like berth), reformatted.

mod profile;
#[cfg(test)]
mod verdict_tests;

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Seek};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use libseccomp::{ScmpArch, ScmpFilterContext, ScmpSyscall};
use sha2::{Digest, Sha256};

pub use profile::{parse_release, Profile, ProfileError, Rule, Target};

use super::capabilities;
use super::spec::{Seccomp, Security};
use super::state::ContainerDir;
use super::sys;

/// Docker's default profile, as Docker's JSON.
pub const DEFAULT_PROFILE_JSON: &str = include_str!("default.json");

/// Changes when `compile` makes different programs from the same inputs,
/// so programs cached on disk by an older berth are not used.
const COMPILER_VERSION: &str = "berth-seccomp-1 optimize=2";

/// The program's file in a container's directory.
const PROGRAM_FILE: &str = "seccomp.bpf";
/// Size of one `struct sock_filter`.
const INSTRUCTION_SIZE: usize = 8;

static DEFAULT_PROFILE: LazyLock<Result<Profile, ProfileError>> =
    LazyLock::new(|| Profile::parse(DEFAULT_PROFILE_JSON));

/// Compiled programs by digest of what they depend on (see [`program_cached`]).
static PROGRAMS: LazyLock<Mutex<HashMap<String, Program>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A compiled filter: `struct sock_filter` instructions, native endian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program(Arc<[u8]>);

impl Program {
    /// The raw BPF bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Number of BPF instructions.
    pub fn len(&self) -> usize {
        self.0.len() / INSTRUCTION_SIZE
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn instructions(&self) -> Vec<libc::sock_filter> {
        self.0
            .chunks_exact(INSTRUCTION_SIZE)
            .map(|i| libc::sock_filter {
                code: u16::from_ne_bytes([i[0], i[1]]),
                jt: i[2],
                jf: i[3],
                k: u32::from_ne_bytes([i[4], i[5], i[6], i[7]]),
            })
            .collect()
    }
}

/// Whether the container's processes get a filter at all.
fn filtered(security: &Security) -> bool {
    !security.privileged && security.seccomp != Seccomp::Unconfined
}

/// The filter for a container with these security settings, compiled (or
/// taken from this process's cache); `None` when it runs unconfined.
pub fn program_for(security: &Security) -> Result<Option<Program>, ProfileError> {
    program_cached(security, None)
}

/// Like [`program_for`], and also kept on disk in `cache_dir` (the state
/// root's `seccomp/`), so other processes (each `berth up`) load it
/// instead of compiling it again.
pub fn program_for_in(
    security: &Security,
    cache_dir: &Path,
) -> Result<Option<Program>, ProfileError> {
    program_cached(security, Some(cache_dir))
}

fn program_cached(
    security: &Security,
    cache_dir: Option<&Path>,
) -> Result<Option<Program>, ProfileError> {
    if !filtered(security) {
        return Ok(None);
    }
    let caps =
        capabilities::effective_set(&security.cap_add, &security.cap_drop, security.privileged)
            .map_err(|err| ProfileError::Capability(err.to_string()))?;
    let custom = match &security.seccomp {
        Seccomp::Profile { json, .. } => Some(json.as_str()),
        _ => None,
    };
    let arch = ScmpArch::native();
    let kernel = host_kernel();
    // Everything the program depends on.
    let mut digest = Sha256::new();
    digest.update(COMPILER_VERSION);
    digest.update(custom.unwrap_or("builtin"));
    digest.update(capabilities::mask(&caps).to_le_bytes());
    let library = libseccomp::ScmpVersion::current()
        .map(|v| v.to_string())
        .unwrap_or_default();
    digest.update(format!("{arch:?} {kernel:?} {library}"));
    let key = hex::encode(digest.finalize());
    if let Some(program) = PROGRAMS.lock().ok().and_then(|p| p.get(&key).cloned()) {
        return Ok(Some(program));
    }
    let compile = || {
        let parsed;
        let profile = match custom {
            Some(json) => {
                parsed = Profile::parse(json)?;
                &parsed
            }
            None => DEFAULT_PROFILE.as_ref().map_err(Clone::clone)?,
        };
        let target = Target {
            caps: &caps,
            arch: profile::go_arch_name(arch),
            kernel,
        };
        compile(profile, &target)
    };
    let program = match cache_dir {
        Some(dir) => through_disk(dir, &key, compile)?,
        None => compile()?,
    };
    if let (Some(program), Ok(mut programs)) = (&program, PROGRAMS.lock()) {
        programs.insert(key, program.clone());
    }
    Ok(program)
}

/// `<dir>/<key>.bpf` when it holds a program, else `compile`'s, stored
/// there (best effort: a cache that cannot be written is only slower).
fn through_disk(
    dir: &Path,
    key: &str,
    compile: impl FnOnce() -> Result<Option<Program>, ProfileError>,
) -> Result<Option<Program>, ProfileError> {
    let path = dir.join(format!("{key}.bpf"));
    if let Ok(bytes) = fs::read(&path) {
        if !bytes.is_empty() && bytes.len() % INSTRUCTION_SIZE == 0 {
            return Ok(Some(Program(bytes.into())));
        }
    }
    let program = compile()?;
    if let Some(program) = &program {
        if let Err(err) = store(dir, &path, program) {
            tracing::debug!("seccomp: cannot cache {}: {err}", path.display());
        }
    }
    Ok(program)
}

/// Writes the program under a unique temporary name, then renames it.
fn store(dir: &Path, path: &Path, program: &Program) -> io::Result<()> {
    use std::io::Write;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let temporary = dir.join(format!(
        ".{}.{}.tmp",
        std::process::id(),
        crate::container::new_id()?
    ));
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .and_then(|mut file| file.write_all(program.bytes()))
        .and_then(|()| fs::rename(&temporary, path));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// The running kernel's version and major revision (`(0, 0)` if unknown,
/// so no `minKernel` rule applies).
fn host_kernel() -> (u32, u32) {
    nix::sys::utsname::uname()
        .ok()
        .and_then(|u| parse_release(&u.release().to_string_lossy()))
        .unwrap_or((0, 0))
}

fn library(err: libseccomp::error::SeccompError) -> ProfileError {
    ProfileError::Library(err.to_string())
}

/// Compiles the rules of `profile` that apply to `target` into BPF.
/// System-call names libseccomp does not know are skipped, as Docker does.
pub fn compile(profile: &Profile, target: &Target<'_>) -> Result<Option<Program>, ProfileError> {
    let Some(default_action) = profile.default_action else {
        return Ok(None);
    };
    let mut filter = ScmpFilterContext::new(default_action).map_err(library)?;
    // A binary tree over system-call numbers: the kernel evaluates (and,
    // when loading, pre-computes its per-syscall cache through) far fewer
    // instructions than a linear list: loading drops from ~0.7 to ~0.25 ms.
    // Older libseccomp without it: a linear filter, slower to load.
    if let Err(err) = filter.set_ctl_optimize(2) {
        tracing::debug!("seccomp: no binary-tree optimization: {err}");
    }
    for arch in &profile.architectures {
        if !filter.is_arch_present(*arch).map_err(library)? {
            filter.add_arch(*arch).map_err(library)?;
        }
    }
    for rule in profile.rules_for(target) {
        // libseccomp refuses rules that do what the default does.
        if rule.action == default_action {
            continue;
        }
        for name in &rule.names {
            let Ok(syscall) = ScmpSyscall::from_name(name) else {
                tracing::debug!("seccomp: system call {name:?} unknown here; skipped");
                continue;
            };
            for conditions in rule.argument_sets() {
                let added = if conditions.is_empty() {
                    filter.add_rule(rule.action, syscall)
                } else {
                    filter.add_rule_conditional(rule.action, syscall, &conditions)
                };
                added.map_err(|err| ProfileError::Library(format!("{name}: {err}")))?;
            }
        }
    }
    export(&filter).map(Some)
}

/// The BPF program of a filter (through a memfd: libseccomp 2.5 exports
/// only to a descriptor).
fn export(filter: &ScmpFilterContext) -> Result<Program, ProfileError> {
    let io = |err: io::Error| ProfileError::Library(format!("export the filter: {err}"));
    let memfd =
        nix::sys::memfd::memfd_create(c"berth-seccomp", nix::sys::memfd::MFdFlags::MFD_CLOEXEC)
            .map_err(|err| io(err.into()))?;
    let mut file = fs::File::from(memfd);
    filter.export_bpf(&file).map_err(library)?;
    let mut bytes = Vec::new();
    file.rewind().map_err(io)?;
    file.read_to_end(&mut bytes).map_err(io)?;
    if bytes.is_empty() || bytes.len() % INSTRUCTION_SIZE != 0 {
        return Err(ProfileError::Library(format!(
            "exported program has {} bytes",
            bytes.len()
        )));
    }
    Ok(Program(bytes.into()))
}

fn program_path(dir: &ContainerDir) -> PathBuf {
    dir.path().join(PROGRAM_FILE)
}

/// Writes the container's program (owner-only) at create time.
pub(crate) fn write(dir: &ContainerDir, program: Option<&Program>) -> io::Result<()> {
    let Some(program) = program else {
        return Ok(());
    };
    use std::io::Write;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(program_path(dir))?;
    file.write_all(program.bytes())
}

/// The program a container's process must load: read from the container's
/// directory (call before leaving the host's mount namespace), or compiled
/// now for a container created before berth had seccomp. `None` when
/// unconfined or privileged (`exec --privileged` sets `privileged`).
pub(crate) fn for_container(
    dir: &ContainerDir,
    security: &Security,
) -> Result<Option<Program>, String> {
    if !filtered(security) {
        return Ok(None);
    }
    let path = program_path(dir);
    match fs::read(&path) {
        Ok(bytes) if !bytes.is_empty() && bytes.len() % INSTRUCTION_SIZE == 0 => {
            Ok(Some(Program(bytes.into())))
        }
        Ok(bytes) => Err(format!(
            "seccomp program {}: {} bytes is not a BPF program",
            path.display(),
            bytes.len()
        )),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            program_for(security).map_err(|err| format!("seccomp profile: {err}"))
        }
        Err(err) => Err(format!("seccomp program {}: {err}", path.display())),
    }
}

/// Installs `program` on the calling thread (the process must be
/// single-threaded). Needs `no_new_privs` or CAP_SYS_ADMIN.
pub(crate) fn load(program: Option<&Program>) -> Result<(), String> {
    let Some(program) = program else {
        return Ok(());
    };
    sys::seccomp_set_mode_filter(&program.instructions())
        .map_err(|err| format!("load the seccomp filter: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn security(seccomp: Seccomp) -> Security {
        Security {
            seccomp,
            ..Security::default()
        }
    }

    #[test]
    fn default_profile_parses_and_compiles_once() {
        let profile = DEFAULT_PROFILE.as_ref().unwrap();
        assert_eq!(
            profile.default_action,
            Some(libseccomp::ScmpAction::Errno(1))
        );
        let first = program_for(&Security::default()).unwrap().unwrap();
        assert!(first.len() > 100, "{} instructions", first.len());
        let again = program_for(&Security::default()).unwrap().unwrap();
        assert!(Arc::ptr_eq(&first.0, &again.0), "not taken from the cache");
        // Another capability set is another program.
        let admin = program_for(&Security {
            cap_add: vec!["SYS_ADMIN".into()],
            ..Security::default()
        })
        .unwrap()
        .unwrap();
        assert_ne!(first, admin);
    }

    #[test]
    fn programs_are_kept_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("seccomp");
        let program = Program(vec![6, 0, 0, 0, 0, 0, 0xff, 0x7f].into());
        let first = through_disk(&cache, "k", || Ok(Some(program.clone()))).unwrap();
        assert_eq!(first, Some(program.clone()));
        // Taken from the file: not compiled again.
        let again = through_disk(&cache, "k", || panic!("compiled twice")).unwrap();
        assert_eq!(again, Some(program));
        let names: Vec<String> = fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["k.bpf"]);
        // A damaged file is replaced.
        fs::write(cache.join("k.bpf"), b"short").unwrap();
        let program = Program(vec![6, 0, 0, 0, 0, 0, 0, 0].into());
        let fixed = through_disk(&cache, "k", || Ok(Some(program.clone()))).unwrap();
        assert_eq!(fixed, Some(program.clone()));
        assert_eq!(fs::read(cache.join("k.bpf")).unwrap(), program.bytes());
        // Through the whole path: the default profile lands in the cache.
        let security = Security {
            cap_add: vec!["NET_ADMIN".into(), "SYS_PACCT".into()],
            ..Security::default()
        };
        let compiled = program_for_in(&security, &cache).unwrap().unwrap();
        assert_eq!(fs::read_dir(&cache).unwrap().count(), 2);
        assert_eq!(program_for(&security).unwrap().unwrap(), compiled);
    }

    #[test]
    fn unconfined_and_privileged_have_no_program() {
        assert!(program_for(&security(Seccomp::Unconfined))
            .unwrap()
            .is_none());
        let privileged = Security {
            privileged: true,
            ..Security::default()
        };
        assert!(program_for(&privileged).unwrap().is_none());
    }

    #[test]
    fn unknown_names_are_skipped_and_custom_profiles_compile() {
        let custom = security(Seccomp::Profile {
            source: "test.json".into(),
            json: r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
                {"names":["mkdir","mkdirat","no_such_call_anywhere"],"action":"SCMP_ACT_ERRNO"}]}"#
                .into(),
        });
        assert!(program_for(&custom).unwrap().is_some());
        let empty = security(Seccomp::Profile {
            source: "empty.json".into(),
            json: "{}".into(),
        });
        assert!(program_for(&empty).unwrap().is_none());
        let bad = security(Seccomp::Profile {
            source: "bad.json".into(),
            json: r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_MAYBE"}]}"#.into(),
        });
        assert!(program_for(&bad)
            .unwrap_err()
            .to_string()
            .contains("unknown action \"SCMP_ACT_MAYBE\""));
    }

    #[test]
    fn default_profile_rules_for_default_caps() {
        let profile = DEFAULT_PROFILE.as_ref().unwrap();
        let caps = capabilities::effective_set(&[], &[], false).unwrap();
        let target = Target {
            caps: &caps,
            arch: "amd64",
            kernel: (6, 1),
        };
        let allowed: Vec<&str> = profile
            .rules_for(&target)
            .filter(|r| r.action == libseccomp::ScmpAction::Allow && r.args.is_empty())
            .flat_map(|r| r.names.iter().map(String::as_str))
            .collect();
        for denied in [
            "keyctl",
            "bpf",
            "perf_event_open",
            "userfaultfd",
            "io_uring_setup",
            "unshare",
            "mount",
            "setns",
            "clone3",
            "init_module",
            "reboot",
            "settimeofday",
        ] {
            assert!(!allowed.contains(&denied), "{denied} allowed");
        }
        for granted in ["read", "chroot", "arch_prctl", "ptrace", "socketcall"] {
            assert!(allowed.contains(&granted), "{granted} not allowed");
        }
        let clone3: Vec<&Rule> = profile
            .rules_for(&target)
            .filter(|r| r.names.iter().any(|n| n == "clone3"))
            .collect();
        assert_eq!(clone3.len(), 1);
        assert_eq!(
            clone3[0].action,
            libseccomp::ScmpAction::Errno(libc::ENOSYS)
        );
    }
}

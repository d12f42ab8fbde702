//! The cgroup v2 device policy: an eBPF program of type
//! `BPF_PROG_TYPE_CGROUP_DEVICE`, emitted here instruction by instruction
//! from the same allow list the v1 `devices` controller gets (deny
//! everything else), loaded with `bpf(2)` and attached to the container's
//! v2 cgroup. The attachment holds the program; removing the cgroup
//! detaches and frees it, so berth keeps no descriptor.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::path::Path;

use super::bpf;
use super::devices::{DeviceRule, DeviceType};

/// `BPF_PROG_TYPE_CGROUP_DEVICE`.
const PROG_TYPE_CGROUP_DEVICE: u32 = 15;
/// `BPF_CGROUP_DEVICE`.
const ATTACH_CGROUP_DEVICE: u32 = 6;
/// `BPF_F_ALLOW_MULTI`: programs of ancestor cgroups keep running too.
const F_ALLOW_MULTI: u32 = 2;

/// `struct bpf_cgroup_dev_ctx`: `access_type` is `access << 16 | type`.
const CTX_ACCESS_TYPE: i16 = 0;
const CTX_MAJOR: i16 = 4;
const CTX_MINOR: i16 = 8;
/// `BPF_DEVCG_DEV_BLOCK` and `BPF_DEVCG_DEV_CHAR`.
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;
/// `BPF_DEVCG_ACC_MKNOD`, `_READ`, `_WRITE`.
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;
const ACC_ALL: i32 = ACC_MKNOD | ACC_READ | ACC_WRITE;

/// Registers the program uses.
const R0: u8 = 0;
const CTX: u8 = 1;
const TYPE: u8 = 2;
const ACCESS: u8 = 3;
const MAJOR: u8 = 4;
const MINOR: u8 = 5;
const SCRATCH: u8 = 6;

/// `BPF_JMP | BPF_JNE | BPF_K`, the only jump the program has.
const JNE_IMM: u8 = 0x55;

/// One eBPF instruction (`struct bpf_insn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Insn {
    code: u8,
    dst: u8,
    src: u8,
    off: i16,
    imm: i32,
}

impl Insn {
    /// `dst = *(u32 *)(src + off)`.
    fn load_word(dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(0x61, dst, src, off, 0)
    }
    /// `dst = imm` (64-bit).
    fn mov_imm(dst: u8, imm: i32) -> Insn {
        Insn::new(0xb7, dst, 0, 0, imm)
    }
    /// `dst = src` (32-bit).
    fn mov_reg32(dst: u8, src: u8) -> Insn {
        Insn::new(0xbc, dst, src, 0, 0)
    }
    /// `dst &= imm` (32-bit).
    fn and_imm32(dst: u8, imm: i32) -> Insn {
        Insn::new(0x54, dst, 0, 0, imm)
    }
    /// `dst >>= imm` (32-bit).
    fn rsh_imm32(dst: u8, imm: i32) -> Insn {
        Insn::new(0x74, dst, 0, 0, imm)
    }
    /// `if dst != imm goto +off`.
    fn jump_if_not(dst: u8, imm: i32, off: i16) -> Insn {
        Insn::new(JNE_IMM, dst, 0, off, imm)
    }
    fn exit() -> Insn {
        Insn::new(0x95, 0, 0, 0, 0)
    }
    fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            dst,
            src,
            off,
            imm,
        }
    }
    fn encode(self, out: &mut Vec<u8>) {
        out.push(self.code);
        out.push(self.dst | (self.src << 4));
        out.extend_from_slice(&self.off.to_le_bytes());
        out.extend_from_slice(&self.imm.to_le_bytes());
    }
}

fn access_bits(access: &str) -> i32 {
    access
        .chars()
        .map(|c| match c {
            'm' => ACC_MKNOD,
            'r' => ACC_READ,
            'w' => ACC_WRITE,
            _ => 0,
        })
        .fold(0, |bits, bit| bits | bit)
}

/// A rule's number as an immediate; `None` for a number no device has
/// (devices have 12-bit majors and 20-bit minors), so the rule never matches.
fn device_number(number: Option<u64>) -> Option<Option<i32>> {
    match number {
        None => Some(None),
        Some(n) => i32::try_from(n).ok().map(Some),
    }
}

/// The checks of one rule: each jumps past the rule's "allow" when it
/// fails. `None` when the rule can match no device.
fn rule_checks(rule: &DeviceRule) -> Option<Vec<Insn>> {
    let mut checks = Vec::new();
    match rule.kind {
        DeviceType::Char => checks.push(Insn::jump_if_not(TYPE, DEV_CHAR, 0)),
        DeviceType::Block => checks.push(Insn::jump_if_not(TYPE, DEV_BLOCK, 0)),
        DeviceType::All => {}
    }
    let allowed = access_bits(&rule.access);
    if allowed != ACC_ALL {
        // Every requested access must be allowed: (requested & !allowed) == 0.
        checks.push(Insn::mov_reg32(SCRATCH, ACCESS));
        checks.push(Insn::and_imm32(SCRATCH, ACC_ALL & !allowed));
        checks.push(Insn::jump_if_not(SCRATCH, 0, 0));
    }
    if let Some(major) = device_number(rule.major)? {
        checks.push(Insn::jump_if_not(MAJOR, major, 0));
    }
    if let Some(minor) = device_number(rule.minor)? {
        checks.push(Insn::jump_if_not(MINOR, minor, 0));
    }
    Some(checks)
}

/// The program's instructions: read the request, try each allow rule in
/// turn (return 1 on the first match), return 0 when none matches.
fn instructions(rules: &[DeviceRule]) -> Vec<Insn> {
    let mut program = vec![
        Insn::load_word(TYPE, CTX, CTX_ACCESS_TYPE),
        Insn::mov_reg32(ACCESS, TYPE),
        Insn::rsh_imm32(ACCESS, 16),
        Insn::and_imm32(TYPE, 0xffff),
        Insn::load_word(MAJOR, CTX, CTX_MAJOR),
        Insn::load_word(MINOR, CTX, CTX_MINOR),
    ];
    for checks in rules.iter().filter_map(rule_checks) {
        let allow = [Insn::mov_imm(R0, 1), Insn::exit()];
        let count = checks.len();
        for (index, mut check) in checks.into_iter().enumerate() {
            if check.code == JNE_IMM {
                // Past the remaining checks and the allow.
                check.off = (count - index - 1 + allow.len()) as i16;
            }
            program.push(check);
        }
        program.extend(allow);
    }
    program.extend([Insn::mov_imm(R0, 0), Insn::exit()]);
    program
}

/// The program for `rules`, encoded as the kernel takes it.
pub fn program(rules: &[DeviceRule]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for insn in instructions(rules) {
        insn.encode(&mut bytes);
    }
    bytes
}

/// Loads the program for `rules` and attaches it to the v2 cgroup `dir`.
/// The descriptors are closed on return; the attachment keeps the program.
pub fn attach(dir: &Path, rules: &[DeviceRule]) -> io::Result<()> {
    let code = program(rules);
    let license = c"Apache-2.0";
    let prog = match bpf::prog_load(PROG_TYPE_CGROUP_DEVICE, &code, license, None) {
        Ok(prog) => prog,
        Err(err) if err.raw_os_error() == Some(libc::EACCES) => {
            // The verifier refused it: load again for its log.
            let mut log = vec![0u8; 16 * 1024];
            let _ = bpf::prog_load(PROG_TYPE_CGROUP_DEVICE, &code, license, Some(&mut log));
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            return Err(io::Error::other(format!(
                "the device filter was refused: {err}: {}",
                String::from_utf8_lossy(&log[..end]).trim()
            )));
        }
        Err(err) => {
            return Err(io::Error::new(
                err.kind(),
                format!("load the device filter (eBPF): {err}"),
            ))
        }
    };
    let cgroup = File::open(dir)?;
    bpf::prog_attach(
        cgroup.as_fd(),
        prog.as_fd(),
        ATTACH_CGROUP_DEVICE,
        F_ALLOW_MULTI,
    )
    .map_err(|err| io::Error::new(err.kind(), format!("attach the device filter: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::devices::{cgroup_rules, default_rules};

    /// Runs the program in rbpf's interpreter on one request.
    fn verdict(rules: &[DeviceRule], kind: char, major: u32, minor: u32, access: &str) -> bool {
        let code = program(rules);
        let vm = rbpf::EbpfVmRaw::new(Some(&code)).expect("rbpf accepts the program");
        let kind = match kind {
            'b' => DEV_BLOCK,
            _ => DEV_CHAR,
        } as u32;
        let access_type = (access_bits(access) as u32) << 16 | kind;
        let mut ctx = Vec::new();
        for word in [access_type, major, minor] {
            ctx.extend_from_slice(&word.to_le_bytes());
        }
        match vm.execute_program(&mut ctx).expect("the program runs") {
            0 => false,
            1 => true,
            other => panic!("verdict {other}"),
        }
    }

    #[test]
    fn default_policy_allows_dockers_devices_only() {
        let rules = default_rules();
        assert!(verdict(&rules, 'c', 1, 3, "rw"));
        assert!(verdict(&rules, 'c', 1, 9, "r"));
        assert!(verdict(&rules, 'c', 5, 2, "rw"));
        assert!(verdict(&rules, 'c', 136, 4, "rw"));
        // Making any node is allowed, opening it is not.
        assert!(verdict(&rules, 'c', 240, 0, "m"));
        assert!(verdict(&rules, 'b', 8, 0, "m"));
        assert!(!verdict(&rules, 'c', 240, 0, "r"));
        assert!(!verdict(&rules, 'b', 8, 0, "r"));
        assert!(!verdict(&rules, 'b', 8, 0, "w"));
        assert!(!verdict(&rules, 'b', 1, 3, "r"));
        assert!(!verdict(&rules, 'c', 1, 4, "r"));
        assert!(!verdict(&rules, 'c', 10, 200, "rw"));
        assert!(!verdict(&[], 'c', 1, 3, "r"));
    }

    #[test]
    fn access_must_all_be_allowed_by_one_rule() {
        let rules = [DeviceRule::parse("c 240:7 r").unwrap()];
        assert!(verdict(&rules, 'c', 240, 7, "r"));
        assert!(!verdict(&rules, 'c', 240, 7, "rw"));
        assert!(!verdict(&rules, 'c', 240, 7, "w"));
        assert!(!verdict(&rules, 'c', 240, 7, "m"));
        assert!(!verdict(&rules, 'c', 240, 8, "r"));
        assert!(!verdict(&rules, 'b', 240, 7, "r"));
    }

    #[test]
    fn wildcards_types_and_mapped_devices() {
        let rules = [
            DeviceRule::parse("a 241:* rwm").unwrap(),
            DeviceRule::parse("b *:5 w").unwrap(),
        ];
        assert!(verdict(&rules, 'c', 241, 99, "rwm"));
        assert!(verdict(&rules, 'b', 241, 0, "rw"));
        assert!(verdict(&rules, 'b', 7, 5, "w"));
        assert!(!verdict(&rules, 'c', 7, 5, "w"));
        assert!(!verdict(&rules, 'b', 7, 5, "r"));
        assert!(!verdict(&rules, 'c', 242, 0, "r"));
        let node = crate::container::devices::host_devices("/dev/null", "/dev/n", "rw").unwrap();
        let rules = cgroup_rules(false, &node, &[]).unwrap();
        assert!(verdict(&rules, 'c', 1, 3, "rw"));
    }

    #[test]
    fn numbers_no_device_has_match_nothing() {
        let rule = DeviceRule {
            kind: DeviceType::Char,
            major: Some(u64::from(u32::MAX) + 5),
            minor: None,
            access: "rwm".into(),
        };
        assert_eq!(instructions(std::slice::from_ref(&rule)).len(), 8);
        assert!(!verdict(&[rule], 'c', 4, 0, "r"));
    }

    #[test]
    fn encoding_is_the_kernels() {
        let mut bytes = Vec::new();
        Insn::jump_if_not(MAJOR, 136, 3).encode(&mut bytes);
        assert_eq!(bytes, [0x55, 0x04, 3, 0, 136, 0, 0, 0]);
        let mut bytes = Vec::new();
        Insn::load_word(MINOR, CTX, CTX_MINOR).encode(&mut bytes);
        assert_eq!(bytes, [0x61, 0x15, 8, 0, 0, 0, 0, 0]);
    }

    /// With the real kernel: a process moved into a v2 cgroup with the
    /// default policy attached cannot open a device node of an unassigned
    /// major (EPERM from the filter), though it is in the root of every v1
    /// hierarchy (whose devices controller allows everything); without
    /// the filter the open reaches the driver lookup (ENXIO).
    #[test]
    fn the_kernel_enforces_the_filter() {
        use std::process::Command;
        let Some(unified) = super::super::cgroup::Hierarchies::detect()
            .ok()
            .and_then(|h| h.unified.map(|(mount, _)| mount))
        else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let node = dir.path().join("node");
        let made = nix::sys::stat::mknod(
            &node,
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0o666),
            nix::sys::stat::makedev(240, 0),
        );
        if made.is_err() {
            return; // not root
        }
        let open_in = |cgroup: &Path| -> String {
            let script = format!(
                "echo $$ > {}/cgroup.procs && exec cat {} 2>&1",
                cgroup.display(),
                node.display()
            );
            let out = Command::new("sh").args(["-c", &script]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).to_string()
        };
        let cgroup = unified.join(format!("berth-device-filter-test-{}", std::process::id()));
        std::fs::create_dir(&cgroup).unwrap();
        let unfiltered = open_in(&cgroup);
        attach(&cgroup, &default_rules()).unwrap();
        let filtered = open_in(&cgroup);
        let null = Command::new("sh")
            .args([
                "-c",
                &format!(
                    "echo $$ > {}/cgroup.procs && echo hi > /dev/null && echo ok",
                    cgroup.display()
                ),
            ])
            .output()
            .unwrap();
        std::fs::remove_dir(&cgroup).unwrap();
        assert!(
            unfiltered.contains("No such device or address"),
            "{unfiltered}"
        );
        assert!(filtered.contains("Operation not permitted"), "{filtered}");
        assert_eq!(String::from_utf8_lossy(&null.stdout), "ok\n");
    }
}

//! Docker's seccomp profile format (`defaultAction`, `defaultErrnoRet`,
//! `architectures` or `archMap`, `syscalls[]` with `names`, `action`,
//! `errnoRet`, `args` and `includes`/`excludes` on capabilities,
//! architectures and kernel version): parsing, checking every field once,
//! and choosing the rules that apply to one container, with the same
//! semantics as moby's `profiles/seccomp` package.

use std::collections::HashSet;

use caps::Capability;
use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp};
use serde::{Deserialize, Deserializer};

/// `errno` for `SCMP_ACT_ERRNO`/`SCMP_ACT_TRACE` without `errnoRet` (as runc).
const EPERM: i32 = libc::EPERM;
/// Highest errno a filter may return (`SECCOMP_RET_DATA` errnos are clamped by the kernel).
const MAX_ERRNO: u32 = 4095;
/// System calls have six arguments, numbered 0 to 5.
const ARGUMENTS: u32 = 6;

/// What is wrong with a profile, named for the person who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("not a seccomp profile in Docker's JSON format: {0}")]
    Json(String),
    #[error("both \"architectures\" and \"archMap\" are given (use one of them)")]
    BothArchitectureLists,
    #[error("{field}: unknown architecture {name:?} (expected a name such as SCMP_ARCH_X86_64 or SCMP_ARCH_AARCH64)")]
    UnknownArchitecture { field: String, name: String },
    #[error("defaultAction: {0}")]
    DefaultAction(String),
    #[error("syscalls[{index}]{names}: {message}")]
    Rule {
        index: usize,
        /// ` (mkdir, rmdir)`, or empty.
        names: String,
        message: String,
    },
    #[error("{0} is not supported by berth")]
    Unsupported(String),
    #[error("{0}")]
    Capability(String),
    #[error("the seccomp library refused the filter: {0}")]
    Library(String),
}

fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<Vec<T>>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// The JSON document as written.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    #[serde(default)]
    default_action: String,
    default_errno_ret: Option<u32>,
    #[serde(default, deserialize_with = "null_as_empty")]
    architectures: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    arch_map: Vec<ArchMapEntry>,
    #[serde(default, deserialize_with = "null_as_empty")]
    syscalls: Vec<RuleDocument>,
    #[serde(default, deserialize_with = "null_as_empty")]
    flags: Vec<String>,
    #[serde(default)]
    listener_path: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArchMapEntry {
    architecture: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    sub_architectures: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleDocument {
    #[serde(default)]
    name: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    names: Vec<String>,
    #[serde(default)]
    action: String,
    errno_ret: Option<u32>,
    #[serde(default, deserialize_with = "null_as_empty")]
    args: Vec<ArgDocument>,
    includes: Option<ConditionDocument>,
    excludes: Option<ConditionDocument>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArgDocument {
    index: u32,
    #[serde(default)]
    value: u64,
    #[serde(default)]
    value_two: u64,
    op: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConditionDocument {
    #[serde(default, deserialize_with = "null_as_empty")]
    caps: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    arches: Vec<String>,
    #[serde(default)]
    min_kernel: String,
}

/// A checked profile: every action, operator and architecture is known.
#[derive(Debug, Clone)]
pub struct Profile {
    /// `None`: no `defaultAction` and no rules, which Docker takes as "no filter".
    pub default_action: Option<ScmpAction>,
    /// Architectures the filter accepts besides the native one.
    pub architectures: Vec<ScmpArch>,
    pub rules: Vec<Rule>,
}

/// One entry of `syscalls[]`.
#[derive(Debug, Clone)]
pub struct Rule {
    pub names: Vec<String>,
    pub action: ScmpAction,
    /// Conditions on the arguments (index, comparison); all must hold
    /// (see [`Rule::argument_sets`]).
    pub args: Vec<(u32, ScmpArgCompare)>,
    includes: Condition,
    excludes: Condition,
}

/// `includes` or `excludes`: on capabilities, architectures (Go's names:
/// `amd64`, `arm64`, `x86`…) and the kernel version.
#[derive(Debug, Clone, Default)]
struct Condition {
    caps: Vec<String>,
    arches: Vec<String>,
    min_kernel: Option<(u32, u32)>,
}

/// What a rule is matched against: the container's capabilities, the
/// host's architecture (Go's name) and kernel version.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub caps: &'a HashSet<Capability>,
    pub arch: &'a str,
    pub kernel: (u32, u32),
}

impl Target<'_> {
    fn has_cap(&self, name: &str) -> bool {
        self.caps.iter().any(|cap| cap.to_string() == name)
    }
}

impl Profile {
    /// Parses and checks a profile in Docker's JSON format.
    pub fn parse(text: &str) -> Result<Profile, ProfileError> {
        let document: Document =
            serde_json::from_str(text).map_err(|err| ProfileError::Json(err.to_string()))?;
        if !document.flags.is_empty() {
            return Err(ProfileError::Unsupported(format!(
                "\"flags\" ({})",
                document.flags.join(", ")
            )));
        }
        if !document.listener_path.is_empty() {
            return Err(ProfileError::Unsupported(
                "\"listenerPath\" (a seccomp agent)".into(),
            ));
        }
        if document.default_action.is_empty() && document.syscalls.is_empty() {
            return Ok(Profile {
                default_action: None,
                architectures: Vec::new(),
                rules: Vec::new(),
            });
        }
        let default_action = action(&document.default_action, document.default_errno_ret)
            .map_err(ProfileError::DefaultAction)?;
        let architectures = architectures(&document)?;
        let rules = document
            .syscalls
            .iter()
            .enumerate()
            .map(|(index, rule)| {
                Rule::check(rule).map_err(|message| ProfileError::Rule {
                    index,
                    names: rule_names(rule),
                    message,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Profile {
            default_action: Some(default_action),
            architectures,
            rules,
        })
    }

    /// The rules that apply to `target`, in the profile's order.
    pub fn rules_for<'a>(&'a self, target: &'a Target<'_>) -> impl Iterator<Item = &'a Rule> {
        self.rules
            .iter()
            .filter(move |rule| rule.applies_to(target))
    }
}

fn rule_names(rule: &RuleDocument) -> String {
    let mut names: Vec<&str> = rule.names.iter().map(String::as_str).collect();
    if !rule.name.is_empty() {
        names.insert(0, &rule.name);
    }
    if names.is_empty() {
        String::new()
    } else if names.len() > 4 {
        format!(" ({}, …)", names[..3].join(", "))
    } else {
        format!(" ({})", names.join(", "))
    }
}

/// Docker's action names, with the errno (or trace message) they return.
fn action(name: &str, errno: Option<u32>) -> Result<ScmpAction, String> {
    let value = match errno {
        Some(errno) if errno > MAX_ERRNO => {
            return Err(format!("errno {errno} is out of range (0 to {MAX_ERRNO})"))
        }
        Some(errno) => errno as i32,
        None => EPERM,
    };
    Ok(match name {
        "SCMP_ACT_ALLOW" => ScmpAction::Allow,
        "SCMP_ACT_ERRNO" => ScmpAction::Errno(value),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => ScmpAction::KillThread,
        "SCMP_ACT_KILL_PROCESS" => ScmpAction::KillProcess,
        "SCMP_ACT_TRAP" => ScmpAction::Trap,
        "SCMP_ACT_TRACE" => ScmpAction::Trace(value as u16),
        "SCMP_ACT_LOG" => ScmpAction::Log,
        "SCMP_ACT_NOTIFY" => {
            return Err("SCMP_ACT_NOTIFY needs a seccomp agent, which berth does not support".into())
        }
        "" => return Err("no action given".into()),
        other => {
            return Err(format!(
                "unknown action {other:?} (expected SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_TRACE or SCMP_ACT_LOG)"
            ))
        }
    })
}

fn arch(field: &str, name: &str) -> Result<ScmpArch, ProfileError> {
    name.parse::<ScmpArch>()
        .ok()
        .filter(|arch| *arch != ScmpArch::Native)
        .ok_or_else(|| ProfileError::UnknownArchitecture {
            field: field.to_string(),
            name: name.to_string(),
        })
}

/// `architectures`, or the `archMap` entry of the native architecture
/// with its sub-architectures (as moby expands it).
fn architectures(document: &Document) -> Result<Vec<ScmpArch>, ProfileError> {
    if !document.architectures.is_empty() && !document.arch_map.is_empty() {
        return Err(ProfileError::BothArchitectureLists);
    }
    let mut found = Vec::new();
    for name in &document.architectures {
        found.push(arch("architectures", name)?);
    }
    let native = ScmpArch::native();
    for (index, entry) in document.arch_map.iter().enumerate() {
        let field = format!("archMap[{index}]");
        let main = arch(&field, &entry.architecture)?;
        let subs = entry
            .sub_architectures
            .iter()
            .map(|name| arch(&field, name))
            .collect::<Result<Vec<_>, _>>()?;
        if main == native && found.is_empty() {
            found.push(main);
            found.extend(subs);
        }
    }
    Ok(found)
}

fn compare(arg: &ArgDocument) -> Result<(u32, ScmpArgCompare), String> {
    if arg.index >= ARGUMENTS {
        return Err(format!(
            "argument index {} is out of range (0 to {})",
            arg.index,
            ARGUMENTS - 1
        ));
    }
    let op = match arg.op.as_str() {
        "SCMP_CMP_NE" => ScmpCompareOp::NotEqual,
        "SCMP_CMP_LT" => ScmpCompareOp::Less,
        "SCMP_CMP_LE" => ScmpCompareOp::LessOrEqual,
        "SCMP_CMP_EQ" => ScmpCompareOp::Equal,
        "SCMP_CMP_GE" => ScmpCompareOp::GreaterEqual,
        "SCMP_CMP_GT" => ScmpCompareOp::Greater,
        // Docker's `value` is the mask, `valueTwo` what the masked argument must equal.
        "SCMP_CMP_MASKED_EQ" => {
            return Ok((
                arg.index,
                ScmpArgCompare::new(
                    arg.index,
                    ScmpCompareOp::MaskedEqual(arg.value),
                    arg.value_two,
                ),
            ))
        }
        other => {
            return Err(format!(
                "unknown operator {other:?} (expected SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT or SCMP_CMP_MASKED_EQ)"
            ))
        }
    };
    Ok((arg.index, ScmpArgCompare::new(arg.index, op, arg.value)))
}

/// `"4.8"`: kernel 4, major revision 8 (moby ignores the rest).
fn kernel_version(text: &str) -> Result<(u32, u32), String> {
    let bad =
        || format!("invalid minKernel {text:?} (expected \"<kernel>.<major>\", such as \"4.8\")");
    let (kernel, major) = text.split_once('.').ok_or_else(bad)?;
    let kernel: u32 = kernel.parse().map_err(|_| bad())?;
    let major: u32 = major.parse().map_err(|_| bad())?;
    if (kernel, major) == (0, 0) {
        return Err(bad());
    }
    Ok((kernel, major))
}

/// The running kernel's `(version, major revision)` from a `uname -r`
/// release such as `6.1.0-18-amd64`.
pub fn parse_release(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let kernel = parts.next()?.parse().ok()?;
    let major = parts.next()?.parse().ok()?;
    Some((kernel, major))
}

impl Condition {
    fn check(document: Option<&ConditionDocument>) -> Result<Condition, String> {
        let Some(document) = document else {
            return Ok(Condition::default());
        };
        let min_kernel = if document.min_kernel.is_empty() {
            None
        } else {
            Some(kernel_version(&document.min_kernel)?)
        };
        Ok(Condition {
            caps: document.caps.clone(),
            arches: document.arches.clone(),
            min_kernel,
        })
    }
}

impl Rule {
    fn check(document: &RuleDocument) -> Result<Rule, String> {
        if !document.name.is_empty() && !document.names.is_empty() {
            return Err("both \"name\" and \"names\" are given (use one of them)".into());
        }
        let names = if document.name.is_empty() {
            document.names.clone()
        } else {
            vec![document.name.clone()]
        };
        if names.is_empty() {
            return Err("no system call names".into());
        }
        let action = action(&document.action, document.errno_ret)?;
        let args = document
            .args
            .iter()
            .map(compare)
            .collect::<Result<_, _>>()?;
        Ok(Rule {
            names,
            action,
            args,
            includes: Condition::check(document.includes.as_ref())?,
            excludes: Condition::check(document.excludes.as_ref())?,
        })
    }

    /// moby's rule: any exclusion that holds drops the rule; every
    /// inclusion must hold (all listed capabilities, one of the arches).
    fn applies_to(&self, target: &Target<'_>) -> bool {
        let excludes = &self.excludes;
        if excludes.arches.iter().any(|a| a == target.arch)
            || excludes.caps.iter().any(|c| target.has_cap(c))
            || excludes.min_kernel.is_some_and(|min| target.kernel >= min)
        {
            return false;
        }
        let includes = &self.includes;
        (includes.arches.is_empty() || includes.arches.iter().any(|a| a == target.arch))
            && includes.caps.iter().all(|c| target.has_cap(c))
            && includes.min_kernel.is_none_or(|min| target.kernel >= min)
    }

    /// The condition sets to add as separate filter rules (any of them
    /// matching lets the call through): all conditions together, or, when
    /// two conditions test the same argument (which libseccomp cannot
    /// combine), each on its own, as runc does.
    pub fn argument_sets(&self) -> Vec<Vec<ScmpArgCompare>> {
        let mut seen = HashSet::new();
        let repeated = self.args.iter().any(|(index, _)| !seen.insert(*index));
        let compares = self.args.iter().map(|(_, compare)| *compare);
        if repeated {
            compares.map(|compare| vec![compare]).collect()
        } else {
            vec![compares.collect()]
        }
    }
}

/// Go's name for the architecture (what `includes.arches` lists).
pub fn go_arch_name(arch: ScmpArch) -> &'static str {
    match arch {
        ScmpArch::X8664 => "amd64",
        ScmpArch::X86 => "x86",
        ScmpArch::X32 => "x32",
        ScmpArch::Arm => "arm",
        ScmpArch::Aarch64 => "arm64",
        ScmpArch::Loongarch64 => "loong64",
        ScmpArch::Mips => "mips",
        ScmpArch::Mipsel => "mipsle",
        ScmpArch::Mips64 => "mips64",
        ScmpArch::Mips64N32 => "mips64n32",
        ScmpArch::Mipsel64 => "mipsel64",
        ScmpArch::Mipsel64N32 => "mips3l64n32",
        ScmpArch::Ppc => "ppc",
        ScmpArch::Ppc64 => "ppc64",
        ScmpArch::Ppc64Le => "ppc64le",
        ScmpArch::Riscv64 => "riscv64",
        ScmpArch::S390 => "s390",
        ScmpArch::S390X => "s390x",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(names: &[Capability]) -> HashSet<Capability> {
        names.iter().copied().collect()
    }

    fn names_for(profile: &Profile, caps: &HashSet<Capability>, arch: &str) -> Vec<String> {
        let target = Target {
            caps,
            arch,
            kernel: (6, 1),
        };
        profile
            .rules_for(&target)
            .flat_map(|rule| rule.names.clone())
            .collect()
    }

    fn error(text: &str) -> String {
        Profile::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn capability_and_arch_conditions_follow_moby() {
        let profile = Profile::parse(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
                {"names":["read"],"action":"SCMP_ACT_ALLOW"},
                {"names":["mount"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN"]}},
                {"names":["both"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN","CAP_BPF"]}},
                {"names":["clone"],"action":"SCMP_ACT_ALLOW","excludes":{"caps":["CAP_SYS_ADMIN"],"arches":["s390x"]}},
                {"names":["arch_prctl"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["amd64","x32"]}},
                {"names":["new"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"6.2"}},
                {"names":["old"],"action":"SCMP_ACT_ALLOW","excludes":{"minKernel":"5.4"}}
            ]}"#,
        )
        .unwrap();
        let none = caps(&[]);
        let admin = caps(&[Capability::CAP_SYS_ADMIN]);
        let both = caps(&[Capability::CAP_SYS_ADMIN, Capability::CAP_BPF]);
        assert_eq!(
            names_for(&profile, &none, "amd64"),
            ["read", "clone", "arch_prctl"]
        );
        assert_eq!(
            names_for(&profile, &admin, "amd64"),
            ["read", "mount", "arch_prctl"]
        );
        assert_eq!(
            names_for(&profile, &both, "arm64"),
            ["read", "mount", "both"]
        );
        assert_eq!(names_for(&profile, &none, "s390x"), ["read"]);
    }

    #[test]
    fn argument_rules_and_masked_equal() {
        let profile = Profile::parse(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"syscalls":[
                {"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"op":"SCMP_CMP_MASKED_EQ"}]},
                {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"},{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]},
                {"name":"socket","action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":40,"op":"SCMP_CMP_NE"},{"index":1,"value":3,"op":"SCMP_CMP_LE"}]},
                {"names":["clone3"],"action":"SCMP_ACT_ERRNO","errnoRet":38}
            ]}"#,
        )
        .unwrap();
        assert_eq!(profile.default_action, Some(ScmpAction::Errno(1)));
        let clone = &profile.rules[0].argument_sets();
        assert_eq!(clone.len(), 1);
        assert_eq!(profile.rules[0].args[0].0, 0);
        // Same argument twice: separate rules (any of them lets it through).
        assert_eq!(profile.rules[1].argument_sets().len(), 2);
        // Different arguments: one rule with both conditions.
        assert_eq!(profile.rules[2].names, ["socket"]);
        assert_eq!(profile.rules[2].argument_sets().len(), 1);
        assert_eq!(profile.rules[2].argument_sets()[0].len(), 2);
        assert_eq!(profile.rules[3].action, ScmpAction::Errno(38));
    }

    #[test]
    fn architectures_and_arch_map() {
        let listed = Profile::parse(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"syscalls":null}"#,
        )
        .unwrap();
        assert_eq!(listed.architectures, [ScmpArch::X8664, ScmpArch::X86]);
        let mapped = Profile::parse(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","archMap":[
                {"architecture":"SCMP_ARCH_AARCH64","subArchitectures":["SCMP_ARCH_ARM"]},
                {"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86","SCMP_ARCH_X32"]},
                {"architecture":"SCMP_ARCH_RISCV64","subArchitectures":null}]}"#,
        )
        .unwrap();
        if ScmpArch::native() == ScmpArch::X8664 {
            assert_eq!(
                mapped.architectures,
                [ScmpArch::X8664, ScmpArch::X86, ScmpArch::X32]
            );
        }
    }

    #[test]
    fn empty_profile_means_no_filter() {
        let profile = Profile::parse("{}").unwrap();
        assert!(profile.default_action.is_none());
    }

    #[test]
    fn errors_say_what_and_where() {
        assert_eq!(
            error(r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["mkdir"],"action":"SCMP_ACT_NOPE"}]}"#),
            "syscalls[1] (mkdir): unknown action \"SCMP_ACT_NOPE\" (expected SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_TRACE or SCMP_ACT_LOG)"
        );
        assert!(error(r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_ABOUT"}]}]}"#)
            .starts_with("syscalls[0] (socket): unknown operator \"SCMP_CMP_ABOUT\""));
        assert_eq!(
            error(
                r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#
            ),
            "syscalls[0] (socket): argument index 6 is out of range (0 to 5)"
        );
        assert_eq!(
            error(r#"{"defaultAction":"SCMP_ACT_BLOCK"}"#),
            "defaultAction: unknown action \"SCMP_ACT_BLOCK\" (expected SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_TRACE or SCMP_ACT_LOG)"
        );
        assert_eq!(
            error(r#"{"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#),
            "defaultAction: no action given"
        );
        assert_eq!(
            error(r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_Z80"]}"#),
            "architectures: unknown architecture \"SCMP_ARCH_Z80\" (expected a name such as SCMP_ARCH_X86_64 or SCMP_ARCH_AARCH64)"
        );
        assert_eq!(
            error(
                r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}"#
            ),
            "both \"architectures\" and \"archMap\" are given (use one of them)"
        );
        assert_eq!(
            error(
                r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ALLOW"}]}"#
            ),
            "syscalls[0] (a, b): both \"name\" and \"names\" are given (use one of them)"
        );
        assert!(error(r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["ptrace"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"four"}}]}"#)
            .contains("invalid minKernel \"four\""));
        assert!(error(r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["ptrace"],"action":"SCMP_ACT_NOTIFY"}]}"#)
            .contains("needs a seccomp agent"));
        assert!(error(r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":5000}]}"#)
            .contains("errno 5000 is out of range"));
        assert!(error("[1, 2]").starts_with("not a seccomp profile in Docker's JSON format: "));
        assert!(
            error(r#"{"defaultAction":"SCMP_ACT_ERRNO","flags":["SECCOMP_FILTER_FLAG_LOG"]}"#)
                .contains("is not supported by berth")
        );
    }

    #[test]
    fn kernel_release_parsing() {
        assert_eq!(parse_release("6.18.44-fc-v1272"), Some((6, 18)));
        assert_eq!(parse_release("4.8.0"), Some((4, 8)));
        assert_eq!(parse_release("3.12-1-amd64"), Some((3, 12)));
        assert_eq!(parse_release("garbage"), None);
    }
}

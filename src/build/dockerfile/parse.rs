//! From logical lines to typed instructions: the keyword, leading
//! `--flag=value` options, exec form (a JSON array) versus shell form,
//! `key=value` lists, heredoc sources of COPY/ADD. Variables are not
//! substituted here; everything that is wrong with an instruction's shape is
//! reported with its file and line.

use super::ast::{
    Command, CopyArgs, CopySource, Dockerfile, Healthcheck, Instruction, Located, RunArgs,
};
use super::error::{DockerfileError, Problem};
use super::lexer::{lex, Heredoc, LogicalLine};
use super::mounts::RunMount;
use super::words::split_fields;
use std::time::Duration;

const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Parses a Dockerfile's text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Dockerfile, DockerfileError> {
    let lexed = lex(file, text)?;
    let escape = lexed.directives.escape;
    let mut instructions = Vec::with_capacity(lexed.lines.len());
    for line in lexed.lines {
        let keyword = line.keyword.to_ascii_uppercase();
        let located = parse_line(&line, escape)
            .map_err(|message| DockerfileError::new(file, line.line, keyword.clone(), message))?;
        instructions.push(located);
    }
    if !instructions
        .iter()
        .any(|i| matches!(i.instruction, Instruction::From { .. }))
    {
        return Err(DockerfileError::new(
            file,
            0,
            "FROM",
            "the Dockerfile has no FROM instruction: every build starts from an image or 'scratch'",
        ));
    }
    Ok(Dockerfile {
        file: file.to_string(),
        directives: lexed.directives,
        instructions,
    })
}

/// Parses an ONBUILD trigger recorded in an image (`RUN make`).
pub(crate) fn parse_trigger(text: &str, escape: char) -> Result<Located, Problem> {
    let text = text.trim();
    let (kw, body) = match text.find(char::is_whitespace) {
        Some(at) => (&text[..at], text[at..].trim()),
        None => (text, ""),
    };
    let upper = kw.to_ascii_uppercase();
    if matches!(upper.as_str(), "ONBUILD" | "FROM" | "MAINTAINER") {
        return Err(format!("{upper} isn't allowed as an ONBUILD trigger"));
    }
    Ok(Located {
        line: 0,
        text: text.to_string(),
        instruction: parse_instruction(kw, body, &[], escape)?,
    })
}

fn parse_line(line: &LogicalLine, escape: char) -> Result<Located, Problem> {
    let instruction = parse_instruction(&line.keyword, &line.rest, &line.heredocs, escape)?;
    Ok(Located {
        line: line.line,
        text: format!("{} {}", line.keyword.to_ascii_uppercase(), line.rest)
            .trim_end()
            .to_string(),
        instruction,
    })
}

fn parse_instruction(
    keyword: &str,
    rest: &str,
    heredocs: &[Heredoc],
    escape: char,
) -> Result<Instruction, Problem> {
    let upper = keyword.to_ascii_uppercase();
    let (flags, args) = split_flags(rest);
    let allowed: &[&str] = match upper.as_str() {
        "FROM" => &["platform"],
        "RUN" => &["mount", "network", "security"],
        "COPY" => &["from", "chown", "chmod", "link", "exclude"],
        "ADD" => &[
            "from",
            "chown",
            "chmod",
            "link",
            "exclude",
            "checksum",
            "keep-git-dir",
        ],
        "HEALTHCHECK" => &[
            "interval",
            "timeout",
            "start-period",
            "start-interval",
            "retries",
        ],
        _ => &[],
    };
    if !KEYWORDS.contains(&upper.as_str()) {
        return Err(unknown_instruction(keyword));
    }
    for flag in &flags {
        if !allowed.contains(&flag.name.as_str()) {
            return Err(if allowed.is_empty() {
                format!("{upper} takes no flags, got '--{}'", flag.name)
            } else {
                format!(
                    "unknown flag '--{}': {upper} takes {}",
                    flag.name,
                    allowed
                        .iter()
                        .map(|f| format!("--{f}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
        }
    }
    let flags = Flags(flags);
    Ok(match upper.as_str() {
        "FROM" => parse_from(args, &flags)?,
        "RUN" => {
            let mounts = flags.all("mount");
            for m in &mounts {
                RunMount::parse(m)?;
            }
            let network = flags.one("network")?;
            if let Some(n) = &network {
                if !matches!(n.as_str(), "default" | "none" | "host") {
                    return Err(format!(
                        "invalid --network={n}: expected 'default', 'none' or 'host'"
                    ));
                }
            }
            let security = flags.one("security")?;
            if let Some(s) = &security {
                if s != "sandbox" {
                    return Err(format!(
                        "--security={s} is not supported: berth runs build steps sandboxed only"
                    ));
                }
            }
            let command = command(args, "RUN")?;
            let heredocs = match command {
                Command::Shell(_) => heredocs.to_vec(),
                Command::Exec(_) => Vec::new(),
            };
            Instruction::Run(RunArgs {
                command,
                heredocs,
                mounts,
                network,
                security,
            })
        }
        "CMD" => Instruction::Cmd(command(args, "CMD")?),
        "ENTRYPOINT" => Instruction::Entrypoint(command(args, "ENTRYPOINT")?),
        "COPY" => Instruction::Copy(parse_copy(args, heredocs, &flags, false)?),
        "ADD" => Instruction::Add(parse_copy(args, heredocs, &flags, true)?),
        "ENV" => Instruction::Env(pairs(args, escape, "ENV")?),
        "LABEL" => Instruction::Label(pairs(args, escape, "LABEL")?),
        "ARG" => {
            let words = split_fields(args, escape);
            if words.is_empty() {
                return Err("ARG needs a name: ARG <name>[=<default value>]".into());
            }
            let mut out = Vec::new();
            for w in words {
                let (name, default) = match w.split_once('=') {
                    Some((n, d)) => (n.to_string(), Some(d.to_string())),
                    None => (w, None),
                };
                if name.is_empty() {
                    return Err("ARG names can not be blank".into());
                }
                out.push((name, default));
            }
            Instruction::Arg(out)
        }
        "WORKDIR" => Instruction::Workdir(single(args, "WORKDIR", "a path")?),
        "USER" => {
            if args.split_whitespace().count() != 1 {
                return Err("USER takes exactly one argument: <user>[:<group>]".into());
            }
            Instruction::User(args.to_string())
        }
        "EXPOSE" => {
            let ports: Vec<String> = args.split_whitespace().map(String::from).collect();
            if ports.is_empty() {
                return Err("EXPOSE needs at least one port: <port>[/<protocol>]".into());
            }
            Instruction::Expose(ports)
        }
        "VOLUME" => {
            let list = match json_array(args) {
                Some(list) => list,
                None => args.split_whitespace().map(String::from).collect(),
            };
            if list.is_empty() || list.iter().any(|v| v.trim().is_empty()) {
                return Err("VOLUME needs at least one non-empty path".into());
            }
            Instruction::Volume(list)
        }
        "HEALTHCHECK" => parse_healthcheck(args, &flags)?,
        "STOPSIGNAL" => Instruction::Stopsignal(single(args, "STOPSIGNAL", "a signal")?),
        "SHELL" => {
            match json_array(args) {
                Some(list) if !list.is_empty() => Instruction::Shell(list),
                _ => return Err(
                    "SHELL must be written in JSON form, for example SHELL [\"/bin/sh\", \"-c\"]"
                        .into(),
                ),
            }
        }
        "MAINTAINER" => Instruction::Maintainer(single(args, "MAINTAINER", "a name")?),
        "ONBUILD" => {
            let (kw, body) = match args.find(char::is_whitespace) {
                Some(at) => (&args[..at], args[at..].trim()),
                None => (args, ""),
            };
            let kw_upper = kw.to_ascii_uppercase();
            match kw_upper.as_str() {
                "" => return Err("ONBUILD needs an instruction to run later".into()),
                "ONBUILD" => {
                    return Err("chaining ONBUILD via 'ONBUILD ONBUILD' isn't allowed".into())
                }
                "FROM" | "MAINTAINER" => {
                    return Err(format!("{kw_upper} isn't allowed as an ONBUILD trigger"))
                }
                _ => {}
            }
            let trigger = parse_instruction(kw, body, &[], escape)
                .map_err(|e| format!("in the trigger {kw_upper}: {e}"))?;
            Instruction::Onbuild(Box::new(Located {
                line: 0,
                text: format!("{kw_upper} {body}").trim_end().to_string(),
                instruction: trigger,
            }))
        }
        _ => unreachable!("checked against KEYWORDS"),
    })
}

fn unknown_instruction(keyword: &str) -> Problem {
    let upper = keyword.to_ascii_uppercase();
    let close = KEYWORDS
        .iter()
        .find(|k| edit_distance(k, &upper) <= 2)
        .map(|k| format!(" (did you mean {k}?)"))
        .unwrap_or_default();
    format!(
        "unknown instruction '{keyword}'{close}; the Dockerfile instructions are {}",
        KEYWORDS.join(", ")
    )
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

struct Flag {
    name: String,
    value: Option<String>,
}

struct Flags(Vec<Flag>);

impl Flags {
    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|f| f.name == name)
            .map(|f| f.value.clone().unwrap_or_default())
            .collect()
    }

    fn one(&self, name: &str) -> Result<Option<String>, Problem> {
        let mut found = self.0.iter().filter(|f| f.name == name);
        let first = found.next();
        if found.next().is_some() {
            return Err(format!("--{name} may only be given once"));
        }
        match first {
            None => Ok(None),
            Some(Flag { value: None, .. }) => Err(format!("--{name} needs a value: --{name}=...")),
            Some(Flag { value: Some(v), .. }) => Ok(Some(v.clone())),
        }
    }

    fn boolean(&self, name: &str) -> Result<bool, Problem> {
        match self.0.iter().find(|f| f.name == name) {
            None => Ok(false),
            Some(Flag { value: None, .. }) => Ok(true),
            Some(Flag { value: Some(v), .. }) => match v.as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(format!("--{name}={v}: expected true or false")),
            },
        }
    }
}

/// Leading `--name[=value]` words and the text after them.
fn split_flags(rest: &str) -> (Vec<Flag>, &str) {
    let mut flags = Vec::new();
    let mut remaining = rest.trim_start();
    while let Some(body) = remaining.strip_prefix("--") {
        let mut end = body.len();
        let mut quote = None;
        for (i, c) in body.char_indices() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '"' || c == '\'' => quote = Some(c),
                None if c.is_whitespace() => {
                    end = i;
                    break;
                }
                None => {}
            }
        }
        let word = &body[..end];
        let (name, value) = match word.split_once('=') {
            Some((n, v)) => (n, Some(unquote(v))),
            None => (word, None),
        };
        flags.push(Flag {
            name: name.to_ascii_lowercase(),
            value,
        });
        remaining = body[end..].trim_start();
    }
    (flags, remaining)
}

fn unquote(v: &str) -> String {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return v[1..v.len() - 1].to_string();
        }
    }
    v.to_string()
}

fn json_array(args: &str) -> Option<Vec<String>> {
    if !args.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(args).ok()
}

fn command(args: &str, keyword: &str) -> Result<Command, Problem> {
    if let Some(list) = json_array(args) {
        return Ok(Command::Exec(list));
    }
    if args.is_empty() {
        return Err(format!(
            "{keyword} needs a command, in shell form ({keyword} cmd arg) or exec form ({keyword} [\"cmd\", \"arg\"])"
        ));
    }
    Ok(Command::Shell(args.to_string()))
}

fn single(args: &str, keyword: &str, what: &str) -> Result<String, Problem> {
    if args.is_empty() {
        return Err(format!("{keyword} needs {what}"));
    }
    Ok(args.to_string())
}

fn parse_from(args: &str, flags: &Flags) -> Result<Instruction, Problem> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let (image, name) = match words.as_slice() {
        [image] => (*image, None),
        [image, as_kw, name] if as_kw.eq_ignore_ascii_case("as") => {
            let name = name.to_ascii_lowercase();
            let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !valid {
                return Err(format!(
                    "invalid stage name '{name}': it must start with a letter and contain only letters, digits, '-', '_' and '.'"
                ));
            }
            (*image, Some(name))
        }
        _ => {
            return Err(
                "FROM takes an image and optionally a stage name: FROM [--platform=<platform>] <image> [AS <name>]"
                    .into(),
            )
        }
    };
    Ok(Instruction::From {
        image: image.to_string(),
        name,
        platform: flags.one("platform")?,
    })
}

fn pairs(args: &str, escape: char, keyword: &str) -> Result<Vec<(String, String)>, Problem> {
    let words = split_fields(args, escape);
    let Some(first) = words.first() else {
        return Err(format!("{keyword} needs at least one <key>=<value> pair"));
    };
    if !first.contains('=') {
        // Legacy form: `ENV key value` (the rest of the line is the value).
        let (key, value) = match args.find(char::is_whitespace) {
            Some(at) => (&args[..at], args[at..].trim()),
            None => (args, ""),
        };
        if value.is_empty() {
            return Err(format!(
                "{keyword} {key}: missing value; write {keyword} {key}=<value>"
            ));
        }
        return Ok(vec![(key.to_string(), value.to_string())]);
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some(("", _)) => Err(format!("{keyword} names can not be blank (in '{w}')")),
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => Err(format!(
                "can't find '=' in '{w}': {keyword} pairs are written <key>=<value>"
            )),
        })
        .collect()
}

fn parse_copy(
    args: &str,
    heredocs: &[Heredoc],
    flags: &Flags,
    add: bool,
) -> Result<CopyArgs, Problem> {
    let keyword = if add { "ADD" } else { "COPY" };
    let (words, json) = match json_array(args) {
        Some(list) => (list, true),
        None => (args.split_whitespace().map(String::from).collect(), false),
    };
    if words.len() < 2 {
        return Err(format!(
            "{keyword} needs at least one source and a destination: {keyword} <src>... <dest>"
        ));
    }
    let mut heredocs = heredocs.iter();
    let (dest, sources) = words.split_last().expect("two or more words");
    let sources = sources
        .iter()
        .map(|w| match (json, heredoc_word(w)) {
            (false, Some(name)) => match heredocs.next() {
                Some(h) if h.name == name => Ok(CopySource::Inline(h.clone())),
                _ => Err(format!("heredoc {w} has no body")),
            },
            _ => Ok(CopySource::Path(w.clone())),
        })
        .collect::<Result<Vec<_>, Problem>>()?;
    Ok(CopyArgs {
        sources,
        dest: dest.clone(),
        from: flags.one("from")?,
        chown: flags.one("chown")?,
        chmod: flags.one("chmod")?,
        link: flags.boolean("link")?,
        exclude: flags.all("exclude"),
        checksum: flags.one("checksum")?,
        keep_git_dir: flags.boolean("keep-git-dir")?,
    })
}

/// The delimiter of a `<<EOF`-style word.
fn heredoc_word(word: &str) -> Option<String> {
    let body = word.strip_prefix("<<")?;
    let body = body.strip_prefix('-').unwrap_or(body);
    let body = body.trim_matches(|c| c == '"' || c == '\'');
    (!body.is_empty() && body.chars().all(super::lexer::is_delimiter_char))
        .then(|| body.to_string())
}

fn parse_healthcheck(args: &str, flags: &Flags) -> Result<Instruction, Problem> {
    let (kw, body) = match args.find(char::is_whitespace) {
        Some(at) => (&args[..at], args[at..].trim()),
        None => (args, ""),
    };
    match kw.to_ascii_uppercase().as_str() {
        "NONE" => {
            if !body.is_empty() || !flags.0.is_empty() {
                return Err("HEALTHCHECK NONE takes no other arguments".into());
            }
            Ok(Instruction::Healthcheck(Healthcheck::None))
        }
        "CMD" => {
            let duration = |name: &str| -> Result<Option<Duration>, Problem> {
                flags
                    .one(name)?
                    .map(|v| parse_duration(&v).map_err(|e| format!("--{name}={v}: {e}")))
                    .transpose()
            };
            let retries = flags
                .one("retries")?
                .map(|v| {
                    v.parse::<u32>()
                        .map_err(|_| format!("--retries={v}: expected a whole number"))
                })
                .transpose()?;
            Ok(Instruction::Healthcheck(Healthcheck::Check {
                command: command(body, "HEALTHCHECK CMD")?,
                interval: duration("interval")?,
                timeout: duration("timeout")?,
                start_period: duration("start-period")?,
                start_interval: duration("start-interval")?,
                retries,
            }))
        }
        _ => Err("HEALTHCHECK takes [OPTIONS] CMD <command>, or NONE".into()),
    }
}

/// A Go-style duration: `30s`, `1m30s`, `1.5h`, `250ms`.
pub fn parse_duration(text: &str) -> Result<Duration, Problem> {
    let expected = "expected a duration such as 30s, 1m30s or 250ms";
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return Err(expected.into());
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or(expected)?;
        let number: f64 = rest[..num_end].parse().map_err(|_| expected)?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(expected.into()),
        };
        total += number * scale;
        rest = &rest[unit_end..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| "the duration is too long".to_string())
}

#[cfg(test)]
mod tests;

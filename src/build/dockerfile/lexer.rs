//! From Dockerfile text to logical lines: parser directives at the top
//! (`# syntax=`, `# escape=`, `# check=`), comments and blank lines dropped,
//! line continuations joined (the escape character at the end of a line),
//! and the bodies of heredocs (`<<EOF`, `<<-EOF`, `<<"EOF"`) read from the
//! lines that follow a RUN, COPY or ADD.

use super::error::DockerfileError;

/// The parser directives of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directives {
    /// `# syntax=`: accepted and ignored (berth has one built-in frontend).
    pub syntax: Option<String>,
    /// `# escape=`: `\` (the default) or `` ` ``.
    pub escape: char,
    /// `# check=`: accepted and ignored.
    pub check: Option<String>,
}

impl Default for Directives {
    fn default() -> Self {
        Directives {
            syntax: None,
            escape: '\\',
            check: None,
        }
    }
}

/// A heredoc's body, as read from the lines after the instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word (`EOF`).
    pub name: String,
    /// The body, each line ending in `\n`; leading tabs removed for `<<-`.
    pub content: String,
    /// False when the delimiter was quoted: no variable substitution.
    pub expand: bool,
    /// `<<-`: leading tabs were stripped.
    pub chomp: bool,
}

/// One instruction's text, continuations joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalLine {
    /// 1-based line of the instruction's first line.
    pub line: usize,
    /// The keyword as written (`run`, `RUN`).
    pub keyword: String,
    /// Everything after the keyword, trimmed.
    pub rest: String,
    /// Heredoc bodies in the order their `<<` markers appear.
    pub heredocs: Vec<Heredoc>,
}

/// The lexed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexed {
    pub directives: Directives,
    pub lines: Vec<LogicalLine>,
}

/// The keywords whose arguments may open heredocs.
fn takes_heredocs(keyword: &str) -> bool {
    matches!(
        keyword.to_ascii_uppercase().as_str(),
        "RUN" | "COPY" | "ADD"
    )
}

/// Lexes `text`, read from `file` (used in errors only).
pub fn lex(file: &str, text: &str) -> Result<Lexed, DockerfileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw: Vec<&str> = text.lines().collect();
    let (directives, mut i) = read_directives(file, &raw)?;
    let escape = directives.escape;
    let mut lines = Vec::new();
    while i < raw.len() {
        let first = raw[i].trim_start();
        if first.is_empty() || first.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut joined = String::new();
        loop {
            let current = raw[i];
            i += 1;
            match strip_continuation(current, escape) {
                Some(head) => {
                    joined.push_str(head);
                    // Comment and empty lines inside a continuation are dropped.
                    while i < raw.len() && {
                        let t = raw[i].trim_start();
                        t.is_empty() || t.starts_with('#')
                    } {
                        i += 1;
                    }
                    if i >= raw.len() {
                        break;
                    }
                }
                None => {
                    joined.push_str(current);
                    break;
                }
            }
        }
        let joined = joined.trim();
        let (keyword, rest) = match joined.find(char::is_whitespace) {
            Some(at) => (&joined[..at], joined[at..].trim()),
            None => (joined, ""),
        };
        let mut heredocs = Vec::new();
        if takes_heredocs(keyword) && !rest.starts_with('[') {
            for marker in heredoc_markers(rest) {
                let mut content = String::new();
                let mut closed = false;
                while i < raw.len() {
                    let body_line = raw[i];
                    i += 1;
                    let body_line = if marker.chomp {
                        body_line.trim_start_matches('\t')
                    } else {
                        body_line
                    };
                    if body_line == marker.name {
                        closed = true;
                        break;
                    }
                    content.push_str(body_line);
                    content.push('\n');
                }
                if !closed {
                    return Err(DockerfileError::new(
                        file,
                        start,
                        keyword.to_ascii_uppercase(),
                        format!(
                            "heredoc <<{} is not closed: no line '{}' before the end of the file",
                            marker.name, marker.name
                        ),
                    ));
                }
                heredocs.push(Heredoc {
                    name: marker.name,
                    content,
                    expand: marker.expand,
                    chomp: marker.chomp,
                });
            }
        }
        lines.push(LogicalLine {
            line: start,
            keyword: keyword.to_string(),
            rest: rest.to_string(),
            heredocs,
        });
    }
    Ok(Lexed { directives, lines })
}

/// `line` without its trailing escape character (and whitespace after it),
/// or `None` when the line does not continue.
fn strip_continuation(line: &str, escape: char) -> Option<&str> {
    let trimmed = line.trim_end_matches([' ', '\t']);
    trimmed.strip_suffix(escape)
}

fn read_directives(file: &str, raw: &[&str]) -> Result<(Directives, usize), DockerfileError> {
    let mut directives = Directives::default();
    let mut seen: Vec<String> = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let Some((key, value)) = parse_directive(raw[i]) else {
            break;
        };
        let key = key.to_ascii_lowercase();
        if !matches!(key.as_str(), "syntax" | "escape" | "check") {
            // Unknown directives are comments and end the directive block.
            break;
        }
        if seen.contains(&key) {
            return Err(DockerfileError::new(
                file,
                i + 1,
                "parser directive",
                format!("'{key}' may only be given once"),
            ));
        }
        seen.push(key.clone());
        match key.as_str() {
            "syntax" => directives.syntax = Some(value.to_string()),
            "check" => directives.check = Some(value.to_string()),
            _ => {
                directives.escape = match value {
                    "\\" => '\\',
                    "`" => '`',
                    other => {
                        return Err(DockerfileError::new(
                            file,
                            i + 1,
                            "parser directive",
                            format!("invalid escape '{other}': expected '\\' or '`'"),
                        ))
                    }
                }
            }
        }
        i += 1;
    }
    Ok((directives, i))
}

/// `# key=value` (any spacing around the parts), or `None`.
fn parse_directive(line: &str) -> Option<(&str, &str)> {
    let body = line.trim_start().strip_prefix('#')?;
    let (key, value) = body.split_once('=')?;
    let key = key.trim();
    let value = value.trim();
    let valid_key = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric());
    (valid_key && !value.is_empty()).then_some((key, value))
}

/// Characters a heredoc delimiter may have (`EOF`, `robots.txt`).
pub(crate) fn is_delimiter_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '"' | '\'' | '<' | '>' | '|' | '&' | ';' | '(' | ')')
}

struct Marker {
    name: String,
    expand: bool,
    chomp: bool,
}

/// The heredoc markers among the words of an instruction's arguments:
/// `<<NAME`, `<<-NAME`, `<<"NAME"`, `<<'NAME'`, optionally after a file
/// descriptor number (`3<<EOF`).
fn heredoc_markers(rest: &str) -> Vec<Marker> {
    let mut markers = Vec::new();
    let mut in_quote: Option<char> = None;
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = in_quote {
            if c == q {
                in_quote = None;
            }
            i += 1;
            continue;
        }
        if c == '"' || c == '\'' {
            in_quote = Some(c);
            i += 1;
            continue;
        }
        if c == '<' && chars.get(i + 1) == Some(&'<') && chars.get(i + 2) == Some(&'<') {
            // `<<<` is a here-string, not a heredoc.
            while chars.get(i) == Some(&'<') {
                i += 1;
            }
            continue;
        }
        // A heredoc starts a word (after an optional file descriptor number).
        let word_start = chars[..i]
            .iter()
            .rposition(|c| c.is_whitespace())
            .map_or(0, |p| p + 1);
        let at_word_start = chars[word_start..i].iter().all(|c| c.is_ascii_digit());
        if at_word_start && c == '<' && chars.get(i + 1) == Some(&'<') {
            let mut j = i + 2;
            let chomp = chars.get(j) == Some(&'-');
            if chomp {
                j += 1;
            }
            let quote = match chars.get(j) {
                Some(&q @ ('"' | '\'')) => {
                    j += 1;
                    Some(q)
                }
                _ => None,
            };
            let begin = j;
            while j < chars.len() && is_delimiter_char(chars[j]) {
                j += 1;
            }
            let name: String = chars[begin..j].iter().collect();
            let closed = match quote {
                Some(q) => chars.get(j) == Some(&q),
                None => true,
            };
            if !name.is_empty() && closed {
                markers.push(Marker {
                    name,
                    expand: quote.is_none(),
                    chomp,
                });
                i = j + usize::from(quote.is_some());
                continue;
            }
        }
        i += 1;
    }
    markers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexed(text: &str) -> Lexed {
        lex("Dockerfile", text).unwrap()
    }

    #[test]
    fn directives_with_any_spacing() {
        let l = lexed("#directive=value\n# escape=`\nFROM x\n");
        // Unknown directive ends the block: escape is then a comment.
        assert_eq!(l.directives.escape, '\\');
        let l = lexed("# syntax=docker/dockerfile:1\n#  ESCAPE =  `\nFROM x\n");
        assert_eq!(l.directives.escape, '`');
        assert_eq!(l.directives.syntax.as_deref(), Some("docker/dockerfile:1"));
    }

    #[test]
    fn directives_stop_after_comment_blank_or_instruction() {
        for text in [
            "# About my dockerfile\n# escape=`\nFROM x\n",
            "\n# escape=`\nFROM x\n",
            "FROM x\n# escape=`\n",
        ] {
            assert_eq!(lexed(text).directives.escape, '\\', "{text}");
        }
    }

    #[test]
    fn duplicate_and_bad_directives_are_errors() {
        let e = lex("Dockerfile", "# escape=\\\n# escape=`\nFROM x\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().contains("only be given once"));
        let e = lex("Dockerfile", "# escape=x\nFROM x\n").unwrap_err();
        assert!(e.message.contains("invalid escape"));
    }

    #[test]
    fn continuations_comments_and_leading_whitespace() {
        let l = lexed("FROM x\n  RUN echo hello \\\n# comment\n\n    world\nRUN a \\  \n  b\n");
        assert_eq!(l.lines.len(), 3);
        assert_eq!(l.lines[1].line, 2);
        assert_eq!(l.lines[1].keyword, "RUN");
        assert_eq!(l.lines[1].rest, "echo hello     world");
        assert_eq!(l.lines[2].rest, "a   b");
    }

    #[test]
    fn backtick_escape_windows_example() {
        let l = lexed(
            "# escape=`\n\nFROM microsoft/nanoserver\nCOPY testfile.txt c:\\\nRUN dir c:\\\nRUN a `\n  b\n",
        );
        assert_eq!(l.lines[1].rest, "testfile.txt c:\\");
        assert_eq!(l.lines[2].rest, "dir c:\\");
        assert_eq!(l.lines[3].rest, "a   b");
        // Without the directive, the trailing backslash joins the lines.
        let l = lexed("FROM microsoft/nanoserver\nCOPY testfile.txt c:\\\nRUN dir c:\\\n");
        assert_eq!(l.lines.len(), 2);
        assert_eq!(l.lines[1].rest, "testfile.txt c:RUN dir c:");
    }

    #[test]
    fn heredocs() {
        let l = lexed(
            "FROM x\nRUN <<EOF\napt-get update\n  apt-get install -y vim\nEOF\nRUN echo done\n",
        );
        assert_eq!(l.lines.len(), 3);
        let h = &l.lines[1].heredocs[0];
        assert_eq!(h.name, "EOF");
        assert_eq!(h.content, "apt-get update\n  apt-get install -y vim\n");
        assert!(h.expand && !h.chomp);
        assert_eq!(l.lines[2].rest, "echo done");
    }

    #[test]
    fn multiple_chomped_and_quoted_heredocs() {
        let l = lexed(
            "RUN <<FILE1 cat > file1 && <<-\"FILE2\" cat > file2\nI am\nfirst\nFILE1\n\tI am\n\tsecond\n\tFILE2\n",
        );
        let h = &l.lines[0].heredocs;
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].content, "I am\nfirst\n");
        assert!(h[0].expand);
        assert_eq!(h[1].name, "FILE2");
        assert_eq!(h[1].content, "I am\nsecond\n");
        assert!(!h[1].expand && h[1].chomp);
        let l = lexed("COPY <<'EOF' /x\n$HOME\nEOF\n");
        assert!(!l.lines[0].heredocs[0].expand);
        let l = lexed("RUN python3 3<<EOF >out\nprint(1)\nEOF\n");
        assert_eq!(l.lines[0].heredocs[0].content, "print(1)\n");
    }

    #[test]
    fn heredoc_markers_in_quotes_or_json_are_not_heredocs() {
        let l = lexed(
            "RUN echo '<<EOF'\nRUN [\"cat\", \"<<EOF\"]\nRUN echo $((1<<2))\nRUN cat <<<word\n",
        );
        assert_eq!(l.lines.len(), 4);
        assert!(l.lines.iter().all(|l| l.heredocs.is_empty()));
    }

    #[test]
    fn unterminated_heredoc_names_the_line() {
        let e = lex("Dockerfile", "FROM x\nRUN <<EOF\necho\n").unwrap_err();
        assert_eq!((e.line, e.instruction.as_str()), (2, "RUN"));
        assert!(e.message.contains("not closed"));
    }
}

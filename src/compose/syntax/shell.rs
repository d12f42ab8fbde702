//! Splitting a `command:` or `entrypoint:` string into words, the way
//! Compose does (compose-go `ShellCommand`, with mattn/go-shellwords and
//! its environment and backtick expansion both off).
//!
//! It is not a shell. The rules:
//!
//! - words are separated by runs of space, tab, CR or LF (no other
//!   whitespace); an empty text gives no words;
//! - `'...'` keeps everything literally, backslashes included;
//! - `"..."` keeps spaces; a backslash in it escapes any next character
//!   (`"a\nb"` is `anb`, `"a\"b"` is `a"b`);
//! - outside single quotes a backslash escapes the next character (`a\ b`
//!   is one word);
//! - quoted parts join their neighbours (`a""b` is `ab`); an empty quoted
//!   word is kept (`echo "" x` has three words);
//! - `$` is literal: no variable expansion (`$HOME` stays); `$(...)` and
//!   `` `...` `` are kept verbatim as part of a word, spaces and all;
//! - an unquoted `(` not right after `$` is an error, and so is an unmatched
//!   `)` or backquote, an unterminated quote, or a trailing backslash;
//! - an unquoted `;`, `&`, `|`, `<` or `>` ends the command: the rest is
//!   silently dropped (`echo hi && echo there` is `["echo", "hi"]`), and a
//!   word that starts with a digit right before `>` is dropped too
//!   (`echo 2>file` is `["echo"]`).
//!
//! A healthcheck `test:` string is not split: Compose runs it as
//! `["CMD-SHELL", text]`.

/// What the word being read holds so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    /// Nothing yet.
    None,
    /// Unquoted characters (possibly next to quoted ones).
    Plain,
    /// Only quoted parts so far (may be empty, and is still a word).
    Quoted,
}

/// Splits a `command:`/`entrypoint:` string into its words as Compose does.
///
/// Errors read like `invalid command line "echo 'x": unterminated single quote`.
pub fn split_command(text: &str) -> Result<Vec<String>, String> {
    let invalid = |why: &str| format!("invalid command line {text:?}: {why}");
    let mut words = Vec::new();
    let mut buffer = String::new();
    let mut word = Word::None;
    let mut escaped = false;
    let mut single = false;
    let mut double = false;
    let mut backquote = false;
    let mut dollar_paren = false;

    for c in text.chars() {
        if escaped {
            buffer.push(c);
            escaped = false;
            word = Word::Plain;
            continue;
        }
        if c == '\\' {
            if single {
                buffer.push(c);
            } else {
                escaped = true;
            }
            continue;
        }
        if matches!(c, ' ' | '\t' | '\r' | '\n') {
            if single || double || backquote || dollar_paren {
                buffer.push(c);
            } else if word != Word::None {
                words.push(std::mem::take(&mut buffer));
                word = Word::None;
            }
            continue;
        }
        let quiet = !single && !double;
        match c {
            '`' if quiet && !dollar_paren => backquote = !backquote,
            ')' if quiet && !backquote => dollar_paren = !dollar_paren,
            '(' if quiet && !backquote => {
                if !dollar_paren && buffer.ends_with('$') {
                    dollar_paren = true;
                    buffer.push(c);
                    continue;
                }
                return Err(invalid("\"(\" is only allowed in \"$(...)\" or in quotes"));
            }
            '"' if !single && !dollar_paren => {
                if double {
                    word = Word::Quoted;
                }
                double = !double;
                continue;
            }
            '\'' if !double && !dollar_paren => {
                if single {
                    word = Word::Quoted;
                }
                single = !single;
                continue;
            }
            ';' | '&' | '|' | '<' | '>' if quiet && !backquote && !dollar_paren => {
                if c == '>' && buffer.starts_with(|d: char| d.is_ascii_digit()) {
                    // A file descriptor number, as in `2>file`: dropped.
                    word = Word::None;
                }
                break;
            }
            _ => {}
        }
        word = Word::Plain;
        buffer.push(c);
    }

    if word != Word::None {
        words.push(buffer);
    }
    if escaped {
        return Err(invalid("it ends with a backslash"));
    }
    if single {
        return Err(invalid("unterminated single quote"));
    }
    if double {
        return Err(invalid("unterminated double quote"));
    }
    if backquote {
        return Err(invalid("unterminated backquote"));
    }
    if dollar_paren {
        return Err(invalid("unbalanced \"$(\" and \")\""));
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Vec<String> {
        split_command(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn check(text: &str, expected: &[&str]) {
        assert_eq!(ok(text), expected, "{text:?}");
    }

    #[test]
    fn words_and_spaces() {
        check("", &[]);
        check("   ", &[]);
        check("echo hi", &["echo", "hi"]);
        check("  lead   trail  ", &["lead", "trail"]);
        check("a\tb\nc\rd", &["a", "b", "c", "d"]);
        // Only ASCII space, tab, CR and LF separate words.
        check("a\u{a0}b\u{b}c", &["a\u{a0}b\u{b}c"]);
        check("echo é ü", &["echo", "é", "ü"]);
        check("a#b #c", &["a#b", "#c"]);
        check("echo ~ *", &["echo", "~", "*"]);
    }

    #[test]
    fn quotes() {
        check("echo \"a b\" c", &["echo", "a b", "c"]);
        check("echo a\"\"b", &["echo", "ab"]);
        check("echo \"\" x", &["echo", "", "x"]);
        check("echo '' x", &["echo", "", "x"]);
        check("''", &[""]);
        check("\"\"''", &[""]);
        check("echo \"it's\"", &["echo", "it's"]);
        check("echo \"a'b\" 'c\"d'", &["echo", "a'b", "c\"d"]);
        check("a'b c'd", &["ab cd"]);
        check("'a  b'", &["a  b"]);
        check("\"a\tb\"", &["a\tb"]);
    }

    #[test]
    fn backslashes() {
        check("echo \"a\\\"b\"", &["echo", "a\"b"]);
        check("echo \"a\\nb\"", &["echo", "anb"]);
        check("echo 'a\\nb'", &["echo", "a\\nb"]);
        check("echo a\\ b", &["echo", "a b"]);
        check("echo \"a\\\\\"", &["echo", "a\\"]);
        check("\\'", &["'"]);
        check("\\\"x", &["\"x"]);
        check("a\\;b", &["a;b"]);
        check("\\(", &["("]);
    }

    #[test]
    fn dollars_and_backquotes_are_kept() {
        check("echo $HOME ${x}", &["echo", "$HOME", "${x}"]);
        check("echo $(date) x", &["echo", "$(date)", "x"]);
        check("echo $(da te) x", &["echo", "$(da te)", "x"]);
        check("echo $(a;b) x", &["echo", "$(a;b)", "x"]);
        check("echo \"$(x\"", &["echo", "$(x"]);
        check("echo `date`", &["echo", "`date`"]);
        check("echo `da te` x", &["echo", "`da te`", "x"]);
        check("echo `a|b`", &["echo", "`a|b`"]);
        check("echo $", &["echo", "$"]);
        check("sh -c \"echo $HOME\"", &["sh", "-c", "echo $HOME"]);
        check("echo \"(x)\" '(y)'", &["echo", "(x)", "(y)"]);
        check("$('a')", &["$('a')"]);
    }

    #[test]
    fn operators_end_the_command() {
        check("echo hi && echo there", &["echo", "hi"]);
        check("echo a;b", &["echo", "a"]);
        check("echo a|b", &["echo", "a"]);
        check("echo a&", &["echo", "a"]);
        check("echo a<b", &["echo", "a"]);
        check("echo a>file", &["echo", "a"]);
        check("echo 2>file", &["echo"]);
        check("echo a2>file", &["echo", "a2"]);
        check("echo \"a;b\" c", &["echo", "a;b", "c"]);
        check("; echo", &[]);
        // What follows is not looked at, not even for errors.
        check("echo a; 'unterminated", &["echo", "a"]);
    }

    #[test]
    fn errors() {
        for (text, why) in [
            (
                "echo (hi)",
                "\"(\" is only allowed in \"$(...)\" or in quotes",
            ),
            (
                "echo $((1+2))",
                "\"(\" is only allowed in \"$(...)\" or in quotes",
            ),
            ("echo a)", "unbalanced \"$(\" and \")\""),
            ("echo $(x", "unbalanced \"$(\" and \")\""),
            ("echo \"unterminated", "unterminated double quote"),
            ("echo 'unterminated", "unterminated single quote"),
            ("echo trailing\\", "it ends with a backslash"),
            ("echo `x", "unterminated backquote"),
        ] {
            assert_eq!(
                split_command(text).unwrap_err(),
                format!("invalid command line {text:?}: {why}")
            );
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        let pieces = [
            "a", " ", "'", "\"", "\\", "$", "(", ")", "`", ";", ">", "2", "é",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    for d in pieces {
                        let _ = split_command(&format!("{a}{b}{c}{d}"));
                    }
                }
            }
        }
    }
}

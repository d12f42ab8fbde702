//! Splitting a `command:`/`entrypoint:` string into words the way Compose
//! does: whitespace separates, single quotes are literal, double quotes allow
//! `\"`, `\\`, `\$` and `` \` `` escapes, a backslash outside quotes escapes the
//! next character, `""` is an empty word. No variables, no comments.

/// Why a command string could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid command line string {text:?}: {reason}")]
pub struct SplitError {
    pub text: String,
    pub reason: &'static str,
}

/// Splits `text` into words.
pub fn split(text: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(next) => word.push(next),
                    None => word.push('\\'),
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => {
                            return Err(SplitError {
                                text: text.into(),
                                reason: "unterminated single quote",
                            })
                        }
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.peek() {
                            Some(&esc @ ('"' | '\\' | '$' | '`')) => {
                                word.push(esc);
                                chars.next();
                            }
                            _ => word.push('\\'),
                        },
                        Some(ch) => word.push(ch),
                        None => {
                            return Err(SplitError {
                                text: text.into(),
                                reason: "unterminated double quote",
                            })
                        }
                    }
                }
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Vec<String> {
        split(text).unwrap()
    }

    #[test]
    fn splits_like_compose() {
        assert_eq!(
            s("echo \"hi there\" 'a b' x\\ y"),
            ["echo", "hi there", "a b", "x y"]
        );
        assert_eq!(s("a \"\" b"), ["a", "", "b"]);
        assert_eq!(s("sh -c 'echo $$HOME'"), ["sh", "-c", "echo $$HOME"]);
        assert_eq!(s("a\"b c\"d"), ["ab cd"]);
        assert_eq!(s("echo \"a\\\"b\""), ["echo", "a\"b"]);
        assert_eq!(s("echo 'a\\b'"), ["echo", "a\\b"]);
        assert_eq!(s("x #y"), ["x", "#y"]);
        assert_eq!(s("a  b\tc"), ["a", "b", "c"]);
        assert_eq!(s("echo \\\\"), ["echo", "\\"]);
        assert_eq!(s(""), Vec::<String>::new());
        assert!(split("\"unterminated").is_err());
        assert!(split("'x").is_err());
    }
}

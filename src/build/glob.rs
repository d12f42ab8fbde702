//! Go `filepath.Match`-style matching of one path component: `*` (any run
//! of characters), `?` (one character), `[abc]`, `[a-z]`, `[^a-z]` and `\`
//! escapes. `.dockerignore` patterns and COPY sources both use it; `**` is
//! handled by the callers, across components.

/// A malformed pattern (an unclosed `[`, a trailing `\`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad pattern '{0}': {1}")]
pub struct BadPattern(pub String, pub &'static str);

/// Whether `name` (no `/`) matches `pattern` (no `/`).
pub fn match_component(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    validate(&p).map_err(|why| BadPattern(pattern.to_string(), why))?;
    Ok(matches_at(&p, &n))
}

/// Whether the pattern has any of `*?[\`.
pub fn has_meta(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '\\'])
}

fn validate(p: &[char]) -> Result<(), &'static str> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return Err("it ends with '\\'");
                }
                i += 2;
            }
            '[' => {
                let (_, next) = class(p, i, None).ok_or("'[' is not closed by ']'")?;
                i = next;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Reads the class at `p[start] == '['`; with `c`, whether `c` is in it.
/// Returns (matched, index after `]`).
fn class(p: &[char], start: usize, c: Option<char>) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negated = matches!(p.get(i), Some('^') | Some('!'));
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let mut lo = *p.get(i)?;
        if lo == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        if lo == '\\' {
            i += 1;
            lo = *p.get(i)?;
        }
        i += 1;
        let mut hi = lo;
        if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&x| x != ']') {
            i += 1;
            hi = *p.get(i)?;
            if hi == '\\' {
                i += 1;
                hi = *p.get(i)?;
            }
            i += 1;
        }
        if let Some(c) = c {
            if lo <= c && c <= hi {
                matched = true;
            }
        }
    }
    Some((matched != negated, i))
}

fn matches_at(p: &[char], n: &[char]) -> bool {
    let Some(&first) = p.first() else {
        return n.is_empty();
    };
    match first {
        '*' => (0..=n.len()).any(|k| matches_at(&p[1..], &n[k..])),
        '?' => !n.is_empty() && matches_at(&p[1..], &n[1..]),
        '[' => match (n.first(), class(p, 0, n.first().copied())) {
            (Some(_), Some((true, next))) => matches_at(&p[next..], &n[1..]),
            _ => false,
        },
        '\\' => n.first() == p.get(1) && !n.is_empty() && matches_at(&p[2..], &n[1..]),
        c => n.first() == Some(&c) && matches_at(&p[1..], &n[1..]),
    }
}

/// Whether `path` (components) matches `pattern` (components), where a
/// `**` component matches any number of components (at least one when it
/// ends the pattern).
pub fn match_components(pattern: &[String], path: &[&str]) -> Result<bool, BadPattern> {
    let Some(first) = pattern.first() else {
        return Ok(path.is_empty());
    };
    if first == "**" {
        let min = usize::from(pattern.len() == 1);
        for skip in min..=path.len() {
            if match_components(&pattern[1..], &path[skip..])? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    match path.first() {
        Some(name) if match_component(first, name)? => match_components(&pattern[1..], &path[1..]),
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_filepath_match_cases() {
        let cases = [
            ("abc", "abc", true),
            ("*", "abc", true),
            ("*c", "abc", true),
            ("a*", "a", true),
            ("a*", "abc", true),
            ("a*b*c*d*e*", "axbxcxdxe", true),
            ("ab[c]", "abc", true),
            ("ab[b-d]", "abc", true),
            ("ab[e-g]", "abc", false),
            ("ab[^c]", "abc", false),
            ("ab[^e-g]", "abc", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "ab", false),
            ("a?b", "a☺b", true),
            ("a?b", "ab", false),
            ("[\\]a]", "]", true),
            ("*.go", "main.go", true),
            ("*.go", "main.rs", false),
        ];
        for (p, n, want) in cases {
            assert_eq!(match_component(p, n).unwrap(), want, "{p} vs {n}");
        }
        assert!(match_component("[", "a").is_err());
        assert!(match_component("a\\", "a").is_err());
        assert!(match_component("[a-", "a").is_err());
    }

    #[test]
    fn double_star_spans_components() {
        let pat = |s: &str| s.split('/').map(String::from).collect::<Vec<_>>();
        let path = |s: &'static str| s.split('/').collect::<Vec<_>>();
        assert!(match_components(&pat("**/*.go"), &path("a.go")).unwrap());
        assert!(match_components(&pat("**/*.go"), &path("x/y/a.go")).unwrap());
        assert!(match_components(&pat("a/**/b"), &path("a/b")).unwrap());
        assert!(match_components(&pat("a/**/b"), &path("a/x/y/b")).unwrap());
        assert!(match_components(&pat("a/**"), &path("a/x")).unwrap());
        assert!(!match_components(&pat("a/**"), &path("a")).unwrap());
        assert!(!match_components(&pat("*/b"), &path("x/y/b")).unwrap());
    }
}

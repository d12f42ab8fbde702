//! How an error and its causes read as one line, for the user: `a: b: c`,
//! as `{:#}` prints an `anyhow` chain, but without the repeats of errors
//! that already end with their source's words.

/// The error and its sources as one line (`a: b: c`), each source left out
/// when the text before already ends with it (errors that repeat their
/// source in their own message).
pub fn chain_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("read /x: {0}")]
    struct Repeats(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("up")]
    struct Outer(#[source] Repeats);

    #[test]
    fn a_source_already_in_the_text_is_not_repeated() {
        let err = Outer(Repeats(std::io::Error::from_raw_os_error(2)));
        assert_eq!(
            chain_text(&err),
            "up: read /x: No such file or directory (os error 2)"
        );
    }
}

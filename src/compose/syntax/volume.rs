//! The short syntax of service `volumes:` entries: `[SOURCE:]TARGET[:MODE]`.
//!
//! Compose (compose-go `format.ParseVolume`) reads it like this, and so do we:
//!
//! - the text is cut at colons, except a colon right after a section made
//!   of one letter, which is taken as a Windows drive (`C:\data:/data` has
//!   source `C:\data`). This applies to every section and to one-letter
//!   volume names too: `v:/data` is an anonymous volume at target `v:/data`,
//!   `/h:c:ro` binds `/h` at `c:ro`;
//! - one section: an anonymous volume at that target; two: source and
//!   target; three: source, target and a comma list of options; more is an
//!   error ("too many colons"), as is an empty section (`/h:`, `::/c`);
//! - a text of one or two bytes is always an anonymous volume at that target;
//! - options: `ro`/`rw` (the last one wins), `nocopy`, `z`/`Z` (SELinux
//!   relabel), `shared`, `rshared`, `slave`, `rslave`, `private`, `rprivate`
//!   (bind propagation; the last one wins); anything else, including upper
//!   case spellings, `delegated`, `cached`, or an empty item, is ignored.
//!   Options apply whatever the kind: a named volume can carry a propagation
//!   and a bind can carry `nocopy`; Compose prints them as given;
//! - the source is a bind mount when it starts with `/`, `.`, `~`, `\\`, or
//!   is a Windows drive path (`C:...`), and a named volume otherwise;
//! - the target is cleaned like Go's `path.Clean` (`/c//d/../e/` is `/c/e`,
//!   `./c` is `c`); relative targets are accepted by `config`.
//!
//! The source is kept as written: resolving it to an absolute path is the
//! loader's job. Compose sets `bind.create_host_path: true` on every bind
//! written in this syntax.

use std::iter;

/// What a short-syntax volume mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VolumeKind {
    /// A host path (`type: bind`).
    Bind,
    /// A named volume, or an anonymous one when there is no source
    /// (`type: volume`).
    Volume,
}

/// A short-syntax volume as Compose resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParsedVolume {
    /// Bind mount or volume.
    pub kind: VolumeKind,
    /// Host path or volume name as written; `None` for an anonymous volume.
    pub source: Option<String>,
    /// Path in the container, cleaned like Go's `path.Clean`.
    pub target: String,
    /// `ro` given (and not overridden by a later `rw`).
    pub read_only: bool,
    /// `bind.propagation`: shared, rshared, slave, rslave, private, rprivate.
    pub propagation: Option<String>,
    /// `bind.selinux`: `z` or `Z`.
    pub selinux: Option<String>,
    /// `volume.nocopy`.
    pub nocopy: bool,
    /// Whether Compose records a `volume:` block for this entry (printed as
    /// `volume: {}` when `nocopy` is false): true for named and anonymous
    /// volumes except those written in one or two bytes, and for any entry
    /// with `nocopy`.
    pub has_volume_options: bool,
}

impl ParsedVolume {
    /// Whether Compose records a `bind:` block for this entry: always for a
    /// bind (it carries `create_host_path: true`), and for a volume that was
    /// given a propagation or SELinux option.
    pub fn has_bind_options(&self) -> bool {
        self.kind == VolumeKind::Bind || self.propagation.is_some() || self.selinux.is_some()
    }
}

/// Marks the end of the text, like compose-go's `endOfSpec` (a NUL inside
/// the text acts the same way there, so it does here).
const END: char = '\0';

/// Parses one short-syntax `volumes:` entry of a service.
///
/// Errors read like `invalid volume "/h:/c:ro:x": too many colons`.
pub fn parse_volume(spec: &str) -> Result<ParsedVolume, String> {
    let invalid = |why: &str| format!("invalid volume {spec:?}: {why}");
    let mut volume = ParsedVolume {
        kind: VolumeKind::Volume,
        source: None,
        target: String::new(),
        read_only: false,
        propagation: None,
        selinux: None,
        nocopy: false,
        has_volume_options: false,
    };
    match spec.len() {
        0 => return Err("invalid volume \"\": the volume is empty".to_owned()),
        1 | 2 => {
            volume.target = clean_path(spec);
            return Ok(volume);
        }
        _ => {}
    }
    let mut source = String::new();
    let mut target = String::new();
    let mut buffer: Vec<char> = Vec::new();
    for c in spec.chars().chain(iter::once(END)) {
        if is_windows_drive(&buffer, c) {
            buffer.push(c);
        } else if c == ':' || c == END {
            let section: String = buffer.drain(..).collect();
            if section.is_empty() {
                return Err(invalid("empty section between colons"));
            }
            if source.is_empty() && c == END {
                // One section only: an anonymous volume.
                target = section;
            } else if source.is_empty() {
                source = section;
            } else if target.is_empty() {
                target = section;
            } else if c == ':' {
                return Err(invalid("too many colons"));
            } else {
                apply_options(&mut volume, &section);
            }
        } else {
            buffer.push(c);
        }
    }
    if is_file_path(&source) {
        volume.kind = VolumeKind::Bind;
    } else {
        volume.kind = VolumeKind::Volume;
        volume.has_volume_options = true;
    }
    if volume.nocopy {
        volume.has_volume_options = true;
    }
    volume.source = (!source.is_empty()).then_some(source);
    volume.target = clean_path(&target);
    Ok(volume)
}

/// Applies a comma list of mode options; unknown ones are ignored.
fn apply_options(volume: &mut ParsedVolume, options: &str) {
    for option in options.split(',') {
        match option {
            "ro" => volume.read_only = true,
            "rw" => volume.read_only = false,
            "nocopy" => volume.nocopy = true,
            "shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate" => {
                volume.propagation = Some(option.to_owned());
            }
            "z" | "Z" => volume.selinux = Some(option.to_owned()),
            _ => {}
        }
    }
}

/// A colon right after a one-letter section starts a Windows drive path.
/// (Go checks `unicode.IsLetter`; `is_alphabetic` differs from it only on a
/// few marks and letter-like numerals.)
fn is_windows_drive(buffer: &[char], c: char) -> bool {
    c == ':' && matches!(buffer, [only] if only.is_alphabetic())
}

/// Whether a source names a host path rather than a volume.
fn is_file_path(source: &str) -> bool {
    if source.starts_with(['.', '/', '~']) || source.starts_with("\\\\") {
        return true;
    }
    let mut chars = source.chars();
    match (chars.next(), chars.as_str().as_bytes().first()) {
        (Some(first), Some(b':')) => first.is_alphabetic(),
        _ => false,
    }
}

/// Go's `path.Clean`: collapses `//`, drops `.`, resolves `..` lexically,
/// drops a trailing `/`; an empty result is `.` (or `/` when rooted).
pub fn clean_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(spec: &str) -> ParsedVolume {
        parse_volume(spec).unwrap_or_else(|e| panic!("{spec}: {e}"))
    }

    fn bind(source: &str, target: &str) -> ParsedVolume {
        ParsedVolume {
            kind: VolumeKind::Bind,
            source: Some(source.to_owned()),
            target: target.to_owned(),
            read_only: false,
            propagation: None,
            selinux: None,
            nocopy: false,
            has_volume_options: false,
        }
    }

    fn named(source: Option<&str>, target: &str) -> ParsedVolume {
        ParsedVolume {
            kind: VolumeKind::Volume,
            source: source.map(str::to_owned),
            target: target.to_owned(),
            read_only: false,
            propagation: None,
            selinux: None,
            nocopy: false,
            has_volume_options: true,
        }
    }

    #[test]
    fn kinds() {
        assert_eq!(ok("/data"), named(None, "/data"));
        assert_eq!(ok("vol:/data"), named(Some("vol"), "/data"));
        assert_eq!(ok("/h:/c"), bind("/h", "/c"));
        assert_eq!(ok("./data:/data"), bind("./data", "/data"));
        assert_eq!(ok("../data:/data"), bind("../data", "/data"));
        assert_eq!(ok("~/x:/data"), bind("~/x", "/data"));
        assert_eq!(ok(".:/data"), bind(".", "/data"));
        assert_eq!(ok("C:\\data:/data"), bind("C:\\data", "/data"));
        assert_eq!(ok("c:/data:/data"), bind("c:/data", "/data"));
        assert_eq!(ok("\\\\.\\pipe\\x:/p"), bind("\\\\.\\pipe\\x", "/p"));
        assert_eq!(ok("éé:/c"), named(Some("éé"), "/c"));
        assert_eq!(ok("1:/c"), named(Some("1"), "/c"));
        assert_eq!(ok("_:/c"), named(Some("_"), "/c"));
    }

    #[test]
    fn one_letter_sections_are_windows_drives() {
        assert_eq!(ok("v:/c"), named(None, "v:/c"));
        assert_eq!(ok("é:/c"), named(None, "é:/c"));
        assert_eq!(ok("v:/c:nocopy"), bind("v:/c", "nocopy"));
        assert_eq!(ok("v:/c:ro,nocopy"), bind("v:/c", "ro,nocopy"));
        assert_eq!(ok("/h:c:ro"), bind("/h", "c:ro"));
        assert_eq!(ok("v:c"), named(None, "v:c"));
    }

    #[test]
    fn short_texts() {
        let short = |target: &str| ParsedVolume {
            has_volume_options: false,
            ..named(None, target)
        };
        assert_eq!(ok("c"), short("c"));
        assert_eq!(ok("ab"), short("ab"));
        assert_eq!(ok("/a"), short("/a"));
        assert_eq!(ok("./"), short("."));
        assert_eq!(ok("é"), short("é"));
        assert_eq!(ok("/a/"), named(None, "/a"));
    }

    #[test]
    fn options() {
        let v = ok("./data:/data:ro");
        assert!(v.read_only);
        assert!(!ok("~/x:/data:rw").read_only);
        assert!(!ok("vol:/c:ro,,rw").read_only);
        assert!(ok("vol:/c:rw,ro").read_only);
        assert_eq!(ok("/h:/c:z").selinux.as_deref(), Some("z"));
        assert_eq!(ok("/h:/c:Z").selinux.as_deref(), Some("Z"));
        let v = ok("/h:/c:ro,Z,rshared");
        assert!(v.read_only);
        assert_eq!(v.selinux.as_deref(), Some("Z"));
        assert_eq!(v.propagation.as_deref(), Some("rshared"));
        assert!(v.has_bind_options());
        assert!(!v.has_volume_options);

        let v = ok("vol:/c:nocopy");
        assert!(v.nocopy && v.has_volume_options && !v.has_bind_options());
        let v = ok("vol:/c:ro,nocopy");
        assert!(v.nocopy && v.read_only);
        let v = ok("/h:/c:nocopy");
        assert_eq!(v.kind, VolumeKind::Bind);
        assert!(v.nocopy && v.has_volume_options);

        let v = ok("vol:/c:rshared,z");
        assert_eq!(v.kind, VolumeKind::Volume);
        assert!(v.has_bind_options());
        assert_eq!(v.propagation.as_deref(), Some("rshared"));
        assert_eq!(
            ok("vol:/c:private,slave").propagation.as_deref(),
            Some("slave")
        );
        let v = ok("vol:/c:rslave,rprivate,shared,Z,z");
        assert_eq!(v.propagation.as_deref(), Some("shared"));
        assert_eq!(v.selinux.as_deref(), Some("z"));
        for spec in [
            "/h:/c:foo",
            "/h:/c:delegated",
            "/h:/c:cached,consistent",
            "vol:/c:RO",
            "vol:/c: ro",
            "vol:/c:,",
        ] {
            let v = ok(spec);
            assert!(
                !v.read_only && v.propagation.is_none() && v.selinux.is_none() && !v.nocopy,
                "{spec}"
            );
        }
    }

    #[test]
    fn targets_are_cleaned() {
        assert_eq!(ok("vol:/c/../d/./e/").target, "/d/e");
        assert_eq!(ok("vol:/c//d/").target, "/c/d");
        assert_eq!(ok("vol:/").target, "/");
        assert_eq!(ok("vol:c").target, "c");
        assert_eq!(ok("vol:./c").target, "c");
        assert_eq!(ok("/h:c").target, "c");
        // The source is kept as written.
        assert_eq!(ok("/h//x/../:/c").source.as_deref(), Some("/h//x/../"));
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_volume("").unwrap_err(),
            "invalid volume \"\": the volume is empty"
        );
        assert_eq!(
            parse_volume("/h:/c:ro:x").unwrap_err(),
            "invalid volume \"/h:/c:ro:x\": too many colons"
        );
        assert_eq!(
            parse_volume("/h:/c:").unwrap_err(),
            "invalid volume \"/h:/c:\": empty section between colons"
        );
        for bad in ["::/c", ":/c", "/h:", "vol::/c", "ab:cd:ef:gh", ":::"] {
            assert!(parse_volume(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn go_path_clean() {
        for (input, cleaned) in [
            ("", "."),
            (".", "."),
            ("/", "/"),
            ("//", "/"),
            ("/..", "/"),
            ("/../a", "/a"),
            ("a/..", "."),
            ("..", ".."),
            ("../..", "../.."),
            ("a/../..", ".."),
            ("../a/../b", "../b"),
            ("a//b/./c/", "a/b/c"),
            ("/a/b/../../..", "/"),
            ("abc/./../def", "def"),
        ] {
            assert_eq!(clean_path(input), cleaned, "{input:?}");
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        let pieces = ["a", ":", "/", ".", ",", "ro", "\\", "é", "\0", "~", "C:"];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    for d in pieces {
                        let _ = parse_volume(&format!("{a}{b}{c}{d}"));
                    }
                }
            }
        }
    }
}

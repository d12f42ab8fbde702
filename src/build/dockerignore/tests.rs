//! `.dockerignore` tests from Docker's documentation and moby's behaviour.

use super::*;

fn rules(text: &str) -> IgnoreRules {
    IgnoreRules::parse(".dockerignore", text).unwrap()
}

#[test]
fn docs_example() {
    // From the docs: comments, */temp*, */*/temp*, temp?
    let r = rules("# comment\n*/temp*\n*/*/temp*\ntemp?\n");
    assert!(r.is_excluded("somedir/temporary.txt"));
    assert!(r.is_excluded("somedir/temp"));
    assert!(r.is_excluded("somedir/subdir/temporary.txt"));
    assert!(r.is_excluded("tempa"));
    assert!(r.is_excluded("tempb/inner"));
    assert!(!r.is_excluded("temp"));
    assert!(!r.is_excluded("a/b/c/temp"));
    assert!(!r.is_excluded("temporary.txt"));
}

#[test]
fn double_star_and_exceptions_last_match_wins() {
    let r = rules("**/*.go\n");
    assert!(r.is_excluded("main.go"));
    assert!(r.is_excluded("a/b/main.go"));
    // Without `**`, a pattern is anchored at the context root.
    let r = rules("*.md\n");
    assert!(r.is_excluded("README.md"));
    assert!(!r.is_excluded("docs/a.md"));
    let r = rules("*.md\n!README*.md\nREADME-secret.md\n");
    assert!(r.is_excluded("CHANGES.md"));
    assert!(!r.is_excluded("README.md"));
    assert!(r.is_excluded("README-secret.md"));
    let r = rules("*.md\nREADME-secret.md\n!README*.md\n");
    assert!(!r.is_excluded("README-secret.md"));
}

#[test]
fn cleaning_leading_slash_dot_and_trailing_slash() {
    let r = rules("/node_modules/\n./build\n  target  \n");
    assert_eq!(
        r.patterns
            .iter()
            .map(|p| p.pattern.as_str())
            .collect::<Vec<_>>(),
        ["node_modules", "build", "target"]
    );
    assert!(r.is_excluded("node_modules/x/y.js"));
    assert!(r.is_excluded("build"));
    assert!(!r.is_excluded("src/build"));
}

#[test]
fn exclude_everything_but() {
    let r = rules("*\n!src\n!Dockerfile\n");
    assert!(r.is_excluded("target"));
    assert!(!r.is_excluded("src/main.rs"));
    assert!(!r.is_excluded("Dockerfile"));
    assert!(r.exception_may_match_below(""));
}

#[test]
fn bad_pattern_names_file_and_line() {
    let e = IgnoreRules::parse(".dockerignore", "ok\n[abc\n").unwrap_err();
    assert!(
        e.to_string()
            .starts_with(".dockerignore:2: bad pattern '[abc'"),
        "{e}"
    );
}

fn tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for f in [
        "Dockerfile",
        ".dockerignore",
        "src/main.rs",
        "src/lib.rs",
        "target/debug/berth",
        "target/keep/me.txt",
        "docs/a.md",
        "docs/README.md",
    ] {
        let p = d.path().join(f);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, f).unwrap();
    }
    d
}

fn names(files: &[PathBuf]) -> Vec<String> {
    files.iter().map(|p| p.display().to_string()).collect()
}

#[test]
fn walk_skips_excluded_dirs_and_keeps_exceptions() {
    let d = tree();
    fs::write(
        d.path().join(".dockerignore"),
        "target\n!target/keep\n**/*.md\n!docs/README.md\nDockerfile\n.dockerignore\n",
    )
    .unwrap();
    let loaded = IgnoreRules::for_build(d.path(), &d.path().join("Dockerfile")).unwrap();
    assert_eq!(loaded.file, Some(d.path().join(".dockerignore")));
    let ctx = walk_context(
        d.path(),
        &loaded.rules,
        &[d.path().join("Dockerfile"), PathBuf::from(".dockerignore")],
    )
    .unwrap();
    assert_eq!(
        names(&ctx.included),
        [
            "docs",
            "docs/README.md",
            "src",
            "src/lib.rs",
            "src/main.rs",
            "target/keep",
            "target/keep/me.txt"
        ]
    );
    assert_eq!(names(&ctx.always_sent), [".dockerignore", "Dockerfile"]);
    assert_eq!(
        ctx.dirs
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>(),
        ["docs", "src", "target/keep"]
    );
}

#[test]
fn dockerfile_specific_ignore_file_wins() {
    let d = tree();
    fs::write(d.path().join(".dockerignore"), "src\n").unwrap();
    fs::create_dir(d.path().join("build")).unwrap();
    fs::write(d.path().join("build/app.Dockerfile"), "FROM x\n").unwrap();
    fs::write(d.path().join("build/app.Dockerfile.dockerignore"), "docs\n").unwrap();
    let loaded = IgnoreRules::for_build(d.path(), &d.path().join("build/app.Dockerfile")).unwrap();
    assert_eq!(
        loaded.file,
        Some(d.path().join("build/app.Dockerfile.dockerignore"))
    );
    assert!(loaded.rules.is_excluded("docs/a.md"));
    assert!(!loaded.rules.is_excluded("src/main.rs"));
    let none = tempfile::tempdir().unwrap();
    let loaded = IgnoreRules::for_build(none.path(), &none.path().join("Dockerfile")).unwrap();
    assert_eq!(loaded.file, None);
    assert!(loaded.rules.patterns.is_empty());
}

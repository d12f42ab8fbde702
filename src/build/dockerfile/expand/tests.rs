//! Stage evaluation tests: scoping and substitution per the reference.

use super::*;
use crate::build::dockerfile::{parse, plan, BuildOptions, Platform};

fn run(
    text: &str,
    args: &[(&str, &str)],
    base: &ImageConfig,
) -> Result<ExpandedStage, DockerfileError> {
    let o = BuildOptions {
        target: None,
        build_args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        platform: Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        },
    };
    let p = plan(&parse("Dockerfile", text).unwrap(), &o)?;
    p.expand_stage(p.target, base)
}

fn ok(text: &str) -> ExpandedStage {
    run(text, &[], &ImageConfig::default()).unwrap()
}

fn run_step(s: &ExpandedStage, i: usize) -> (Vec<String>, Vec<(String, String)>) {
    match &s.steps[i].kind {
        StepKind::Run { argv, env, .. } => (argv.clone(), env.clone()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn env_replacement_example() {
    // The reference's "Environment replacement" example.
    let s = ok("FROM busybox\nENV FOO=/bar\nWORKDIR ${FOO}\nADD . $FOO\nCOPY \\$FOO /quux\n");
    assert_eq!(s.config.working_dir, "/bar");
    match &s.steps[2].kind {
        StepKind::Copy { dest, sources, .. } => {
            assert_eq!(dest, "/bar");
            assert_eq!(sources, &[Source::Path(".".into())]);
        }
        other => panic!("{other:?}"),
    }
    match &s.steps[3].kind {
        StepKind::Copy { sources, .. } => assert_eq!(sources, &[Source::Path("$FOO".into())]),
        other => panic!("{other:?}"),
    }
    // Same value for every variable throughout one instruction.
    let s = ok("FROM a\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\n");
    assert_eq!(s.config.env["def"], "hello");
    assert_eq!(s.config.env["ghi"], "bye");
}

#[test]
fn env_values_and_labels_are_unquoted() {
    let s = ok("FROM a\nENV MY_NAME=\"John Doe\" MY_DOG=Rex\\ The\\ Dog\nLABEL \"com.example.vendor\"=\"ACME Incorporated\"\nLABEL description=\"This text illustrates \\\nthat label-values can span multiple lines.\"\n");
    assert_eq!(s.config.env["MY_NAME"], "John Doe");
    assert_eq!(s.config.env["MY_DOG"], "Rex The Dog");
    assert_eq!(s.config.labels["com.example.vendor"], "ACME Incorporated");
    assert_eq!(
        s.config.labels["description"],
        "This text illustrates that label-values can span multiple lines."
    );
}

#[test]
fn arg_scoping() {
    // ARG usable from its line on; ENV overrides ARG.
    let text = "FROM busybox\nUSER ${username:-some_user}\nARG username\nUSER $username\nENV CONT_IMG_VER=${CONT_IMG_VER:-v1.0.0}\nARG CONT_IMG_VER\nRUN echo $CONT_IMG_VER\n";
    let s = run(
        text,
        &[("username", "what_user"), ("CONT_IMG_VER", "v2.0.1")],
        &ImageConfig::default(),
    )
    .unwrap();
    assert_eq!(s.steps[0].user, "some_user");
    assert_eq!(s.steps[2].user, "what_user");
    assert_eq!(s.config.env["CONT_IMG_VER"], "v1.0.0");
    let (_, env) = run_step(&s, 5);
    assert!(env.contains(&("CONT_IMG_VER".into(), "v1.0.0".into())));
    assert!(env.contains(&("username".into(), "what_user".into())));
    // ARG values reach RUN but not the image.
    assert!(!s.config.env.contains_key("username"));
}

#[test]
fn global_args_need_redeclaring_in_a_stage() {
    let text = "ARG VERSION=latest\nFROM busybox:$VERSION\nRUN echo $VERSION > image_version\nARG VERSION\nARG TARGETARCH\nRUN echo $VERSION\n";
    let s = ok(text);
    let (_, before) = run_step(&s, 0);
    assert!(!before.iter().any(|(k, _)| k == "VERSION"));
    let (_, after) = run_step(&s, 3);
    assert!(after.contains(&("VERSION".into(), "latest".into())));
    assert!(after.contains(&("TARGETARCH".into(), "amd64".into())));
}

#[test]
fn proxy_args_reach_run_undeclared() {
    let s = run(
        "FROM a\nRUN env\n",
        &[("HTTPS_PROXY", "http://proxy:3128")],
        &ImageConfig::default(),
    )
    .unwrap();
    let (_, env) = run_step(&s, 0);
    assert!(env.contains(&("HTTPS_PROXY".into(), "http://proxy:3128".into())));
}

#[test]
fn run_forms_and_shell() {
    let s = ok("FROM a\nRUN echo $HOME\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN [\"echo\", \"$HOME\"]\nRUN wget -O - x | wc -l\n");
    assert_eq!(run_step(&s, 0).0, ["/bin/sh", "-c", "echo $HOME"]);
    assert_eq!(run_step(&s, 2).0, ["echo", "$HOME"]);
    assert_eq!(
        run_step(&s, 3).0,
        ["/bin/bash", "-o", "pipefail", "-c", "wget -O - x | wc -l"]
    );
}

#[test]
fn run_heredocs() {
    let s = ok("FROM a\nRUN <<EOF\napt-get update\nEOF\nRUN <<EOF\n#!/usr/bin/env python\nprint(1)\nEOF\nRUN <<FILE1 cat > file1 && <<FILE2 cat > file2\nI am\nFILE1\nsecond\nFILE2\n");
    assert_eq!(run_step(&s, 0).0, ["/bin/sh", "-c", "apt-get update\n"]);
    match &s.steps[1].kind {
        StepKind::Run { argv, files, .. } => {
            assert_eq!(argv, &["/dev/pipes/EOF"]);
            assert_eq!(files[0].content, "#!/usr/bin/env python\nprint(1)\n");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        run_step(&s, 2).0[2],
        "<<FILE1 cat > file1 && <<FILE2 cat > file2\nI am\nFILE1\nsecond\nFILE2\n"
    );
}

#[test]
fn copy_heredoc_expansion_respects_quoting() {
    let s = ok("FROM a\nARG FOO=bar\nCOPY <<-EOF /x\n\techo \"$FOO\"\n\tEOF\nCOPY <<'EOF' /y\necho $FOO\nEOF\n");
    let inline = |i: usize| match &s.steps[i].kind {
        StepKind::Copy { sources, .. } => sources[0].clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        inline(1),
        Source::Inline {
            name: "EOF".into(),
            content: "echo \"bar\"\n".into()
        }
    );
    assert_eq!(
        inline(2),
        Source::Inline {
            name: "EOF".into(),
            content: "echo $FOO\n".into()
        }
    );
}

#[test]
fn copy_destinations_flags_and_refusals() {
    let s = ok("FROM a AS build\nFROM b\nWORKDIR /app\nCOPY --chmod=0644 --chown=$UNSET:1 --from=build a b ./\nCOPY x rel/\nADD app.tar.gz .\n");
    match &s.steps[1].kind {
        StepKind::Copy {
            dest,
            chmod,
            chown,
            from,
            ..
        } => {
            assert_eq!(dest, "/app/");
            assert_eq!(*chmod, Some(0o644));
            assert_eq!(chown.as_deref(), Some(":1"));
            assert_eq!(*from, Some(SourceRef::Stage(0)));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&s.steps[2].kind, StepKind::Copy { dest, .. } if dest == "/app/rel/"));
    assert!(matches!(&s.steps[3].kind, StepKind::Copy { add: true, .. }));
    let e = run(
        "FROM a\nADD https://example.com/big.tar.xz /usr/src/\n",
        &[],
        &ImageConfig::default(),
    )
    .unwrap_err();
    assert_eq!((e.line, e.instruction.as_str()), (2, "ADD"));
    assert!(e.message.contains("offline"), "{e}");
    let e = run("FROM a\nCOPY a b /dest\n", &[], &ImageConfig::default()).unwrap_err();
    assert!(e.message.contains("ending in '/'"));
    let e = run(
        "FROM a\nCOPY --chmod=rwx a /b\n",
        &[],
        &ImageConfig::default(),
    )
    .unwrap_err();
    assert!(e.message.contains("octal"));
}

#[test]
fn workdir_relative_and_metadata() {
    let s = ok("FROM a\nWORKDIR /a\nWORKDIR b\nWORKDIR c\nEXPOSE 80 53/UDP 8000-8010\nVOLUME /data\nSTOPSIGNAL SIGQUIT\nHEALTHCHECK NONE\nMAINTAINER me\n");
    assert_eq!(s.config.working_dir, "/a/b/c");
    assert!(matches!(&s.steps[2].kind, StepKind::MakeDir(p) if p == "/a/b/c"));
    assert_eq!(
        s.config.exposed_ports.iter().cloned().collect::<Vec<_>>(),
        ["53/udp", "80/tcp", "8000-8010/tcp"]
    );
    assert!(s.config.volumes.contains("/data"));
    assert_eq!(s.config.stop_signal.as_deref(), Some("SIGQUIT"));
    assert_eq!(s.config.healthcheck, Some(Healthcheck::None));
    assert_eq!(s.config.author.as_deref(), Some("me"));
    let e = run("FROM a\nEXPOSE 99999\n", &[], &ImageConfig::default()).unwrap_err();
    assert!(e.message.contains("ports 1-65535"));
}

#[test]
fn entrypoint_resets_an_inherited_cmd() {
    let base = ImageConfig {
        cmd: Some(vec!["bash".into()]),
        ..ImageConfig::default()
    };
    let s = run("FROM a\nENTRYPOINT [\"top\", \"-b\"]\n", &[], &base).unwrap();
    assert_eq!(s.config.cmd, None);
    let s = run(
        "FROM a\nCMD [\"-c\"]\nENTRYPOINT [\"top\", \"-b\"]\n",
        &[],
        &base,
    )
    .unwrap();
    assert_eq!(s.config.cmd, Some(vec!["-c".into()]));
    let s = run("FROM a\nCMD echo $HOME\n", &[], &base).unwrap();
    assert_eq!(
        s.config.cmd,
        Some(vec!["/bin/sh".into(), "-c".into(), "echo $HOME".into()])
    );
}

#[test]
fn base_env_is_visible_and_onbuild_triggers_run_first() {
    let mut base = ImageConfig::default();
    base.env.insert("GOPATH".into(), "/go".into());
    base.onbuild = vec![
        "ADD . /app/src".into(),
        "RUN /usr/local/bin/python-build --dir /app/src".into(),
    ];
    let s = run(
        "FROM a\nWORKDIR $GOPATH/src\nONBUILD RUN make\n",
        &[],
        &base,
    )
    .unwrap();
    assert_eq!(s.steps[0].line, 1);
    assert!(matches!(&s.steps[0].kind, StepKind::Copy { add: true, .. }));
    assert!(matches!(&s.steps[1].kind, StepKind::Run { .. }));
    assert_eq!(s.config.working_dir, "/go/src");
    // Triggers run once: the new image carries only its own.
    assert_eq!(s.config.onbuild, ["RUN make"]);
    base.onbuild = vec!["BOGUS x".into()];
    let e = run("FROM a\n", &[], &base).unwrap_err();
    assert_eq!((e.line, e.instruction.as_str()), (1, "ONBUILD"));
    assert!(e.message.contains("trigger 'BOGUS x'"));
}

#[test]
fn run_mounts_resolve_stages() {
    let s = ok("FROM a AS deps\nFROM b\nARG CACHE=/root/.cache\nRUN --mount=type=cache,target=$CACHE --mount=from=deps,target=/d --network=none make\n");
    match &s.steps[1].kind {
        StepKind::Run {
            mounts, network, ..
        } => {
            assert_eq!(mounts[0].mount.target.as_deref(), Some("/root/.cache"));
            assert_eq!(mounts[1].from, Some(SourceRef::Stage(0)));
            assert_eq!(*network, RunNetwork::None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn substitution_errors_name_the_line() {
    let e = run(
        "FROM a\nENV A=1\nWORKDIR ${NOPE:?set NOPE}\n",
        &[],
        &ImageConfig::default(),
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "Dockerfile:3: WORKDIR: NOPE: set NOPE");
}

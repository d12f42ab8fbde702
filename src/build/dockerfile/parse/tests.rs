//! Parser tests, mostly from the Dockerfile reference's examples.

use super::*;

fn one(text: &str) -> Instruction {
    let df = parse("Dockerfile", &format!("FROM base\n{text}\n")).unwrap();
    df.instructions[1].instruction.clone()
}

fn err(text: &str) -> DockerfileError {
    parse("Dockerfile", text).unwrap_err()
}

#[test]
fn from_forms() {
    let df = parse(
        "Dockerfile",
        "ARG CODE_VERSION=latest\nFROM base:${CODE_VERSION}\nFROM --platform=$BUILDPLATFORM golang AS Build\nFROM scratch\n",
    )
    .unwrap();
    assert_eq!(df.instructions.len(), 4);
    assert_eq!(
        df.instructions[2].instruction,
        Instruction::From {
            image: "golang".into(),
            name: Some("build".into()),
            platform: Some("$BUILDPLATFORM".into()),
        }
    );
    assert!(err("FROM a AS\n").message.contains("FROM takes"));
    assert!(err("FROM a AS 1x\n").message.contains("invalid stage name"));
    assert!(err("RUN echo\n").message.contains("no FROM"));
}

#[test]
fn run_shell_exec_and_flags() {
    assert_eq!(
        one("RUN /bin/bash -c 'source $HOME/.bashrc && echo $HOME'"),
        Instruction::Run(RunArgs {
            command: Command::Shell("/bin/bash -c 'source $HOME/.bashrc && echo $HOME'".into()),
            heredocs: vec![],
            mounts: vec![],
            network: None,
            security: None,
        })
    );
    let Instruction::Run(r) = one("RUN [\"/bin/bash\", \"-c\", \"echo hello\"]") else {
        panic!()
    };
    assert_eq!(
        r.command,
        Command::Exec(vec!["/bin/bash".into(), "-c".into(), "echo hello".into()])
    );
    // Not valid JSON (single quotes): shell form, as the reference warns.
    let Instruction::Run(r) = one("RUN ['echo', 'hi']") else {
        panic!()
    };
    assert!(matches!(r.command, Command::Shell(_)));
    let Instruction::Run(r) =
        one("RUN --mount=type=cache,target=/root/.cache --network=none go build ./...")
    else {
        panic!()
    };
    assert_eq!(r.mounts, vec!["type=cache,target=/root/.cache"]);
    assert_eq!(r.network.as_deref(), Some("none"));
    assert_eq!(r.command, Command::Shell("go build ./...".into()));
    let e = err("FROM a\nRUN --network=bridge x\n");
    assert_eq!((e.line, e.instruction.as_str()), (2, "RUN"));
    let e = err("FROM a\nRUN --mount=type=nfs,target=/x x\n");
    assert!(e.message.contains("expected bind, cache"));
    assert!(err("FROM a\nRUN --security=insecure x\n")
        .message
        .contains("sandboxed"));
}

#[test]
fn run_heredoc() {
    let Instruction::Run(r) = one("RUN <<EOF\napt-get update\napt-get install -y curl\nEOF") else {
        panic!()
    };
    assert_eq!(r.command, Command::Shell("<<EOF".into()));
    assert_eq!(
        r.heredocs[0].content,
        "apt-get update\napt-get install -y curl\n"
    );
}

#[test]
fn copy_and_add_forms() {
    let Instruction::Copy(c) =
        one("COPY --from=build --chown=55:mygroup --chmod=644 --link files* /somedir/")
    else {
        panic!()
    };
    assert_eq!(c.sources, vec![CopySource::Path("files*".into())]);
    assert_eq!(c.dest, "/somedir/");
    assert_eq!(c.from.as_deref(), Some("build"));
    assert_eq!(c.chown.as_deref(), Some("55:mygroup"));
    assert_eq!(c.chmod.as_deref(), Some("644"));
    assert!(c.link);
    let Instruction::Copy(c) = one("COPY [\"hello world.txt\", \"/dst/\"]") else {
        panic!()
    };
    assert_eq!(c.sources, vec![CopySource::Path("hello world.txt".into())]);
    let Instruction::Copy(c) = one("COPY <<EOF /app/run.sh\necho hi\nEOF") else {
        panic!()
    };
    match &c.sources[0] {
        CopySource::Inline(h) => {
            assert_eq!((h.name.as_str(), h.content.as_str()), ("EOF", "echo hi\n"))
        }
        other => panic!("{other:?}"),
    }
    let Instruction::Copy(c) = one(
        "COPY <<robots.txt <<humans.txt /usr/share/nginx/html/\nUser-agent: *\nrobots.txt\nwe are\nhumans.txt",
    ) else {
        panic!()
    };
    let contents: Vec<&str> = c
        .sources
        .iter()
        .map(|s| match s {
            CopySource::Inline(h) => h.content.as_str(),
            CopySource::Path(p) => p.as_str(),
        })
        .collect();
    assert_eq!(contents, ["User-agent: *\n", "we are\n"]);
    let Instruction::Add(a) = one("ADD --checksum=sha256:abc --keep-git-dir=true x.tar.gz /")
    else {
        panic!()
    };
    assert!(a.keep_git_dir && a.checksum.is_some());
    assert!(err("FROM a\nCOPY onlyone\n")
        .message
        .contains("source and a destination"));
    assert!(err("FROM a\nCOPY --parents a b\n")
        .message
        .contains("unknown flag '--parents'"));
    assert!(err("FROM a\nCOPY --from a b\n")
        .message
        .contains("needs a value"));
}

#[test]
fn env_label_arg() {
    assert_eq!(
        one("ENV MY_NAME=\"John Doe\" MY_DOG=Rex\\ The\\ Dog MY_CAT=fluffy"),
        Instruction::Env(vec![
            ("MY_NAME".into(), "\"John Doe\"".into()),
            ("MY_DOG".into(), "Rex\\ The\\ Dog".into()),
            ("MY_CAT".into(), "fluffy".into()),
        ])
    );
    assert_eq!(
        one("ENV MY_VAR my-value with spaces"),
        Instruction::Env(vec![("MY_VAR".into(), "my-value with spaces".into())])
    );
    assert_eq!(
        one("LABEL \"com.example.vendor\"=\"ACME Incorporated\" version=1.0"),
        Instruction::Label(vec![
            (
                "\"com.example.vendor\"".into(),
                "\"ACME Incorporated\"".into()
            ),
            ("version".into(), "1.0".into()),
        ])
    );
    assert_eq!(
        one("ARG user1=someuser buildno"),
        Instruction::Arg(vec![
            ("user1".into(), Some("someuser".into())),
            ("buildno".into(), None)
        ])
    );
    assert!(err("FROM a\nENV ONLYKEY\n")
        .message
        .contains("missing value"));
    assert!(err("FROM a\nENV a=1 b\n")
        .message
        .contains("can't find '='"));
}

#[test]
fn metadata_instructions() {
    assert_eq!(
        one("WORKDIR /path/to/workdir"),
        Instruction::Workdir("/path/to/workdir".into())
    );
    assert_eq!(
        one("USER patrick:group"),
        Instruction::User("patrick:group".into())
    );
    assert_eq!(
        one("EXPOSE 80/tcp 80/udp"),
        Instruction::Expose(vec!["80/tcp".into(), "80/udp".into()])
    );
    assert_eq!(
        one("VOLUME [\"/data\"]"),
        Instruction::Volume(vec!["/data".into()])
    );
    assert_eq!(
        one("VOLUME /var/log /var/db"),
        Instruction::Volume(vec!["/var/log".into(), "/var/db".into()])
    );
    assert_eq!(
        one("STOPSIGNAL SIGKILL"),
        Instruction::Stopsignal("SIGKILL".into())
    );
    assert_eq!(
        one("SHELL [\"powershell\", \"-command\"]"),
        Instruction::Shell(vec!["powershell".into(), "-command".into()])
    );
    assert_eq!(
        one("CMD [\"--port\", \"27017\"]"),
        Instruction::Cmd(Command::Exec(vec!["--port".into(), "27017".into()]))
    );
    assert_eq!(
        one("ENTRYPOINT exec top -b"),
        Instruction::Entrypoint(Command::Shell("exec top -b".into()))
    );
    assert_eq!(one("MAINTAINER me"), Instruction::Maintainer("me".into()));
    assert!(err("FROM a\nSHELL /bin/bash -c\n")
        .message
        .contains("JSON form"));
    assert!(err("FROM a\nUSER a b\n").message.contains("exactly one"));
}

#[test]
fn healthcheck_forms() {
    assert_eq!(
        one("HEALTHCHECK --interval=5m --timeout=3s --retries=3 CMD curl -f http://localhost/ || exit 1"),
        Instruction::Healthcheck(Healthcheck::Check {
            command: Command::Shell("curl -f http://localhost/ || exit 1".into()),
            interval: Some(Duration::from_secs(300)),
            timeout: Some(Duration::from_secs(3)),
            start_period: None,
            start_interval: None,
            retries: Some(3),
        })
    );
    assert_eq!(
        one("HEALTHCHECK NONE"),
        Instruction::Healthcheck(Healthcheck::None)
    );
    assert!(err("FROM a\nHEALTHCHECK --interval=5x CMD true\n")
        .message
        .contains("duration"));
    assert!(err("FROM a\nHEALTHCHECK curl\n").message.contains("CMD"));
    assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
    assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
}

#[test]
fn onbuild() {
    let Instruction::Onbuild(t) = one("ONBUILD ADD . /app/src") else {
        panic!()
    };
    assert_eq!(t.text, "ADD . /app/src");
    assert!(matches!(t.instruction, Instruction::Add(_)));
    assert!(err("FROM a\nONBUILD ONBUILD RUN x\n")
        .message
        .contains("isn't allowed"));
    assert!(err("FROM a\nONBUILD FROM x\n")
        .message
        .contains("isn't allowed"));
    assert!(err("FROM a\nONBUILD BOGUS x\n")
        .message
        .contains("unknown instruction"));
}

#[test]
fn unknown_instruction_names_file_line_and_suggests() {
    let e = err("FROM a\n\nRUNN echo\n");
    assert_eq!(e.line, 3);
    assert_eq!(e.instruction, "RUNN");
    assert!(e.message.contains("did you mean RUN?"), "{e}");
    assert!(e
        .to_string()
        .starts_with("Dockerfile:3: RUNN: unknown instruction"));
}

#[test]
fn lowercase_keywords_and_windows_escape() {
    let df = parse(
        "Dockerfile",
        "# escape=`\nfrom microsoft/nanoserver\ncopy testfile.txt c:\\\nrun dir c:\\\n",
    )
    .unwrap();
    let Instruction::Copy(c) = &df.instructions[1].instruction else {
        panic!()
    };
    assert_eq!(c.dest, "c:\\");
    assert_eq!(
        df.instructions[2].instruction,
        Instruction::Run(RunArgs {
            command: Command::Shell("dir c:\\".into()),
            heredocs: vec![],
            mounts: vec![],
            network: None,
            security: None,
        })
    );
}

#[test]
fn truncated_and_odd_input_never_panics() {
    let sample = "# escape=`\nARG V=1\nFROM a:${V} AS b\nRUN --mount=type=cache,target=/c <<EOF `\n  x\necho ${V:-\"q\"} '$V'\nEOF\nCOPY --from=b [\"a\", \"b\"]\nHEALTHCHECK --interval=1m CMD x\nONBUILD RUN y\nENV a=\"b c\" d=e\nLABEL x=y\nEXPOSE 1-2\n";
    assert!(parse("Dockerfile", sample).is_ok());
    for end in 0..=sample.len() {
        if !sample.is_char_boundary(end) {
            continue;
        }
        if let Ok(df) = parse("Dockerfile", &sample[..end]) {
            if let Ok(p) = crate::build::dockerfile::plan(&df, &Default::default()) {
                for s in &p.order {
                    let _ = p.expand_stage(*s, &Default::default());
                }
            }
        }
    }
    for odd in [
        "RUN --mount=type=tmpfs,target=/t,size=9999999999999g x",
        "HEALTHCHECK --interval=99999999999999999999999h CMD x",
        "HEALTHCHECK --interval=µs CMD x",
        "RUN <<",
        "COPY <<\"EOF /x",
        "ENV =x",
        "ENV a='b",
        "EXPOSE 1-",
        "\\",
    ] {
        let text = format!("FROM a\n{odd}\n");
        if let Ok(df) = parse("Dockerfile", &text) {
            if let Ok(p) = crate::build::dockerfile::plan(&df, &Default::default()) {
                let _ = p.expand_stage(0, &Default::default());
            }
        }
    }
    let _ = parse("Dockerfile", "\u{feff}FROM a\r\nRUN x\r\n").unwrap();
}

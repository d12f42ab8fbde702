//! Stage planner tests.

use super::*;
use crate::build::dockerfile::parse;

fn amd64() -> Platform {
    Platform {
        os: "linux".into(),
        architecture: "amd64".into(),
        variant: None,
    }
}

fn opts(target: Option<&str>, args: &[(&str, &str)]) -> BuildOptions {
    BuildOptions {
        target: target.map(String::from),
        build_args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        platform: amd64(),
    }
}

fn planned(text: &str, o: &BuildOptions) -> Result<BuildPlan, DockerfileError> {
    plan(&parse("Dockerfile", text).unwrap(), o)
}

#[test]
fn global_args_in_from_and_build_arg_override() {
    let text = "ARG CODE_VERSION=latest\nFROM base:${CODE_VERSION}\nCMD /code/run-app\nFROM extras:${CODE_VERSION}\n";
    let p = planned(text, &opts(None, &[])).unwrap();
    assert_eq!(p.stages[0].base, StageBase::Image("base:latest".into()));
    assert_eq!(p.stages[1].base, StageBase::Image("extras:latest".into()));
    assert_eq!(p.target, 1);
    // Unreachable stages are skipped.
    assert_eq!(p.order, vec![1]);
    let p = planned(
        text,
        &opts(None, &[("CODE_VERSION", "1.2"), ("UNUSED", "x")]),
    )
    .unwrap();
    assert_eq!(p.stages[1].base, StageBase::Image("extras:1.2".into()));
    assert_eq!(p.unused_build_args, vec!["UNUSED"]);
}

#[test]
fn platform_native_only() {
    let p = planned(
        "FROM --platform=$BUILDPLATFORM golang AS build\n",
        &opts(None, &[]),
    )
    .unwrap();
    assert_eq!(p.stages[0].name.as_deref(), Some("build"));
    let e = planned(
        "FROM a\nRUN x\nFROM --platform=linux/arm64 golang\n",
        &opts(None, &[]),
    )
    .unwrap_err();
    assert_eq!((e.line, e.instruction.as_str()), (3, "FROM"));
    assert!(
        e.message.contains("native platform only (linux/amd64)"),
        "{e}"
    );
}

#[test]
fn stages_graph_levels_and_target() {
    let text = "\
FROM alpine AS base
RUN apk add gcc
FROM base AS build-a
RUN make a
FROM base AS build-b
ARG SRC=build-a
COPY --from=${SRC} /out /a
FROM scratch AS lonely
FROM alpine
COPY --from=build-b /out /b
COPY --from=0 /etc/os-release /
COPY --from=busybox:latest /bin/busybox /bin/
RUN --mount=type=bind,from=build-a,target=/mnt cp /mnt/x /
";
    let p = planned(text, &opts(None, &[])).unwrap();
    assert_eq!(p.stages[1].base, StageBase::Stage(0));
    assert_eq!(p.stages[3].base, StageBase::Scratch);
    assert_eq!(p.stages[4].images, vec!["busybox:latest"]);
    assert_eq!(p.order, vec![0, 1, 2, 4]);
    assert_eq!(p.levels, vec![vec![0], vec![1], vec![2], vec![4]]);
    let p = planned(text, &opts(Some("BUILD-A"), &[])).unwrap();
    assert_eq!(p.order, vec![0, 1]);
    let p = planned(text, &opts(Some("build-b"), &[("SRC", "base")])).unwrap();
    assert_eq!(p.order, vec![0, 2]);
    let e = planned(text, &opts(Some("nope"), &[])).unwrap_err();
    assert!(
        e.to_string()
            .contains("no stage named 'nope'; the stages are: base, build-a, build-b, lonely"),
        "{e}"
    );
}

#[test]
fn independent_stages_share_a_level() {
    let text = "FROM a AS x\nFROM b AS y\nFROM c\nCOPY --from=x / /x\nCOPY --from=y / /y\n";
    let p = planned(text, &opts(None, &[])).unwrap();
    assert_eq!(p.levels, vec![vec![0, 1], vec![2]]);
}

#[test]
fn cycles_are_refused_with_the_line() {
    let text = "FROM a AS one\nCOPY --from=two /x /x\nFROM a AS two\nCOPY --from=one /y /y\n";
    let e = planned(text, &opts(None, &[])).unwrap_err();
    assert_eq!((e.line, e.instruction.as_str()), (4, "COPY"));
    assert!(
        e.message
            .contains("circular dependency between stages one, two"),
        "{e}"
    );
    let e = planned("FROM a AS me\nCOPY --from=me /x /y\n", &opts(None, &[])).unwrap_err();
    assert!(e.message.contains("circular"), "{e}");
    // A cycle among stages the target does not need is not built, so not an error.
    let text = "FROM a AS one\nCOPY --from=two /x /x\nFROM a AS two\nCOPY --from=one /y /y\nFROM scratch\n";
    assert!(planned(text, &opts(None, &[])).is_ok());
}

#[test]
fn from_refers_to_earlier_stages_only() {
    // `FROM later` before `later` exists is an image, as in Docker.
    let p = planned(
        "FROM later AS first\nFROM alpine AS later\n",
        &opts(None, &[]),
    )
    .unwrap();
    assert_eq!(p.stages[0].base, StageBase::Image("later".into()));
}

#[test]
fn bad_input() {
    let e = planned("RUN x\nFROM a\n", &opts(None, &[])).unwrap_err();
    assert!(e.message.contains("only ARG may come before"));
    let e = planned("FROM a AS x\nFROM b AS x\n", &opts(None, &[])).unwrap_err();
    assert!(e
        .message
        .contains("duplicate stage name 'x' (first used on line 1)"));
    let e = planned("FROM a\nCOPY --from=7 /a /b\n", &opts(None, &[])).unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("no stage 7"));
    let e = planned("ARG IMG\nFROM ${IMG}\n", &opts(None, &[])).unwrap_err();
    assert!(e.message.contains("empty"));
}

#[test]
fn syntax_directive_is_noted() {
    let p = planned("# syntax=docker/dockerfile:1\nFROM a\n", &opts(None, &[])).unwrap();
    assert!(p.notes[0].contains("ignored"));
}

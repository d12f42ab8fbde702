//! `berth attach SERVICE`: our stdin, stdout and stderr attached to a
//! service's running container (replica `--index`, default 1), as `docker
//! compose attach`: its output from now on, our input to its stdin when it
//! has `stdin_open` (not with `--no-stdin`), our terminal's size to its
//! terminal when it has `tty`. The detach keys (`--detach-keys`, default
//! ctrl-p,ctrl-q) leave it running; otherwise the command ends with the
//! container's program, with its exit code.

use anyhow::Context;
use berth_runtime::container::{Runtime, Status};

use super::args::{AttachArgs, GlobalOptions};
use super::console::{DetachKeys, Session, SessionEnd};
use super::exec::running_container;

pub fn run(global: &GlobalOptions, args: &AttachArgs) -> anyhow::Result<i32> {
    let detach_keys = DetachKeys::parse(&args.detach_keys)?;
    let container = running_container(global, &args.service, args.index)?;
    let name = container.record.name.clone();
    let process = &container.record.spec.process;
    let runtime = Runtime::new(&global.root).context("container runtime")?;
    let console = runtime
        .attach(&name)
        .with_context(|| format!("attaching to {name}"))?;
    let session = Session {
        tty: process.tty,
        stdin: process.stdin_open && !args.no_stdin,
        detach_keys: Some(detach_keys),
        sig_proxy: args.sig_proxy.then_some((&runtime, name.as_str())),
    };
    match session.run(console)? {
        SessionEnd::Detached => Ok(0),
        SessionEnd::Ended => {
            let mut state = runtime.wait(&name, None)?;
            while state.status == Status::Running {
                std::thread::sleep(std::time::Duration::from_millis(10));
                state = runtime.state(&name)?;
            }
            Ok(state.exit_code.unwrap_or(0))
        }
    }
}

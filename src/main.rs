//! The `berth` binary: everything lives in the library; errors print with their chain.
//!
//! Hidden helper modes (the container monitor, exec, the project supervisor)
//! are chosen here first, before any thread or async runtime exists: the
//! first two fork.

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(code) = berth_runtime::container::hidden_main(&args) {
        std::process::exit(code);
    }
    if args.get(1).and_then(|a| a.to_str()) == Some(berth::supervisor::SUPERVISOR_ARG) {
        std::process::exit(berth::supervisor::run::main(&args));
    }
    berth_runtime::container::default_sigpipe();
    match berth::cli::run() {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("error: {}", berth::error_text::chain_text(err.as_ref()));
            std::process::exit(1);
        }
    }
}

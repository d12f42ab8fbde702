//! The `berth` binary: everything lives in the library; errors print with their chain.
//!
//! Hidden helper modes (the container monitor, exec) are chosen here first,
//! before any thread or async runtime exists, because they fork.

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(code) = berth_runtime::container::hidden_main(&args) {
        std::process::exit(code);
    }
    berth_runtime::container::default_sigpipe();
    match berth::cli::run() {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(1);
        }
    }
}

//! The `berth` binary: everything lives in the library; errors print with their chain.

fn main() {
    match berth::cli::run() {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(1);
        }
    }
}

//! `berth version`.

use super::args::VersionArgs;

pub fn run(args: &VersionArgs) -> anyhow::Result<i32> {
    let version = env!("CARGO_PKG_VERSION");
    if args.short {
        println!("{version}");
    } else if args.format == "json" {
        println!("{}", serde_json::json!({ "version": version }));
    } else {
        println!("berth version {version}");
    }
    Ok(0)
}

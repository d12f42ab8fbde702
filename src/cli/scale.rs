//! `berth scale SERVICE=N…`: `up -d --scale SERVICE=N SERVICE…` under
//! compose's name (the same reconcile path: replicas added or removed, the
//! rest left alone); `--no-deps` leaves the dependencies out.

use anyhow::{bail, Context};

use super::args::{GlobalOptions, ScaleArgs};

pub fn run(global: &GlobalOptions, args: &ScaleArgs) -> anyhow::Result<i32> {
    let mut words = vec!["up".to_string(), "-d".to_string()];
    if args.no_deps {
        words.push("--no-deps".into());
    }
    let mut services = Vec::new();
    for entry in &args.scales {
        let (service, count) = entry
            .split_once('=')
            .with_context(|| format!("{entry:?}: expected SERVICE=REPLICAS"))?;
        if service.is_empty() || count.parse::<u32>().is_err() {
            bail!("{entry:?}: expected SERVICE=REPLICAS with a number of replicas");
        }
        words.push(format!("--scale={entry}"));
        services.push(service.to_string());
    }
    words.extend(services);
    super::up::run_words(global, &words)
}

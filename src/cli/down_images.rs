//! `down --rmi local|all`: the images the project's services use, removed
//! after their containers, as docker compose does. `local` takes only the
//! images without a name of their own, the `<project>-<service>` images
//! compose gives what it builds for the project; `all` every service's
//! image. An image another container still uses is kept ("Resource is
//! still in use"), a missing one is reported, not an error.

use std::collections::BTreeSet;

use anyhow::{bail, Context};
use berth_runtime::container::Runtime;
use berth_runtime::image::ImageStore;

use crate::compose::model::Project;

/// Which images `down --rmi` removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RmiMode {
    Local,
    All,
}

impl RmiMode {
    pub(super) fn parse(text: &str) -> anyhow::Result<RmiMode> {
        match text {
            "local" => Ok(RmiMode::Local),
            "all" => Ok(RmiMode::All),
            other => bail!("--rmi {other:?}: expected \"local\" or \"all\""),
        }
    }
}

/// The project's default name for a service's image (what compose builds).
fn default_image(project: &str, service: &str) -> String {
    format!("{project}-{service}")
}

/// The images `mode` selects, each once, in service order.
pub(super) fn selected(project: &Project, mode: RmiMode) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut images = Vec::new();
    for (name, service) in &project.services {
        let default = default_image(&project.name, name);
        let image = service.image.clone().unwrap_or_else(|| default.clone());
        let untagged = image.strip_suffix(":latest").unwrap_or(&image);
        let local = service.image.is_none() || untagged == default;
        if (mode == RmiMode::All || local) && seen.insert(image.clone()) {
            images.push(image);
        }
    }
    images
}

/// Removes `images` from the store unless a remaining container uses them.
pub(super) fn remove(root: &std::path::Path, images: &[String]) -> anyhow::Result<()> {
    if images.is_empty() {
        return Ok(());
    }
    let store = ImageStore::open(root).context("image store")?;
    let runtime = Runtime::new(root).context("container runtime")?;
    let in_use: BTreeSet<String> = runtime
        .list()?
        .into_iter()
        .map(|c| c.record.image_id)
        .collect();
    for image in images {
        let id = match store.inspect(image) {
            Ok(details) => details.id,
            Err(berth_runtime::image::StoreError::NotFound { .. }) => {
                super::progress::report("Image", image, "Warning: No resource found to remove");
                continue;
            }
            Err(err) => return Err(err).with_context(|| format!("image {image}")),
        };
        if in_use.contains(&id) {
            super::progress::report("Image", image, "Resource is still in use");
            continue;
        }
        super::progress::report("Image", image, "Removing");
        store
            .remove(image, false)
            .with_context(|| format!("removing image {image}"))?;
        super::progress::report("Image", image, "Removed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_means_the_projects_own_image_names() {
        let text = "services:\n  web:\n    image: fuzz-web\n  db:\n    image: redis:7\n  cache:\n    image: redis:7\n";
        let project = crate::compose::load_from_str(text, std::path::Path::new("/tmp"))
            .unwrap()
            .project;
        assert_eq!(selected(&project, RmiMode::Local), vec!["fuzz-web"]);
        assert_eq!(
            selected(&project, RmiMode::All),
            vec!["redis:7", "fuzz-web"]
        );
        assert!(RmiMode::parse("some").is_err());
    }
}

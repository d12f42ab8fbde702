//! `berth image …`, `berth images`, `berth pull`, `berth rmi`, `berth tag`:
//! the image store through the command line, with Docker's output formats.

use super::args::{
    GlobalOptions, ImageCommand, ImagesArgs, ImagesFormat, ImportArgs, InspectArgs, LoadArgs,
    PullArgs, RmiArgs, TagArgs,
};
use anyhow::Context;
use berth_runtime::image::{self, ImageReference, ImageStore, ImageSummary};
use berth_runtime::timestamp as time;
use std::collections::BTreeSet;
use std::io::{Read, Write};

fn open_store(global: &GlobalOptions) -> anyhow::Result<ImageStore> {
    ImageStore::open(&global.root)
        .with_context(|| format!("opening the image store under {}", global.root.display()))
}

/// Runs an `image` subcommand.
pub fn run(global: &GlobalOptions, command: &ImageCommand) -> anyhow::Result<i32> {
    match command {
        ImageCommand::Load(args) => load(global, args),
        ImageCommand::Import(args) => import(global, args),
        ImageCommand::Ls(args) => list(global, args),
        ImageCommand::Rm(args) => remove(global, args),
        ImageCommand::Inspect(args) => inspect(global, args),
        ImageCommand::Pull(args) => pull(global, args),
        ImageCommand::Tag(args) => tag(global, args),
    }
}

fn load(global: &GlobalOptions, args: &LoadArgs) -> anyhow::Result<i32> {
    let store = open_store(global)?;
    let (input, what): (Box<dyn Read>, String) = match &args.input {
        Some(path) => (
            Box::new(
                std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
            ),
            path.display().to_string(),
        ),
        None => (
            Box::new(std::io::stdin().lock()),
            "standard input".to_string(),
        ),
    };
    let loaded =
        image::load::load(&store, input).with_context(|| format!("loading images from {what}"))?;
    let mut out = std::io::stdout().lock();
    for image in loaded {
        for line in image.report() {
            writeln!(out, "{line}")?;
        }
    }
    Ok(0)
}

fn import(global: &GlobalOptions, args: &ImportArgs) -> anyhow::Result<i32> {
    let store = open_store(global)?;
    let input: Box<dyn Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(&args.file)
                .with_context(|| format!("opening {}", args.file.display()))?,
        )
    };
    let id = image::import::import(&store, input, args.name.as_deref(), &args.changes)
        .with_context(|| format!("importing {}", args.file.display()))?;
    println!("{id}");
    Ok(0)
}

/// `berth images` / `berth image ls`.
/// `berth images`: in a compose project (a file found or given), the images
/// its containers use, as `docker compose images` lists them; elsewhere
/// every image, as `docker images` (and always for `berth image ls`).
pub fn images(global: &GlobalOptions, args: &ImagesArgs) -> anyhow::Result<i32> {
    let dir = match &global.project_directory {
        Some(dir) => dir.clone(),
        None => std::env::current_dir()?,
    };
    let in_project = !global.files.is_empty()
        || std::env::var_os("COMPOSE_FILE").is_some()
        || crate::compose::discover::find_default_files(&dir).is_ok();
    if !in_project {
        return list(global, args);
    }
    let project = super::project::load_project(global, &[], true)?.project;
    let store = open_store(global)?;
    let rows = store.list()?;
    let mut containers = super::ps::project_containers(global, &project.name)?;
    containers.sort_by(|a, b| a.record.name.cmp(&b.record.name));
    let services: Vec<&String> = args.repository.iter().collect();
    let mut table = vec![["CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"].map(String::from)];
    let mut json = Vec::new();
    for c in containers
        .iter()
        .filter(|c| services.is_empty() || services.iter().any(|s| *s == super::ps::service_of(c)))
    {
        let image = rows.iter().find(|r| r.id == c.record.image_id);
        let (repository, tag, size) = image
            .map(|r| (r.repository.clone(), r.tag.clone(), r.size))
            .unwrap_or_else(|| ("<none>".into(), "<none>".into(), 0));
        if args.quiet {
            println!("{}", short(&c.record.image_id));
            continue;
        }
        json.push(serde_json::json!({
            "ID": c.record.image_id,
            "ContainerName": c.record.name,
            "Repository": repository,
            "Tag": tag,
            "Size": size,
        }));
        table.push([
            c.record.name.clone(),
            repository,
            tag,
            short(&c.record.image_id).to_string(),
            human_size(size),
        ]);
    }
    if args.quiet {
        return Ok(0);
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        ImagesFormat::Json => writeln!(out, "{}", serde_json::Value::Array(json))?,
        ImagesFormat::Table => write_table(&mut out, &table)?,
    }
    Ok(0)
}

pub fn list(global: &GlobalOptions, args: &ImagesArgs) -> anyhow::Result<i32> {
    let store = open_store(global)?;
    let mut rows = store.list()?;
    if let Some(filter) = &args.repository {
        let wanted = ImageReference::parse(filter)?;
        let with_tag = filter
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'));
        rows.retain(|row| {
            let Ok(repo) = ImageReference::parse(&row.repository) else {
                return false;
            };
            repo.registry == wanted.registry
                && repo.repository == wanted.repository
                && (!with_tag || Some(&row.tag) == wanted.tag.as_ref())
        });
    }
    let mut out = std::io::stdout().lock();
    if args.quiet {
        let mut seen = BTreeSet::new();
        for row in &rows {
            if seen.insert(row.id.clone()) {
                writeln!(out, "{}", short(&row.id))?;
            }
        }
        return Ok(0);
    }
    let now = time::now_unix();
    match args.format {
        ImagesFormat::Json => {
            for row in &rows {
                writeln!(out, "{}", serde_json::to_string(&json_row(row, now))?)?;
            }
        }
        ImagesFormat::Table => {
            let mut table =
                vec![["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"].map(String::from)];
            for row in &rows {
                table.push([
                    row.repository.clone(),
                    row.tag.clone(),
                    short(&row.id).to_string(),
                    created_since(row, now),
                    human_size(row.size),
                ]);
            }
            write_table(&mut out, &table)?;
        }
    }
    Ok(0)
}

fn short(id: &str) -> &str {
    berth_runtime::image::store::short_id(id)
}

fn created_since(row: &ImageSummary, now: i64) -> String {
    row.created
        .as_deref()
        .and_then(time::parse_rfc3339)
        .map_or_else(|| "N/A".to_string(), |t| time::human_age(now - t))
}

/// One line of `docker images --format json`.
fn json_row(row: &ImageSummary, now: i64) -> serde_json::Value {
    serde_json::json!({
        "Containers": "N/A",
        "CreatedAt": row.created.clone().unwrap_or_default(),
        "CreatedSince": created_since(row, now),
        "Digest": row.digest,
        "ID": short(&row.id),
        "Repository": row.repository,
        "SharedSize": "N/A",
        "Size": human_size(row.size),
        "Tag": row.tag,
        "UniqueSize": "N/A",
        "VirtualSize": human_size(row.size),
    })
}

/// Columns padded like Docker's tabwriter (3 spaces, at least 10 wide).
pub(super) fn write_table<const N: usize>(
    out: &mut impl Write,
    rows: &[[String; N]],
) -> std::io::Result<()> {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count() + 3).max(10);
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}", width = widths[i]));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// Decimal sizes with three significant digits, as `docker images` shows them.
fn human_size(size: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut value = size as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let mut text = format!("{value:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{text}{}", units[unit])
}

/// `berth rmi` / `berth image rm`.
pub fn remove(global: &GlobalOptions, args: &RmiArgs) -> anyhow::Result<i32> {
    let store = open_store(global)?;
    let mut failed = false;
    for name in &args.images {
        match store.remove(name, args.force) {
            Ok(events) => {
                for event in events {
                    println!("{event}");
                }
            }
            Err(err) => {
                eprintln!("error: removing {name}: {err}");
                failed = true;
            }
        }
    }
    Ok(i32::from(failed))
}

fn inspect(global: &GlobalOptions, args: &InspectArgs) -> anyhow::Result<i32> {
    let store = open_store(global)?;
    let mut found = Vec::new();
    let mut failed = false;
    for name in &args.images {
        match store.inspect(name) {
            Ok(details) => found.push(details),
            Err(err) => {
                eprintln!("error: {err}");
                failed = true;
            }
        }
    }
    print_json_array(&found)?;
    Ok(i32::from(failed))
}

/// Prints inspect results as Docker does: a JSON array indented by four spaces.
pub(super) fn print_json_array<T: serde::Serialize>(items: &[T]) -> anyhow::Result<()> {
    let mut bytes = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut bytes, formatter);
    serde::Serialize::serialize(items, &mut ser)?;
    println!("{}", String::from_utf8(bytes)?);
    Ok(())
}

/// `berth pull` / `berth image pull`.
/// `berth pull`: with no names, every service image of the project (as
/// `docker compose pull`); a name that is a service of the project pulls its
/// image; any other name is an image reference (as `docker pull`).
pub fn pull(global: &GlobalOptions, args: &PullArgs) -> anyhow::Result<i32> {
    let project = if args.names.is_empty() {
        Some(super::project::load_project(global, &[], true)?.project)
    } else {
        super::project::load_project(global, &[], true)
            .ok()
            .map(|l| l.project)
    };
    let mut references: Vec<String> = Vec::new();
    match &project {
        Some(project) if args.names.is_empty() => {
            references.extend(project.services.values().filter_map(|s| s.image.clone()));
        }
        _ => {
            for name in &args.names {
                let service_image = project
                    .as_ref()
                    .and_then(|p| p.services.get(name))
                    .and_then(|s| s.image.clone());
                references.push(service_image.unwrap_or_else(|| name.clone()));
            }
        }
    }
    references.sort();
    references.dedup();
    let store = open_store(global)?;
    let options = image::pull::PullOptions { quiet: args.quiet };
    let mut failed = 0;
    for reference in &references {
        match image::pull::pull(&store, reference, &options) {
            Ok(pulled) => println!("{}", pulled.reference),
            Err(err) if args.ignore_pull_failures => {
                eprintln!("warning: pulling {reference}: {err}");
                failed += 1;
            }
            Err(err) => return Err(err).with_context(|| format!("pulling {reference}")),
        }
    }
    if failed > 0 {
        eprintln!("warning: {failed} image(s) could not be pulled");
    }
    Ok(0)
}

/// `berth tag` / `berth image tag`.
pub fn tag(global: &GlobalOptions, args: &TagArgs) -> anyhow::Result<i32> {
    let store = open_store(global)?;
    store
        .tag(&args.source, &args.target)
        .with_context(|| format!("tagging {} as {}", args.source, args.target))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_docker() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(1_200), "1.2kB");
        assert_eq!(human_size(4_261_000), "4.26MB");
        assert_eq!(human_size(17_800_000), "17.8MB");
        assert_eq!(human_size(123_400_000), "123MB");
    }

    #[test]
    fn table_columns_are_padded() {
        let mut out = Vec::new();
        let rows = [
            ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"].map(String::from),
            ["redis", "latest", "0123456789ab", "2 days ago", "4.26MB"].map(String::from),
        ];
        write_table(&mut out, &rows).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "REPOSITORY   TAG       IMAGE ID       CREATED      SIZE\n\
             redis        latest    0123456789ab   2 days ago   4.26MB\n"
        );
    }
}

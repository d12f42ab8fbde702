//! The labels berth puts on everything it makes; observed state is found by them.

/// The project a resource belongs to.
pub const PROJECT: &str = "berth.project";
/// The service a container runs.
pub const SERVICE: &str = "berth.service";
/// The replica number of a container (1-based).
pub const NUMBER: &str = "berth.number";
/// The versioned hash of the service configuration the container was made from.
pub const CONFIG_HASH: &str = "berth.config-hash";
/// `True` for one-off containers (`run`), which `up` leaves alone.
pub const ONEOFF: &str = "berth.oneoff";
/// The image ID the container was made from.
pub const IMAGE: &str = "berth.image";
/// The project's working directory, to tell where an orphan came from.
pub const WORKING_DIR: &str = "berth.project.working_dir";
/// The compose files of the project, comma-separated.
pub const CONFIG_FILES: &str = "berth.project.config_files";
/// The network or volume key in the compose file.
pub const RESOURCE: &str = "berth.resource";

//! Building images from Dockerfiles (`build:`), the frontend half: the
//! Dockerfile parser and stage planner (`dockerfile/`), `.dockerignore`
//! matching and the build-context walk (`dockerignore`), which context
//! files a COPY/ADD takes and where they land (`copy_sources`), and the
//! digest of a set of context files for cache keys (`context_digest`). No
//! containers here; the runtime side captures layers and commits images.

pub mod context_digest;
pub mod copy_sources;
pub mod dockerfile;
pub mod dockerignore;
pub mod glob;

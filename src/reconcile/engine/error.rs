//! What an engine step can fail with: [`EngineError`], one variant per
//! thing a caller may want to tell apart (a port in use, a missing image, a
//! dependency that died), the runtime's own errors wrapped as they are. Its
//! `Display` is one line; the wrapped error follows as its `source`, so the
//! CLI prints the whole chain.

use berth_runtime::container::ContainerError;
use berth_runtime::network::NetworkError;
use berth_runtime::ports::PortError;
use berth_runtime::volume::VolumeError;

use crate::reconcile::hooks::StartError;
use crate::reconcile::translate::TranslateError;

/// Why an engine step failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Container(#[from] ContainerError),
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error(transparent)]
    Volume(#[from] VolumeError),
    #[error(transparent)]
    Translate(#[from] TranslateError),
    #[error(transparent)]
    Start(#[from] StartError),
    /// A fixed host port is held by another process.
    #[error("service {service}")]
    PortInUse {
        service: String,
        #[source]
        source: PortError,
    },
    /// The service's image was not resolved before the plan ran.
    #[error("service {service}: no image")]
    ImageMissing { service: String },
    /// A network, volume or service the plan names is not in the project.
    #[error("{kind} {name} is not in the project")]
    NotInProject { kind: &'static str, name: String },
    /// A network or volume driver berth does not have.
    #[error(
        "{kind} {name}: driver {driver:?} is not supported (berth has the {supported} driver)"
    )]
    UnsupportedDriver {
        kind: &'static str,
        name: String,
        driver: String,
        supported: &'static str,
    },
    /// A dependency's container exited while a dependent waited for it;
    /// `last_logs` are its last log lines (for the CLI to show once).
    #[error("dependency {name} is not running (exit code {code})")]
    DependencyExited {
        name: String,
        code: i32,
        last_logs: Vec<String>,
    },
    /// A dependency's health check reported it unhealthy.
    #[error("dependency {name} is unhealthy: {output}")]
    DependencyUnhealthy { name: String, output: String },
    /// `service_healthy` on a dependency without a health check.
    #[error("dependency {name} has no health check (depends_on condition service_healthy)")]
    DependencyWithoutHealthcheck { name: String },
    /// `service_completed_successfully` on a dependency that failed.
    #[error("service container {name} didn't complete successfully: exit {code}")]
    DependencyFailed {
        name: String,
        code: i32,
        last_logs: Vec<String>,
    },
    /// Filling a new volume from the image failed.
    #[error("volume {volume}: filling it from the image at {target}")]
    CopyUp {
        volume: String,
        target: String,
        #[source]
        source: std::io::Error,
    },
    /// Any other problem with one attribute of a service, in words.
    #[error("service {service}: {field}: {message}")]
    Service {
        service: String,
        field: String,
        message: String,
    },
    /// An I/O step of the engine's own (an ID, a bind source directory).
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl EngineError {
    /// A problem with `field` of `service`.
    pub fn service(service: &str, field: &str, message: impl Into<String>) -> EngineError {
        EngineError::Service {
            service: service.to_string(),
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The last log lines of a dependency that died, if this is that error.
    pub fn dependency_logs(&self) -> Option<(&str, &[String])> {
        match self {
            EngineError::DependencyExited {
                name, last_logs, ..
            }
            | EngineError::DependencyFailed {
                name, last_logs, ..
            } if !last_logs.is_empty() => Some((name, last_logs)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_text::chain_text;

    #[test]
    fn the_chain_reads_as_one_line_without_repeats() {
        let port = EngineError::PortInUse {
            service: "web".into(),
            source: PortError::InUse {
                port: 8080,
                protocol: berth_runtime::ports::Protocol::Tcp,
                holder: Some("process 7 (nginx)".into()),
            },
        };
        assert_eq!(
            chain_text(&port),
            "service web: port 8080/tcp is already in use by process 7 (nginx)"
        );
        assert!(matches!(
            port,
            EngineError::PortInUse {
                source: PortError::InUse { port: 8080, .. },
                ..
            }
        ));
        // The runtime's I/O errors already end with their source's words.
        let io = EngineError::Container(ContainerError::Io {
            context: "create /x".into(),
            source: std::io::Error::from_raw_os_error(28),
        });
        let text = chain_text(&io);
        assert_eq!(text.matches("No space left on device").count(), 1, "{text}");
    }

    #[test]
    fn a_dead_dependency_carries_its_last_log_lines() {
        let died = EngineError::DependencyExited {
            name: "p-db-1".into(),
            code: 1,
            last_logs: vec!["FATAL: bad config".into()],
        };
        assert_eq!(
            died.to_string(),
            "dependency p-db-1 is not running (exit code 1)"
        );
        let (name, lines) = died.dependency_logs().unwrap();
        assert_eq!((name, lines.len()), ("p-db-1", 1));
    }
}

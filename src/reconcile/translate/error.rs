//! What translation refuses: a [`TranslateError`] names the service, the
//! field and why; each concern reports a [`FieldError`] (field and why) and
//! the entry point adds the service. A secret or config that cannot be read
//! (`reconcile/files.rs`, which knows nothing of translation) comes as a
//! `FileError` and becomes a [`TranslateError`] with the same words.

use crate::reconcile::files::FileError;

/// A service attribute berth cannot honour, named for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("service {service:?}: {field}: {message}")]
pub struct TranslateError {
    pub service: String,
    pub field: String,
    pub message: String,
}

/// A value one concern cannot translate: its field and why; [`container_spec`]
/// adds the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: String) -> FieldError {
        FieldError {
            field: field.to_string(),
            message,
        }
    }

    pub fn of(self, service_name: &str) -> TranslateError {
        TranslateError {
            service: service_name.to_string(),
            field: self.field,
            message: self.message,
        }
    }
}

impl From<FileError> for TranslateError {
    fn from(err: FileError) -> Self {
        TranslateError {
            service: err.service,
            field: err.field,
            message: err.message,
        }
    }
}

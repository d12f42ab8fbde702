//! What translation refuses: a [`TranslateError`] names the service, the
//! field and why; each concern reports a [`FieldError`] (field and why) and
//! the entry point adds the service. Its own file, so that what translation
//! calls (secrets and configs in `reconcile/files.rs`) can use the error
//! without importing the stage.

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

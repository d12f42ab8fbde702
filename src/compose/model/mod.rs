//! The typed Compose model in canonical (long) form.

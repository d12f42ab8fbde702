//! Images: references (this module so far); the content store, load/import
//! and registry pulls arrive with the runtime images issue.

pub mod reference;

pub use reference::{ImageReference, ReferenceError};

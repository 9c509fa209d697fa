//! Why a scenario could not be loaded: the file could not be read, or a positioned
//! [`Diagnostic`] (the vocabulary's, `podlab_cluster::diagnostic`) says what is wrong where.

pub use podlab_cluster::diagnostic::{Diagnostic, Pos, Severity};

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
}

impl LoadError {
    /// The diagnostic, when the file was read but its content is wrong.
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            LoadError::Invalid(d) => Some(d),
            LoadError::Io { .. } => None,
        }
    }
}

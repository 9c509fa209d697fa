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
    /// Every error found in one pass (unknown kinds and fields), and the warnings found with
    /// them, in file order.
    #[error("{}", render_all(.0))]
    Several(Vec<Diagnostic>),
}

/// Diagnostics one after another, then how many errors and warnings.
fn render_all(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = diagnostics.len() - errors;
    let mut out: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    out.push(format!("{}, {}", plural(errors, "error"), plural(warnings, "warning")));
    out.join("\n\n")
}

impl LoadError {
    /// The diagnostic, when the file was read but its content is wrong.
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            LoadError::Invalid(d) => Some(d),
            LoadError::Several(all) => all.iter().find(|d| d.severity == Severity::Error),
            LoadError::Io { .. } => None,
        }
    }

    /// Every diagnostic: the error, or all of them (errors and warnings) found together.
    pub fn diagnostics(&self) -> Vec<&Diagnostic> {
        match self {
            LoadError::Invalid(d) => vec![d],
            LoadError::Several(all) => all.iter().collect(),
            LoadError::Io { .. } => Vec::new(),
        }
    }
}

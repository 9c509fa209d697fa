//! podlab's own strict kinds in files of their own (a `kind: Sweep` file): one YAML document,
//! checked for its `apiVersion` and `kind`, parsed into a caller's serde type with the
//! scenario loader's positioned diagnostics, so every podlab input reports errors alike.

use std::path::Path;

use serde::de::DeserializeOwned;

pub use serde_saphyr::Spanned;

use super::diagnostic::{LoadError, Pos};
use super::simulation::API_VERSION;
use super::yaml::{self, Parsed, Shape, Source};
use crate::input::parse_bytes_with;

/// A parsed podlab document, able to point at any `Spanned` value in it.
pub struct OwnDocument<T> {
    pub value: T,
    src: Source,
    line_offset: u32,
}

impl<T> OwnDocument<T> {
    /// The file's name as the user wrote it.
    pub fn file(&self) -> &str {
        &self.src.file
    }

    pub fn pos<V>(&self, spanned: &Spanned<V>) -> Pos {
        Parsed { value: (), line_offset: self.line_offset }.pos(&spanned.referenced)
    }

    /// An error at a value of the document, with an optional hint on how to fix it.
    pub fn error<V>(&self, spanned: &Spanned<V>, message: impl Into<String>, help: Option<String>) -> LoadError {
        match help {
            Some(help) => self.src.error_with_help(self.pos(spanned), message, help),
            None => self.src.error(self.pos(spanned), message),
        }
    }
}

/// Reads a file holding one podlab document of `kind` (same size limit as a scenario).
pub fn load_own_document<T: DeserializeOwned>(path: &Path, kind: &str) -> Result<OwnDocument<T>, LoadError> {
    let label = path.display().to_string();
    let bytes = crate::input::read_input(path, crate::input::Cap::SCENARIO)?;
    parse_bytes_with(&label, bytes, |file, text| parse_own_document(file, text, kind))
}

/// Parses text holding one podlab document of `kind`; `file` names it in messages.
pub fn parse_own_document<T: DeserializeOwned>(
    file: &str,
    text: &str,
    kind: &str,
) -> Result<OwnDocument<T>, LoadError> {
    let src = Source::new(file, text);
    let roots = yaml::documents(&src)?;
    let mut docs = roots.iter().filter(|r| !r.is_empty_document());
    let example = format!("apiVersion: {API_VERSION}\nkind: {kind}");
    let Some(root) = docs.next() else {
        return Err(src.error_with_help(Pos { line: 1, col: 1 }, format!("the file holds no {kind}"), example));
    };
    if let Some(second) = docs.next() {
        return Err(src.error(src.pos_of(second.start), format!("a {kind} file holds one document; this is a second")));
    }
    if !matches!(root.shape, Shape::Map(_)) {
        return Err(src.error_with_help(src.pos_of(root.start), format!("expected a {kind} (a mapping)"), example));
    }
    match root.get("kind") {
        Some(k) if k.as_str() == Some(kind) => {}
        Some(k) => {
            return Err(src.error_with_help(
                src.pos_of(k.start),
                format!("expected kind `{kind}`, found `{}`", k.as_str().unwrap_or("?")),
                example,
            ));
        }
        None => return Err(src.error_with_help(src.pos_of(root.start), format!("this {kind} has no `kind`"), example)),
    }
    match root.get("apiVersion") {
        Some(v) if v.as_str() == Some(API_VERSION) => {}
        Some(v) => {
            return Err(src.error_with_help(
                src.pos_of(v.start),
                format!("{kind} has apiVersion `{}`", v.as_str().unwrap_or("?")),
                format!("podlab reads {kind} as apiVersion `{API_VERSION}`"),
            ));
        }
        None => {
            return Err(src.error_with_help(
                src.pos_of(root.start),
                format!("this {kind} has no apiVersion"),
                format!("add `apiVersion: {API_VERSION}`"),
            ));
        }
    }
    let parsed: Parsed<T> = yaml::parse_node(&src, root)?;
    Ok(OwnDocument { value: parsed.value, line_offset: parsed.line_offset, src })
}

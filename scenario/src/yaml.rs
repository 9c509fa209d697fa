//! The one module that knows the YAML library: it splits a multi-document file into documents
//! (and `kind: List` into items) with their positions, and parses one of them into a concrete
//! type, mapping every error to a [`Diagnostic`] on the original file's lines and columns.
//!
//! Why two passes: the document's `kind` decides its Rust type, and a `#[serde(tag = "kind")]`
//! enum would buffer the document and lose every position. So a light first pass (the parser's
//! event stream) finds each document's span and its `apiVersion`/`kind`; the second pass
//! deserializes just that span into the type the kind names, with positions intact.

use serde::de::DeserializeOwned;
use serde_saphyr::granit_parser::{Event, Parser};

use super::diagnostic::{Diagnostic, LoadError, Pos, Severity};

/// Lines longer than this are shown as a window around the fault, and carets are capped.
const MAX_SHOWN: usize = 120;
const MAX_CARET: u32 = 40;

/// Nesting deeper than this is refused: no scenario needs it, and it bounds recursion.
const MAX_DEPTH: usize = 128;

/// A scenario file's text, with the line index used to turn byte offsets into positions.
pub struct Source {
    pub file: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl Source {
    pub fn new(file: impl Into<String>, text: impl Into<String>) -> Source {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Source { file: file.into(), text, line_starts }
    }

    fn line_index(&self, byte: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= byte) - 1
    }

    /// The position of a byte offset.
    pub fn pos_of(&self, byte: usize) -> Pos {
        let byte = byte.min(self.text.len());
        let line = self.line_index(byte);
        let start = self.line_starts[line];
        let col = self.text.get(start..byte).map_or(1, |s| s.chars().count() + 1);
        Pos { line: line as u32 + 1, col: col as u32 }
    }

    fn line_text(&self, line: u32) -> &str {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1) as usize) else { return "" };
        let rest = &self.text[start..];
        rest.split('\n').next().unwrap_or("").trim_end_matches('\r')
    }

    /// A diagnostic at `pos`, underlining the token that starts there.
    pub fn diagnostic(
        &self,
        severity: Severity,
        pos: Pos,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Diagnostic {
        let line: Vec<char> = self.line_text(pos.line).chars().collect();
        let at = (pos.col.saturating_sub(1) as usize).min(line.len());
        let token: String = line[at..].iter().collect();
        let width = token_width(&token).min(MAX_CARET);
        // Show a window of a long line (minified or generated YAML) around the fault.
        let (source_line, caret_col) = if line.len() <= MAX_SHOWN {
            (line.iter().collect(), pos.col)
        } else {
            let start = at.saturating_sub(MAX_SHOWN / 3);
            let end = (start + MAX_SHOWN).min(line.len());
            let mut shown: String = if start > 0 { "…".into() } else { String::new() };
            shown.extend(&line[start..end]);
            if end < line.len() {
                shown.push('…');
            }
            (shown, (at - start + 1 + usize::from(start > 0)) as u32)
        };
        Diagnostic {
            severity,
            file: self.file.clone(),
            pos,
            message: message.into(),
            help,
            source_line,
            caret_col,
            width,
        }
    }

    pub fn error(&self, pos: Pos, message: impl Into<String>) -> LoadError {
        LoadError::Invalid(Box::new(self.diagnostic(Severity::Error, pos, message, None)))
    }

    pub fn error_with_help(&self, pos: Pos, message: impl Into<String>, help: impl Into<String>) -> LoadError {
        LoadError::Invalid(Box::new(self.diagnostic(Severity::Error, pos, message, Some(help.into()))))
    }
}

/// The width of the token at the start of `text`: a quoted string, or up to the next YAML
/// delimiter.
fn token_width(text: &str) -> u32 {
    let mut chars = text.chars();
    match chars.next() {
        None => 1,
        Some(q @ ('"' | '\'')) => chars.position(|c| c == q).map_or(1, |n| n + 2) as u32,
        Some(_) => {
            let n = text.chars().take_while(|c| !matches!(c, ' ' | '\t' | ',' | ']' | '}' | '#')).count();
            let n = if text.chars().take(n).last() == Some(':') { n - 1 } else { n };
            n.max(1) as u32
        }
    }
}

/// The shape of a YAML node: enough to find documents, kinds and list items.
#[derive(Debug)]
pub enum Shape {
    Scalar(String),
    Seq(Vec<YNode>),
    /// Keys and values, in order.
    Map(Vec<(YNode, YNode)>),
    Alias,
}

/// A node of the file and the bytes it spans.
#[derive(Debug)]
pub struct YNode {
    pub start: usize,
    pub end: usize,
    pub shape: Shape,
}

impl YNode {
    /// The value under `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&YNode> {
        match &self.shape {
            Shape::Map(entries) => {
                entries.iter().find(|(k, _)| matches!(&k.shape, Shape::Scalar(s) if s == key)).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.shape {
            Shape::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// A document that holds nothing (only comments, or an empty `---`).
    pub fn is_empty_document(&self) -> bool {
        matches!(&self.shape, Shape::Scalar(s) if s.is_empty() || s == "~" || s == "null")
    }
}

struct Frame {
    start: usize,
    is_map: bool,
    items: Vec<YNode>,
}

/// Splits the file into its documents' root nodes. Malformed YAML is reported here.
pub fn documents(src: &Source) -> Result<Vec<YNode>, LoadError> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut docs = Vec::new();
    let byte = |m: &serde_saphyr::granit_parser::Marker| m.byte_offset().unwrap_or(0);
    for item in Parser::new_from_str(&src.text) {
        let (event, span) = item.map_err(|e| {
            let m = e.marker();
            let pos = Pos { line: m.line() as u32, col: m.col() as u32 + 1 };
            src.error(pos, format!("malformed YAML: {}", e.info()))
        })?;
        let (start, end) = (byte(&span.start), byte(&span.end));
        let node = match event {
            Event::Scalar(value, ..) => YNode { start, end, shape: Shape::Scalar(value.into_owned()) },
            Event::Alias(_) => YNode { start, end, shape: Shape::Alias },
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(src.error(src.pos_of(start), format!("nesting deeper than {MAX_DEPTH} levels")));
                }
                stack.push(Frame { start, is_map: matches!(event, Event::MappingStart(..)), items: Vec::new() });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = stack.pop() else { continue };
                let shape = if frame.is_map {
                    let mut entries = Vec::with_capacity(frame.items.len() / 2);
                    let mut items = frame.items.into_iter();
                    while let (Some(k), Some(v)) = (items.next(), items.next()) {
                        entries.push((k, v));
                    }
                    Shape::Map(entries)
                } else {
                    Shape::Seq(frame.items)
                };
                YNode { start: frame.start, end: end.max(frame.start), shape }
            }
            _ => continue,
        };
        match stack.last_mut() {
            Some(frame) => frame.items.push(node),
            None => docs.push(node),
        }
    }
    Ok(docs)
}

/// A node parsed on its own: its text, re-indented so that lines and columns stay those of the
/// original file once `line_offset` is added.
pub struct Parsed<T> {
    pub value: T,
    pub line_offset: u32,
}

/// Deserializes one node (a document or a list item) into `T`.
pub fn parse_node<T: DeserializeOwned>(src: &Source, node: &YNode) -> Result<Parsed<T>, LoadError> {
    if matches!(node.shape, Shape::Alias) {
        return Err(src.error(src.pos_of(node.start), "a whole document or list item cannot be an alias (`*name`)"));
    }
    let line = src.line_index(node.start);
    let line_start = src.line_starts[line];
    // Blank out what precedes the node on its first line (e.g. `- ` of a list item) so the
    // node keeps its column and its block indentation stays consistent.
    let mut text: String =
        src.text[line_start..node.start].chars().map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
    text.push_str(&src.text[node.start..node.end.min(src.text.len())]);
    let line_offset = line as u32;
    // The library's default budget bounds alias expansion and sizes (alias bombs).
    match serde_saphyr::from_str::<T>(&text) {
        Ok(value) => Ok(Parsed { value, line_offset }),
        Err(e) => {
            let pos = e.location().map_or(src.pos_of(node.start), |loc| Pos {
                line: loc.line() as u32 + line_offset,
                col: loc.column().max(1) as u32,
            });
            let message = plain_message(&e);
            match unknown_field_help(&message) {
                Some(help) => Err(src.error_with_help(pos, message, help)),
                None => Err(src.error(pos, message)),
            }
        }
    }
}

/// "did you mean" for serde's `unknown field `x`, expected one of `a`, `b``: the closest
/// expected name, if one is close.
fn unknown_field_help(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    let expected = expected.split_once("expected ")?.1;
    let expected = expected.strip_prefix("one of ").unwrap_or(expected);
    let names: Vec<&str> = expected.split(", ").map(|n| n.trim().trim_matches('`')).collect();
    crate::names::suggest(field, &names).map(|near| format!("did you mean `{near}`?"))
}

/// The library's message without its own location suffix (we print ours).
fn plain_message(e: &serde_saphyr::Error) -> String {
    let mut options = serde_saphyr::RenderOptions::default();
    options.snippets = serde_saphyr::SnippetMode::Off;
    let text = e.render_with_options(options);
    let text = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => &text,
    };
    text.trim().to_string()
}

impl<T> Parsed<T> {
    /// The position in the original file of a location the library reported inside this node.
    pub fn pos(&self, loc: &serde_saphyr::Location) -> Pos {
        Pos { line: loc.line() as u32 + self.line_offset, col: loc.column().max(1) as u32 }
    }
}

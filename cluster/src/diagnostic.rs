//! Errors and warnings about a scenario file, each pointing at a line and column with a caret
//! under the fault, in the style of rustc. The loader (`podlab-scenario`) writes them; a
//! loaded scenario keeps its warnings and where each `expect:` line is.

use std::fmt;

/// A position in a source file: 1-based line and column (columns count characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub col: u32,
}

/// Whether a diagnostic stops the load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The scenario is not loaded.
    Error,
    /// The scenario loads; the user is told (and `--strict` makes it an error).
    Warning,
}

/// One message about one place in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// An error or a warning.
    pub severity: Severity,
    /// The file it is about.
    pub file: String,
    /// Where in the file.
    pub pos: Pos,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub help: Option<String>,
    /// The text of the offending line, or a window of it around the fault when the line is
    /// long (empty when the position is unknown).
    pub source_line: String,
    /// The 1-based column of the caret within `source_line`.
    pub caret_col: u32,
    /// How many characters the caret underlines.
    pub width: u32,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{label}: {}", self.message)?;
        write!(f, "  --> {}:{}:{}", self.file, self.pos.line, self.pos.col)?;
        if !self.source_line.is_empty() {
            let gutter = self.pos.line.to_string().len();
            let pad = " ".repeat(gutter);
            let indent: String = self
                .source_line
                .chars()
                .take(self.caret_col.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(
                f,
                "\n{pad} |\n{} | {}\n{pad} | {indent}{}",
                self.pos.line,
                self.source_line,
                "^".repeat(self.width.max(1) as usize)
            )?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  = help: {help}")?;
        }
        Ok(())
    }
}

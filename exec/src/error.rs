//! `ExecError`: why an external policy ended a run — which policy, what went wrong, the last
//! message podlab sent it, what it answered, and the tail of its stderr.

use std::fmt;

/// Shown of a message at most (a batch can hold thousands of events).
const SHOWN: usize = 400;

/// An external policy crashed, hung past its timeout, or answered nonsense.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecError {
    /// The policy's name.
    pub policy: String,
    /// How it was reached: its command line, or `in-process`.
    pub via: String,
    /// What went wrong, in words.
    pub what: String,
    /// The last message podlab sent it (whole; shortened when shown).
    pub last_sent: String,
    /// Its answer, when the answer was the trouble.
    pub last_received: Option<String>,
    /// The last lines of its stderr.
    pub stderr_tail: String,
}

fn shortened(text: &str) -> String {
    if text.len() <= SHOWN {
        return text.to_string();
    }
    let mut end = SHOWN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy `{}` ({}) failed: {}", self.policy, self.via, self.what)?;
        write!(f, "\n  last message sent: {}", shortened(&self.last_sent))?;
        if let Some(received) = &self.last_received {
            write!(f, "\n  its answer: {}", shortened(received))?;
        }
        let tail = self.stderr_tail.trim_end();
        if tail.is_empty() {
            write!(f, "\n  its stderr: (empty)")?;
        } else {
            write!(f, "\n  its stderr (last lines):")?;
            for line in tail.lines() {
                write!(f, "\n    {line}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ExecError {}

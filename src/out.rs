//! Standard output for podlab's commands: [`out!`](crate::out!) and [`outln!`](crate::outln!)
//! replace `print!` and `println!`, which panic when the reader has gone (`podlab … | head`).

use std::fmt;
use std::io::{self, Write as _};

/// The exit code of a command whose reader closed standard output: 141, what a shell reports
/// for a process killed by SIGPIPE (128 + 13). A C tool in the same pipe (`cat`, `grep`) dies
/// with it, so `set -o pipefail` scripts see podlab stop as they see any tool stop; 0 would
/// claim the command finished, when it stopped before the rest of its work (the files of
/// `run --out` are written after the table).
pub const CLOSED_EXIT_CODE: u8 = 141;

/// Why writing to standard output failed.
#[derive(Debug)]
pub enum StdoutError {
    /// The reader closed the pipe: not a failure of podlab, which stops quietly
    /// ([`CLOSED_EXIT_CODE`]).
    Closed,
    /// Anything else (a full disk under `> file`, `> /dev/full`): an error, reported.
    Write(io::Error),
}

impl fmt::Display for StdoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StdoutError::Closed => f.write_str("standard output was closed by its reader"),
            // The cause is the source, which `{:#}` (the command line's errors) follows.
            StdoutError::Write(_) => f.write_str("writing to standard output"),
        }
    }
}

impl std::error::Error for StdoutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StdoutError::Closed => None,
            StdoutError::Write(e) => Some(e),
        }
    }
}

impl StdoutError {
    /// Whether `error`, or anything in its chain, is a closed standard output: the command
    /// line then exits with [`CLOSED_EXIT_CODE`] and says nothing.
    pub fn closed_in(error: &anyhow::Error) -> bool {
        error.chain().any(|e| matches!(e.downcast_ref::<StdoutError>(), Some(StdoutError::Closed)))
    }
}

/// Writes `args` to standard output (what [`out!`](crate::out!) expands to). The error is
/// returned, not acted on here, so that the library's commands stay callable from a program
/// that must not exit: the command line maps it to its exit code.
pub fn write(args: fmt::Arguments<'_>) -> Result<(), StdoutError> {
    checked(write!(io::stdout(), "{args}"))
}

/// Writes `args` and a newline to standard output (what [`outln!`](crate::outln!) expands to).
pub fn write_line(args: fmt::Arguments<'_>) -> Result<(), StdoutError> {
    checked(writeln!(io::stdout(), "{args}"))
}

fn checked(result: io::Result<()>) -> Result<(), StdoutError> {
    result.map_err(|e| if e.kind() == io::ErrorKind::BrokenPipe { StdoutError::Closed } else { StdoutError::Write(e) })
}

/// `print!` that answers a [`StdoutError`] instead of panicking: `out!("{text}")?`.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::write(format_args!($($arg)*))
    };
}

/// `println!` that answers a [`StdoutError`] instead of panicking: `outln!("{line}")?`.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::out::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::out::write_line(format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_closed_and_other_errors_are_not() {
        let closed = checked(Err(io::Error::from(io::ErrorKind::BrokenPipe))).unwrap_err();
        assert!(matches!(closed, StdoutError::Closed));
        let full = checked(Err(io::Error::from(io::ErrorKind::StorageFull))).unwrap_err();
        assert!(matches!(full, StdoutError::Write(_)));
        assert!(StdoutError::closed_in(&anyhow::Error::from(closed).context("printing the table")));
        assert!(!StdoutError::closed_in(&anyhow::Error::from(full)));
        assert!(!StdoutError::closed_in(&anyhow::Error::from(io::Error::from(io::ErrorKind::BrokenPipe))));
    }
}

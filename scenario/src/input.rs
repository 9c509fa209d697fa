//! The one way podlab reads a file a user named: scenarios, traces, distributions, OpenB CSVs,
//! run records and shard results all come through [`read_input`] or [`open_input`], so no
//! reader can forget a check. An input is a regular file (a FIFO would block forever, a device
//! never ends), read within a cap on the bytes actually read — never trusting the length the
//! file system reports, which is 0 for `/dev/zero` — and gzip is inflated, every member of it,
//! within the same cap on the inflated bytes.
//!
//! `tests/inputs.rs` checks that no other file of the workspace's code opens a path to read.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// How much of a file podlab reads, and what it calls the file when it refuses more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cap {
    pub bytes: u64,
    pub what: &'static str,
}

impl Cap {
    /// A scenario (and the files of podlab's own kinds, and a KubeSchedulerConfiguration): no
    /// scenario is this big, and traces are referenced, not inlined.
    pub const SCENARIO: Cap = Cap { bytes: 64 << 20, what: "scenario file" };
    /// An SWF log, read as a stream: real logs reach hundreds of MB, and memory does not grow
    /// with them (lines are bounded, jobs and tasks are counted), so the cap bounds the time
    /// spent reading, gzip bombs included.
    pub const TRACE: Cap = Cap { bytes: 1 << 30, what: "trace" };
    /// A file read whole into memory, or one whose every row is kept (an empirical
    /// distribution, the Google prefill rows, an OpenB CSV, a run's records and results).
    pub const DATA: Cap = Cap { bytes: 64 << 20, what: "data file" };

    fn mib(self) -> u64 {
        self.bytes >> 20
    }
}

/// Why an input could not be read: the path as the user wrote it, and what is wrong.
#[derive(Debug)]
pub struct InputError {
    pub path: String,
    pub problem: Problem,
}

/// What is wrong with an input file.
#[derive(Debug)]
pub enum Problem {
    /// A FIFO, a device, a socket or a directory: `kind` says which.
    NotRegular {
        kind: &'static str,
    },
    /// More bytes than the cap; `inflated` when they are the bytes gzip inflated to.
    TooBig {
        cap: Cap,
        inflated: bool,
    },
    Io(std::io::Error),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::NotRegular { kind } => {
                write!(f, "{kind}, not a regular file: podlab reads its inputs from regular files only")
            }
            Problem::TooBig { cap, inflated } => write!(
                f,
                "the file holds more than {} MiB{}; podlab reads a {} of at most {} MiB",
                cap.mib(),
                if *inflated { " once inflated from gzip" } else { "" },
                cap.what,
                cap.mib()
            ),
            Problem::Io(e) => write!(f, "cannot read it: {e}"),
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

impl std::error::Error for InputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            Problem::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl InputError {
    fn new(path: &Path, problem: Problem) -> InputError {
        InputError { path: path.display().to_string(), problem }
    }

    /// The file does not exist (a caller may treat a missing file as "not yet written").
    pub fn is_not_found(&self) -> bool {
        matches!(&self.problem, Problem::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

impl From<InputError> for crate::diagnostic::LoadError {
    /// An I/O failure stays one (`cannot read PATH: …`); a file podlab refuses is an error at
    /// its first line and column, like every other error about a file's content.
    fn from(e: InputError) -> crate::diagnostic::LoadError {
        let start = crate::diagnostic::Pos { line: 1, col: 1 };
        match e.problem {
            Problem::Io(source) => crate::diagnostic::LoadError::Io { path: e.path, source },
            problem @ Problem::NotRegular { .. } => crate::yaml::Source::new(e.path, "").error_with_help(
                start,
                problem.to_string(),
                "name a regular file of text",
            ),
            problem @ Problem::TooBig { .. } => crate::yaml::Source::new(e.path, "").error(start, problem.to_string()),
        }
    }
}

/// Reads the whole of a regular file, at most `cap` bytes of it.
pub fn read_input(path: &Path, cap: Cap) -> Result<Vec<u8>, InputError> {
    let (file, reported) = open_regular(path)?;
    // A file that says it is too big is refused unread; one that says less is still read
    // only to the cap (a file may grow while read, or report no length at all).
    if reported > cap.bytes {
        return Err(InputError::new(path, Problem::TooBig { cap, inflated: false }));
    }
    read_capped(file, cap, reported).map_err(|problem| InputError::new(path, problem))
}

/// [`read_input`] as UTF-8 text; bytes that are not are an error naming the byte.
pub fn read_input_text(path: &Path, cap: Cap) -> Result<String, InputError> {
    String::from_utf8(read_input(path, cap)?).map_err(|e| {
        let at = e.utf8_error().valid_up_to() + 1;
        let error = std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not UTF-8 text (byte {at})"));
        InputError::new(path, Problem::Io(error))
    })
}

/// Checks that `bytes` are UTF-8 (a positioned error where they stop being so), then parses.
pub(crate) fn parse_bytes_with<R>(
    file: &str,
    bytes: Vec<u8>,
    parse: impl FnOnce(&str, &str) -> Result<R, crate::diagnostic::LoadError>,
) -> Result<R, crate::diagnostic::LoadError> {
    match String::from_utf8(bytes) {
        Ok(text) => parse(file, &text),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(&e.as_bytes()[..valid]).into_owned();
            let src = crate::yaml::Source::new(file, prefix);
            Err(src.error_with_help(
                src.pos_of(valid),
                "the file is not valid UTF-8",
                "save the scenario as UTF-8 text",
            ))
        }
    }
}

/// Opens a regular file for streaming, gzip or not (recognised by its magic bytes, not its
/// name; every member is read). Reading past `cap` bytes of the file, or of what gzip inflates,
/// is an error of the stream ([`Problem::TooBig`] as an `io::Error`), where the reader is.
pub fn open_input(path: &Path, cap: Cap) -> Result<Box<dyn BufRead>, InputError> {
    let (file, _) = open_regular(path)?;
    let mut raw = BufReader::new(Capped::new(file, cap, false));
    let gzip = raw.fill_buf().map_err(|e| InputError::new(path, Problem::Io(e)))?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        let inflated = flate2::bufread::MultiGzDecoder::new(raw);
        Box::new(BufReader::new(Capped::new(inflated, cap, true)))
    } else {
        Box::new(raw)
    })
}

/// Opens `path` if it is a regular file (checked before opening, since opening a FIFO to read
/// blocks until a writer comes, and again on the opened handle, in case the path changed in
/// between), with the length the file system reports.
fn open_regular(path: &Path) -> Result<(File, u64), InputError> {
    let fail = |problem| InputError::new(path, problem);
    let meta = std::fs::metadata(path).map_err(|e| fail(Problem::Io(e)))?;
    not_regular(&meta.file_type()).map_or(Ok(()), |kind| Err(fail(Problem::NotRegular { kind })))?;
    let file = File::open(path).map_err(|e| fail(Problem::Io(e)))?;
    let meta = file.metadata().map_err(|e| fail(Problem::Io(e)))?;
    not_regular(&meta.file_type()).map_or(Ok(()), |kind| Err(fail(Problem::NotRegular { kind })))?;
    Ok((file, meta.len()))
}

/// What a file is when it is not a regular file.
fn not_regular(t: &std::fs::FileType) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if t.is_char_device() {
            return Some("a character device");
        }
        if t.is_block_device() {
            return Some("a block device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    if t.is_dir() {
        return Some("a directory");
    }
    (!t.is_file()).then_some("not a file")
}

/// All of `reader`, or [`Problem::TooBig`] once it yields more than `cap` bytes; `hint` is
/// the size the file reports, to allocate once.
fn read_capped(reader: impl Read, cap: Cap, hint: u64) -> Result<Vec<u8>, Problem> {
    let mut bytes = Vec::with_capacity(usize::try_from(hint.min(cap.bytes)).unwrap_or(0).saturating_add(1));
    reader.take(cap.bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(Problem::Io)?;
    if bytes.len() as u64 > cap.bytes {
        return Err(Problem::TooBig { cap, inflated: false });
    }
    Ok(bytes)
}

/// A reader that fails once its inner reader has given `cap` bytes and has more.
struct Capped<R> {
    inner: R,
    left: u64,
    cap: Cap,
    inflated: bool,
}

impl<R: Read> Capped<R> {
    fn new(inner: R, cap: Cap, inflated: bool) -> Capped<R> {
        Capped { inner, left: cap.bytes, cap, inflated }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            // At the cap: one more byte means the file is over it; none, that it ends here.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(Problem::TooBig { cap: self.cap, inflated: self.inflated }.to_string())),
            };
        }
        let most = usize::try_from(self.left).unwrap_or(usize::MAX).min(buf.len());
        let n = self.inner.read(&mut buf[..most])?;
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: Cap = Cap { bytes: 10, what: "test file" };

    #[test]
    fn the_cap_counts_bytes_read_not_bytes_reported() {
        // An endless reader that reports no length, as /dev/zero or a /proc file does.
        let err = read_capped(std::io::repeat(b'a'), TINY, 0).unwrap_err();
        assert!(matches!(err, Problem::TooBig { inflated: false, .. }), "{err}");
        assert_eq!(read_capped(&b"0123456789"[..], TINY, 0).unwrap().len(), 10);
    }

    #[test]
    fn a_capped_stream_fails_past_its_cap_and_ends_at_it() {
        let mut whole = String::new();
        Capped::new(&b"0123456789"[..], TINY, false).read_to_string(&mut whole).unwrap();
        assert_eq!(whole, "0123456789");
        let mut out = Vec::new();
        let err = Capped::new(std::io::repeat(0), TINY, true).read_to_end(&mut out).unwrap_err();
        assert!(err.to_string().contains("more than 0 MiB once inflated from gzip"), "{err}");
        assert_eq!(out.len(), 10);
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_directories_are_refused_before_reading() {
        for (path, kind) in [("/dev/zero", "a character device"), ("/", "a directory")] {
            let err = read_input(Path::new(path), Cap::SCENARIO).unwrap_err();
            assert!(matches!(err.problem, Problem::NotRegular { kind: k } if k == kind), "{path}: {err}");
            assert!(open_input(Path::new(path), Cap::TRACE).is_err());
        }
        assert!(read_input(Path::new("/no/such/file"), Cap::SCENARIO).unwrap_err().is_not_found());
    }
}

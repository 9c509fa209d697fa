//! Where outputs may go: an output directory ([`OutDir`]) names paths inside it only from
//! components checked to be plain names, so no name a scenario, sweep or policy holds can
//! reach outside it; outputs go only to regular files and directories; and one writer at a
//! time holds the directory ([`OutLock`], an advisory lock on a file inside it).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Component, Path, PathBuf};

/// The file inside an output directory that its writer locks. Hidden, and kept after the
/// writer ends: removing it would let a third writer lock a new file while a second still
/// waits on the old one.
pub const LOCK_FILE: &str = ".podlab.lock";

/// Linux's longest file name (NAME_MAX), in bytes: a longer component fails only when written.
const MAX_COMPONENT_BYTES: usize = 255;

/// Why `name` cannot be one component of an output path: empty, `.` or `..`, holding a
/// separator or a NUL, or longer than a file name may be. `None` when it can.
pub fn component_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("an empty name cannot name a file or folder".into())
    } else if name == "." || name == ".." {
        Some(format!("`{name}` would name a folder outside the output directory's tree"))
    } else if name.contains(['/', '\\', '\0']) {
        Some(format!("`{}` holds a path separator or a NUL", name.escape_debug()))
    } else if name.len() > MAX_COMPONENT_BYTES {
        Some(format!("`{name}` is {} bytes long; a file name has at most {MAX_COMPONENT_BYTES}", name.len()))
    } else {
        None
    }
}

/// An output directory: the root every output path is under, and the only way to name one.
#[derive(Clone, Debug)]
pub struct OutDir {
    root: PathBuf,
}

impl OutDir {
    /// The directory `root`, which must be a directory or not exist yet (it is created by the
    /// first write): a file, a FIFO, a device or a socket is refused.
    pub fn new(root: &Path) -> std::io::Result<OutDir> {
        match std::fs::metadata(root) {
            Ok(m) if !m.is_dir() => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "{} is {}, not a directory: outputs go only to directories",
                    root.display(),
                    crate::output::kind_of(&m)
                ),
            )),
            _ => Ok(OutDir { root: root.to_path_buf() }),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/a/b/…`, each of `components` checked by [`component_problem`].
    pub fn join<S: AsRef<str>>(&self, components: &[S]) -> std::io::Result<PathBuf> {
        let mut path = self.root.clone();
        for c in components {
            let c = c.as_ref();
            if let Some(why) = component_problem(c) {
                return Err(outside(&self.root, &why));
            }
            path.push(c);
        }
        Ok(path)
    }

    /// `root/relative`, where `relative` holds only plain components (no root, no `..`).
    pub fn join_relative(&self, relative: &Path) -> std::io::Result<PathBuf> {
        let mut parts = Vec::new();
        for c in relative.components() {
            match c {
                Component::Normal(name) => parts.push(name.to_string_lossy().into_owned()),
                _ => return Err(outside(&self.root, &format!("`{}` is not a path inside it", relative.display()))),
            }
        }
        self.join(&parts)
    }
}

fn outside(root: &Path, why: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("no output under {}: {why}", root.display()))
}

/// How a writer holds an output directory: alone, or beside other writers that each write
/// their own runs (the shards of `podlab sweep run`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockMode {
    Exclusive,
    Shared,
}

/// An output directory held by this process; released when dropped (or when the process
/// ends, however it ends: the lock is the kernel's, on an open file).
#[derive(Debug)]
pub struct OutLock {
    file: File,
    mode: LockMode,
    path: PathBuf,
    /// The directory, when this writer created it: removed again if it ends holding nothing
    /// but the lock (a run that failed writes nothing, not even a folder).
    created: Option<PathBuf>,
}

/// How many times a writer opens the lock file again after finding it was removed under it.
const LOCK_ATTEMPTS: usize = 100;

impl OutLock {
    /// Takes `dir`'s lock (creating `dir` if needed), or fails at once, naming the writer that
    /// holds it when it said who it is. `what` says who this writer is (`podlab compare`).
    pub fn acquire(dir: &OutDir, mode: LockMode, what: &str) -> std::io::Result<OutLock> {
        let created = std::fs::symlink_metadata(dir.root()).is_err().then(|| dir.root().to_path_buf());
        let path = dir.join(&[LOCK_FILE])?;
        let mut attempts = 0;
        let mut file = loop {
            attempts += 1;
            crate::output::create_dir_all(dir.root()).map_err(|e| context("creating", dir.root(), e))?;
            // A FIFO in its place would block the open forever.
            crate::output::check_file_target(&path)?;
            let file = match OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempts < LOCK_ATTEMPTS => continue,
                opened => opened.map_err(|e| context("opening", &path, e))?,
            };
            lock(&file, mode, dir)?;
            // A writer that created the directory and ended with nothing in it removes it, lock
            // file and all: a lock taken on the removed file guards nothing, so try again.
            if same_file(&file, &path) || attempts >= LOCK_ATTEMPTS {
                break file;
            }
        };
        if mode == LockMode::Exclusive {
            // Only a lone writer says who it is: shared holders would write over each other.
            let host = std::env::var("HOSTNAME").unwrap_or_default();
            let on = if host.is_empty() { String::new() } else { format!(" on {host}") };
            file.set_len(0)?;
            file.rewind()?;
            file.write_all(format!("pid {}{on}: {what}\n", std::process::id()).as_bytes())?;
        }
        Ok(OutLock { file, mode, path, created })
    }
}

fn context(what: &str, path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

/// Takes the lock on the open lock file, or says who holds it.
fn lock(file: &File, mode: LockMode, dir: &OutDir) -> std::io::Result<()> {
    let taken = match mode {
        LockMode::Exclusive => file.try_lock(),
        LockMode::Shared => file.try_lock_shared(),
    };
    match taken {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = (&*file).read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() { String::new() } else { format!(" ({holder})") };
            Err(std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                format!(
                    "{} is being written by another podlab{who}; wait for it to end, or choose another output directory",
                    dir.root().display()
                ),
            ))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(context("locking", &dir.root().join(LOCK_FILE), e)),
    }
}

/// Whether the open `file` is still the one at `path`.
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

impl Drop for OutLock {
    fn drop(&mut self) {
        if self.mode != LockMode::Exclusive {
            return;
        }
        // The name of a writer that has ended would mislead the next refusal.
        let _ = self.file.set_len(0);
        if let Some(root) = &self.created {
            let alone = std::fs::read_dir(root).is_ok_and(|entries| entries.count() == 1);
            if alone && std::fs::remove_file(&self.path).is_ok() {
                // Fails, harmlessly, if another writer created something meanwhile.
                let _ = std::fs::remove_dir(root);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_that_leave_the_tree_are_refused() {
        for bad in ["", ".", "..", "a/b", "/abs", "a\\b", "a\0b"] {
            assert!(component_problem(bad).is_some(), "{bad:?} accepted");
        }
        assert!(component_problem(&"a".repeat(256)).is_some());
        for good in ["coscheduling", "omega-paper.omega.service.tJob=10s", "seed-42", "...", ".hidden"] {
            assert_eq!(component_problem(good), None, "{good:?} refused");
        }
    }

    #[test]
    fn joins_stay_under_the_root() {
        let out = OutDir::new(Path::new("/nonexistent/podlab-out")).unwrap();
        assert_eq!(out.join(&["runs", "a"]).unwrap(), Path::new("/nonexistent/podlab-out/runs/a"));
        assert!(out.join(&["runs", ".."]).is_err());
        assert!(out.join(&["/etc"]).is_err());
        assert!(out.join_relative(Path::new("charts/a/b.svg")).is_ok());
        assert!(out.join_relative(Path::new("../b.svg")).is_err());
        assert!(out.join_relative(Path::new("/etc/passwd")).is_err());
    }

    #[test]
    fn a_device_is_no_output() {
        let e = OutDir::new(Path::new("/dev/null")).unwrap_err();
        assert!(e.to_string().contains("a character device"), "{e}");
        let e = crate::output::check_file_target(Path::new("/dev/null")).unwrap_err();
        assert!(e.to_string().contains("regular files"), "{e}");
        assert!(crate::output::check_file_target(Path::new("/nonexistent/file")).is_ok());
    }

    /// A second exclusive holder is refused while the first holds, naming it; shared holders
    /// coexist but keep an exclusive one out; a dropped lock frees the directory.
    #[test]
    fn one_writer_at_a_time() {
        let root = std::env::temp_dir().join(format!("podlab-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = OutDir::new(&root).unwrap();
        let first = OutLock::acquire(&dir, LockMode::Exclusive, "podlab compare").unwrap();
        let e = OutLock::acquire(&dir, LockMode::Exclusive, "podlab compare").unwrap_err();
        assert!(e.to_string().contains("podlab compare") && e.to_string().contains("another podlab"), "{e}");
        assert!(OutLock::acquire(&dir, LockMode::Shared, "podlab sweep run").is_err());
        drop(first);
        // It created the directory and wrote nothing: the directory is gone again.
        assert!(!root.exists());
        let a = OutLock::acquire(&dir, LockMode::Shared, "podlab sweep run").unwrap();
        let b = OutLock::acquire(&dir, LockMode::Shared, "podlab sweep run").unwrap();
        assert!(OutLock::acquire(&dir, LockMode::Exclusive, "podlab sweep merge").is_err());
        drop((a, b));
        assert!(OutLock::acquire(&dir, LockMode::Exclusive, "podlab sweep merge").is_ok());
        std::fs::remove_dir_all(&root).unwrap();
    }
}

//! A policy's process: started with `sh -c` in a process group of its own, spoken to over
//! its stdin and stdout, one line each way, with a deadline on every wait — a child that stops
//! reading or answering is killed, never waited on forever. Its stderr is drained on a thread
//! into a small tail kept for error messages.
// The only wall clock podlab's runs meet: deadlines on a child process. It never reaches a
// decision or a record (a run that times out ends in an error).
#![allow(clippy::disallowed_types)]

use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
use rustix::process::{Pid, Signal, kill_process_group};

use crate::spin::Spinner;

/// How much of the child's stderr an error message shows.
const STDERR_TAIL: usize = 2048;

/// Why an exchange with the child failed.
#[derive(Debug)]
pub enum ChildFailure {
    /// The child closed its end (it exited, or closed stdin/stdout).
    Closed,
    /// No answer (or no room to write) before the deadline.
    TimedOut,
    Io(io::Error),
    /// A line longer than the limit.
    TooLong,
}

/// A running policy process.
pub struct ChildProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    /// Bytes read from stdout and not yet handed out as a line.
    pending: Vec<u8>,
    buf: Box<[u8]>,
    /// How waits for an answer poll before sleeping.
    spinner: Spinner,
    stderr: Arc<Mutex<Vec<u8>>>,
    drain: Option<JoinHandle<()>>,
    finished: bool,
}

/// The longest line a child may answer with (a batch's reply is a few bytes an action).
const MAX_LINE: usize = 256 << 20;

impl ChildProcess {
    /// Starts `command` with `/bin/sh -c`, stdin and stdout piped, stderr drained.
    pub fn spawn(command: &str) -> io::Result<ChildProcess> {
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()?;
        let (Some(stdin), Some(stdout), Some(mut err)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(io::Error::other("the child's pipes were not made"));
        };
        for fd in [rustix::fd::AsFd::as_fd(&stdin), rustix::fd::AsFd::as_fd(&stdout)] {
            fcntl_setfl(fd, fcntl_getfl(fd)? | OFlags::NONBLOCK)?;
        }
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let tail = stderr.clone();
        let drain = std::thread::Builder::new().name("podlab-exec-stderr".into()).spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let Ok(mut tail) = tail.lock() else { break };
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > 2 * STDERR_TAIL {
                    let cut = tail.len() - STDERR_TAIL;
                    tail.drain(..cut);
                }
            }
        })?;
        Ok(ChildProcess {
            child,
            stdin: Some(stdin),
            stdout,
            pending: Vec::new(),
            buf: vec![0; 64 * 1024].into_boxed_slice(),
            spinner: Spinner::default(),
            stderr,
            drain: Some(drain),
            finished: false,
        })
    }

    /// Writes `bytes` whole, waiting for room at most until `deadline`.
    pub fn send(&mut self, mut bytes: &[u8], deadline: Instant) -> Result<(), ChildFailure> {
        let Some(stdin) = self.stdin.as_mut() else { return Err(ChildFailure::Closed) };
        while !bytes.is_empty() {
            match stdin.write(bytes) {
                Ok(0) => return Err(ChildFailure::Closed),
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => wait(&*stdin, PollFlags::OUT, deadline)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Err(ChildFailure::Closed),
                Err(e) => return Err(ChildFailure::Io(e)),
            }
        }
        Ok(())
    }

    /// The next line the child writes (without its newline), waiting at most until `deadline`.
    /// It polls briefly before it sleeps ([`Spinner`]): the answer is usually that close.
    pub fn receive(&mut self, deadline: Instant) -> Result<Vec<u8>, ChildFailure> {
        let mut searched = 0;
        let mut spun = false;
        loop {
            if let Some(at) = self.pending[searched..].iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.pending.drain(..=searched + at).collect();
                line.pop();
                return Ok(line);
            }
            searched = self.pending.len();
            if self.pending.len() > MAX_LINE {
                return Err(ChildFailure::TooLong);
            }
            match self.stdout.read(&mut self.buf[..]) {
                Ok(0) => return Err(ChildFailure::Closed),
                Ok(n) => self.pending.extend_from_slice(&self.buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if !std::mem::replace(&mut spun, true) && self.spinner.wait(&self.stdout) {
                        continue;
                    }
                    wait(&self.stdout, PollFlags::IN, deadline)?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ChildFailure::Io(e)),
            }
        }
    }

    /// The last lines the child wrote to stderr (after it ended, all of them that fit).
    pub fn stderr_tail(&mut self) -> String {
        let text = self.stderr.lock().map(|t| t.clone()).unwrap_or_default();
        let start = text.len().saturating_sub(STDERR_TAIL);
        String::from_utf8_lossy(&text[start..]).into_owned()
    }

    /// After a failure: how the child ended, waiting for it a little (a closed pipe usually
    /// means it is exiting); `None` if it still runs.
    pub fn exit_status(&mut self, grace: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + grace;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                _ => return None,
            }
        }
    }

    /// Ends the child: closes its stdin (its cue to exit), waits up to `grace`, then kills its
    /// whole process group; reaps it and joins the stderr reader.
    pub fn finish(&mut self, grace: Duration) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.stdin = None;
        if self.exit_status(grace).is_none() {
            self.kill();
        }
        // The group may hold the stderr pipe open after the shell's exit: kill it either way.
        let _ = kill_process_group(pid(&self.child), Signal::KILL);
        let _ = self.child.wait();
        if let Some(drain) = self.drain.take() {
            let _ = drain.join();
        }
    }

    /// Kills the child's process group at once.
    pub fn kill(&mut self) {
        let _ = kill_process_group(pid(&self.child), Signal::KILL);
        let _ = self.child.kill();
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.finish(Duration::from_secs(2));
    }
}

fn pid(child: &Child) -> Pid {
    Pid::from_child(child)
}

/// Waits until `fd` is ready for `flags` or the deadline passes.
fn wait(fd: impl rustix::fd::AsFd, flags: PollFlags, deadline: Instant) -> Result<(), ChildFailure> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ChildFailure::TimedOut);
        }
        let timeout = Timespec { tv_sec: left.as_secs() as i64, tv_nsec: i64::from(left.subsec_nanos()) };
        let mut fds = [PollFd::new(&fd, flags)];
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(0) => {}
            // Ready, or hung up / in error: the read or write that follows says which.
            Ok(_) => return Ok(()),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(ChildFailure::Io(e.into())),
        }
    }
}

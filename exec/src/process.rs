//! `ProcessTransport`: a policy as a child process (`exec:NAME=COMMAND`), started when its
//! controller starts, spoken to with a deadline on every answer.
#![allow(clippy::disallowed_types)] // Instant: the deadline on a child's answer (child.rs).

use std::time::{Duration, Instant};

use crate::child::{ChildFailure, ChildProcess};
use crate::policy::Transport;

/// A child process, started at the first exchange.
pub struct ProcessTransport {
    command: String,
    timeout: Duration,
    child: Option<ChildProcess>,
    closed: bool,
}

impl ProcessTransport {
    pub fn new(command: &str, timeout: Duration) -> ProcessTransport {
        ProcessTransport { command: command.to_string(), timeout, child: None, closed: false }
    }

    fn failure(&mut self, failure: ChildFailure) -> String {
        let Some(child) = self.child.as_mut() else { return "it was never started".into() };
        match failure {
            ChildFailure::TimedOut => {
                child.kill();
                format!("no answer within {} s (it was killed)", self.timeout.as_secs_f64())
            }
            ChildFailure::Closed => match child.exit_status(Duration::from_secs(1)) {
                Some(status) if status.success() => "it exited (status 0) without answering".into(),
                Some(status) => format!("it exited without answering ({status})"),
                None => "it closed its stdin or stdout without answering".into(),
            },
            ChildFailure::Io(e) => format!("talking to it failed: {e}"),
            ChildFailure::TooLong => "it answered with a line over 256 MiB".into(),
        }
    }
}

impl Transport for ProcessTransport {
    fn exchange(&mut self, line: &[u8]) -> Result<Vec<u8>, String> {
        if self.closed {
            return Err("it was closed".into());
        }
        if self.child.is_none() {
            let child = ChildProcess::spawn(&self.command).map_err(|e| format!("could not start it: {e}"))?;
            self.child = Some(child);
        }
        let deadline = Instant::now() + self.timeout;
        let Some(child) = self.child.as_mut() else { return Err("it was never started".into()) };
        let result = child.send(line, deadline).and_then(|()| child.receive(deadline));
        result.map_err(|failure| self.failure(failure))
    }

    fn stderr_tail(&mut self) -> String {
        self.child.as_mut().map(|c| c.stderr_tail()).unwrap_or_default()
    }

    fn close(&mut self) {
        self.closed = true;
        if let Some(child) = self.child.as_mut() {
            child.finish(Duration::from_secs(2));
        }
    }

    fn abort(&mut self) {
        self.closed = true;
        if let Some(child) = self.child.as_mut() {
            child.kill();
            child.finish(Duration::ZERO);
        }
    }

    fn describe(&self) -> String {
        format!("exec `{}`", self.command)
    }
}

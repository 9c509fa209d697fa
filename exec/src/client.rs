//! The policy's side of the protocol, for a policy written in Rust: typed messages and
//! [`serve`], the loop that reads batches from stdin and writes answers to stdout.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Read, Write};
use std::os::fd::AsFd;

use serde::{Deserialize, Serialize};

use crate::PROTOCOL_VERSION;
use crate::spin::Spinner;

/// A resource list: `cpu` in millicores, `memory` in bytes, extended resources by name.
pub type Resources = BTreeMap<String, u64>;

/// One event of a batch, as a policy reads it (fields it does not need are skipped).
#[derive(Deserialize, Debug, Clone)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum InEvent {
    Start,
    Synced,
    NodeAdded {
        node: u32,
        allocatable: Resources,
        max_pods: u64,
    },
    NodeUpdated {
        node: u32,
        allocatable: Resources,
        max_pods: u64,
        #[serde(default)]
        unschedulable: bool,
    },
    PodAdded {
        pod: u32,
        requests: Resources,
        #[serde(default)]
        node: Option<u32>,
    },
    Bound {
        pod: u32,
        #[serde(default)]
        part: Option<u16>,
        node: u32,
    },
    BindRefused {
        pod: u32,
        #[serde(default)]
        part: Option<u16>,
        node: u32,
        reason: String,
    },
    Ended {
        pod: u32,
        #[serde(default)]
        part: Option<u16>,
        node: u32,
    },
    PodDeleted {
        pod: u32,
    },
    Timer {
        token: u64,
    },
    /// Heartbeats, groups, starts: what a simple policy ignores.
    #[serde(other)]
    Other,
}

/// One action, as a policy writes it.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum OutAction {
    Bind { pod: u32, node: u32 },
    Timer { at: u64, token: u64 },
    Unschedulable { pod: u32, message: String },
    GiveUp { pod: u32, reason: String },
    Evict { pod: u32 },
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum Incoming {
    Hello {
        protocol: u32,
        seed: u64,
        #[serde(default)]
        params: BTreeMap<String, serde_json::Value>,
    },
    Events {
        now: u64,
        events: Vec<InEvent>,
    },
}

#[derive(Serialize)]
struct Answer<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    actions: &'a [OutAction],
    sleep: bool,
}

/// A policy: told the seed and parameters once, then each batch.
pub trait Policy {
    fn hello(&mut self, seed: u64, params: &BTreeMap<String, serde_json::Value>) {
        let _ = (seed, params);
    }
    /// Decides on a batch of events at `now` (nanoseconds), pushing actions to `out`;
    /// returns whether it may sleep (nothing to decide until a pod arrives, a binding is
    /// refused or a timer fires).
    fn decide(&mut self, now: u64, events: Vec<InEvent>, out: &mut Vec<OutAction>) -> bool;
}

/// Serves `policy` over stdin and stdout until podlab closes stdin. Waiting for a batch, it
/// polls stdin briefly before it sleeps ([`Spinner`]): podlab's next batch is usually that
/// close.
pub fn serve(policy: &mut impl Policy) -> io::Result<()> {
    let stdin = io::BufReader::with_capacity(64 * 1024, SpinningStdin(io::stdin(), Spinner::default()));
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    serve_on(policy, stdin, &mut stdout)
}

/// Stdin read straight from its file descriptor (never through std's own buffer, which the
/// poll could not see), after its [`Spinner`]'s wait.
struct SpinningStdin(io::Stdin, Spinner);

impl Read for SpinningStdin {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.1.wait(self.0.as_fd());
        loop {
            match rustix::io::read(self.0.as_fd(), &mut *buf) {
                Err(rustix::io::Errno::INTR) => {}
                result => return result.map_err(io::Error::from),
            }
        }
    }
}

/// [`serve`] on any reader and writer.
pub fn serve_on(policy: &mut impl Policy, input: impl BufRead, output: &mut impl Write) -> io::Result<()> {
    let mut actions = Vec::new();
    for line in input.lines() {
        let line = line?;
        let message: Incoming = serde_json::from_str(&line).map_err(io::Error::other)?;
        match message {
            Incoming::Hello { protocol, seed, params } => {
                if protocol != PROTOCOL_VERSION {
                    return Err(io::Error::other(format!("podlab speaks protocol {protocol}")));
                }
                policy.hello(seed, &params);
                writeln!(output, "{{\"type\":\"hello\",\"protocol\":{PROTOCOL_VERSION}}}")?;
            }
            Incoming::Events { now, events } => {
                actions.clear();
                let sleep = policy.decide(now, events, &mut actions);
                serde_json::to_writer(&mut *output, &Answer { kind: "actions", actions: &actions, sleep })
                    .map_err(io::Error::other)?;
                output.write_all(b"\n")?;
            }
        }
        output.flush()?;
    }
    Ok(())
}

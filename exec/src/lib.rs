//! podlab's exec protocol (`podlab.exec/1`): a scheduling policy in any language, run as a
//! child process that podlab speaks to in lockstep over its stdin and stdout, JSON lines.
//! `ExecPolicy` is the controller that drives it; `client` is the Rust side for a policy
//! written in Rust. The specification is `docs/src/protocol.md`.
//!
//! This crate is the one place where a run meets another process: it spawns, reads pipes and
//! keeps deadlines (a wall clock), none of which reaches a decision or a record.

pub mod child;
pub mod client;
pub mod error;
pub mod first_fit;
pub mod policy;
pub mod process;
pub mod protocol;
pub mod spin;

use std::collections::BTreeMap;
use std::time::Duration;

use podlab_cluster::Controller;

pub use error::ExecError;
pub use policy::{ExecPolicy, FailureSlot, Transport, failure_slot, take_failure};
pub use process::ProcessTransport;
pub use protocol::PROTOCOL_VERSION;

/// How long podlab waits for a policy's answer by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The environment variable that sets how long podlab waits for an answer, in seconds
/// (`PODLAB_EXEC_TIMEOUT=60`), in place of [`DEFAULT_TIMEOUT`].
pub const TIMEOUT_ENV: &str = "PODLAB_EXEC_TIMEOUT";

/// The timeout [`TIMEOUT_ENV`] sets, or the default (also when it is not a positive number).
pub fn timeout_from_env() -> Duration {
    std::env::var(TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|secs| *secs > 0.0)
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .unwrap_or(DEFAULT_TIMEOUT)
}

/// An external policy: its name, its command, its parameters and how long an answer may take.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecSpec {
    pub name: String,
    pub command: String,
    pub params: BTreeMap<String, serde_json::Value>,
    pub timeout: Duration,
}

/// The prefix that marks an external policy where a policy name is expected.
pub const PREFIX: &str = "exec:";

impl ExecSpec {
    /// Reads `exec:NAME=COMMAND`; `None` unless the text names an external policy, an error if
    /// it does so badly. The timeout is [`timeout_from_env`]'s.
    pub fn parse(text: &str) -> Option<Result<ExecSpec, String>> {
        let rest = text.strip_prefix(PREFIX)?;
        let Some((name, command)) = rest.split_once('=') else {
            return Some(Err(format!("`{text}`: an external policy is written exec:NAME=COMMAND")));
        };
        let name = name.trim();
        // The name is a folder of the outputs (`--out DIR/NAME/`): `..` must not be one.
        let alnum_end = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            || !alnum_end(name.chars().next())
            || !alnum_end(name.chars().last())
        {
            return Some(Err(format!(
                "`{text}`: the policy's name `{name}` must be letters, digits, `-`, `_` or `.`, starting and ending \
                 with a letter or digit"
            )));
        }
        if command.trim().is_empty() {
            return Some(Err(format!("`{text}`: the command is empty")));
        }
        Some(Ok(ExecSpec {
            name: name.to_string(),
            command: command.to_string(),
            params: BTreeMap::new(),
            timeout: timeout_from_env(),
        }))
    }

    /// The policy's controller, a child process started when it starts; its failure goes to
    /// `failure`.
    pub fn controller(&self, failure: &FailureSlot) -> Box<dyn Controller> {
        let transport = ProcessTransport::new(&self.command, self.timeout);
        Box::new(ExecPolicy::new(&self.name, self.params.clone(), transport, failure.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        let spec = ExecSpec::parse("exec:ff=./first-fit --fast").expect("exec").expect("valid");
        assert_eq!((spec.name.as_str(), spec.command.as_str()), ("ff", "./first-fit --fast"));
        assert!(ExecSpec::parse("kubernetes").is_none());
        assert!(ExecSpec::parse("exec:ff").expect("exec").is_err());
        assert!(ExecSpec::parse("exec:f f=x").expect("exec").is_err());
        assert!(ExecSpec::parse("exec:ff= ").expect("exec").is_err());
        // A name is a folder of the outputs: never `..` nor `.`.
        assert!(ExecSpec::parse("exec:..=x").expect("exec").is_err());
        assert!(ExecSpec::parse("exec:.=x").expect("exec").is_err());
        assert!(ExecSpec::parse("exec:a.b_c-1=x").expect("exec").is_ok());
    }
}

//! One scenario file being read: the loader's state (`Loader`: the source, the options, the
//! warnings so far), the objects found in it, and what every kind's reader uses — a document
//! parsed with its position, a checked `apiVersion`, a warning, a duplicate's error, what a pod
//! may refer to. The kinds themselves are read in `loader.rs`, `controlled.rs` and `kinds.rs`,
//! on top of this.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::affinity::PreemptionPolicy;
use crate::diagnostic::{Diagnostic, LoadError, Pos, Severity};
use crate::manifest::Doc;
use crate::objects::{Node, PodGroup};
use crate::yaml::{self, Source, YNode};

/// What the loader must know from outside the vocabulary crate.
#[derive(Clone, Copy, Debug)]
pub struct LoadOptions<'a> {
    /// The policy names that exist, so a misspelt one is caught at load time.
    pub known_policies: &'a [&'a str],
    /// Whether files a scenario names (an empirical distribution's `file:`) may lie outside
    /// the scenario's folder. Off by default: a scenario from elsewhere must not read
    /// `~/.ssh/…` into a report.
    pub allow_paths_outside: bool,
}

/// One object found in the file, before parsing: its kind and where it is.
pub(crate) struct Found<'a> {
    pub(crate) kind: &'a str,
    pub(crate) api_version: Option<&'a str>,
    pub(crate) node: &'a YNode,
}

/// The scenario's PriorityClasses: value, preemption policy and where each is defined, and
/// the global default's value and policy.
#[derive(Default)]
pub(crate) struct PriorityClasses {
    pub(crate) by_name: BTreeMap<String, (i32, PreemptionPolicy, Pos)>,
    pub(crate) default: Option<(i32, PreemptionPolicy)>,
}

/// What a pod manifest may refer to, read before any pod: the nodes (`spec.nodeName`), the
/// pod groups (to which a pod of a Workload's replicated group adds its own), the
/// PriorityClasses.
pub(crate) struct PodRefs {
    pub(crate) nodes: Vec<Arc<Node>>,
    pub(crate) groups: Vec<Arc<PodGroup>>,
    pub(crate) priority_classes: PriorityClasses,
}

/// The loader's state while it reads one file (its kinds are read in `loader.rs`,
/// `controlled.rs` and `kinds.rs`).
pub(crate) struct Loader<'a> {
    pub(crate) src: &'a Source,
    pub(crate) options: LoadOptions<'a>,
    pub(crate) warnings: Vec<Diagnostic>,
}

impl<'a> Loader<'a> {
    pub(crate) fn new(src: &'a Source, options: LoadOptions<'a>) -> Loader<'a> {
        Loader { src, options, warnings: Vec::new() }
    }

    pub(crate) fn pos(&self, node: &YNode) -> Pos {
        self.src.pos_of(node.start)
    }

    pub(crate) fn warn(&mut self, pos: Pos, message: impl Into<String>) {
        self.warnings.push(self.src.diagnostic(Severity::Warning, pos, message, None));
    }

    pub(crate) fn check_api_version(&self, found: &Found<'_>, accepted: &[&str]) -> Result<(), LoadError> {
        let at = found.node.get("apiVersion").map_or(self.pos(found.node), |n| self.pos(n));
        match found.api_version {
            Some(v) if accepted.contains(&v) => Ok(()),
            Some(v) => Err(self.src.error_with_help(
                at,
                format!("{} has apiVersion `{v}`", found.kind),
                format!("podlab reads {} as apiVersion `{}`", found.kind, accepted.join("` or `")),
            )),
            None => Err(self.src.error_with_help(
                at,
                format!("this {} has no apiVersion", found.kind),
                format!("add `apiVersion: {}`", accepted[0]),
            )),
        }
    }

    pub(crate) fn doc<T: serde::de::DeserializeOwned>(&self, node: &YNode) -> Result<Doc<'a, T>, LoadError> {
        Ok(Doc { src: self.src, parsed: yaml::parse_node(self.src, node)?, start: self.pos(node) })
    }

    pub(crate) fn duplicate(&self, pos: Pos, kind: &str, name: &str, first: Pos) -> LoadError {
        self.src.error_with_help(
            pos,
            format!("duplicate {kind} `{name}`"),
            format!("the first `{name}` is at line {}; names must be unique per kind and namespace", first.line),
        )
    }
}

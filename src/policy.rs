//! Policies as values: a [`Policy`] builds its controllers from a scenario, and a [`Registry`]
//! holds the policies a program knows by name. podlab's six built-in policies are entered in
//! [`Registry::builtin`] like any other; a downstream crate adds its own and runs every podlab
//! command with them (`podlab::cli::main_with(registry)`). External policies
//! (`exec:NAME=COMMAND`) are not entered: they are parsed from their name.

use std::sync::{Arc, OnceLock};

use podlab_cluster::Controller;
use podlab_cluster::scenario::Scenario;

/// A scheduling policy: a name and the controllers that make it up (the scheduler's process),
/// built afresh at every call (a crashed controller's replacement comes from here too).
pub trait Policy: Send + Sync {
    /// The name runs, results and output folders go by (`kubernetes`, `best-fit`).
    fn name(&self) -> &str;

    /// One line for `podlab policies`.
    fn description(&self) -> &str {
        ""
    }

    /// The policy's controllers for an instantiated scenario, in the order they become
    /// controllers `0, 1, …` of the run.
    fn build(&self, scenario: &Scenario) -> Vec<Box<dyn Controller>>;
}

/// One of podlab's own policies, built by [`podlab_schedulers::build`].
struct Builtin {
    name: &'static str,
    description: &'static str,
}

impl Policy for Builtin {
    fn name(&self) -> &str {
        self.name
    }

    fn description(&self) -> &str {
        self.description
    }

    fn build(&self, scenario: &Scenario) -> Vec<Box<dyn Controller>> {
        podlab_schedulers::build(self.name, scenario).unwrap_or_default()
    }
}

/// A policy made of a name, a description and a function (see [`Registry::register_fn`]).
struct FnPolicy<F> {
    name: String,
    description: String,
    build: F,
}

impl<F: Fn(&Scenario) -> Vec<Box<dyn Controller>> + Send + Sync> Policy for FnPolicy<F> {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        &self.description
    }

    fn build(&self, scenario: &Scenario) -> Vec<Box<dyn Controller>> {
        (self.build)(scenario)
    }
}

/// What each built-in policy is, for `podlab policies`.
const BUILTIN_DESCRIPTIONS: &[(&str, &str)] = &[
    ("per-container", "kube-scheduler's framework placing each container on its own (the naive design)"),
    ("kubernetes", "kube-scheduler's default profile, the Pod as the atomic unit"),
    ("gang", "kube-scheduler with coscheduling: a PodGroup's pods all or none"),
    ("mesos", "two-level scheduling: a DRF master offering resources to frameworks"),
    ("omega", "shared-state schedulers with optimistic concurrency (the Omega paper)"),
    ("monolithic", "one scheduler for every job (the Omega paper's baseline)"),
];

/// The policies a program knows, by name, in the order they were entered (the order
/// `podlab policies` lists them).
#[derive(Default)]
pub struct Registry {
    policies: Vec<Arc<dyn Policy>>,
    /// The names, kept for the loader's known-policy check (see [`Registry::known`]).
    known: OnceLock<Vec<&'static str>>,
    known_and_exec: OnceLock<Vec<&'static str>>,
}

impl Registry {
    /// A registry with no policy at all.
    pub fn empty() -> Registry {
        Registry::default()
    }

    /// podlab's six policies ([`podlab_schedulers::POLICIES`]), in their order.
    pub fn builtin() -> Registry {
        let mut registry = Registry::empty();
        for &name in podlab_schedulers::POLICIES {
            let description = BUILTIN_DESCRIPTIONS.iter().find(|(n, _)| *n == name).map_or("", |(_, d)| d);
            registry.policies.push(Arc::new(Builtin { name, description }));
        }
        registry
    }

    /// Enters `policy`. Refused (the registry unchanged) if its name is taken, empty, or
    /// would read as an external policy (`exec:…`).
    pub fn register(&mut self, policy: impl Policy + 'static) -> Result<&mut Registry, String> {
        let name = policy.name();
        if name.is_empty() || name.starts_with(podlab_exec::PREFIX) || name.contains(['/', '=', ' ']) {
            return Err(format!("`{name}` cannot name a policy: no `exec:` prefix, `/`, `=` or spaces"));
        }
        if self.get(name).is_some() {
            return Err(format!("a policy named `{name}` is registered already"));
        }
        self.policies.push(Arc::new(policy));
        self.known = OnceLock::new();
        self.known_and_exec = OnceLock::new();
        Ok(self)
    }

    /// Enters a policy made of a function from the scenario to its controllers.
    pub fn register_fn(
        &mut self,
        name: &str,
        description: &str,
        build: impl Fn(&Scenario) -> Vec<Box<dyn Controller>> + Send + Sync + 'static,
    ) -> Result<&mut Registry, String> {
        self.register(FnPolicy { name: name.into(), description: description.into(), build })
    }

    /// The policy of this name.
    pub fn get(&self, name: &str) -> Option<&dyn Policy> {
        self.policies.iter().find(|p| p.name() == name).map(|p| &**p)
    }

    /// Every policy, in the order entered.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Policy> {
        self.policies.iter().map(|p| &**p)
    }

    /// Every policy's name, in the order entered.
    pub fn names(&self) -> Vec<&str> {
        self.iter().map(Policy::name).collect()
    }

    /// The names as the loader's `known_policies` takes them; with `exec`, the loader's mark
    /// that external policies are allowed too.
    pub fn known(&'static self, exec: bool) -> &'static [&'static str] {
        let names = || self.policies.iter().map(|p| p.name()).collect::<Vec<&'static str>>();
        if exec {
            self.known_and_exec.get_or_init(|| {
                let mut all = names();
                all.push(podlab_scenario::EXEC_POLICIES);
                all
            })
        } else {
            self.known.get_or_init(names)
        }
    }
}

/// The registry of this process: the one [`set_registry`] installed, else the built-ins.
static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// The registry every entry point that takes a policy by name reads (`run_policy*`,
/// `compare`, `sweep`, real mode, the loader's known-policy check).
pub fn registry() -> &'static Registry {
    REGISTRY.get_or_init(Registry::builtin)
}

/// Installs this process's registry, once, before any policy is looked up; given back if
/// one was installed or read already.
pub fn set_registry(registry: Registry) -> Result<(), Registry> {
    REGISTRY.set(registry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtins_in_order_and_names_checked() {
        let mut registry = Registry::builtin();
        assert_eq!(registry.names(), podlab_schedulers::POLICIES);
        assert!(registry.iter().all(|p| !p.description().is_empty()));
        assert!(registry.register_fn("kubernetes", "", |_| Vec::new()).is_err());
        assert!(registry.register_fn("exec:x", "", |_| Vec::new()).is_err());
        assert!(registry.register_fn("mine", "mine", |_| Vec::new()).is_ok());
        assert_eq!(registry.names().last(), Some(&"mine"));
    }
}

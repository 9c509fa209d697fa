//! podlab's own `kind: Simulation` document. Unlike Kubernetes kinds it is strict: an unknown
//! field is a typo, and a typo is an error.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

pub const API_VERSION: &str = "podlab.dev/v1alpha1";

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SimulationManifest {
    // Read by the loader's first pass; named here so the strict struct accepts them.
    #[allow(dead_code)]
    pub api_version: String,
    #[allow(dead_code)]
    pub kind: String,
    #[serde(default)]
    pub metadata: SimulationMeta,
    #[serde(default)]
    pub spec: SimulationSpec,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SimulationMeta {
    pub name: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    #[allow(dead_code)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SimulationSpec {
    /// The master seed of every run of this scenario (`--seed` overrides it).
    pub seed: Option<u64>,
    /// When the run stops, in virtual time; without it the run goes until nothing is left to do.
    pub duration: Option<Spanned<String>>,
    /// The policies `podlab run` compares when `--policy` is not given.
    pub policies: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub scheduler: SchedulerManifest,
    /// Objects created later than t = 0.
    #[serde(default)]
    pub timeline: Vec<TimelineEntry>,
    #[serde(default)]
    pub expect: Vec<Spanned<ExpectManifest>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SchedulerManifest {
    /// `LeastAllocated` (Kubernetes' default) or `MostAllocated` (bin packing).
    pub scoring_strategy: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineEntry {
    pub at: Spanned<String>,
    /// `Kind/name` references to objects of this file (`Pod/app`, `Node/node-c`).
    pub create: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectManifest {
    /// Which policy this holds for; every policy run when absent.
    pub policy: Option<Spanned<String>>,
    /// The instant it holds at; the end of the run when absent.
    pub at: Option<Spanned<String>>,
    /// What it teaches, shown when it fails.
    pub why: Option<String>,
    #[serde(default)]
    pub pods: BTreeMap<String, Spanned<PodExpect>>,
    #[serde(default)]
    pub groups: BTreeMap<String, Spanned<GroupExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodExpect {
    pub phase: Option<Spanned<String>>,
    pub node: Option<Spanned<String>>,
    /// The pod's containers landed on more than one node.
    pub split: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupExpect {
    /// The group's pods landed on more than one node.
    pub split: Option<bool>,
    /// How many of its pods were placed (wholly bound) by then.
    pub placed: Option<u32>,
}

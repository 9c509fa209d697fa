//! A scheduling profile: the plugins that run, in upstream's order, each with its score weight.

use super::plugin::Plugin;

/// One plugin of a profile and the weight its normalised score is multiplied by.
pub struct Entry {
    pub plugin: Box<dyn Plugin>,
    /// Score weight (upstream's defaults: TaintToleration 3; NodeAffinity, PodTopologySpread,
    /// InterPodAffinity 2; the others 1). Unused when the plugin does not score.
    pub weight: i64,
}

/// The plugins of one profile, in the order their filters run and their scores are listed.
pub struct Profile {
    /// The profile's `schedulerName`.
    pub scheduler_name: String,
    pub plugins: Vec<Entry>,
}

impl Profile {
    /// A profile of these plugins.
    pub fn new(scheduler_name: &str, plugins: Vec<Entry>) -> Profile {
        Profile { scheduler_name: scheduler_name.into(), plugins }
    }

    /// The plugin of this name, if the profile has it.
    pub fn plugin(&self, name: &str) -> Option<&dyn Plugin> {
        self.plugins.iter().find(|e| e.plugin.name() == name).map(|e| &*e.plugin)
    }
}

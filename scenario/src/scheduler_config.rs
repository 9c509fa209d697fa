//! `KubeSchedulerConfiguration` (`kubescheduler.config.k8s.io/v1`), as a scenario's document
//! or a file of its own (`--scheduler-config`), parsed strictly into
//! [`crate::kube_config`]'s plain data: an unknown field, extension point, plugin or argument is
//! an error at its line and column, with a "did you mean"; what upstream's validation refuses
//! (`pkg/scheduler/apis/config/validation`) is refused here, and upstream's defaults
//! (`pkg/scheduler/apis/config/v1/defaults.go`) fill what the file leaves out. Plugins podlab
//! does not model are named in a warning.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::Spanned;

use crate::diagnostic::{Diagnostic, LoadError, Pos, Severity};
use crate::kube_config::{
    DEFAULT_SCHEDULER_NAME, ExtensionPoint, KubeSchedulerConfiguration, PluginConfig, PluginRef, Plugins,
    ProfileConfig, REMOVED_PLUGINS, plugin_info,
};
use crate::manifest::Doc;
use crate::names::unknown_help;
use crate::yaml::{self, Shape, Source, YNode};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[expect(dead_code, reason = "fields accepted and ignored are named so that an unknown one is refused")]
pub struct ConfigManifest {
    pub api_version: Option<IgnoredAny>,
    pub kind: Option<IgnoredAny>,
    pub parallelism: Option<Spanned<i64>>,
    /// Accepted and ignored: podlab runs one scheduler, in-process.
    pub leader_election: Option<IgnoredAny>,
    pub client_connection: Option<IgnoredAny>,
    pub enable_profiling: Option<bool>,
    pub enable_contention_profiling: Option<bool>,
    pub delay_cache_until_active: Option<bool>,
    pub percentage_of_nodes_to_score: Option<Spanned<i64>>,
    pub pod_initial_backoff_seconds: Option<Spanned<i64>>,
    pub pod_max_backoff_seconds: Option<Spanned<i64>>,
    #[serde(default)]
    pub profiles: Vec<Spanned<ProfileManifest>>,
    #[serde(default)]
    pub extenders: Vec<Spanned<IgnoredAny>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProfileManifest {
    pub scheduler_name: Option<Spanned<String>>,
    pub percentage_of_nodes_to_score: Option<Spanned<i64>>,
    pub plugins: Option<PluginsManifest>,
    #[serde(default)]
    pub plugin_config: Vec<Spanned<PluginConfigManifest>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PluginsManifest {
    pub multi_point: Option<PluginSetManifest>,
    pub pre_enqueue: Option<PluginSetManifest>,
    pub queue_sort: Option<PluginSetManifest>,
    pub pre_filter: Option<PluginSetManifest>,
    pub filter: Option<PluginSetManifest>,
    pub post_filter: Option<PluginSetManifest>,
    pub pre_score: Option<PluginSetManifest>,
    pub score: Option<PluginSetManifest>,
    pub reserve: Option<PluginSetManifest>,
    pub permit: Option<PluginSetManifest>,
    pub pre_bind: Option<PluginSetManifest>,
    pub bind: Option<PluginSetManifest>,
    pub post_bind: Option<PluginSetManifest>,
}

impl PluginsManifest {
    /// Each extension point with its set, in `ExtensionPoint::ALL`'s order.
    fn sets(&self) -> [(ExtensionPoint, Option<&PluginSetManifest>); 13] {
        use ExtensionPoint::*;
        [
            (MultiPoint, self.multi_point.as_ref()),
            (PreEnqueue, self.pre_enqueue.as_ref()),
            (QueueSort, self.queue_sort.as_ref()),
            (PreFilter, self.pre_filter.as_ref()),
            (Filter, self.filter.as_ref()),
            (PostFilter, self.post_filter.as_ref()),
            (PreScore, self.pre_score.as_ref()),
            (Score, self.score.as_ref()),
            (Reserve, self.reserve.as_ref()),
            (Permit, self.permit.as_ref()),
            (PreBind, self.pre_bind.as_ref()),
            (Bind, self.bind.as_ref()),
            (PostBind, self.post_bind.as_ref()),
        ]
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSetManifest {
    #[serde(default)]
    pub enabled: Vec<PluginManifest>,
    #[serde(default)]
    pub disabled: Vec<PluginManifest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginManifest {
    pub name: Spanned<String>,
    pub weight: Option<Spanned<i64>>,
}

/// A `pluginConfig` entry; its `args` are read again, typed by `name` (`plugin_args.rs`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(dead_code, reason = "`args` is read again from the YAML node, typed by the plugin's name")]
pub struct PluginConfigManifest {
    pub name: Spanned<String>,
    pub args: Option<IgnoredAny>,
}

/// Reads configurations, gathering warnings.
pub(super) struct ConfigReader<'a> {
    pub src: &'a Source,
    pub warnings: Vec<Diagnostic>,
}

impl<'a> ConfigReader<'a> {
    pub fn new(src: &'a Source) -> Self {
        ConfigReader { src, warnings: Vec::new() }
    }

    pub(super) fn warn(&mut self, pos: Pos, message: String, help: &str) {
        self.warnings.push(self.src.diagnostic(Severity::Warning, pos, message, Some(help.into())));
    }

    /// The configuration document `node` (its `apiVersion` and `kind` already checked).
    pub fn config(&mut self, node: &YNode) -> Result<KubeSchedulerConfiguration, LoadError> {
        let doc: Doc<ConfigManifest> =
            Doc { src: self.src, parsed: yaml::parse_node(self.src, node)?, start: self.src.pos_of(node.start) };
        let m = &doc.parsed.value;
        if let Some(e) = m.extenders.first() {
            return Err(doc.src.error_with_help(
                doc.at(e),
                "podlab does not call scheduler extenders",
                "an extender is an HTTP service kube-scheduler consults; model its rule as a policy instead",
            ));
        }
        let mut config = KubeSchedulerConfiguration::default();
        if let Some(p) = &m.parallelism {
            config.parallelism = positive(&doc, p, "parallelism")? as i32;
        }
        if let Some(p) = &m.percentage_of_nodes_to_score {
            config.percentage_of_nodes_to_score = percentage(&doc, p, "percentageOfNodesToScore")?;
        }
        if let Some(b) = &m.pod_initial_backoff_seconds {
            config.pod_initial_backoff_seconds = positive(&doc, b, "podInitialBackoffSeconds")?;
        }
        if let Some(b) = &m.pod_max_backoff_seconds {
            config.pod_max_backoff_seconds = b.value;
        }
        if config.pod_max_backoff_seconds < config.pod_initial_backoff_seconds {
            let at = m.pod_max_backoff_seconds.as_ref().map_or(doc.start, |b| doc.at(b));
            return Err(doc.src.error(
                at,
                format!(
                    "podMaxBackoffSeconds {} must be at least podInitialBackoffSeconds {}",
                    config.pod_max_backoff_seconds, config.pod_initial_backoff_seconds
                ),
            ));
        }
        if !m.profiles.is_empty() {
            config.profiles = Vec::with_capacity(m.profiles.len());
        }
        for (i, p) in m.profiles.iter().enumerate() {
            let single = m.profiles.len() == 1;
            let profile = self.profile(&doc, p, single, profile_args(node, i))?;
            if config.profiles.iter().any(|o| o.scheduler_name == profile.scheduler_name) {
                let at = p.value.scheduler_name.as_ref().map_or(doc.at(p), |n| doc.at(n));
                return Err(doc.src.error(at, format!("a second profile named `{}`", profile.scheduler_name)));
            }
            if let Some(first) = config.profiles.first()
                && first.plugins.queue_sort != profile.plugins.queue_sort
            {
                return Err(doc.src.error_with_help(
                    doc.at(p),
                    "this profile's queueSort plugins differ from the first profile's",
                    "every profile shares one scheduling queue: give them the same queueSort",
                ));
            }
            config.profiles.push(profile);
        }
        Ok(config)
    }

    fn profile(
        &mut self,
        doc: &Doc<'_, ConfigManifest>,
        spanned: &Spanned<ProfileManifest>,
        single: bool,
        args: Vec<Option<&YNode>>,
    ) -> Result<ProfileConfig, LoadError> {
        let m = &spanned.value;
        let scheduler_name = match &m.scheduler_name {
            Some(n) if n.value.is_empty() => return Err(doc.error(n, "schedulerName is empty")),
            Some(n) => n.value.clone(),
            // Upstream names only a lone profile by default.
            None if single => DEFAULT_SCHEDULER_NAME.to_string(),
            None => {
                return Err(doc.src.error_with_help(
                    doc.at(spanned),
                    "this profile has no schedulerName",
                    "with several profiles each needs its own, e.g. `schedulerName: default-scheduler`",
                ));
            }
        };
        let percentage_of_nodes_to_score = m
            .percentage_of_nodes_to_score
            .as_ref()
            .map(|p| percentage(doc, p, "percentageOfNodesToScore"))
            .transpose()?;
        let plugins = match &m.plugins {
            Some(p) => self.plugins(doc, p)?,
            None => Plugins::default(),
        };
        let mut plugin_config: Vec<PluginConfig> = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for (c, node) in m.plugin_config.iter().zip(args.into_iter().chain(std::iter::repeat(None))) {
            let name = &c.value.name;
            self.plugin_name(doc, name, "pluginConfig")?;
            if seen.contains(&name.value.as_str()) {
                return Err(doc.error(name, format!("a second pluginConfig for `{}`", name.value)));
            }
            seen.push(&name.value);
            if let Some(args) = self.plugin_args(&name.value, node, doc.at(name))? {
                plugin_config.push(PluginConfig { name: name.value.clone(), args });
            }
        }
        Ok(ProfileConfig { scheduler_name, percentage_of_nodes_to_score, plugins, plugin_config })
    }

    /// Checks that `name` is an in-tree plugin of v1.35 (warning for one podlab does not
    /// model); `*` is accepted where `wildcard`.
    fn plugin_name(
        &mut self,
        doc: &Doc<'_, ConfigManifest>,
        name: &Spanned<String>,
        what: &str,
    ) -> Result<(), LoadError> {
        let text = name.value.as_str();
        if REMOVED_PLUGINS.contains(&text) {
            return Err(doc.src.error_with_help(
                doc.at(name),
                format!("plugin `{text}` was removed: kubescheduler.config.k8s.io/v1 refuses it"),
                "NodeVolumeLimits counts every CSI volume limit",
            ));
        }
        let Some(info) = plugin_info(text) else {
            let names: Vec<&str> = crate::kube_config::PLUGINS.iter().map(|p| p.name).collect();
            return Err(doc.src.error_with_help(
                doc.at(name),
                format!("unknown plugin `{text}` in {what}"),
                unknown_help(text, &names),
            ));
        };
        if !info.modelled {
            self.warn(
                doc.at(name),
                format!("`{text}` is an upstream plugin podlab does not model"),
                match text {
                    "GangScheduling" | "NodeDeclaredFeatures" => {
                        "it sits behind a feature gate that is off by default in v1.35; podlab ignores it"
                    }
                    _ => "podlab models no volumes: for pods without volumes it has nothing to check, as upstream",
                },
            );
        }
        Ok(())
    }

    fn plugins(&mut self, doc: &Doc<'_, ConfigManifest>, m: &PluginsManifest) -> Result<Plugins, LoadError> {
        let mut plugins = Plugins::default();
        for (point, set) in m.sets() {
            let Some(set) = set else { continue };
            let out = plugins.get_mut(point);
            for p in &set.enabled {
                self.plugin_name(doc, &p.name, point.name())?;
                let info = plugin_info(&p.name.value).expect("checked above");
                if point != ExtensionPoint::MultiPoint && info.points.is_some_and(|points| !points.contains(&point)) {
                    return Err(doc.src.error_with_help(
                        doc.at(&p.name),
                        format!("plugin `{}` does not extend {}", p.name.value, point.name()),
                        format!("it extends: {}", extends(info.points.unwrap_or(&[]))),
                    ));
                }
                if out.enabled.iter().any(|o| o.name == p.name.value) {
                    return Err(
                        doc.error(&p.name, format!("plugin `{}` is enabled twice in {}", p.name.value, point.name()))
                    );
                }
                let weight = match &p.weight {
                    None => None,
                    Some(w) => Some(
                        i32::try_from(w.value)
                            .map_err(|_| doc.error(w, format!("weight {} is out of range", w.value)))?,
                    ),
                };
                out.enabled.push(PluginRef { name: p.name.value.clone(), weight });
            }
            for p in &set.disabled {
                if p.name.value != "*" {
                    self.plugin_name(doc, &p.name, point.name())?;
                }
                out.disabled.push(p.name.value.clone());
            }
            if point == ExtensionPoint::QueueSort && out.enabled.len() > 1 {
                let second = &set.enabled[1].name;
                return Err(doc.error(second, "only one queue sort plugin can be enabled"));
            }
        }
        Ok(plugins)
    }
}

/// The extension points' names, for a message.
fn extends(points: &[ExtensionPoint]) -> String {
    points.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
}

/// A value greater than zero.
fn positive<T>(doc: &Doc<'_, T>, v: &Spanned<i64>, field: &str) -> Result<i64, LoadError> {
    if v.value > 0 && v.value <= i64::from(i32::MAX) {
        Ok(v.value)
    } else {
        Err(doc.error(v, format!("{field} {} must be greater than zero", v.value)))
    }
}

/// A percentage, 0 to 100.
fn percentage<T>(doc: &Doc<'_, T>, v: &Spanned<i64>, field: &str) -> Result<i32, LoadError> {
    if (0..=100).contains(&v.value) {
        Ok(v.value as i32)
    } else {
        Err(doc.error(v, format!("{field} {} is not in the range 0 to 100", v.value)))
    }
}

/// The `args` nodes of profile `i`'s `pluginConfig` entries, in order (`None` where an entry
/// has none).
fn profile_args(root: &YNode, i: usize) -> Vec<Option<&YNode>> {
    let Some(Shape::Seq(profiles)) = root.get("profiles").map(|n| &n.shape) else { return Vec::new() };
    let Some(Shape::Seq(configs)) = profiles.get(i).and_then(|p| p.get("pluginConfig")).map(|n| &n.shape) else {
        return Vec::new();
    };
    configs.iter().map(|c| c.get("args").filter(|a| !a.is_empty_document())).collect()
}

/// Reads a standalone configuration file's text: one document, `kind:
/// KubeSchedulerConfiguration`.
pub fn parse_scheduler_config(
    file: &str,
    text: &str,
) -> Result<(KubeSchedulerConfiguration, Vec<Diagnostic>), LoadError> {
    let src = Source::new(file, text);
    let roots = yaml::documents(&src)?;
    let mut docs = roots.iter().filter(|r| !r.is_empty_document());
    let Some(root) = docs.next() else {
        return Err(src.error_with_help(
            Pos { line: 1, col: 1 },
            "the file holds no KubeSchedulerConfiguration",
            "write `apiVersion: kubescheduler.config.k8s.io/v1` / `kind: KubeSchedulerConfiguration`",
        ));
    };
    if let Some(second) = docs.next() {
        return Err(src.error(src.pos_of(second.start), "a scheduler configuration file holds one document"));
    }
    check_type(&src, root)?;
    let mut reader = ConfigReader::new(&src);
    let config = reader.config(root)?;
    Ok((config, reader.warnings))
}

/// Reads a standalone configuration file.
pub fn load_scheduler_config(
    path: &std::path::Path,
) -> Result<(KubeSchedulerConfiguration, Vec<Diagnostic>), LoadError> {
    let bytes = crate::input::read_input(path, crate::input::Cap::SCENARIO)?;
    crate::input::parse_bytes_with(&path.display().to_string(), bytes, parse_scheduler_config)
}

/// `apiVersion` and `kind` of a standalone file's document.
fn check_type(src: &Source, root: &YNode) -> Result<(), LoadError> {
    let at = |n: Option<&YNode>| src.pos_of(n.unwrap_or(root).start);
    let kind = root.get("kind");
    if kind.and_then(YNode::as_str) != Some("KubeSchedulerConfiguration") {
        return Err(src.error_with_help(
            at(kind),
            "expected `kind: KubeSchedulerConfiguration`",
            "--scheduler-config reads kube-scheduler's configuration file",
        ));
    }
    let version = root.get("apiVersion");
    match version.and_then(YNode::as_str) {
        Some(crate::kube_config::API_VERSION) => Ok(()),
        other => Err(src.error_with_help(
            at(version),
            format!("KubeSchedulerConfiguration has apiVersion `{}`", other.unwrap_or("")),
            format!("podlab reads `{}`", crate::kube_config::API_VERSION),
        )),
    }
}

/// How many of one `schedulerName`'s pods a warning names before it counts the rest.
const NAMED_PODS: usize = 5;

/// The pods of `scenario` that no profile of `config` schedules: kube-scheduler takes only a
/// pod whose `spec.schedulerName` is one of its profiles' (`responsibleForPod`) and leaves the
/// others Pending, for another scheduler. One message and help per such name, naming its pods
/// (listed ones, ReplicaSets', Deployments' and Jobs' templates, generators) and the profiles
/// there are. Pods bound by `spec.nodeName` are no scheduler's.
pub fn unscheduled_pods(
    scenario: &podlab_cluster::scenario::Scenario,
    config: &KubeSchedulerConfiguration,
) -> Vec<(String, String)> {
    let known = |name: &str| config.profiles.iter().any(|p| p.scheduler_name == name);
    let mut by_name: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    let mut note = |scheduler: &str, what: String| {
        if !known(scheduler) {
            by_name.entry(scheduler.to_string()).or_default().push(what);
        }
    };
    for pod in scenario.pods.held().iter().filter(|p| p.node_name().is_none()) {
        note(&pod.scheduler_name, format!("pod `{}`", pod.name));
    }
    for rs in &scenario.replica_sets {
        note(&rs.template.scheduler_name, format!("ReplicaSet `{}`'s pods", rs.name));
    }
    for d in &scenario.deployments {
        note(&d.template.scheduler_name, format!("Deployment `{}`'s pods", d.name));
    }
    for j in &scenario.jobs {
        note(&j.template.scheduler_name, format!("Job `{}`'s pods", j.name));
    }
    for g in &scenario.workload.generators {
        note(g.scheduler_name.as_deref().unwrap_or(DEFAULT_SCHEDULER_NAME), format!("generator `{}`'s pods", g.name));
    }
    let profiles: Vec<String> = config.profiles.iter().map(|p| format!("`{}`", p.scheduler_name)).collect();
    let profiles = profiles.join(", ");
    by_name
        .into_iter()
        .map(|(scheduler, mut pods)| {
            let one = pods.len() == 1 && pods[0].starts_with("pod ");
            let more = pods.len().saturating_sub(NAMED_PODS);
            pods.truncate(NAMED_PODS);
            let mut list = pods.join(", ");
            if more > 0 {
                list.push_str(&format!(" and {more} more"));
            }
            let stay = if one { "stays" } else { "stay" };
            let message = format!(
                "schedulerName `{scheduler}` is no profile of the KubeSchedulerConfiguration (its profiles: {profiles}): under `kubernetes`, {list} {stay} Pending, left for another scheduler as kube-scheduler leaves a pod of no profile of its own"
            );
            let help = format!("set their `spec.schedulerName` to a profile's, or add a profile named `{scheduler}`");
            (message, help)
        })
        .collect()
}

/// [`unscheduled_pods`] as warnings about the configuration file `file` (`--scheduler-config`),
/// at its first line.
pub fn unscheduled_pod_warnings(
    scenario: &podlab_cluster::scenario::Scenario,
    config: &KubeSchedulerConfiguration,
    file: &str,
) -> Vec<Diagnostic> {
    unscheduled_pods(scenario, config)
        .into_iter()
        .map(|(message, help)| Diagnostic {
            severity: Severity::Warning,
            file: file.to_string(),
            pos: Pos { line: 1, col: 1 },
            message,
            help: Some(help),
            source_line: String::new(),
            caret_col: 0,
            width: 0,
        })
        .collect()
}

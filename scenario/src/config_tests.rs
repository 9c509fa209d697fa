//! Tests of `KubeSchedulerConfiguration` reading: a complete file's data, upstream's defaults,
//! and each refusal at its line and column.

use crate::kube_config::{
    DefaultPreemptionArgs, DefaultingType, InterPodAffinityArgs, KubeSchedulerConfiguration, NodeResourcesFitArgs,
    PluginArgs, PluginRef, ResourceSpec, ScoringStrategyType, UtilizationShapePoint,
};
use crate::{LoadOptions, parse, parse_scheduler_config};

const HEAD: &str = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";

fn read(text: &str) -> Result<KubeSchedulerConfiguration, String> {
    parse_scheduler_config("c.yaml", text).map(|(c, _)| c).map_err(|e| e.to_string())
}

/// The error's position and text; panics when the file is read.
fn error(text: &str) -> (u32, u32, String) {
    match parse_scheduler_config("c.yaml", text) {
        Ok(_) => panic!("expected an error in:\n{text}"),
        Err(e) => {
            let d = e.diagnostic().unwrap_or_else(|| panic!("not positioned: {e}"));
            (d.pos.line, d.pos.col, e.to_string())
        }
    }
}

/// Asserts an error at the first `needle` whose text has `why`.
fn assert_error_at(text: &str, needle: &str, why: &str) {
    let (line, col, rendered) = error(text);
    let i = text.find(needle).unwrap_or_else(|| panic!("`{needle}` not in the text"));
    let before = &text[..i];
    let want =
        (before.matches('\n').count() as u32 + 1, before.rsplit('\n').next().unwrap_or("").chars().count() as u32 + 1);
    assert_eq!((line, col), want, "wrong place: {rendered}");
    assert!(rendered.contains(why), "`{why}` not in: {rendered}");
}

#[test]
fn an_empty_configuration_is_the_default() {
    assert_eq!(read(HEAD), Ok(KubeSchedulerConfiguration::default()));
    let c = KubeSchedulerConfiguration::default();
    assert_eq!(c.profiles[0].scheduler_name, "default-scheduler");
    assert_eq!((c.percentage_of_nodes_to_score, c.pod_initial_backoff_seconds, c.pod_max_backoff_seconds), (0, 1, 10));
}

#[test]
fn a_full_configuration_is_read() {
    let text = format!(
        "{HEAD}percentageOfNodesToScore: 50
podInitialBackoffSeconds: 2
podMaxBackoffSeconds: 20
leaderElection: {{leaderElect: false}}
profiles:
- schedulerName: packer
  plugins:
    multiPoint:
      enabled: [{{name: NodeResourcesFit, weight: 5}}]
      disabled: [{{name: ImageLocality}}]
    score:
      disabled: [{{name: '*'}}]
  pluginConfig:
  - name: NodeResourcesFit
    args:
      ignoredResourceGroups: [example.com]
      scoringStrategy:
        type: RequestedToCapacityRatio
        resources: [{{name: cpu, weight: 3}}, {{name: memory}}]
        requestedToCapacityRatio:
          shape: [{{utilization: 0, score: 10}}, {{utilization: 100, score: 0}}]
  - name: InterPodAffinity
    args: {{hardPodAffinityWeight: 7}}
  - name: DefaultPreemption
    args: {{apiVersion: kubescheduler.config.k8s.io/v1, kind: DefaultPreemptionArgs, minCandidateNodesAbsolute: 0}}
  - name: PodTopologySpread
    args:
      defaultingType: List
      defaultConstraints:
      - {{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway}}
  - name: NodeAffinity
    args:
      addedAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms: [{{matchExpressions: [{{key: pool, operator: In, values: [a]}}]}}]
  - name: ImageLocality
- schedulerName: other
"
    );
    let c = read(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((c.percentage_of_nodes_to_score, c.pod_initial_backoff_seconds, c.pod_max_backoff_seconds), (50, 2, 20));
    let p = &c.profiles[0];
    assert_eq!(p.scheduler_name, "packer");
    assert_eq!(p.plugins.multi_point.enabled, vec![PluginRef { name: "NodeResourcesFit".into(), weight: Some(5) }]);
    assert_eq!(p.plugins.multi_point.disabled, vec!["ImageLocality"]);
    assert_eq!(p.plugins.score.disabled, vec!["*"]);
    let Some(PluginArgs::NodeResourcesFit(fit)) = p.args("NodeResourcesFit") else { panic!("fit args") };
    assert_eq!(fit.ignored_resource_groups, vec!["example.com"]);
    assert_eq!(fit.scoring_strategy.kind, ScoringStrategyType::RequestedToCapacityRatio);
    assert_eq!(
        fit.scoring_strategy.resources,
        vec![ResourceSpec { name: "cpu".into(), weight: 3 }, ResourceSpec { name: "memory".into(), weight: 1 }]
    );
    assert_eq!(fit.scoring_strategy.shape[0], UtilizationShapePoint { utilization: 0, score: 10 });
    assert_eq!(
        p.args("InterPodAffinity"),
        Some(&PluginArgs::InterPodAffinity(InterPodAffinityArgs {
            hard_pod_affinity_weight: 7,
            ignore_preferred_terms_of_existing_pods: false
        }))
    );
    assert_eq!(
        p.args("DefaultPreemption"),
        Some(&PluginArgs::DefaultPreemption(DefaultPreemptionArgs {
            min_candidate_nodes_percentage: 10,
            min_candidate_nodes_absolute: 0
        }))
    );
    let Some(PluginArgs::PodTopologySpread(spread)) = p.args("PodTopologySpread") else { panic!("spread args") };
    assert_eq!((spread.defaulting_type, spread.default_constraints.len()), (DefaultingType::List, 1));
    let Some(PluginArgs::NodeAffinity(added)) = p.args("NodeAffinity") else { panic!("node affinity args") };
    assert_eq!(added.added_affinity.as_ref().and_then(|a| a.required.as_ref()).map(Vec::len), Some(1));
    assert_eq!(p.args("ImageLocality"), None, "ImageLocality takes no arguments");
    assert_eq!(c.profiles[1].scheduler_name, "other");
    assert_eq!(NodeResourcesFitArgs::default().scoring_strategy.kind, ScoringStrategyType::LeastAllocated);
}

#[test]
fn a_scenario_holds_a_configuration_and_unmodelled_plugins_are_named() {
    let text = format!(
        "apiVersion: v1\nkind: Node\nmetadata: {{name: n}}\nstatus: {{allocatable: {{cpu: \"1\"}}}}\n---\n{HEAD}profiles:\n- plugins:\n    filter:\n      enabled: [{{name: VolumeZone}}]\n"
    );
    let s = parse("s.yaml", &text, LoadOptions { known_policies: &[], allow_paths_outside: false })
        .unwrap_or_else(|e| panic!("{e}"));
    let config = s.scheduler_config.expect("the scenario's configuration");
    assert_eq!(config.profiles[0].scheduler_name, "default-scheduler");
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(s.warnings[0].message.contains("`VolumeZone` is an upstream plugin podlab does not model"));
    let twice = format!("{text}---\n{HEAD}");
    let e = parse("s.yaml", &twice, LoadOptions { known_policies: &[], allow_paths_outside: false }).unwrap_err();
    assert!(e.to_string().contains("at most one KubeSchedulerConfiguration"), "{e}");
}

#[test]
fn bad_plugins_are_located() {
    let plugins = |body: &str| format!("{HEAD}profiles:\n- plugins:\n{body}");
    assert_error_at(&plugins("    preFilters: {}\n"), "preFilters", "did you mean `preFilter`");
    assert_error_at(
        &plugins("    score:\n      enabled: [{name: NodeResourceFit}]\n"),
        "NodeResourceFit",
        "did you mean `NodeResourcesFit`",
    );
    assert_error_at(
        &plugins("    filter:\n      enabled: [{name: ImageLocality}]\n"),
        "ImageLocality",
        "does not extend filter",
    );
    assert_error_at(
        &plugins("    filter:\n      disabled: [{name: NodePort}]\n"),
        "NodePort",
        "did you mean `NodePorts`",
    );
    assert_error_at(&plugins("    multiPoint:\n      enabled: [{name: EBSLimits}]\n"), "EBSLimits", "removed");
    assert_error_at(
        &plugins("    queueSort:\n      enabled: [{name: PrioritySort}, {name: SchedulingGates}]\n"),
        "SchedulingGates",
        "does not extend queueSort",
    );
    assert_error_at(
        &plugins("    score:\n      enabled: [{name: ImageLocality}, {name: ImageLocality}]\n"),
        "ImageLocality}]",
        "enabled twice",
    );
    assert_error_at(
        &plugins("    score:\n      enabled: [{name: ImageLocality, wieght: 2}]\n"),
        "wieght",
        "did you mean `weight`",
    );
}

#[test]
fn bad_arguments_are_located() {
    let config =
        |name: &str, args: &str| format!("{HEAD}profiles:\n- pluginConfig:\n  - name: {name}\n    args: {args}\n");
    assert_error_at(
        &config("InterPodAffinity", "{hardPodAfinityWeight: 2}"),
        "hardPodAfinityWeight",
        "did you mean `hardPodAffinityWeight`",
    );
    assert_error_at(
        &config("InterPodAffinity", "{hardPodAffinityWeight: 101}"),
        "101",
        "not in the valid range [0, 100]",
    );
    assert_error_at(
        &config("DefaultPreemption", "{minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 0}"),
        "0}",
        "cannot both be zero",
    );
    assert_error_at(&config("DefaultPreemption", "{minCandidateNodesPercentage: 120}"), "120", "[0, 100]");
    assert_error_at(
        &config("NodeResourcesBalancedAllocation", "{resources: [{name: cpu, weight: 2}]}"),
        "2}",
        "must be 1",
    );
    assert_error_at(
        &config("NodeResourcesFit", "{scoringStrategy: {resources: [{name: cpu}]}}"),
        "{resources",
        "has no type",
    );
    assert_error_at(
        &config("NodeResourcesFit", "{scoringStrategy: {type: LeastAlocated}}"),
        "LeastAlocated",
        "did you mean `LeastAllocated`",
    );
    assert_error_at(
        &config("NodeResourcesFit", "{scoringStrategy: {type: MostAllocated, resources: [{name: cpu, weight: 101}]}}"),
        "101",
        "(0, 100]",
    );
    assert_error_at(
        &config("NodeResourcesFit", "{scoringStrategy: {type: RequestedToCapacityRatio}}"),
        "{type",
        "needs `requestedToCapacityRatio`",
    );
    assert_error_at(
        &config(
            "NodeResourcesFit",
            "{scoringStrategy: {type: RequestedToCapacityRatio, requestedToCapacityRatio: {shape: [{utilization: 50, score: 1}, {utilization: 40, score: 2}]}}}",
        ),
        "40",
        "increasing order",
    );
    assert_error_at(
        &config(
            "NodeResourcesFit",
            "{scoringStrategy: {type: RequestedToCapacityRatio, requestedToCapacityRatio: {shape: [{utilization: 50, score: 11}]}}}",
        ),
        "11",
        "[0, 10]",
    );
    assert_error_at(&config("NodeResourcesFit", "{ignoredResourceGroups: [a/b]}"), "a/b", "can't contain '/'");
    assert_error_at(
        &config(
            "PodTopologySpread",
            "{defaultConstraints: [{maxSkew: 1, topologyKey: k, whenUnsatisfiable: DoNotSchedule}]}",
        ),
        "{maxSkew",
        "need defaultingType `List`",
    );
    assert_error_at(
        &config(
            "PodTopologySpread",
            "{defaultingType: List, defaultConstraints: [{maxSkew: 1, topologyKey: k, whenUnsatisfiable: DoNotSchedule, labelSelector: {}}]}",
        ),
        "{maxSkew",
        "must not define a labelSelector",
    );
    assert_error_at(&config("VolumeBinding", "{shape: []}"), "[]", "StorageCapacityScoring");
    assert_error_at(&config("ImageLocality", "{x: 1}"), "{x", "takes no arguments");
    assert_error_at(
        &config("NodeResourcesFit", "{kind: InterPodAffinityArgs}"),
        "InterPodAffinityArgs",
        "not `InterPodAffinityArgs`",
    );
    assert_error_at(&config("Coscheduling", "{}"), "Coscheduling", "unknown plugin");
    let twice = format!("{HEAD}profiles:\n- pluginConfig:\n  - name: NodeAffinity\n  - name: NodeAffinity\n");
    let (line, _, rendered) = error(&twice);
    assert_eq!(line, 6, "{rendered}");
    assert!(rendered.contains("a second pluginConfig"), "{rendered}");
    let (binding, warnings) = parse_scheduler_config("c.yaml", &config("VolumeBinding", "{bindTimeoutSeconds: 30}"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(warnings.iter().any(|w| w.message.contains("does not model")), "{warnings:?}");
    let (_, warnings) = parse_scheduler_config("c.yaml", &config("DynamicResources", "{filterTimeout: 5s}"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(warnings[0].message.contains("change nothing"), "{warnings:?}");
    assert!(
        matches!(binding.profiles[0].args("VolumeBinding"), Some(PluginArgs::VolumeBinding(v)) if v.bind_timeout_seconds == 30)
    );
}

#[test]
fn bad_top_level_settings_are_located() {
    assert_error_at(&format!("{HEAD}percentageOfNodesToScore: 101\n"), "101", "0 to 100");
    assert_error_at(
        &format!("{HEAD}podInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 4\n"),
        "4\n",
        "at least podInitialBackoffSeconds",
    );
    assert_error_at(&format!("{HEAD}podInitialBackoffSeconds: 0\n"), "0\n", "greater than zero");
    assert_error_at(&format!("{HEAD}extenders: [{{urlPrefix: http://x}}]\n"), "{urlPrefix", "extenders");
    assert_error_at(&format!("{HEAD}profile: []\n"), "profile:", "did you mean `profiles`");
    assert_error_at(&format!("{HEAD}profiles:\n- schedulerName: a\n- {{}}\n"), "{}", "no schedulerName");
    let (line, _, rendered) = error(&format!("{HEAD}profiles:\n- schedulerName: a\n- schedulerName: a\n"));
    assert_eq!(line, 5, "the second: {rendered}");
    assert!(rendered.contains("a second profile named `a`"), "{rendered}");
    let queue = format!(
        "{HEAD}profiles:\n- schedulerName: a\n- schedulerName: b\n  plugins: {{queueSort: {{disabled: [{{name: PrioritySort}}]}}}}\n"
    );
    let (line, _, rendered) = error(&queue);
    assert_eq!(line, 5, "{rendered}");
    assert!(rendered.contains("queueSort"), "{rendered}");
    assert_error_at(
        "apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n",
        "kubescheduler.config.k8s.io/v1beta3",
        "podlab reads",
    );
    assert_error_at("apiVersion: v1\nkind: Pod\n", "Pod", "KubeSchedulerConfiguration");
}

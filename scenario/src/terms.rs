//! A pod's scheduling terms beyond resources, node selector and required node affinity —
//! preferred node affinity, inter-pod affinity and anti-affinity, topology spread constraints,
//! host ports, preemption policy, its controller — read from the manifest strictly (every field
//! the API has, nothing else) and validated as the API server validates them
//! (`pkg/apis/core/validation/validation.go`) before they reach a scheduler.

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use crate::affinity::{
    HostPort, InclusionPolicy, LabelSelector, OwnerRef, PodAffinityTerm, PreemptionPolicy, PreferredSchedulingTerm,
    SchedulingTerms, TopologySpreadConstraint, WeightedPodAffinityTerm, WhenUnsatisfiable,
};
use crate::diagnostic::LoadError;
use crate::manifest::{
    Doc, LabelSelectorManifest, PodAffinityManifest, PodAffinityTermManifest, PodManifest, RequirementManifest,
    SelectorTermManifest, TopologySpreadConstraintManifest,
};
use crate::names::{is_dns_label, is_label_value, label_key_problem, unknown_help};
use crate::objects::{NodeSelectorTerm, SelectorOp, SelectorRequirement};

/// The label-selector operators (`metav1.LabelSelectorOperator`); `Gt`/`Lt` are node-selector
/// operators only.
const LABEL_OPERATORS: [&str; 4] = ["In", "NotIn", "Exists", "DoesNotExist"];
/// The node-selector operators.
const NODE_OPERATORS: [&str; 6] = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"];

impl<T> Doc<'_, T> {
    /// A label selector, validated as `ValidateLabelSelector` does: known operators, values
    /// for `In`/`NotIn` and none for `Exists`/`DoesNotExist`, valid keys and values.
    pub fn label_selector(&self, m: &LabelSelectorManifest) -> Result<LabelSelector, LoadError> {
        let mut match_labels = BTreeMap::new();
        for (key, value) in &m.match_labels {
            self.label_pair(key, value)?;
            match_labels.insert(key.clone(), value.value.clone());
        }
        let mut match_expressions = Vec::with_capacity(m.match_expressions.len());
        for r in &m.match_expressions {
            let op = match r.operator.value.as_str() {
                "In" => SelectorOp::In,
                "NotIn" => SelectorOp::NotIn,
                "Exists" => SelectorOp::Exists,
                "DoesNotExist" => SelectorOp::DoesNotExist,
                other => {
                    let help = if matches!(other, "Gt" | "Lt") {
                        "`Gt` and `Lt` compare node labels only (node affinity); a label selector takes In, NotIn, Exists or DoesNotExist".to_string()
                    } else {
                        unknown_help(other, &LABEL_OPERATORS)
                    };
                    return Err(self.src.error_with_help(
                        self.at(&r.operator),
                        format!("unknown label-selector operator `{other}`"),
                        help,
                    ));
                }
            };
            if let Some(why) = label_key_problem(&r.key.value) {
                return Err(self.error(&r.key, why));
            }
            let wants_values = matches!(op, SelectorOp::In | SelectorOp::NotIn);
            if wants_values && r.values.is_empty() {
                return Err(self.src.error_with_help(
                    self.at(&r.operator),
                    format!("operator `{}` needs `values`", r.operator.value),
                    "give the label values to match, e.g. `values: [web]`",
                ));
            }
            if let (false, Some(v)) = (wants_values, r.values.first()) {
                return Err(self.error(v, format!("operator `{}` takes no `values`", r.operator.value)));
            }
            if let Some(v) = r.values.iter().find(|v| !is_label_value(&v.value)) {
                return Err(self.error(v, format!("`{}` is not a valid label value", v.value)));
            }
            let values = r.values.iter().map(|v| v.value.clone()).collect();
            match_expressions.push(SelectorRequirement { key: r.key.value.clone(), op, values });
        }
        Ok(LabelSelector { match_labels, match_expressions })
    }

    /// A `NodeSelectorTerm` (of required or preferred node affinity), its requirements
    /// validated as `ValidateNodeSelectorRequirement` and `ValidateNodeFieldSelectorRequirement`
    /// validate them.
    pub fn selector_term(&self, t: &SelectorTermManifest) -> Result<NodeSelectorTerm, LoadError> {
        let match_expressions =
            t.match_expressions.iter().map(|r| self.node_requirement(r, false)).collect::<Result<_, _>>()?;
        let match_fields = t.match_fields.iter().map(|r| self.node_requirement(r, true)).collect::<Result<_, _>>()?;
        Ok(NodeSelectorTerm { match_expressions, match_fields })
    }

    fn node_requirement(&self, r: &RequirementManifest, field: bool) -> Result<SelectorRequirement, LoadError> {
        let op = SelectorOp::parse(&r.operator.value).ok_or_else(|| {
            self.src.error_with_help(
                self.at(&r.operator),
                format!("unknown operator `{}`", r.operator.value),
                unknown_help(&r.operator.value, &NODE_OPERATORS),
            )
        })?;
        let problem = match op {
            _ if field && r.key != "metadata.name" => {
                Some(format!("matchFields selects on `metadata.name` only, not `{}`", r.key))
            }
            SelectorOp::In | SelectorOp::NotIn if field && r.values.len() != 1 => {
                Some("a matchFields requirement takes exactly one value".to_string())
            }
            _ if field && !matches!(op, SelectorOp::In | SelectorOp::NotIn) => {
                Some("matchFields takes the operators In and NotIn only".to_string())
            }
            SelectorOp::In | SelectorOp::NotIn if r.values.is_empty() => {
                Some(format!("operator `{}` needs `values`", r.operator.value))
            }
            SelectorOp::Exists | SelectorOp::DoesNotExist if !r.values.is_empty() => {
                Some(format!("operator `{}` takes no `values`", r.operator.value))
            }
            SelectorOp::Gt | SelectorOp::Lt if r.values.len() != 1 => {
                Some(format!("operator `{}` takes exactly one value", r.operator.value))
            }
            _ if field => None,
            _ => label_key_problem(&r.key),
        };
        match problem {
            Some(why) => Err(self.error(&r.operator, why)),
            None => Ok(SelectorRequirement { key: r.key.clone(), op, values: r.values.clone() }),
        }
    }

    fn label_pair(&self, key: &str, value: &Spanned<String>) -> Result<(), LoadError> {
        if let Some(why) = label_key_problem(key) {
            return Err(self.error(value, why));
        }
        if !is_label_value(&value.value) {
            return Err(self.src.error_with_help(
                self.at(value),
                format!("`{}` is not a valid label value (label `{key}`)", value.value),
                "at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit",
            ));
        }
        Ok(())
    }

    /// A weight of a preferred term: 1 to 100.
    pub fn weight(&self, weight: &Spanned<i64>) -> Result<i32, LoadError> {
        if (1..=100).contains(&weight.value) {
            Ok(weight.value as i32)
        } else {
            Err(self.src.error_with_help(
                self.at(weight),
                format!("weight {} is out of range", weight.value),
                "a preferred term's weight is 1 to 100",
            ))
        }
    }

    /// `matchLabelKeys`/`mismatchLabelKeys` of a term whose selector is `selector`, checked as
    /// `validateMatchLabelKeysAndMismatchLabelKeys` checks them once the API server has merged
    /// them for a pod with `labels`.
    fn label_keys(
        &self,
        selector: Option<&LabelSelector>,
        match_keys: &[Spanned<String>],
        mismatch_keys: &[Spanned<String>],
        labels: &BTreeMap<String, String>,
    ) -> Result<(), LoadError> {
        for key in match_keys.iter().chain(mismatch_keys) {
            let Some(selector) = selector else {
                return Err(self.src.error_with_help(
                    self.at(key),
                    "matchLabelKeys and mismatchLabelKeys need a labelSelector",
                    "add the `labelSelector` the keys narrow",
                ));
            };
            if let Some(why) = label_key_problem(&key.value) {
                return Err(self.error(key, why));
            }
            // The merge adds `key In (value)` when the pod has the label: a key the selector
            // already names is then named twice, which the API server refuses.
            let named = selector.match_labels.contains_key(&key.value)
                || selector.match_expressions.iter().any(|r| r.key == key.value);
            let in_match = match_keys.iter().any(|k| k.value == key.value);
            if in_match && named && labels.contains_key(&key.value) {
                return Err(self.src.error_with_help(
                    self.at(key),
                    format!("`{}` is in both matchLabelKeys and labelSelector", key.value),
                    "matchLabelKeys adds `key In (the pod's value)` itself; drop the key from one of them",
                ));
            }
            if in_match && mismatch_keys.iter().any(|k| k.value == key.value) {
                return Err(self.error(key, format!("`{}` is in both matchLabelKeys and mismatchLabelKeys", key.value)));
            }
        }
        Ok(())
    }

    /// A `PodAffinityTerm`, its label keys merged for a pod with `labels`.
    pub fn pod_affinity_term(
        &self,
        spanned: &Spanned<PodAffinityTermManifest>,
        labels: &BTreeMap<String, String>,
    ) -> Result<PodAffinityTerm, LoadError> {
        let m = &spanned.value;
        let label_selector = m.label_selector.as_ref().map(|s| self.label_selector(s)).transpose()?;
        let namespace_selector = m.namespace_selector.as_ref().map(|s| self.label_selector(s)).transpose()?;
        if let Some(ns) = m.namespaces.iter().find(|ns| !is_dns_label(&ns.value)) {
            return Err(self.error(ns, format!("`{}` is not a valid namespace name", ns.value)));
        }
        self.label_keys(label_selector.as_ref(), &m.match_label_keys, &m.mismatch_label_keys, labels)?;
        let topology_key = match &m.topology_key {
            Some(key) if key.value.is_empty() => return Err(self.error(key, "topologyKey is empty")),
            Some(key) => match label_key_problem(&key.value) {
                Some(why) => return Err(self.error(key, why)),
                None => key.value.clone(),
            },
            None => {
                return Err(self.src.error_with_help(
                    self.at(spanned),
                    "this pod affinity term has no topologyKey",
                    "name the node label that makes a domain, e.g. `topologyKey: kubernetes.io/hostname`",
                ));
            }
        };
        let mut term = PodAffinityTerm {
            label_selector,
            namespaces: m.namespaces.iter().map(|n| n.value.clone()).collect(),
            namespace_selector,
            topology_key,
            match_label_keys: m.match_label_keys.iter().map(|k| k.value.clone()).collect(),
            mismatch_label_keys: m.mismatch_label_keys.iter().map(|k| k.value.clone()).collect(),
        };
        term.merge_label_keys(labels);
        Ok(term)
    }

    fn pod_affinity(
        &self,
        m: &PodAffinityManifest,
        labels: &BTreeMap<String, String>,
    ) -> Result<(Vec<PodAffinityTerm>, Vec<WeightedPodAffinityTerm>), LoadError> {
        let required = m
            .required_during_scheduling_ignored_during_execution
            .iter()
            .map(|t| self.pod_affinity_term(t, labels))
            .collect::<Result<Vec<_>, _>>()?;
        let preferred = m
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .map(|w| {
                let weight = self.weight(&w.value.weight)?;
                Ok(WeightedPodAffinityTerm {
                    weight,
                    term: self.pod_affinity_term(&w.value.pod_affinity_term, labels)?,
                })
            })
            .collect::<Result<Vec<_>, LoadError>>()?;
        Ok((required, preferred))
    }

    fn inclusion_policy(&self, policy: &Option<Spanned<String>>) -> Result<Option<InclusionPolicy>, LoadError> {
        let Some(p) = policy else { return Ok(None) };
        match p.value.as_str() {
            "Honor" => Ok(Some(InclusionPolicy::Honor)),
            "Ignore" => Ok(Some(InclusionPolicy::Ignore)),
            other => Err(self.src.error_with_help(
                self.at(p),
                format!("unknown node inclusion policy `{other}`"),
                unknown_help(other, &["Honor", "Ignore"]),
            )),
        }
    }

    /// `topologySpreadConstraints`, validated as `validateTopologySpreadConstraints` does, each
    /// one's `matchLabelKeys` merged into its selector as the v1.35 API server does. With
    /// `for_defaults`, PodTopologySpread's `defaultConstraints` (`ValidatePodTopologySpreadArgs`):
    /// no selector (each pod's is deduced), and `matchLabelKeys` left alone (the deduced
    /// selector replaces whatever they would add, `buildDefaultConstraints`).
    pub fn topology_spread(
        &self,
        list: &[Spanned<TopologySpreadConstraintManifest>],
        labels: &BTreeMap<String, String>,
        for_defaults: bool,
    ) -> Result<Vec<TopologySpreadConstraint>, LoadError> {
        let mut out: Vec<TopologySpreadConstraint> = Vec::with_capacity(list.len());
        for spanned in list {
            let m = &spanned.value;
            if m.max_skew.value <= 0 || m.max_skew.value > i64::from(i32::MAX) {
                return Err(self.error(&m.max_skew, format!("maxSkew {} must be greater than zero", m.max_skew.value)));
            }
            if let Some(why) = label_key_problem(&m.topology_key.value) {
                return Err(self.error(&m.topology_key, why));
            }
            let when_unsatisfiable = match m.when_unsatisfiable.value.as_str() {
                "DoNotSchedule" => WhenUnsatisfiable::DoNotSchedule,
                "ScheduleAnyway" => WhenUnsatisfiable::ScheduleAnyway,
                other => {
                    return Err(self.src.error_with_help(
                        self.at(&m.when_unsatisfiable),
                        format!("unknown whenUnsatisfiable `{other}`"),
                        unknown_help(other, &["DoNotSchedule", "ScheduleAnyway"]),
                    ));
                }
            };
            if out.iter().any(|c| c.topology_key == m.topology_key.value && c.when_unsatisfiable == when_unsatisfiable)
            {
                return Err(self.src.error_with_help(
                    self.at(&m.topology_key),
                    format!(
                        "a second constraint on `{}` with whenUnsatisfiable `{}`",
                        m.topology_key.value, m.when_unsatisfiable.value
                    ),
                    "each {topologyKey, whenUnsatisfiable} pair may appear once",
                ));
            }
            let min_domains = match &m.min_domains {
                None => None,
                Some(d) if d.value <= 0 || d.value > i64::from(i32::MAX) => {
                    return Err(self.error(d, format!("minDomains {} must be greater than zero", d.value)));
                }
                Some(d) if when_unsatisfiable != WhenUnsatisfiable::DoNotSchedule => {
                    return Err(self.src.error_with_help(
                        self.at(d),
                        "minDomains applies only to whenUnsatisfiable `DoNotSchedule`",
                        "drop minDomains or make the constraint hard",
                    ));
                }
                Some(d) => Some(d.value as i32),
            };
            let label_selector = m.label_selector.as_ref().map(|s| self.label_selector(s)).transpose()?;
            if for_defaults && label_selector.is_some() {
                return Err(self.src.error_with_help(
                    self.at(spanned),
                    "a default constraint must not define a labelSelector",
                    "PodTopologySpread deduces each pod's selector from its Services and controller",
                ));
            }
            if !for_defaults {
                self.label_keys(label_selector.as_ref(), &m.match_label_keys, &[], labels)?;
            }
            let mut constraint = TopologySpreadConstraint {
                max_skew: m.max_skew.value as i32,
                topology_key: m.topology_key.value.clone(),
                when_unsatisfiable,
                label_selector,
                min_domains,
                node_affinity_policy: self.inclusion_policy(&m.node_affinity_policy)?,
                node_taints_policy: self.inclusion_policy(&m.node_taints_policy)?,
                match_label_keys: m.match_label_keys.iter().map(|k| k.value.clone()).collect(),
            };
            if !for_defaults {
                constraint.merge_label_keys(labels);
            }
            out.push(constraint);
        }
        Ok(out)
    }
}

impl Doc<'_, PodManifest> {
    pub fn required_node_affinity(&self) -> Result<Option<Vec<NodeSelectorTerm>>, LoadError> {
        let Some(selector) = self
            .parsed
            .value
            .spec
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| na.required_during_scheduling_ignored_during_execution.as_ref())
        else {
            return Ok(None);
        };
        let terms =
            selector.node_selector_terms.iter().map(|t| self.selector_term(t)).collect::<Result<Vec<_>, _>>()?;
        Ok(Some(terms))
    }

    /// Everything [`SchedulingTerms`] holds, for a pod whose labels are `labels`; `None` when
    /// the pod has none of it.
    pub fn scheduling_terms(
        &self,
        labels: &BTreeMap<String, String>,
    ) -> Result<Option<Box<SchedulingTerms>>, LoadError> {
        let spec = &self.parsed.value.spec;
        let mut terms = SchedulingTerms::default();
        if let Some(affinity) = &spec.affinity {
            if let Some(na) = &affinity.node_affinity {
                for p in &na.preferred_during_scheduling_ignored_during_execution {
                    let weight = self.weight(&p.weight)?;
                    terms
                        .preferred_node_affinity
                        .push(PreferredSchedulingTerm { weight, preference: self.selector_term(&p.preference)? });
                }
            }
            if let Some(pa) = &affinity.pod_affinity {
                (terms.pod_affinity_required, terms.pod_affinity_preferred) = self.pod_affinity(pa, labels)?;
            }
            if let Some(pa) = &affinity.pod_anti_affinity {
                (terms.pod_anti_affinity_required, terms.pod_anti_affinity_preferred) =
                    self.pod_affinity(pa, labels)?;
            }
        }
        terms.topology_spread = self.topology_spread(&spec.topology_spread_constraints, labels, false)?;
        terms.host_ports = self.host_ports()?;
        terms.controller = self.controller()?;
        Ok((!terms.is_empty()).then(|| Box::new(terms)))
    }

    /// The host ports of the app containers (`hostPort` > 0), as NodePorts reads them
    /// (`getContainerPorts`): protocol `TCP` and address `0.0.0.0` when unset, as the node's
    /// `HostPortInfo` sanitises them. Two alike in one pod are refused
    /// (`AccumulateUniqueHostPorts`).
    fn host_ports(&self) -> Result<Vec<HostPort>, LoadError> {
        let mut out: Vec<HostPort> = Vec::new();
        for c in &self.parsed.value.spec.containers.value {
            for spanned in &c.ports {
                let p = &spanned.value;
                if !(1..=65535).contains(&p.container_port.value) {
                    return Err(self.error(
                        &p.container_port,
                        format!("containerPort {} is not a port (1 to 65535)", p.container_port.value),
                    ));
                }
                let protocol = match &p.protocol {
                    None => "TCP".to_string(),
                    Some(proto) if ["TCP", "UDP", "SCTP"].contains(&proto.value.as_str()) => proto.value.clone(),
                    Some(proto) => {
                        return Err(self.src.error_with_help(
                            self.at(proto),
                            format!("unknown protocol `{}`", proto.value),
                            unknown_help(&proto.value, &["TCP", "UDP", "SCTP"]),
                        ));
                    }
                };
                let ip = match &p.host_ip {
                    None => String::new(),
                    Some(ip) if ip.value.is_empty() || ip.value.parse::<std::net::IpAddr>().is_ok() => ip.value.clone(),
                    Some(ip) => return Err(self.error(ip, format!("hostIP `{}` is not an IP address", ip.value))),
                };
                let port = match &p.host_port {
                    None => continue,
                    Some(h) if h.value == 0 => continue,
                    Some(h) if (1..=65535).contains(&h.value) => h.value as u16,
                    Some(h) => return Err(self.error(h, format!("hostPort {} is not a port (1 to 65535)", h.value))),
                };
                // The duplicate check sees the address as written; the node's books, sanitised.
                let ip = if ip.is_empty() { "0.0.0.0".to_string() } else { ip };
                let host_port = HostPort { protocol, ip, port };
                if out.contains(&host_port) {
                    let at = p.host_port.as_ref().map_or(self.at(spanned), |h| self.at(h));
                    return Err(self
                        .src
                        .error(at, format!("hostPort {port}/{} is used twice in this pod", host_port.protocol)));
                }
                out.push(host_port);
            }
        }
        Ok(out)
    }

    /// The controller among `metadata.ownerReferences` (`metav1.GetControllerOf`: the first
    /// with `controller: true`).
    fn controller(&self) -> Result<Option<OwnerRef>, LoadError> {
        let refs = &self.parsed.value.metadata.owner_references;
        let mut controllers = refs.iter().filter(|r| r.controller == Some(true));
        let Some(first) = controllers.next() else { return Ok(None) };
        if let Some(second) = controllers.next() {
            return Err(self.src.error_with_help(
                self.at(&second.kind),
                "a second owner reference with `controller: true`",
                "an object has at most one controller",
            ));
        }
        Ok(Some(OwnerRef {
            api_version: first.api_version.value.clone(),
            kind: first.kind.value.clone(),
            name: first.name.value.clone(),
        }))
    }

    /// `spec.preemptionPolicy`, or else the PriorityClass's (`class`: the one the pod names,
    /// or the global default when it names none), as the Priority admission plugin sets it.
    pub fn preemption_policy(&self, class: Option<PreemptionPolicy>) -> Result<PreemptionPolicy, LoadError> {
        match &self.parsed.value.spec.preemption_policy {
            None => Ok(class.unwrap_or_default()),
            Some(p) => parse_preemption_policy(p).map_err(|help| {
                self.src.error_with_help(self.at(p), format!("unknown preemptionPolicy `{}`", p.value), help)
            }),
        }
    }
}

/// `PreemptLowerPriority` or `Never`; the error is the help text.
pub fn parse_preemption_policy(p: &Spanned<String>) -> Result<PreemptionPolicy, String> {
    match p.value.as_str() {
        "PreemptLowerPriority" => Ok(PreemptionPolicy::PreemptLowerPriority),
        "Never" => Ok(PreemptionPolicy::Never),
        other => Err(unknown_help(other, &["PreemptLowerPriority", "Never"])),
    }
}

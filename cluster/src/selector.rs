//! Label and node selectors (`metav1.LabelSelector`, a `nodeSelectorTerm`) and their
//! requirements: the one definition of how they match, for pods' node affinity
//! (`objects`), their scheduling terms (`affinity`), the loader and every plugin. A leaf:
//! it depends on no other module of the crate.

use std::collections::BTreeMap;

/// A requirement's operator, as the API spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectorOp {
    /// The value is one of the values.
    In,
    /// The value is none of the values, or the key is absent.
    NotIn,
    /// The key is present.
    Exists,
    /// The key is absent.
    DoesNotExist,
    /// The value, an integer, is greater than the one value (node selectors only).
    Gt,
    /// The value, an integer, is less than the one value (node selectors only).
    Lt,
}

impl SelectorOp {
    /// The operator of this name (`In`, `NotIn`…); `None` for any other text.
    pub fn parse(text: &str) -> Option<SelectorOp> {
        Some(match text {
            "In" => SelectorOp::In,
            "NotIn" => SelectorOp::NotIn,
            "Exists" => SelectorOp::Exists,
            "DoesNotExist" => SelectorOp::DoesNotExist,
            "Gt" => SelectorOp::Gt,
            "Lt" => SelectorOp::Lt,
            _ => return None,
        })
    }
}

/// One `matchExpressions` (on labels) or `matchFields` (on `metadata.name`) requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorRequirement {
    /// The label's key (or, in `matchFields`, `metadata.name`).
    pub key: String,
    /// How the value is compared.
    pub op: SelectorOp,
    /// The values compared with (none for `Exists` and `DoesNotExist`).
    pub values: Vec<String>,
}

impl SelectorRequirement {
    fn matches(&self, value: Option<&str>) -> bool {
        match (self.op, value) {
            (SelectorOp::In, Some(v)) => self.values.iter().any(|x| x == v),
            (SelectorOp::In, None) => false,
            (SelectorOp::NotIn, v) => v.is_none_or(|v| !self.values.iter().any(|x| x == v)),
            (SelectorOp::Exists, v) => v.is_some(),
            (SelectorOp::DoesNotExist, v) => v.is_none(),
            (SelectorOp::Gt | SelectorOp::Lt, None) => false,
            (op, Some(v)) => {
                let (Ok(have), Some(Ok(bound))) = (v.parse::<i64>(), self.values.first().map(|b| b.parse::<i64>()))
                else {
                    return false;
                };
                if op == SelectorOp::Gt { have > bound } else { have < bound }
            }
        }
    }
}

/// A `nodeSelectorTerm`: every requirement must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeSelectorTerm {
    /// Requirements on the node's labels.
    pub match_expressions: Vec<SelectorRequirement>,
    /// Requirements on the node's fields (`metadata.name` only).
    pub match_fields: Vec<SelectorRequirement>,
}

impl NodeSelectorTerm {
    /// Whether a node with these labels and this name satisfies the term.
    pub(crate) fn matches(&self, labels: &BTreeMap<String, String>, name: &str) -> bool {
        // Kubernetes: a term with no requirements matches no node.
        if self.match_expressions.is_empty() && self.match_fields.is_empty() {
            return false;
        }
        self.match_expressions.iter().all(|r| r.matches(labels.get(&r.key).map(String::as_str)))
            && self.match_fields.iter().all(|r| r.key == "metadata.name" && r.matches(Some(name)))
    }
}

/// A `metav1.LabelSelector`: `matchLabels` and `matchExpressions` (operators `In`, `NotIn`,
/// `Exists`, `DoesNotExist`), all of which must hold. An empty selector matches every set of
/// labels; an absent one (`Option::None` where it is optional) matches none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    /// Labels that must be present with exactly these values.
    pub match_labels: BTreeMap<String, String>,
    /// Requirements on the labels.
    pub match_expressions: Vec<SelectorRequirement>,
}

impl LabelSelector {
    /// Whether `labels` satisfy every requirement (`metav1.LabelSelectorAsSelector`).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| r.matches_label(labels.get(&r.key).map(String::as_str)))
    }

    /// Whether the selector has no requirement at all (it then selects everything).
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// This selector with one more `key In (value)` requirement — how the API server merges
    /// `matchLabelKeys` into a term's selector (and `NotIn` for `mismatchLabelKeys`).
    pub fn with_requirement(mut self, key: &str, op: SelectorOp, value: &str) -> LabelSelector {
        self.match_expressions.push(SelectorRequirement { key: key.into(), op, values: vec![value.into()] });
        self
    }
}

impl SelectorRequirement {
    /// A label-selector requirement's verdict on a label's value (`None`: the label is absent).
    /// `Gt`/`Lt` never appear in label selectors (the loader refuses them); they match nothing.
    pub fn matches_label(&self, value: Option<&str>) -> bool {
        match (self.op, value) {
            (SelectorOp::In, Some(v)) => self.values.iter().any(|x| x == v),
            (SelectorOp::NotIn, v) => v.is_none_or(|v| !self.values.iter().any(|x| x == v)),
            (SelectorOp::Exists, v) => v.is_some(),
            (SelectorOp::DoesNotExist, v) => v.is_none(),
            _ => false,
        }
    }
}

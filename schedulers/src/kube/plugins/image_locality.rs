//! ImageLocality (`pkg/scheduler/framework/plugins/imagelocality/image_locality.go`): prefers
//! nodes that already hold the pod's images. Each container's image present on the node adds
//! its size scaled by the share of all nodes holding it (so an image everywhere counts as much
//! as one nowhere would not spread pods onto one node); the sum is clamped between 23 MB and
//! 1000 MB per container and mapped linearly onto 0–100. Image names are compared after
//! `normalizedImageName` (a name without a tag gets `:latest`); node images are matched by
//! every name they go by (`status.images[].names`).

use podlab_cluster::Pod;

use crate::kube::plugin::{MAX_NODE_SCORE, Plugin, PreScore};
use crate::kube::snapshot::{NodeState, Snapshot};

const MB: i64 = 1024 * 1024;
/// `minThreshold`: below this, image sizes do not matter.
pub const MIN_THRESHOLD: i64 = 23 * MB;
/// `maxContainerThreshold`: the most a container's images count.
pub const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// What the scheduler's cache knows of one image name (`ImageStateSummary`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct ImageState {
    name: String,
    /// The size the first node (in the cache's order) reporting the name gave.
    size: i64,
    /// How many nodes hold it.
    nodes: usize,
}

/// The plugin, and the pod's images as the cycle's PreScore found them in the snapshot.
#[derive(Clone, Debug, Default)]
pub struct ImageLocality {
    /// One entry per container (init containers first), `None` where no node has its image.
    images: Vec<Option<ImageState>>,
    total_nodes: usize,
}

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        "ImageLocality"
    }

    fn scores(&self) -> bool {
        true
    }

    /// Not an upstream PreScore (ImageLocality has none and never skips): the per-cycle lookup
    /// of the pod's images in the snapshot, which upstream's cache keeps up to date instead.
    fn pre_score(&mut self, pod: &Pod, _feasible: &[&NodeState], snapshot: &Snapshot) -> PreScore {
        self.total_nodes = snapshot.nodes.len();
        let containers = pod.init_containers.iter().chain(&pod.containers);
        self.images = containers.map(|c| image_state(snapshot, &normalized_image_name(&c.image))).collect();
        PreScore::Run
    }

    fn score(&self, _pod: &Pod, node: &NodeState, _snapshot: &Snapshot) -> i64 {
        let sum: i64 = self
            .images
            .iter()
            .flatten()
            .filter(|state| holds(node, &state.name))
            .map(|state| scaled_image_score(state, self.total_nodes))
            .sum();
        calculate_priority(sum, self.images.len())
    }
}

/// `normalizedImageName`: a name whose last `:` is not after its last `/` has no tag, and
/// gets `:latest`.
pub fn normalized_image_name(name: &str) -> String {
    let colon = name.rfind(':').map_or(-1, |i| i as i64);
    let slash = name.rfind('/').map_or(-1, |i| i as i64);
    if colon <= slash { format!("{name}:latest") } else { name.to_string() }
}

/// Whether the node lists an image by this name.
fn holds(node: &NodeState, name: &str) -> bool {
    node.spec.images.iter().any(|i| i.names.iter().any(|n| n == name))
}

/// The cache's summary of `name`: its size from the first node reporting it and how many nodes
/// hold it; `None` if none does.
fn image_state(snapshot: &Snapshot, name: &str) -> Option<ImageState> {
    let mut state: Option<ImageState> = None;
    for node in &snapshot.nodes {
        let Some(image) = node.spec.images.iter().find(|i| i.names.iter().any(|n| n == name)) else { continue };
        match &mut state {
            Some(s) => s.nodes += 1,
            None => {
                let size = i64::try_from(image.size_bytes).unwrap_or(i64::MAX);
                state = Some(ImageState { name: name.to_string(), size, nodes: 1 });
            }
        }
    }
    state
}

/// `scaledImageScore`: the size times the share of nodes holding the image, in float64,
/// truncated.
fn scaled_image_score(state: &ImageState, total_nodes: usize) -> i64 {
    let spread = state.nodes as f64 / total_nodes as f64;
    (state.size as f64 * spread) as i64
}

/// `calculatePriority`: the sum clamped to [23 MB, 1000 MB × containers], mapped onto 0–100.
pub fn calculate_priority(sum: i64, containers: usize) -> i64 {
    let max_threshold = MAX_CONTAINER_THRESHOLD * containers as i64;
    let clamped = if sum < MIN_THRESHOLD {
        MIN_THRESHOLD
    } else if sum > max_threshold {
        max_threshold
    } else {
        sum
    };
    MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) / (max_threshold - MIN_THRESHOLD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_without_a_tag_get_latest() {
        assert_eq!(normalized_image_name("nginx"), "nginx:latest");
        assert_eq!(normalized_image_name("docker.io/library/nginx:1.25"), "docker.io/library/nginx:1.25");
        assert_eq!(normalized_image_name("localhost:5000/app"), "localhost:5000/app:latest");
    }

    /// Below 23 MB nothing counts; from 1000 MB per container everything does.
    #[test]
    fn priority_is_clamped_and_linear() {
        assert_eq!(calculate_priority(0, 1), 0);
        assert_eq!(calculate_priority(MIN_THRESHOLD, 1), 0);
        assert_eq!(calculate_priority(MAX_CONTAINER_THRESHOLD, 1), 100);
        assert_eq!(calculate_priority(5 * MAX_CONTAINER_THRESHOLD, 2), 100);
        let half = (MIN_THRESHOLD + MAX_CONTAINER_THRESHOLD) / 2;
        assert_eq!(calculate_priority(half, 1), 50);
    }
}

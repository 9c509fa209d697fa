//! kube-scheduler v1.35's default plugins, one file each, named as upstream names them.

pub mod inter_pod_affinity;
pub mod pod_topology_spread;

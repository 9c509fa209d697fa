//! kube-scheduler v1.35's default plugins, one file each, named as upstream names them.

pub mod inter_pod_affinity;

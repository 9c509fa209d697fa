//! NodePorts (`pkg/scheduler/framework/plugins/nodeports/node_ports.go`): a pod asking for host
//! ports fits a node only if none of them is taken there, compared as upstream's
//! `HostPortInfo.CheckConflict` does (an empty address is `0.0.0.0`, which conflicts with
//! every address; an empty protocol is TCP). A pod asking for none skips the filter.

use podlab_cluster::Pod;
use podlab_cluster::affinity::HostPort;

use crate::kube::plugin::{Plugin, Status};
use crate::kube::snapshot::{NodeState, Snapshot};

/// Upstream's `ErrReason`.
pub const REASON: &str = "node(s) didn't have free ports for the requested pod ports";

/// `DefaultBindAllHostIP`.
const ALL_ADDRESSES: &str = "0.0.0.0";

/// The plugin; it keeps nothing between cycles.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodePorts;

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        "NodePorts"
    }

    fn filters(&self) -> bool {
        true
    }

    fn filter(&self, pod: &Pod, node: &NodeState, _snapshot: &Snapshot) -> Result<(), Status> {
        let wanted = host_ports(pod);
        if wanted.is_empty() {
            return Ok(());
        }
        let used: Vec<&HostPort> = node.pods.iter().flat_map(|p| host_ports(&p.pod)).collect();
        if wanted.iter().any(|w| conflicts(&used, w)) { Err(Status::unschedulable(REASON)) } else { Ok(()) }
    }
}

/// The pod's container ports with a host port (port 0 asks for none).
pub fn host_ports(pod: &Pod) -> &[HostPort] {
    pod.terms.as_ref().map_or(&[], |t| &t.host_ports[..])
}

/// `HostPortInfo.CheckConflict(ip, protocol, port)` against the ports in use.
fn conflicts(used: &[&HostPort], wanted: &HostPort) -> bool {
    if wanted.port == 0 {
        return false;
    }
    let (ip, protocol) = sanitized(wanted);
    used.iter().filter(|u| u.port == wanted.port && sanitized(u).1 == protocol).any(|u| {
        let used_ip = sanitized(u).0;
        // 0.0.0.0 takes the port on every address, and asks for it on every address.
        ip == ALL_ADDRESSES || used_ip == ALL_ADDRESSES || used_ip == ip
    })
}

/// `HostPortInfo.sanitize`: the empty address is every address, the empty protocol TCP.
fn sanitized(port: &HostPort) -> (&str, &str) {
    let ip = if port.ip.is_empty() { ALL_ADDRESSES } else { &port.ip };
    let protocol = if port.protocol.is_empty() { "TCP" } else { &port.protocol };
    (ip, protocol)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(ip: &str, protocol: &str, port: u16) -> HostPort {
        HostPort { protocol: protocol.into(), ip: ip.into(), port }
    }

    /// `HostPortInfo.CheckConflict`: 0.0.0.0 on either side conflicts with any address; two
    /// distinct addresses do not; the protocol must be the same, empty meaning TCP.
    #[test]
    fn conflicts_as_upstream() {
        let used = port("10.0.0.1", "TCP", 80);
        assert!(conflicts(&[&used], &port("", "", 80)));
        assert!(conflicts(&[&used], &port("10.0.0.1", "", 80)));
        assert!(!conflicts(&[&used], &port("10.0.0.2", "TCP", 80)));
        assert!(!conflicts(&[&used], &port("0.0.0.0", "UDP", 80)));
        assert!(conflicts(&[&port("", "", 80)], &port("10.0.0.2", "TCP", 80)));
        assert!(!conflicts(&[&used], &port("", "TCP", 0)));
    }
}

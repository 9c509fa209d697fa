//! A bundle of resource amounts (CPU, memory, extended resources) with exact integer arithmetic.

use std::collections::BTreeMap;
use std::fmt;

use crate::quantity::format_quantity;

/// Amounts of resources: CPU in millicores, memory in bytes, and any other named resource
/// (`ephemeral-storage`, `nvidia.com/gpu`, …) in its own unit. A missing entry means zero.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Resources {
    /// CPU in millicores.
    pub cpu_milli: u64,
    /// Memory in bytes.
    pub memory_bytes: u64,
    /// Every other resource, by its Kubernetes name. Kept sorted so iteration is deterministic.
    pub extended: BTreeMap<String, u64>,
}

impl Resources {
    /// CPU and memory, with no extended resources.
    #[inline]
    pub fn new(cpu_milli: u64, memory_bytes: u64) -> Resources {
        Resources { cpu_milli, memory_bytes, extended: BTreeMap::new() }
    }

    /// Sets one resource by its Kubernetes name, in that resource's unit.
    pub fn set(&mut self, name: &str, value: u64) {
        match name {
            "cpu" => self.cpu_milli = value,
            "memory" => self.memory_bytes = value,
            _ if value == 0 => {
                self.extended.remove(name);
            }
            _ => {
                self.extended.insert(name.to_string(), value);
            }
        }
    }

    /// A resource by its Kubernetes name (`cpu`, `memory`, or an extended one); 0 if absent.
    pub fn get(&self, name: &str) -> u64 {
        match name {
            "cpu" => self.cpu_milli,
            "memory" => self.memory_bytes,
            _ => self.extended.get(name).copied().unwrap_or(0),
        }
    }

    /// Whether nothing at all is requested.
    #[inline]
    pub fn is_zero(&self) -> bool {
        self.cpu_milli == 0 && self.memory_bytes == 0 && self.extended.is_empty()
    }

    /// Adds `other` in place. Saturates: sums are bounded by node sizes long before `u64` ends.
    #[inline]
    pub fn add(&mut self, other: &Resources) {
        self.cpu_milli = self.cpu_milli.saturating_add(other.cpu_milli);
        self.memory_bytes = self.memory_bytes.saturating_add(other.memory_bytes);
        if other.extended.is_empty() {
            return;
        }
        for (name, value) in &other.extended {
            let slot = self.extended.entry(name.clone()).or_insert(0);
            *slot = slot.saturating_add(*value);
        }
    }

    /// Subtracts `other` in place. Releasing more than was held is a bookkeeping bug.
    #[inline]
    pub fn sub(&mut self, other: &Resources) {
        debug_assert!(other.fits_in(self), "releasing {other} from {self}");
        self.cpu_milli = self.cpu_milli.saturating_sub(other.cpu_milli);
        self.memory_bytes = self.memory_bytes.saturating_sub(other.memory_bytes);
        if other.extended.is_empty() {
            return;
        }
        for (name, value) in &other.extended {
            if let Some(slot) = self.extended.get_mut(name) {
                *slot = slot.saturating_sub(*value);
                if *slot == 0 {
                    self.extended.remove(name);
                }
            }
        }
    }

    /// What `self` has beyond `other`, resource by resource (never below zero).
    #[inline]
    pub fn saturating_minus(&self, other: &Resources) -> Resources {
        let mut out = Resources::new(
            self.cpu_milli.saturating_sub(other.cpu_milli),
            self.memory_bytes.saturating_sub(other.memory_bytes),
        );
        for (name, value) in &self.extended {
            let left = value.saturating_sub(other.get(name));
            if left > 0 {
                out.extended.insert(name.clone(), left);
            }
        }
        out
    }

    /// The element-wise maximum, as the effective-request rule takes it for init containers.
    pub fn max(&self, other: &Resources) -> Resources {
        let mut out = Resources::new(self.cpu_milli.max(other.cpu_milli), self.memory_bytes.max(other.memory_bytes));
        out.extended = self.extended.clone();
        for (name, value) in &other.extended {
            let slot = out.extended.entry(name.clone()).or_insert(0);
            *slot = (*slot).max(*value);
        }
        out
    }

    /// True when every amount in `self` is at most the same amount in `capacity`.
    #[inline]
    pub fn fits_in(&self, capacity: &Resources) -> bool {
        if self.extended.is_empty() {
            return self.cpu_milli <= capacity.cpu_milli && self.memory_bytes <= capacity.memory_bytes;
        }
        self.first_shortfall(capacity).is_none()
    }

    /// The first resource (in the order cpu, memory, then by name) that `self` needs more of
    /// than `capacity` has, if any.
    pub fn first_shortfall(&self, capacity: &Resources) -> Option<&str> {
        if self.cpu_milli > capacity.cpu_milli {
            return Some("cpu");
        }
        if self.memory_bytes > capacity.memory_bytes {
            return Some("memory");
        }
        self.extended.iter().find(|(name, value)| **value > capacity.get(name)).map(|(name, _)| name.as_str())
    }
}

impl fmt::Display for Resources {
    /// `cpu=500m,memory=1Gi,nvidia.com/gpu=1`: the canonical form used in the event log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cpu={},memory={}",
            format_quantity(self.cpu_milli, "cpu"),
            format_quantity(self.memory_bytes, "memory")
        )?;
        for (name, value) in &self.extended {
            write!(f, ",{name}={}", format_quantity(*value, name))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fit checks every resource, extended ones included, and names the first one short.
    #[test]
    fn fit_names_the_short_resource() {
        let mut node = Resources::new(2000, 2 << 30);
        node.set("nvidia.com/gpu", 1);
        let mut pod = Resources::new(500, 1 << 30);
        assert!(pod.fits_in(&node));
        pod.set("nvidia.com/gpu", 2);
        assert_eq!(pod.first_shortfall(&node), Some("nvidia.com/gpu"));
        pod.memory_bytes = 3 << 30;
        assert_eq!(pod.first_shortfall(&node), Some("memory"));
    }

    /// Adding then subtracting restores the original, with zero entries removed.
    #[test]
    fn add_sub_round_trip() {
        let mut total = Resources::new(100, 200);
        let mut gpu = Resources::new(1, 1);
        gpu.set("nvidia.com/gpu", 1);
        total.add(&gpu);
        assert_eq!(total.get("nvidia.com/gpu"), 1);
        total.sub(&gpu);
        assert_eq!(total, Resources::new(100, 200));
        assert_eq!(total.to_string(), "cpu=100m,memory=200");
    }
}

//! `podlab::run_controllers` runs any controllers as a policy: given the very controllers a
//! named policy builds, it gives the named run's digest and summary.

mod common;

use podlab::{RunOptions, run_controllers, run_policy_with};

#[test]
fn own_controllers_run_as_the_named_policy_does() {
    let scenario = common::bundled("scheduler-crash.yaml");
    let options = RunOptions { check_invariants: true, keep_records: true, ..RunOptions::default() };
    let named = run_policy_with(&scenario, "kubernetes", 3, options).expect("runs");
    let build = |s: &podlab::cluster::scenario::Scenario| podlab::schedulers::build("kubernetes", s).expect("known");
    let own = run_controllers(&scenario, "kubernetes", &build, 3, options).expect("runs");
    assert!(own.sim.violations.is_empty(), "{:?}", own.sim.violations);
    assert_eq!(own.sim.digest, named.sim.digest);
    assert_eq!(own.summary, named.summary);
}

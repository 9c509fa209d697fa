//! `podlab._native`, the Python package's extension module: load scenarios, run podlab's own
//! policies, a Python policy in-process (its `exchange` called with each protocol line, no
//! pipe), or a command over the exec protocol, and the Gymnasium environment's session.
//!
//! PyO3's macros expand to `unsafe` FFI code, so this crate (outside the workspace, built by
//! maturin only) does not take the workspace's `forbid(unsafe_code)`; it writes none itself.
#![deny(unsafe_op_in_unsafe_fn)]

mod gym;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use podlab::cluster::Controller;
use podlab::cluster::scenario::Scenario as Loaded;
use podlab::{PolicyRun, RunOptions};
use podlab_exec::{ExecError, ExecPolicy, ExecSpec, Transport, failure_slot, take_failure};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

create_exception!(_native, PolicyError, PyRuntimeError, "A policy crashed, hung, raised or answered nonsense.");
create_exception!(_native, ScenarioError, PyValueError, "A scenario could not be loaded (file, line, column).");

/// A loaded scenario.
#[pyclass(frozen, module = "podlab._native")]
struct Scenario {
    inner: Arc<Loaded>,
}

#[pymethods]
impl Scenario {
    /// The policies the scenario names in `spec.policies` (podlab's own ones).
    #[getter]
    fn policies(&self) -> Vec<String> {
        self.inner.policies.clone()
    }

    /// The scenario's own seed (`spec.seed`).
    #[getter]
    fn seed(&self) -> u64 {
        self.inner.seed
    }

    #[getter]
    fn name(&self) -> String {
        self.inner.name.clone()
    }

    /// Nodes at the start (before any the timeline adds).
    #[getter]
    fn nodes(&self) -> usize {
        self.inner.nodes.len()
    }

    fn __repr__(&self) -> String {
        format!("<podlab.Scenario {} ({} nodes)>", self.inner.name, self.inner.nodes.len())
    }
}

/// Loads a scenario file.
#[pyfunction]
fn load(path: &str) -> PyResult<Scenario> {
    podlab::load(std::path::Path::new(path))
        .map(|s| Scenario { inner: Arc::new(s) })
        .map_err(|e| ScenarioError::new_err(e.to_string()))
}

/// Loads a scenario from YAML text; `file` names it in errors (and files it names are read
/// relative to `file`'s folder).
#[pyfunction]
#[pyo3(signature = (text, file = "scenario.yaml"))]
fn parse(text: &str, file: &str) -> PyResult<Scenario> {
    podlab::load_str(file, text)
        .map(|s| Scenario { inner: Arc::new(s) })
        .map_err(|e| ScenarioError::new_err(e.to_string()))
}

/// The list of podlab's own policies.
#[pyfunction]
fn policies() -> Vec<&'static str> {
    podlab::schedulers::POLICIES.to_vec()
}

fn options(check_invariants: bool, records: bool) -> RunOptions {
    RunOptions { check_invariants, keep_records: records, ..RunOptions::default() }
}

/// One of podlab's own policies on the scenario.
#[pyfunction]
#[pyo3(signature = (scenario, policy, seed, check_invariants = true, records = true))]
fn run_named(
    py: Python<'_>,
    scenario: &Scenario,
    policy: &str,
    seed: u64,
    check_invariants: bool,
    records: bool,
) -> PyResult<Py<PyDict>> {
    let inner = scenario.inner.clone();
    let run = py
        .detach(|| podlab::run_policy_with(&inner, policy, seed, options(check_invariants, records)))
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    result(py, &run, records)
}

/// A Python policy in-process: `exchange(line) -> line` is called with each protocol message
/// (see `podlab.Session`), with the GIL held throughout the run.
#[pyfunction]
#[pyo3(signature = (scenario, name, exchange, seed, params = "{}", check_invariants = true, records = true))]
#[allow(clippy::too_many_arguments)]
fn run_exchange(
    py: Python<'_>,
    scenario: &Scenario,
    name: &str,
    exchange: Py<PyAny>,
    seed: u64,
    params: &str,
    check_invariants: bool,
    records: bool,
) -> PyResult<Py<PyDict>> {
    let params: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(params).map_err(|e| PyValueError::new_err(format!("params: {e}")))?;
    let slot = failure_slot();
    let raised: Raised = Arc::new(Mutex::new(None));
    let build = |_: &Loaded| {
        let transport =
            PyTransport { exchange: exchange.clone_ref(py), raised: raised.clone(), traceback: String::new() };
        vec![Box::new(ExecPolicy::new(name, params.clone(), transport, slot.clone())) as Box<dyn Controller>]
    };
    let run = podlab::run_controllers(&scenario.inner, name, &build, seed, options(check_invariants, records))
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    if let Some(error) = take_failure(&slot) {
        let cause = raised.lock().ok().and_then(|mut r| r.take());
        // Ctrl-C (or a SystemExit) is the user's, not the policy's failure: raised as it came.
        if let Some(cause) = cause.as_ref().filter(|c| !c.is_instance_of::<PyException>(py)) {
            return Err(cause.clone_ref(py));
        }
        let err = PolicyError::new_err(error.to_string());
        err.set_cause(py, cause);
        return Err(err);
    }
    result(py, &run, records)
}

/// A policy over the exec protocol: `command` is started with `sh -c`.
#[pyfunction]
#[pyo3(signature = (scenario, name, command, seed, params = "{}", timeout = 10.0, check_invariants = true, records = true))]
#[allow(clippy::too_many_arguments)]
fn run_exec(
    py: Python<'_>,
    scenario: &Scenario,
    name: &str,
    command: &str,
    seed: u64,
    params: &str,
    timeout: f64,
    check_invariants: bool,
    records: bool,
) -> PyResult<Py<PyDict>> {
    let mut spec = ExecSpec::parse(&format!("exec:{name}={command}"))
        .unwrap_or_else(|| Err("not an external policy".into()))
        .map_err(PyValueError::new_err)?;
    spec.params = serde_json::from_str(params).map_err(|e| PyValueError::new_err(format!("params: {e}")))?;
    spec.timeout = Duration::try_from_secs_f64(timeout).map_err(|e| PyValueError::new_err(format!("timeout: {e}")))?;
    let inner = scenario.inner.clone();
    let slot = failure_slot();
    let (run, failure) = py.detach(|| {
        let build = |_: &Loaded| vec![spec.controller(&slot)];
        let run = podlab::run_controllers(&inner, &spec.name, &build, seed, options(check_invariants, records));
        (run, take_failure(&slot))
    });
    if let Some(error) = failure {
        return Err(policy_error(&error));
    }
    let run = run.map_err(|e| PyValueError::new_err(e.to_string()))?;
    result(py, &run, records)
}

fn policy_error(error: &ExecError) -> PyErr {
    PolicyError::new_err(error.to_string())
}

/// An exception a Python policy raised, kept to be the cause of the `PolicyError`.
type Raised = Arc<Mutex<Option<PyErr>>>;

/// A Python callable as the policy's transport: one call a message.
struct PyTransport {
    exchange: Py<PyAny>,
    raised: Raised,
    traceback: String,
}

impl Transport for PyTransport {
    fn exchange(&mut self, line: &[u8]) -> Result<Vec<u8>, String> {
        Python::attach(|py| {
            let text = String::from_utf8_lossy(line);
            let answer = match self.exchange.call1(py, (text.trim_end(),)) {
                Ok(answer) => answer,
                Err(err) => {
                    self.traceback = traceback(py, &err);
                    let what = format!("it raised {}", err.value(py));
                    if let Ok(mut raised) = self.raised.lock() {
                        *raised = Some(err);
                    }
                    return Err(what);
                }
            };
            answer
                .extract::<String>(py)
                .map(String::into_bytes)
                .map_err(|_| "it answered with something not a str".into())
        })
    }

    fn stderr_tail(&mut self) -> String {
        std::mem::take(&mut self.traceback)
    }

    fn close(&mut self) {}

    fn describe(&self) -> String {
        "in-process Python".into()
    }
}

fn traceback(py: Python<'_>, err: &PyErr) -> String {
    let formatted = py
        .import("traceback")
        .and_then(|tb| tb.call_method1("format_exception", (err.get_type(py), err.value(py), err.traceback(py))))
        .and_then(|lines| lines.extract::<Vec<String>>());
    formatted.map(|lines| lines.concat()).unwrap_or_else(|_| err.to_string())
}

/// A run as Python sees it: strings it parses (JSON, JSON lines, CSV) and a few values.
fn result(py: Python<'_>, run: &PolicyRun, records: bool) -> PyResult<Py<PyDict>> {
    let out = PyDict::new(py);
    out.set_item("policy", &run.policy)?;
    out.set_item("seed", run.seed)?;
    out.set_item("digest", &run.sim.digest)?;
    let summary = serde_json::to_string(&run.summary).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    out.set_item("summary", summary)?;
    out.set_item("violations", PyList::new(py, &run.sim.violations)?)?;
    let verdicts: Vec<(usize, Vec<String>)> = run.verdicts.iter().map(|v| (v.index, v.failures.clone())).collect();
    out.set_item("verdicts", verdicts)?;
    out.set_item("events_processed", run.sim.events_processed)?;
    out.set_item("end_ns", run.sim.end.as_nanos())?;
    if records {
        let events = podlab::reports::output::events_jsonl(&run.scenario, &run.sim.controllers, &run.sim.records);
        out.set_item("events", events)?;
        let pods = podlab::reports::output::placements_csv(&run.scenario, &run.sim.records, run.sim.end);
        out.set_item("pods", pods)?;
    }
    Ok(out.unbind())
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Scenario>()?;
    m.add_class::<gym::GymSession>()?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    m.add_function(wrap_pyfunction!(policies, m)?)?;
    m.add_function(wrap_pyfunction!(run_named, m)?)?;
    m.add_function(wrap_pyfunction!(run_exchange, m)?)?;
    m.add_function(wrap_pyfunction!(run_exec, m)?)?;
    m.add("PolicyError", m.py().get_type::<PolicyError>())?;
    m.add("ScenarioError", m.py().get_type::<ScenarioError>())?;
    m.add("PROTOCOL_VERSION", podlab_exec::PROTOCOL_VERSION)?;
    Ok(())
}

//! A reader that stops early (`podlab … | head`) stops podlab quietly with exit code 141, as a
//! shell reports a tool killed by SIGPIPE; any other failure to write standard output is an
//! error with a message, exit code 2 (the environment's fault, as any error). Never a panic
//! ("failed printing to stdout").

mod common;

use std::io::Read as _;
use std::process::{Command, ExitStatus, Stdio};

use common::stderr;

/// What the command line answers when its reader is gone (`podlab::out::CLOSED_EXIT_CODE`).
const CLOSED: i32 = 141;

/// podlab with no input and its standard error kept, its output for each test to connect.
fn podlab(args: &[&str]) -> Command {
    let mut command = common::podlab_command(args);
    command.stdin(Stdio::null()).stderr(Stdio::piped());
    command
}

fn assert_closed_quietly(args: &[&str], status: ExitStatus, stderr: &[u8]) {
    let stderr = String::from_utf8_lossy(stderr);
    assert!(!stderr.contains("panicked"), "podlab {args:?} panicked: {stderr}");
    assert_eq!(status.code(), Some(CLOSED), "podlab {args:?}: {status}; stderr: {stderr}");
}

/// `| head`: the reader takes the first bytes of a scenario of 8,152 pods (megabytes of YAML,
/// far more than a pipe holds), then closes the pipe while podlab is still writing.
#[test]
fn a_reader_that_stops_early_stops_podlab_quietly() {
    let args = [
        "import",
        "openb",
        "--nodes",
        "data/traces/openb/openb_node_list_gpu_node.csv",
        "--pods",
        "data/traces/openb/openb_pod_list_default.csv",
    ];
    let mut child = podlab(&args).stdout(Stdio::piped()).spawn().expect("podlab starts");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut head = [0u8; 64];
    stdout.read_exact(&mut head).expect("podlab writes its scenario");
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("# Imported by `podlab import openb`"), "{head}");
    drop(stdout);
    let output = child.wait_with_output().expect("podlab ends");
    assert_closed_quietly(&args, output.status, &output.stderr);
    // Nothing else is said: the reader chose to stop.
    assert_eq!(stderr(&output), "");
}

/// Every kind of command that prints, with its standard output a pipe nobody reads: the
/// first line it prints finds the pipe closed.
#[test]
fn every_printing_command_stops_quietly_without_a_reader() {
    let commands: &[&[&str]] = &[
        &["policies", "--parameters"],
        &["validate", "scenarios/coscheduling.yaml"],
        &["run", "scenarios/coscheduling.yaml"],
        &["run", "scenarios/coscheduling.yaml", "--explain", "app-with-logs"],
        &["teach"],
        &["sweep", "plan", "sweeps/coscheduling.yaml"],
        &["import", "swf", "data/traces/swf/NASA-iPSC-1993-3.1-cln.swf.gz", "--max-jobs", "50"],
    ];
    for args in commands {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        // The read end closed before podlab starts: its first write fails, whatever it is.
        drop(reader);
        let output = podlab(args).stdout(writer).output().expect("podlab runs");
        assert_closed_quietly(args, output.status, &output.stderr);
    }
}

/// A standard output that fails otherwise (a full disk, here `/dev/full`) is an error, said,
/// with exit code 2: the environment's, never 1, a failed expectation's.
#[cfg(target_os = "linux")]
#[test]
fn another_write_failure_is_an_error_not_a_panic() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full on Linux");
    let output = podlab(&["policies"]).stdout(full).output().expect("podlab runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: writing to standard output: No space left on device"), "{stderr}");
}

//! The one program in podlab's real-mode image: an app container that sleeps, allocates and
//! touches memory, or burns CPU for as long as its arguments say, and the pod's infra ("pause")
//! container that sleeps until it is stopped. Built statically and put `FROM scratch`, so it
//! uses nothing but the standard library.
//!
//! ```text
//! podlab-workload pause
//! podlab-workload run [--for-ms N] [--allocate-bytes N] [--burn-cpu] [--exit-code N]
//! podlab-workload lease --ttl-ms N
//! ```
//!
//! `--exit-code` is how the program ends after `--for-ms` (0 by default): a pod's
//! `podlab.dev/fail-after` is a run that exits non-zero.
//!
//! `lease` is a run's lease (podlab's `real/src/lease.rs`): it runs while the file
//! `/podlab-lease` keeps changing and exits 0 once it has not changed for `--ttl-ms`. The run
//! rewrites the file through Docker's archive API; the deadline is kept on this container's
//! own monotonic clock, so no two machines' clocks are ever compared.
//!
//! Signals: the standard library installs no handlers, and as PID 1 a process with no handler
//! ignores SIGTERM. podlab therefore starts containers with Docker's `init` (tini) as PID 1: it
//! forwards SIGTERM, whose default action ends this process at once.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Duration;

/// Pages are touched one byte every this many bytes, so the kernel really backs the allocation.
const PAGE_BYTES: usize = 4096;

/// Allocation is done in chunks so that a limit is met gradually, as a real program meets it.
const CHUNK_BYTES: usize = 16 << 20;

#[derive(Debug, Default, PartialEq)]
struct Plan {
    pause: bool,
    /// `lease`: the time-to-live of the lease, in milliseconds.
    lease_ttl_ms: Option<u64>,
    for_ms: Option<u64>,
    allocate_bytes: u64,
    burn_cpu: bool,
    exit_code: u8,
}

fn parse(args: &[String]) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("pause") => plan.pause = true,
        Some("run") => {}
        Some("lease") => {}
        other => return Err(format!("expected `pause`, `run` or `lease`, got {other:?}")),
    }
    let number = |flag: &str, value: Option<&String>| -> Result<u64, String> {
        value.and_then(|v| v.parse().ok()).ok_or_else(|| format!("{flag} needs a whole number"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--ttl-ms" if args[0] == "lease" => plan.lease_ttl_ms = Some(number(arg, it.next())?.max(1)),
            "--for-ms" => plan.for_ms = Some(number(arg, it.next())?),
            "--allocate-bytes" => plan.allocate_bytes = number(arg, it.next())?,
            "--burn-cpu" => plan.burn_cpu = true,
            "--exit-code" => {
                plan.exit_code = u8::try_from(number(arg, it.next())?).map_err(|_| "--exit-code is at most 255")?
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if args[0] == "lease" && plan.lease_ttl_ms.is_none() {
        return Err("lease needs --ttl-ms".into());
    }
    Ok(plan)
}

/// Allocates `bytes` and writes into every page of it, chunk by chunk.
fn allocate(bytes: u64) -> Vec<Vec<u8>> {
    let mut held = Vec::new();
    let mut left = bytes as usize;
    while left > 0 {
        let size = left.min(CHUNK_BYTES);
        let mut chunk = vec![0u8; size];
        for i in (0..size).step_by(PAGE_BYTES) {
            chunk[i] = 1;
        }
        held.push(black_box(chunk));
        left -= size;
    }
    held
}

/// Sleeps (or spins) for `for_ms`, or for ever.
// The workload is a real program outside any run: it may read the wall clock.
#[allow(clippy::disallowed_types)]
fn wait(for_ms: Option<u64>, burn_cpu: bool) {
    let Some(ms) = for_ms else {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    };
    if !burn_cpu {
        std::thread::sleep(Duration::from_millis(ms));
        return;
    }
    // Spin in slices of about a millisecond of work, checking the sleep-free clock between them.
    let deadline = std::time::Instant::now() + Duration::from_millis(ms);
    let mut x: u64 = 1;
    while std::time::Instant::now() < deadline {
        for _ in 0..100_000 {
            x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

/// The file a run rewrites to renew its lease.
const LEASE_FILE: &str = "/podlab-lease";

/// Holds the lease while the file at `path` changes at least once every `ttl_ms`; returns when
/// it has not. Any change counts (a half-written file too): the content is a renewal counter.
// The lease's deadline is kept on this container's monotonic clock: the wall clock is allowed here.
#[allow(clippy::disallowed_types)]
fn hold_lease(path: &str, ttl_ms: u64) {
    let ttl = Duration::from_millis(ttl_ms);
    // Looked at twenty times per time-to-live, between 20 ms and a second apart.
    let poll = Duration::from_millis((ttl_ms / 20).clamp(20, 1000));
    let mut seen = std::fs::read(path).ok();
    let mut renewed = std::time::Instant::now();
    while renewed.elapsed() < ttl {
        std::thread::sleep(poll);
        let now = std::fs::read(path).ok();
        if now != seen {
            seen = now;
            renewed = std::time::Instant::now();
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let plan = match parse(&args) {
        Ok(plan) => plan,
        Err(why) => {
            eprintln!("podlab-workload: {why}");
            return ExitCode::from(2);
        }
    };
    if plan.pause {
        wait(None, false);
    }
    if let Some(ttl_ms) = plan.lease_ttl_ms {
        hold_lease(LEASE_FILE, ttl_ms);
        return ExitCode::SUCCESS;
    }
    let held = allocate(plan.allocate_bytes);
    wait(plan.for_ms, plan.burn_cpu);
    drop(held);
    ExitCode::from(plan.exit_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    /// Arguments become a plan; anything else is an error, not a guess.
    #[test]
    fn parses_its_arguments() {
        assert_eq!(parse(&args("pause")).unwrap(), Plan { pause: true, ..Plan::default() });
        assert_eq!(
            parse(&args("run --for-ms 1500 --allocate-bytes 1048576 --burn-cpu")).unwrap(),
            Plan {
                pause: false,
                lease_ttl_ms: None,
                for_ms: Some(1500),
                allocate_bytes: 1 << 20,
                burn_cpu: true,
                exit_code: 0
            }
        );
        assert_eq!(parse(&args("run --for-ms 10 --exit-code 1")).unwrap().exit_code, 1);
        assert!(parse(&args("run --exit-code 256")).is_err());
        assert!(parse(&args("run --for-ms soon")).is_err());
        assert!(parse(&args("run --later")).is_err());
        assert!(parse(&args("sleep")).is_err());
        assert_eq!(parse(&args("lease --ttl-ms 3000")).unwrap().lease_ttl_ms, Some(3000));
        assert!(parse(&args("lease")).is_err());
        assert!(parse(&args("run --ttl-ms 5")).is_err());
    }

    /// An allocation holds exactly the bytes asked for.
    #[test]
    fn allocates_what_it_is_asked() {
        let held = allocate(CHUNK_BYTES as u64 + 5);
        assert_eq!(held.iter().map(Vec::len).sum::<usize>(), CHUNK_BYTES + 5);
    }

    /// A lease ends once its file stops changing for the time-to-live, and not before: renewed
    /// every 20 ms for 400 ms, a 150 ms lease lasts past the renewals, then ends.
    #[test]
    #[allow(clippy::disallowed_types)]
    fn a_lease_lasts_while_it_is_renewed() {
        let path = std::env::temp_dir().join(format!("podlab-lease-test-{}", std::process::id()));
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                for n in 0..20 {
                    std::fs::write(&path, n.to_string()).expect("the lease file is written");
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        let start = std::time::Instant::now();
        hold_lease(path.to_str().expect("a UTF-8 temporary path"), 150);
        let held = start.elapsed();
        writer.join().expect("the writer does not panic");
        let _ = std::fs::remove_file(&path);
        // The last write is at about 380 ms; the lease ends a time-to-live after it is seen.
        assert!(held >= Duration::from_millis(380 + 150), "held {held:?}");
        assert!(held < Duration::from_secs(5), "held {held:?}");
    }
}

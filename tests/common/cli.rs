//! The command-line tests' shared helpers: the podlab binary under test, run from the
//! repository's root in an environment the developer's shell cannot change, and a folder of
//! its own for each test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// What podlab reads from its environment that would change a test's answer if the shell
/// running the tests set it: paths outside allowed, external policies allowed, their timeout,
/// a sweep shard's index. A test that wants one sets it on the command.
const AMBIENT: &[&str] = &[
    "PODLAB_ALLOW_PATHS_OUTSIDE",
    "PODLAB_ALLOW_EXEC",
    "PODLAB_EXEC_TIMEOUT",
    "JOB_COMPLETION_INDEX",
    "SLURM_ARRAY_TASK_ID",
];

/// The repository's root, where the bundled scenarios and `data/` are found by relative paths.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The binary under test, for a test that runs it through another program (`unshare …`).
pub const PODLAB: &str = env!("CARGO_BIN_EXE_podlab");

/// The binary under test with `args`, to run in `dir`, none of [`AMBIENT`] set.
pub fn podlab_command_in(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(PODLAB);
    command.args(args).current_dir(dir);
    for name in AMBIENT {
        command.env_remove(name);
    }
    command
}

/// The binary under test with `args`, to run from the repository's root.
pub fn podlab_command(args: &[&str]) -> Command {
    podlab_command_in(root(), args)
}

/// Runs podlab from the repository's root and waits for it.
pub fn podlab(args: &[&str]) -> Output {
    podlab_command(args).output().expect("podlab runs")
}

/// Runs podlab in `dir`: for what resolves paths against the working folder.
pub fn podlab_in(dir: &Path, args: &[&str]) -> Output {
    podlab_command_in(dir, args).output().expect("podlab runs")
}

/// Runs podlab from the repository's root with `env` set.
pub fn podlab_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    podlab_command(args).envs(env.iter().copied()).output().expect("podlab runs")
}

/// A command's standard error, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A command's standard output, as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts that a command succeeded; its standard output.
pub fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}\n{}", stdout(out), stderr(out));
    stdout(out)
}

/// A path of one test's own that does not exist: named after the test binary, `name` and this
/// process, so that test binaries running at once, and runs one after another, never share
/// one. For an `--out` that podlab must create itself.
pub fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("podlab-{}-{name}-{}", env!("CARGO_CRATE_NAME"), std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A new, empty folder of one test's own (see [`temp_path`]).
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = temp_path(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `text` as `NAME.yaml` in a new folder of the test's own: the folder and the file.
pub fn scenario_file(name: &str, text: impl AsRef<[u8]>) -> (PathBuf, PathBuf) {
    let dir = temp_dir(name);
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

/// A path as the text a command line takes.
pub fn text(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

/// Asserts that a command failed as bad input does: exit code 2, no panic, and every one of
/// `want` in its message, which it returns. `what` names the command in a failure.
pub fn assert_bad_input(out: &Output, what: &dyn std::fmt::Debug, want: &[&str]) -> String {
    let stderr = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{what:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what:?}: {stderr}");
    for w in want {
        assert!(stderr.contains(w), "{what:?}: no `{w}` in {stderr}");
    }
    stderr
}

/// Every file under `root`, by relative path (with `/`), with its bytes; what `leave_out`
/// names (relative paths of files or folders) is left out.
pub fn file_tree(root: &Path, leave_out: &[&str]) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, leave_out: &[&str], out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            if leave_out.contains(&rel.as_str()) {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, leave_out, out);
            } else {
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, leave_out, &mut out);
    out
}

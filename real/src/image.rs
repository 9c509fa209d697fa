//! The workload image, made locally with no registry: the static `podlab-workload` binary
//! (built by cargo on demand), a tar build context made here, and the Engine's build API. The
//! tag is the binary's content hash, so the image is rebuilt only when the binary changes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use bollard::query_parameters::BuildImageOptions;
use futures_util::StreamExt;

use crate::RealError;
use crate::engine::{Engine, docker_error};

/// The repository of the workload image; the tag is the binary's BLAKE3, shortened.
pub const IMAGE_REPOSITORY: &str = "podlab-workload";
/// Where the binary sits in the image.
pub const ENTRYPOINT: &str = "/podlab-workload";
/// Names a prebuilt static workload binary, skipping the cargo build.
pub const BINARY_ENV: &str = "PODLAB_WORKLOAD_BIN";

const DOCKERFILE: &str = "FROM scratch\nCOPY podlab-workload /podlab-workload\nENTRYPOINT [\"/podlab-workload\"]\n";

/// The workload image's tag, building the binary and the image if needed (once per process).
pub fn ensure(engine: &Engine) -> Result<String, RealError> {
    static DONE: Mutex<Option<String>> = Mutex::new(None);
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(tag) = done.as_ref()
        && engine.block_on(engine.docker.inspect_image(tag)).is_ok()
    {
        return Ok(tag.clone());
    }
    let binary = binary()?;
    let bytes = std::fs::read(&binary)
        .map_err(|e| RealError::Image(format!("cannot read the workload binary {}: {e}", binary.display())))?;
    let tag = format!("{IMAGE_REPOSITORY}:{}", &blake3::hash(&bytes).to_hex()[..16]);
    if engine.block_on(engine.docker.inspect_image(&tag)).is_err() {
        build(engine, &tag, &bytes)?;
    }
    *done = Some(tag.clone());
    Ok(tag)
}

/// The static workload binary: `$PODLAB_WORKLOAD_BIN`, else built from this checkout by cargo
/// (debug profile, `crt-static`, in its own target directory so that the rustflags never
/// invalidate the main build, nor wait for its lock).
pub fn binary() -> Result<PathBuf, RealError> {
    if let Some(path) = std::env::var_os(BINARY_ENV) {
        return Ok(PathBuf::from(path));
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new("."));
    let manifest = workspace.join("Cargo.toml");
    if !manifest.exists() {
        return Err(RealError::Image(format!(
            "the podlab checkout this binary was built from ({}) is gone; build the workload with `cargo build \
             -p podlab-workload --target x86_64-unknown-linux-gnu` and RUSTFLAGS=\"-C target-feature=+crt-static\", \
             and name it in {BINARY_ENV}",
            workspace.display()
        )));
    }
    let target_root =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace.join("target"));
    let target_dir = target_root.join("podlab-workload");
    let triple = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(workspace)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .env_remove("CARGO_TARGET_DIR")
        .args(["build", "--quiet", "-p", "podlab-workload", "--target", &triple, "--target-dir"])
        .arg(&target_dir)
        .arg("--manifest-path")
        .arg(&manifest)
        .output()
        .map_err(|e| RealError::Image(format!("cannot run cargo to build the workload: {e}")))?;
    if !output.status.success() {
        return Err(RealError::Image(format!(
            "building the static workload binary failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(target_dir.join(triple).join("debug").join("podlab-workload"))
}

fn build(engine: &Engine, tag: &str, binary: &[u8]) -> Result<(), RealError> {
    let mut context = Vec::with_capacity(binary.len() + 4096);
    tar_entry(&mut context, "Dockerfile", 0o644, DOCKERFILE.as_bytes());
    tar_entry(&mut context, "podlab-workload", 0o755, binary);
    // Two zero blocks end a tar archive.
    context.extend_from_slice(&[0; 1024]);
    let options = BuildImageOptions {
        dockerfile: "Dockerfile".into(),
        t: Some(tag.to_string()),
        rm: true,
        forcerm: true,
        labels: Some(crate::labels::map(&[("podlab.dev/workload", "true")])),
        ..Default::default()
    };
    engine.block_on(async {
        let mut stream = engine.docker.build_image(options, None, Some(bollard::body_full(context.into())));
        while let Some(step) = stream.next().await {
            let step = step.map_err(docker_error("build the workload image"))?;
            if let Some(error) = step.error_detail.and_then(|d| d.message) {
                return Err(RealError::Image(format!("building the workload image: {error}")));
            }
        }
        Ok(())
    })
}

/// Appends one regular file to a ustar archive: a 512-byte header, then the data padded to 512.
pub(crate) fn tar_entry(out: &mut Vec<u8>, name: &str, mode: u32, data: &[u8]) {
    let mut header = [0u8; 512];
    let field = |header: &mut [u8; 512], at: usize, bytes: &[u8]| header[at..at + bytes.len()].copy_from_slice(bytes);
    field(&mut header, 0, name.as_bytes());
    field(&mut header, 100, format!("{mode:07o}\0").as_bytes());
    field(&mut header, 108, b"0000000\0");
    field(&mut header, 116, b"0000000\0");
    field(&mut header, 124, format!("{:011o}\0", data.len()).as_bytes());
    field(&mut header, 136, b"00000000000\0");
    header[156] = b'0';
    field(&mut header, 257, b"ustar\0");
    field(&mut header, 263, b"00");
    // The checksum is summed with its own field as spaces.
    field(&mut header, 148, b"        ");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    field(&mut header, 148, format!("{sum:06o}\0 ").as_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar entry is a checksummed header and data padded to whole blocks.
    #[test]
    fn tar_entries_are_blocks() {
        let mut out = Vec::new();
        tar_entry(&mut out, "Dockerfile", 0o644, b"FROM scratch\n");
        assert_eq!(out.len(), 1024);
        assert_eq!(&out[..10], b"Dockerfile");
        assert_eq!(&out[124..135], b"00000000015");
        let stored = u32::from_str_radix(std::str::from_utf8(&out[148..154]).unwrap(), 8).unwrap();
        let mut header = out[..512].to_vec();
        header[148..156].copy_from_slice(b"        ");
        assert_eq!(stored, header.iter().map(|&b| u32::from(b)).sum::<u32>());
        assert_eq!(&out[512..525], b"FROM scratch\n");
    }
}

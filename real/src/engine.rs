//! The Docker Engine, behind a synchronous face: a bollard client and the current-thread tokio
//! runtime that drives it, owned together so that no async type leaves this crate.

use std::future::Future;

use bollard::Docker;
use bollard::models::{ContainerCreateBody, ContainerInspectResponse, ContainerSummary, VolumeCreateRequest};
use bollard::query_parameters::{
    CreateContainerOptions, KillContainerOptions, ListContainersOptions, ListVolumesOptions, RemoveContainerOptions,
    RemoveVolumeOptions,
};
use tokio::runtime::Runtime;

use crate::RealError;
use crate::labels::{self, RUN_LABEL};

/// The oldest Engine API podlab speaks: Docker 19.03 (`HostConfig.Init`, `NanoCpus`, labelled volumes).
pub const MIN_API: (u64, u64) = (1, 40);

/// A connection to the local Docker daemon and the runtime its futures run on.
pub struct Engine {
    pub(crate) runtime: Runtime,
    pub(crate) docker: Docker,
    /// The daemon's version, for messages (`20.10.24`, API `1.41`).
    pub version: String,
}

impl Engine {
    /// Connects to the local daemon (`DOCKER_HOST`, else `/var/run/docker.sock`), agrees on an API
    /// version, and refuses a daemon older than [`MIN_API`].
    pub fn connect() -> Result<Engine, RealError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| RealError::Docker(format!("cannot start the I/O runtime: {e}")))?;
        let unreachable = |e: bollard::errors::Error| {
            RealError::Unavailable(format!(
                "no Docker daemon answers ({e}); start one, or point DOCKER_HOST at it (real mode needs Docker)"
            ))
        };
        let docker = Docker::connect_with_local_defaults().map_err(unreachable)?;
        let (docker, version) = runtime.block_on(async {
            let version = docker.version().await.map_err(unreachable)?;
            let docker = docker.negotiate_version().await.map_err(unreachable)?;
            Ok::<_, RealError>((docker, version))
        })?;
        let api = version.api_version.clone().unwrap_or_default();
        let parsed = api.split_once('.').and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)));
        match parsed {
            Some(v) if v >= MIN_API => {}
            _ => {
                return Err(RealError::Unavailable(format!(
                    "the Docker daemon speaks Engine API {api:?}; real mode needs {}.{} or newer (Docker 19.03+)",
                    MIN_API.0, MIN_API.1
                )));
            }
        }
        let os = version.os.clone().unwrap_or_default();
        if os != "linux" {
            return Err(RealError::Unavailable(format!(
                "the Docker daemon runs {os:?} containers; real mode needs linux"
            )));
        }
        let version = format!("Docker {} (API {api})", version.version.unwrap_or_default());
        Ok(Engine { runtime, docker, version })
    }

    /// Runs a future to completion on this engine's runtime (tasks spawned earlier progress too).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    pub fn create_volume(&self, name: &str, labels: &[(&str, &str)]) -> Result<(), RealError> {
        let body = VolumeCreateRequest {
            name: Some(name.to_string()),
            labels: Some(labels::map(labels)),
            ..Default::default()
        };
        self.block_on(self.docker.create_volume(body)).map(drop).map_err(docker_error("create volume"))
    }

    pub fn create_container(&self, name: &str, body: ContainerCreateBody) -> Result<String, RealError> {
        let options = CreateContainerOptions { name: Some(name.to_string()), platform: String::new() };
        let created = self.block_on(self.docker.create_container(Some(options), body));
        created.map(|c| c.id).map_err(docker_error("create container"))
    }

    pub fn inspect(&self, id: &str) -> Result<ContainerInspectResponse, RealError> {
        self.block_on(self.docker.inspect_container(id, None)).map_err(docker_error("inspect container"))
    }

    /// Every container (running or not) carrying `label` (`key` or `key=value`).
    pub fn containers_labelled(&self, label: &str) -> Result<Vec<ContainerSummary>, RealError> {
        let options = ListContainersOptions {
            all: true,
            filters: Some(labels::filters(&[("label", label)])),
            ..Default::default()
        };
        self.block_on(self.docker.list_containers(Some(options))).map_err(docker_error("list containers"))
    }

    /// SIGKILL: a crash, or the end of a run (nothing of a run needs a graceful stop).
    pub fn kill(&self, id: &str) -> Result<(), RealError> {
        let options = KillContainerOptions { signal: "SIGKILL".into() };
        match self.block_on(self.docker.kill_container(id, Some(options))) {
            // 409: not running any more; 404: gone. Both are what a kill wants.
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404 | 409, .. }) | Ok(()) => Ok(()),
            Err(e) => Err(docker_error("kill container")(e)),
        }
    }

    /// Removes a container (killing it if it runs), and its anonymous volumes.
    pub fn remove(&self, id: &str) -> Result<(), RealError> {
        let options = RemoveContainerOptions { force: true, v: true, link: false };
        match self.block_on(self.docker.remove_container(id, Some(options))) {
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) | Ok(()) => Ok(()),
            Err(e) => Err(docker_error("remove container")(e)),
        }
    }

    /// The names of every volume carrying podlab's run label, with the run they belong to.
    pub fn podlab_volumes(&self) -> Result<Vec<(String, String)>, RealError> {
        let options = ListVolumesOptions { filters: Some(labels::filters(&[("label", RUN_LABEL)])) };
        let listed = self.block_on(self.docker.list_volumes(Some(options))).map_err(docker_error("list volumes"))?;
        Ok(listed
            .volumes
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| Some((v.name, v.labels.get(RUN_LABEL)?.clone())))
            .collect())
    }

    /// The daemon's own clock, as Unix seconds (`None` if it does not say): times Docker
    /// stamps on objects are compared with this, never with the local clock.
    pub fn daemon_time(&self) -> Option<i64> {
        let info = self.block_on(self.docker.info()).ok()?;
        crate::clock::unix_seconds(&info.system_time?)
    }

    pub fn remove_volume(&self, name: &str) -> Result<(), RealError> {
        let options = RemoveVolumeOptions { force: true };
        match self.block_on(self.docker.remove_volume(name, Some(options))) {
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) | Ok(()) => Ok(()),
            Err(e) => Err(docker_error("remove volume")(e)),
        }
    }
}

/// Turns a bollard error into podlab's, naming what was being done.
pub(crate) fn docker_error(doing: &'static str) -> impl Fn(bollard::errors::Error) -> RealError {
    move |e| RealError::Docker(format!("{doing}: {e}"))
}

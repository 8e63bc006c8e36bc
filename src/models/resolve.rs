//! How to reach the model a request names: one of our own backends (`backends.models`, by name or alias;
//! started and waited for here), else a model the router reported (by id or alias) or the catalog.
//! Names are only ever compared with known ids, never used as paths; the caller capped their length.

use super::{ModelError, Models};
use crate::core::activity::Claim;
use crate::process::Upstream;
use crate::supervisor::{Leased, RouterLease};

pub struct Route {
    /// The model's id (the request may have used an alias).
    pub model: String,
    /// Where the upstream answers, and its key.
    pub upstream: Upstream,
    /// For an own backend: held until the request is admitted, so the backend is not stopped before.
    pub claim: Option<Claim>,
    /// For a router-mode model: held until the answer ended, so a stop or restart asked for waits for it.
    pub lease: Option<RouterLease>,
    /// For a router-mode model sent straight to its own process: that process's port.
    pub direct: Option<u16>,
}

impl Models {
    pub async fn resolve(&self, name: &str, path: &str) -> Result<Route, ModelError> {
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(ModelError::BadName("must be a model id or alias (see GET /v1/models)"));
        }
        let config = self.config();
        if let Some(backend) = config.backends.model(name) {
            let endpoints = &config.backends.spawn_of(backend).proxy_endpoints;
            if !endpoints.iter().any(|prefix| path.starts_with(prefix.as_str())) {
                return Err(ModelError::NotForwarded(format!(
                    "'{path}' is not forwarded to backend '{}' (proxyEndpoints)",
                    backend.name
                )));
            }
            let ready = self.ensure_backend(&backend.name, "request").await?;
            return Ok(Route {
                model: backend.name.clone(),
                upstream: ready.upstream,
                claim: Some(ready.claim),
                lease: None,
                direct: None,
            });
        }
        let table = self.router_table();
        let model = if self.router_knows(name) {
            name.to_string()
        } else if let Some(id) = table.id_for_alias(name) {
            id
        } else if looks_like_path(name) {
            return Err(ModelError::BadName("must be a model id or alias, not a path"));
        } else {
            return Err(ModelError::NotFound(name.to_string()));
        };
        self.router_crash_backoff(&model)?;
        self.make_router_room(&model).await?;
        match self.router_upstream(&model, &config).await {
            Some(Leased { upstream, lease }) => {
                let direct = self.direct_port(&model, &config);
                let upstream = match direct {
                    Some(port) => Upstream { url: format!("http://127.0.0.1:{port}"), key: upstream.key },
                    None => upstream,
                };
                Ok(Route { model, upstream, claim: None, lease: Some(lease), direct })
            }
            None => Err(ModelError::Router(format!(
                "model '{model}' is served by the llama-server router, which is not running (start it from the dashboard or with router:start)"
            ))),
        }
    }

    /// The port of `model`'s own process, when a request may skip the router's hop: the model is loaded
    /// and the router can never evict it to load another (`models.maxLoaded` is 0 or at least the
    /// number of models it serves). The router picks a victim among models with no request in flight
    /// *through it*, so one streaming straight from a child could otherwise be cut.
    fn direct_port(&self, model: &str, config: &crate::config::Config) -> Option<u16> {
        let max = config.models.max_loaded;
        if !config.proxy.direct_to_child || (max > 0 && self.0.table.count() > max as usize) {
            return None;
        }
        self.0.table.port(model)
    }

    /// The model's process did not answer at `port` (the request got nothing back): routes go through the
    /// router until `/models`, read again at once, says where the model answers. Read again because a
    /// pooled connection the process closed also lands here, and must not end direct routing for good.
    pub fn child_gone(&self, model: &str, port: u16) {
        self.0.table.forget_port(model, port);
        if let Some(upstream) = self.0.parts.router.upstream() {
            let models = self.clone();
            tokio::spawn(async move { super::router::refresh(&models, &upstream).await });
        }
    }

    /// The router's upstream; while it is coming up (boot, a crash restart, a restart after a save) or
    /// draining before a restart, the request waits for it, at most `startup.timeout`. A router stopped on
    /// purpose is not waited for.
    async fn router_upstream(&self, model: &str, config: &crate::config::Config) -> Option<Leased> {
        let router = &self.0.parts.router;
        if let Some(leased) = router.leased_now() {
            return Some(leased);
        }
        if !router.coming_up() {
            return None;
        }
        let state = router.status().state;
        tracing::info!(model, ?state, "a request waits for the router to start");
        let limit = std::time::Duration::from_millis(u64::try_from(config.startup.timeout).unwrap_or(0));
        router.running_within(limit).await
    }
}

impl Models {
    /// Resolves again after `failed` (a router process that went away under a request): waits, at most
    /// `startup.timeout`, until the router answers at another address or with another key, so the retry
    /// does not go to the process that just failed.
    pub async fn resolve_after(&self, name: &str, path: &str, failed: &Upstream) -> Result<Route, ModelError> {
        let limit = std::time::Duration::from_millis(u64::try_from(self.config().startup.timeout).unwrap_or(0));
        let deadline = tokio::time::Instant::now() + limit;
        let mut changes = self.0.parts.router.subscribe();
        loop {
            let route = self.resolve(name, path).await?;
            if route.upstream != *failed {
                return Ok(route);
            }
            if !matches!(tokio::time::timeout_at(deadline, changes.changed()).await, Ok(Ok(()))) {
                return Ok(route);
            }
        }
    }
}

fn looks_like_path(name: &str) -> bool {
    name.contains(['/', '\\']) || name.contains("..") || name.starts_with('~') || name.starts_with('.')
}

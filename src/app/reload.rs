//! SIGHUP: read the init file again (with env and CLI overrides), put it in effect when it is valid,
//! restart a running router whose argv changed (after its requests in flight), and stop every own
//! backend like `POST /admin/reload` so that each starts with the new settings on its next request.
//! An invalid file changes nothing: its problems are logged with the keys they concern.

use super::AppState;
use crate::config::router_args;

pub async fn reload(state: AppState) {
    let before = state.config();
    let writing = state.config_store.lock_writes().await;
    match crate::config::load(state.config_store.cli(), &|key| std::env::var(key).ok()) {
        Ok(loaded) => state.config_store.replace(loaded),
        Err(err) => {
            tracing::error!("init file not reloaded, the running configuration stays: {err}");
            return;
        }
    }
    drop(writing);
    let after = state.config();
    state.bus.recheck_sessions();
    tracing::info!("init file reloaded");
    let router_changed = router_args(&before) != router_args(&after) || before.router != after.router;
    if router_changed
        && state.router.in_service()
        && let Err(err) = state.router.restart().await
    {
        tracing::error!(error = %err, "router did not restart after the reload");
    }
    match state.models.stop_backends("reload").await {
        Ok(stopping) => tracing::info!(?stopping, "reload: stopping every backend"),
        Err(err) => tracing::warn!(error = %err, "reload: backends not stopped"),
    }
    state.models.publish_list();
}

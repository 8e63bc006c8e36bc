//! Every HTTP route on the one port, with the guard (origin and host checks) and CORS around them.
//! `run` adds the Socket.IO layer inside the guard; tests drive [`router`] with `oneshot`.

use super::AppState;
use axum::Router;
use axum::routing::get;
use socketioxide::layer::SocketIoLayer;

pub fn router(state: AppState) -> Router {
    guarded(routes(), state)
}

/// [`router`] with Socket.IO on `/llamaproxws`, as served.
pub fn with_sockets(state: AppState, sockets: SocketIoLayer) -> Router {
    guarded(routes().layer(sockets), state)
}

fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(crate::http::health))
        .route("/metrics", get(crate::http::metrics))
        .merge(crate::proxy::routes())
        .merge(crate::clients::routes())
        .merge(crate::admin::routes())
        .fallback(crate::assets::serve)
        .method_not_allowed_fallback(crate::unrouted::method_not_allowed)
}

fn guarded(routes: Router<AppState>, state: AppState) -> Router {
    let cors = crate::cors::layer(&state.config().security.cors_origins);
    routes
        .layer(cors)
        .layer(axum::middleware::from_fn_with_state(state.config_store.clone(), crate::guard::guard))
        .with_state(state)
}

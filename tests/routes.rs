//! The HTTP routes driven in-process with `oneshot` (no listener, no llama-server): the services are
//! wired exactly as `run` wires them, over a real SQLite file in a temporary data dir.

// Fixtures and helpers assert by unwrapping too (clippy allows it in #[test] fns only).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use llama_dashboard::app::{self, AppState};
use llama_dashboard::config::{Config, ConfigSource, LoadedConfig};
use llama_dashboard::db::Db;
use serde_json::Value;
use tower::ServiceExt;

struct Fixture {
    state: AppState,
    _data: tempfile::TempDir,
    _models: tempfile::TempDir,
}

/// A models directory with one (header-only) GGUF file, `security` as given.
async fn fixture(change: impl FnOnce(&mut Config)) -> Fixture {
    let (data, models) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(models.path().join("tiny.gguf"), b"GGUF").unwrap();
    let mut config = Config::default();
    config.models.directory = models.path().display().to_string();
    config.router.enabled = false;
    change(&mut config);
    let loaded = LoadedConfig { config, source: ConfigSource::Defaults };
    let db = Db::open(data.path()).unwrap();
    let state = app::services(loaded, db, "127.0.0.1:3000".parse().unwrap()).await.unwrap();
    Fixture { state, _data: data, _models: models }
}

async fn send(state: &AppState, request: Request<Body>) -> (StatusCode, String, String) {
    let response = app::routes::router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let kind =
        response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, kind, String::from_utf8_lossy(&body).into_owned())
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).header(header::HOST, "127.0.0.1:3000").body(Body::empty()).unwrap()
}

#[tokio::test]
async fn health_reports_the_database_and_uptime() {
    let f = fixture(|_| {}).await;
    let (status, _, body) = send(&f.state, get("/health")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((health["status"].as_str(), health["database"].as_str()), (Some("ok"), Some("ok")));
    assert!(health["uptimeMs"].as_u64().is_some(), "{body}");
}

#[tokio::test]
async fn metrics_are_prometheus_text_with_the_process_series() {
    let f = fixture(|_| {}).await;
    let (status, kind, body) = send(&f.state, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    assert!(body.contains("# TYPE llama_dashboard_uptime_seconds"), "{body}");
    assert!(body.contains("llama_dashboard_socket_clients 0"), "{body}");
}

#[tokio::test]
async fn v1_models_lists_the_catalog_in_openai_shape_and_needs_a_key_when_keys_are_set() {
    let f = fixture(|c| c.security.api_keys = vec!["sk-test-0123456789".into()]).await;
    let (status, _, body) = send(&f.state, get("/v1/models")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["code"], "invalid_api_key", "{body}");

    let with_key = Request::get("/v1/models")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::AUTHORIZATION, "Bearer sk-test-0123456789")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&f.state, with_key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list["object"], "list");
    let ids: Vec<&str> = list["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["tiny"]);
    assert_eq!(list["data"][0]["status"], serde_json::json!({"value": "unloaded"}), "llama.cpp router's status object");
}

#[tokio::test]
async fn admin_endpoints_need_the_admin_token_when_one_is_set() {
    let f = fixture(|c| c.security.admin_token = Some("admin-secret-0123456789".into())).await;
    let post = |token: Option<&str>| {
        let request = Request::post("/admin/reload").header(header::HOST, "127.0.0.1:3000");
        let request = match token {
            Some(t) => request.header(header::AUTHORIZATION, format!("Bearer {t}")),
            None => request,
        };
        request.body(Body::empty()).unwrap()
    };
    let (status, _, body) = send(&f.state, post(None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _, _) = send(&f.state, post(Some("wrong-token-0123456789"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, body) = send(&f.state, post(Some("admin-secret-0123456789"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reload: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reload, serde_json::json!({"success": true, "stopping": []}));
}

#[tokio::test]
async fn a_rebinding_host_name_gets_nothing() {
    let f = fixture(|_| {}).await;
    let request = Request::get("/health").header(header::HOST, "attacker.example:3000").body(Body::empty()).unwrap();
    let (status, _, body) = send(&f.state, request).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

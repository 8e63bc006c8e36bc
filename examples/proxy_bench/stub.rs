//! The fast stub upstream: started by llama-dashboard in place of llama-server (it receives the router
//! argv and honours `--port`), it answers like a router that has one loaded model, `stub`, and replies
//! to `/v1/chat/completions` at once: a small JSON body, or an SSE stream whose first event is sent
//! immediately (so time to first byte measures the path, not the upstream).

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::convert::Infallible;

const CHAT: &str = r#"{"choices":[{"finish_reason":"stop","index":0,"message":{"role":"assistant","content":"Hello from the stub upstream."}}],"created":1795000000,"model":"stub","object":"chat.completion","usage":{"completion_tokens":7,"prompt_tokens":12,"total_tokens":19},"id":"chatcmpl-stub","timings":{"prompt_n":12,"prompt_ms":1.0,"predicted_n":7,"predicted_ms":1.0,"predicted_per_second":7000.0}}"#;
const CHUNK: &str = r#"data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"tok"}}],"object":"chat.completion.chunk","model":"stub"}"#;

pub async fn serve(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let port = args.iter().position(|a| a == "--port").and_then(|i| args.get(i + 1)).ok_or("--port missing")?;
    let app = Router::new()
        .route("/health", get(|| async { r#"{"status":"ok"}"# }))
        .route("/props", get(|| async { r#"{"role":"router"}"# }))
        .route("/models", get(|| async { r#"{"data":[{"id":"stub","object":"model","status":{"value":"loaded"}}]}"# }))
        .route("/v1/chat/completions", post(chat));
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("stub upstream listening on {port}");
    axum::serve(listener, app).await?;
    Ok(())
}

async fn chat(body: Bytes) -> Response {
    let streamed = body.windows(13).any(|w| w == br#""stream":true"#);
    if !streamed {
        return ([(header::CONTENT_TYPE, "application/json")], CHAT).into_response();
    }
    let events = (0..8)
        .map(|_| format!("{CHUNK}\n\n"))
        .chain(std::iter::once("data: [DONE]\n\n".to_string()))
        .map(|e| Ok::<_, Infallible>(Bytes::from(e)));
    let stream = futures_util::stream::iter(events);
    ([(header::CONTENT_TYPE, "text/event-stream")], Body::from_stream(stream)).into_response()
}

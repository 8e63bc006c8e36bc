//! The floor of our stack: the least an axum server with a pooled hyper client can do to proxy a
//! request (read the body, send it upstream with the client's headers, stream the answer back), with
//! none of llama-dashboard's work (routing by model, queueing, telemetry, security checks). Its column
//! shows how much of our time per request is the HTTP stack itself. Started as
//! `proxy_bench --bare-proxy <upstream url> <port> <key>`.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type Pool = Client<HttpConnector, Full<Bytes>>;

#[derive(Clone)]
struct Upstream {
    client: Pool,
    base: String,
    bearer: HeaderValue,
}

pub async fn serve(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [_, base, port, key] = args else { return Err("usage: --bare-proxy <upstream> <port> <key>".into()) };
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(256).build(connector);
    let bearer = HeaderValue::try_from(format!("Bearer {key}"))?;
    let state = Upstream { client, base: base.clone(), bearer };
    let app = Router::new().fallback(forward).with_state(state);
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn forward(State(up): State<Upstream>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(uri) = format!("{}{path}", up.base).parse::<Uri>() else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut outgoing = axum::http::Request::new(Full::new(body));
    *outgoing.method_mut() = parts.method;
    *outgoing.uri_mut() = uri;
    *outgoing.headers_mut() = parts.headers;
    outgoing.headers_mut().remove(header::HOST);
    outgoing.headers_mut().insert(header::AUTHORIZATION, up.bearer.clone());
    match up.client.request(outgoing).await {
        Ok(answer) => answer.map(Body::new).into_response(),
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

//! Who may talk to us at all, checked before any route runs.
//!
//! - **Host** (DNS rebinding): every request's `Host` must be an IP literal, `localhost` / `*.localhost`,
//!   or a name in `security.allowedHosts`. A page on `evil.example` whose name was re-pointed at us
//!   sends `Host: evil.example` and is refused, whatever it asks for.
//! - **Origin** (cross-site WebSocket hijacking, CSRF): a browser names the page it runs in. On the API
//!   (`/llamaproxws`, `/v1`, `/admin`, the pass-through, `/health`, `/metrics`) a request whose `Origin` is
//!   neither ours (same host and port as `Host`) nor listed in `security.corsOrigins` is refused; `"*"`
//!   there opens `/v1` only. Requests without `Origin` (scripts, SDKs, curl) pass, unless the browser's
//!   `Sec-Fetch-Site` says another site or port sent them.
//! - Every response carries the browser hardening headers (CSP, nosniff, no referrer, no framing).

use crate::config::{Origin, SecurityConfig, SharedConfig, split_host_port};
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;

/// Scripts, styles, images and connections from our own origin only; never framed.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

/// The middleware: reads the security settings in force for each request (a save applies at once).
pub async fn guard(State(config): State<SharedConfig>, request: Request, next: Next) -> Response {
    let checked = check(&config.config().security, request.uri().path(), request.headers());
    let mut response = match checked {
        Ok(()) => next.run(request).await,
        Err(err) => {
            tracing::debug!(path = %request.uri().path(), error = %err, "request refused");
            err.into_response()
        }
    };
    harden(response.headers_mut());
    response
}

/// The Host rule for every path, then the Origin rule for the API.
pub fn check(security: &SecurityConfig, path: &str, headers: &HeaderMap) -> Result<(), ApiError> {
    let host = headers.get(header::HOST).map(|v| v.to_str().map(Authority::parse));
    let host = match host {
        None => None,
        Some(Ok(Some(authority))) => Some(authority),
        Some(_) => return Err(ApiError::forbidden("security.allowedHosts", "the Host header is not a host name")),
    };
    if let Some(host) = &host
        && !host_allowed(&host.name, &security.allowed_hosts)
    {
        return Err(ApiError::forbidden(
            "security.allowedHosts",
            format!(
                "host '{}' is not served here: use an IP address or localhost, or add the name to security.allowedHosts",
                host.name
            ),
        ));
    }
    if !is_api(path, headers) {
        return Ok(());
    }
    let any_origin = path.starts_with("/v1/") && security.cors_origins.iter().any(|o| o == "*");
    match headers.get(header::ORIGIN) {
        Some(origin) if !any_origin => check_origin(origin, host.as_ref(), &security.cors_origins),
        Some(_) => Ok(()),
        None if any_origin => Ok(()),
        None => check_fetch_site(headers),
    }
}

fn check_origin(origin: &HeaderValue, host: Option<&Authority>, allowed: &[String]) -> Result<(), ApiError> {
    let text = origin.to_str().unwrap_or("(not text)");
    let parsed = Origin::parse(text);
    // A Host without a port is plain HTTP on port 80 (we serve no TLS): only `http://name` is ours then.
    let own = match (&parsed, host) {
        (Some(o), Some(h)) => o.host == h.name && h.port.map_or(o.scheme == "http" && o.port == 80, |p| p == o.port),
        _ => false,
    };
    let listed = parsed.is_some_and(|o| allowed.iter().filter_map(|a| Origin::parse(a)).any(|a| a == o));
    if own || listed {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "security.corsOrigins",
        format!("origin '{text}' may not use this server: add it to security.corsOrigins to allow it"),
    ))
}

/// Browsers send `Sec-Fetch-Site` on every request; without an `Origin` (a plain GET from an image
/// tag or a link) it still tells a request sent by another site or port from one of our own pages.
fn check_fetch_site(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("cross-site" | "same-site") => Err(ApiError::forbidden(
            "security.corsOrigins",
            "a page of another site or port may not use this server (Sec-Fetch-Site)",
        )),
        _ => Ok(()),
    }
}

/// Requests answered by handlers other than the dashboard's static files. `/models` is both the
/// dashboard's Models page (for a browser asking for HTML) and llama.cpp's router API (for everyone else).
fn is_api(path: &str, headers: &HeaderMap) -> bool {
    const PREFIXES: [&str; 7] = ["/v1/", "/admin/", "/llamaproxws", "/health", "/metrics", "/models/", "/api/"];
    if PREFIXES.iter().any(|p| path.starts_with(p)) {
        return true;
    }
    if path == "/models" {
        return !crate::clients::wants_html(headers);
    }
    let mut segments = path.trim_start_matches('/').split('/');
    matches!((segments.next(), segments.next(), segments.next()), (Some(m), Some("health" | "props" | "slots"), None) if !m.is_empty())
}

fn host_allowed(name: &str, allowed: &[String]) -> bool {
    let loopback_name = name == "localhost" || name.ends_with(".localhost");
    let literal = name.parse::<IpAddr>().is_ok();
    loopback_name || literal || allowed.iter().any(|pattern| host_matches(pattern, name))
}

fn host_matches(pattern: &str, name: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => name.len() > suffix.len() + 1 && name.ends_with(&format!(".{suffix}")),
        None => pattern == name,
    }
}

/// `host[:port]` of a `Host` header, the name lowercased (IPv6 literals without brackets).
struct Authority {
    name: String,
    port: Option<u16>,
}

impl Authority {
    fn parse(text: &str) -> Option<Self> {
        let (name, port) = split_host_port(text.trim())?;
        Some(Self { name, port })
    }
}

/// Checked at compile time, so a response only copies them.
const HARDENING: [(header::HeaderName, HeaderValue); 4] = [
    (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
    (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
];

fn harden(headers: &mut HeaderMap) {
    headers.reserve(HARDENING.len());
    for (name, value) in HARDENING {
        if !headers.contains_key(&name) {
            headers.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        h
    }

    fn security(cors: &[&str], hosts: &[&str]) -> SecurityConfig {
        SecurityConfig {
            cors_origins: cors.iter().map(|s| s.to_string()).collect(),
            allowed_hosts: hosts.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn field(result: Result<(), ApiError>) -> String {
        match result {
            Ok(()) => "ok".into(),
            Err(ApiError::Forbidden { field, .. }) => field,
            Err(other) => format!("{other:?}"),
        }
    }

    #[test]
    fn ip_literals_and_loopback_names_always_pass_other_names_only_when_listed() {
        let s = security(&[], &["dash.lan", "*.example.com"]);
        for host in ["127.0.0.1:3000", "[::1]:3000", "192.168.1.9", "localhost:3000", "a.localhost", "DASH.LAN:80"] {
            assert_eq!(field(check(&s, "/", &headers(&[("host", host)]))), "ok", "{host}");
        }
        assert_eq!(field(check(&s, "/x", &headers(&[("host", "web.example.com")]))), "ok");
        for host in ["evil.example:3000", "example.com", "localhost.evil.example", "127.0.0.1.nip.io:3000", "a b"] {
            assert_eq!(field(check(&s, "/", &headers(&[("host", host)]))), "security.allowedHosts", "{host}");
        }
        assert_eq!(field(check(&s, "/health", &HeaderMap::new())), "ok", "no Host header: not a browser");
    }

    #[test]
    fn the_api_refuses_foreign_origins_and_accepts_its_own_and_listed_ones() {
        let s = security(&["https://app.example.com"], &[]);
        let with = |origin: &str| headers(&[("host", "127.0.0.1:3000"), ("origin", origin)]);
        let paths = [
            "/llamaproxws/",
            "/v1/chat/completions",
            "/admin/reload",
            "/smol/slots",
            "/health",
            "/metrics",
            "/models/load",
        ];
        for path in paths {
            assert_eq!(field(check(&s, path, &with("https://evil.example"))), "security.corsOrigins", "{path}");
            assert_eq!(field(check(&s, path, &with("http://127.0.0.1:3000"))), "ok", "{path}");
            assert_eq!(field(check(&s, path, &with("https://app.example.com:443"))), "ok", "{path}");
            assert_eq!(field(check(&s, path, &with("http://127.0.0.1:8080"))), "security.corsOrigins", "{path}");
            assert_eq!(field(check(&s, path, &with("null"))), "security.corsOrigins", "{path}");
        }
        assert_eq!(field(check(&s, "/requests", &with("https://evil.example"))), "ok", "the dashboard's files");
        let page = |origin: &str| headers(&[("host", "127.0.0.1:3000"), ("origin", origin), ("accept", "text/html")]);
        assert_eq!(field(check(&s, "/models", &page("https://evil.example"))), "ok", "the Models page");
        let json = field(check(&s, "/models", &with("https://evil.example")));
        assert_eq!(json, "security.corsOrigins", "llama.cpp's model list at the same path");
        let port_80 = |origin: &str| headers(&[("host", "127.0.0.1"), ("origin", origin)]);
        assert_eq!(field(check(&s, "/admin/rescan", &port_80("http://127.0.0.1"))), "ok");
        for other in ["http://127.0.0.1:9999", "https://127.0.0.1", "http://127.0.0.1:8080"] {
            assert_eq!(field(check(&s, "/admin/rescan", &port_80(other))), "security.corsOrigins", "{other}");
        }
        let site = headers(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "same-site")]);
        assert_eq!(field(check(&s, "/admin/rescan", &site)), "security.corsOrigins");
        let own = headers(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "same-origin")]);
        assert_eq!(field(check(&s, "/admin/rescan", &own)), "ok");
    }

    #[test]
    fn a_star_opens_v1_to_every_origin_but_not_the_control_plane() {
        let s = security(&["*"], &[]);
        let foreign = headers(&[("host", "127.0.0.1:3000"), ("origin", "https://chat.example")]);
        assert_eq!(field(check(&s, "/v1/models", &foreign)), "ok");
        assert_eq!(field(check(&s, "/llamaproxws/", &foreign)), "security.corsOrigins");
        assert_eq!(field(check(&s, "/admin/reload", &foreign)), "security.corsOrigins");
    }
}

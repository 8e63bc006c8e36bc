//! Which headers cross the proxy. Hop-by-hop headers (RFC 9110 §7.6.1), any header the `Connection`
//! header names, and our own credentials stay on their side; everything else passes both ways.

use axum::http::{HeaderMap, HeaderName, header};

const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Headers the client sent that the model's upstream must not see: our API key and admin token,
/// and the ones the upstream request sets for itself.
const CLIENT_ONLY: [HeaderName; 5] = [
    header::HOST,
    header::CONTENT_LENGTH,
    header::AUTHORIZATION,
    header::COOKIE,
    HeaderName::from_static("x-admin-token"),
];

pub fn to_upstream(incoming: &HeaderMap) -> HeaderMap {
    let mut out = end_to_end(incoming);
    for name in &CLIENT_ONLY {
        out.remove(name);
    }
    out.remove("x-api-key");
    out
}

pub fn to_client(upstream: &HeaderMap) -> HeaderMap {
    end_to_end(upstream)
}

fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let lower = name.as_str();
        if HOP_BY_HOP.contains(&lower) || named.iter().any(|n| n == lower) {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_named_and_credential_headers_do_not_cross() {
        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, "keep-alive, X-Secret".parse().unwrap());
        h.insert("x-secret", "1".parse().unwrap());
        h.insert(header::AUTHORIZATION, "Bearer k".parse().unwrap());
        h.insert(header::TRANSFER_ENCODING, "chunked".parse().unwrap());
        h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        h.insert("x-request-id", "abc".parse().unwrap());
        let out = to_upstream(&h);
        let mut names: Vec<&str> = out.keys().map(|k| k.as_str()).collect();
        names.sort();
        assert_eq!(names, ["content-type", "x-request-id"]);
        assert!(to_client(&h).contains_key(header::AUTHORIZATION), "responses keep end-to-end headers");
    }
}

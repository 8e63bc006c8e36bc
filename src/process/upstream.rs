//! How we reach a llama-server we started: its base URL and the per-process API key it was given.
//! The key travels to the child in its environment (`LLAMA_API_KEY`, never argv, so `ps` does not show
//! it) and we add it to every request we forward, so the child's port answers 401 to anyone else.

use std::io::Read;

/// A credential that never shows in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// 32 random bytes from the kernel, hex-encoded.
    pub fn random() -> std::io::Result<Self> {
        let mut bytes = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        Ok(Self(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A configured credential (a node's API key).
impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A reqwest client for our own backends (the proxy's path with configured timeouts): plain HTTP on
/// loopback, so no system proxy, no redirects followed (a proxied answer reaches its client as sent) and
/// no CA store loaded (it holds megabytes that only a download from the internet needs).
pub fn loopback_client() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .tls_certs_only([])
}

#[derive(Debug, Clone, PartialEq)]
pub struct Upstream {
    /// Without a trailing slash.
    pub url: String,
    pub key: Secret,
}

impl Upstream {
    /// `path_and_query` starts with `/`.
    pub fn request(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        path_and_query: &str,
    ) -> reqwest::RequestBuilder {
        client.request(method, format!("{}{path_and_query}", self.url)).bearer_auth(self.key.expose())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_never_printed() {
        let (a, b) = (Secret::random().unwrap(), Secret::random().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 64);
        assert!(!format!("{a:?}").contains(a.expose()));
    }
}

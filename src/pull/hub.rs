//! The Hugging Face hub's HTTP API as we use it: a repository's files at the main branch (with sizes),
//! model search, and the `resolve` URL of a file. `HF_ENDPOINT` names the hub (a mirror, or a local
//! hub-shaped server in tests); `HF_TOKEN` is read from the environment only, sent as a Bearer token and
//! never logged or echoed (this type has no `Debug` for that reason).

use super::PullError;
use serde::Serialize;
use serde_json::Value;

/// How many pages of a tree listing are followed (the hub pages about 1000 entries at a time).
const MAX_TREE_PAGES: usize = 50;

#[derive(Clone)]
pub struct Hub {
    pub endpoint: String,
    token: Option<String>,
    clients: Clients,
}

/// Built once (one connection pool): `follow` follows redirects (file bytes come from a CDN);
/// `heads` does not, so a `HEAD` reads the hub's own `X-Linked-*` headers rather than the CDN's.
#[derive(Clone)]
pub struct Clients {
    follow: reqwest::Client,
    heads: reqwest::Client,
}

impl Clients {
    pub fn new() -> Result<Self, PullError> {
        let builder = || {
            reqwest::Client::builder()
                .connect_timeout(std::time::Duration::from_secs(15))
                .read_timeout(std::time::Duration::from_secs(60))
        };
        Ok(Self { follow: builder().build()?, heads: builder().redirect(reqwest::redirect::Policy::none()).build()? })
    }
}

/// One file of a repository; `size` is `None` when the hub did not say.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteFile {
    pub path: String,
    pub size: Option<u64>,
}

/// A repository at one commit of its main branch.
#[derive(Debug, Clone)]
pub struct Listing {
    pub commit: String,
    pub files: Vec<RemoteFile>,
}

impl Listing {
    pub fn names(&self) -> Vec<String> {
        self.files.iter().map(|f| f.path.clone()).collect()
    }

    pub fn size_of(&self, name: &str) -> Option<u64> {
        self.files.iter().find(|f| f.path == name).and_then(|f| f.size)
    }
}

/// One search hit.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Found {
    pub id: String,
    pub downloads: u64,
    pub likes: u64,
    pub last_modified: Option<String>,
}

impl Hub {
    /// The hub named by `HF_ENDPOINT` (default huggingface.co), with `HF_TOKEN` when it is set and not empty.
    pub fn from_env(clients: Clients) -> Self {
        let endpoint = std::env::var("HF_ENDPOINT").ok().filter(|e| !e.is_empty());
        let endpoint = endpoint.unwrap_or_else(|| "https://huggingface.co".into());
        let token = std::env::var("HF_TOKEN").ok().filter(|t| !t.is_empty());
        Self { endpoint: endpoint.trim_end_matches('/').to_string(), token, clients }
    }

    pub fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.authorized(self.clients.follow.get(url))
    }

    pub fn head(&self, url: &str) -> reqwest::RequestBuilder {
        self.authorized(self.clients.heads.head(url))
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Where the bytes of `file` at `commit` are served (the hub may redirect to a CDN).
    pub fn resolve_url(&self, repo: &str, commit: &str, file: &str) -> String {
        format!("{}/{repo}/resolve/{commit}/{file}", self.endpoint)
    }

    /// The main branch's commit and the repository's files; sizes when the hub gives them (`blobs=true`).
    pub async fn list(&self, repo: &str) -> Result<Listing, PullError> {
        let url = format!("{}/api/models/{repo}/revision/main?blobs=true", self.endpoint);
        let response = self.get(&url).send().await?;
        refused(&response, repo, &self.endpoint)?;
        let info: Value = response.json().await?;
        let commit = info["sha"].as_str().filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit()));
        let commit = commit.ok_or_else(|| PullError::Hub(format!("{url} gave no commit")))?.to_string();
        let files = info["siblings"].as_array().into_iter().flatten().filter_map(|s| {
            let path = s["rfilename"].as_str()?.to_string();
            Some(RemoteFile { path, size: s["lfs"]["size"].as_u64().or_else(|| s["size"].as_u64()) })
        });
        Ok(Listing { commit, files: files.collect() })
    }

    /// Fills the sizes `list` did not give from the tree API (`/tree/<commit>?recursive=true`, paged by
    /// its `Link` header). A hub without that API leaves them unknown.
    pub async fn fill_sizes(&self, repo: &str, listing: &mut Listing) -> Result<(), PullError> {
        let mut next = Some(format!("{}/api/models/{repo}/tree/{}?recursive=true", self.endpoint, listing.commit));
        for _ in 0..MAX_TREE_PAGES {
            let Some(url) = next.take() else { break };
            let response = self.get(&url).send().await?;
            if response.status() == reqwest::StatusCode::NOT_FOUND {
                return Ok(());
            }
            refused(&response, repo, &self.endpoint)?;
            next = next_link(response.headers());
            let entries: Value = response.json().await?;
            for entry in entries.as_array().into_iter().flatten().filter(|e| e["type"] == "file") {
                let (Some(path), Some(size)) =
                    (entry["path"].as_str(), entry["lfs"]["size"].as_u64().or_else(|| entry["size"].as_u64()))
                else {
                    continue;
                };
                if let Some(file) = listing.files.iter_mut().find(|f| f.path == path) {
                    file.size = Some(size);
                }
            }
        }
        Ok(())
    }

    /// Up to 20 GGUF repositories matching `query`. A hub without search (404) is a `Hub` error.
    pub async fn search(&self, query: &str) -> Result<Vec<Found>, PullError> {
        let base = format!("{}/api/models", self.endpoint);
        let params = [
            ("search", query),
            ("filter", "gguf"),
            ("limit", "20"),
            ("expand[]", "downloads"),
            ("expand[]", "likes"),
            ("expand[]", "lastModified"),
        ];
        let url = reqwest::Url::parse_with_params(&base, params).map_err(|e| PullError::Hub(e.to_string()))?;
        let response = self.get(url.as_str()).send().await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Err(PullError::Hub(format!("{} offers no model search", self.endpoint)));
        }
        if !response.status().is_success() {
            return Err(PullError::Hub(format!("{base} answered {}", response.status())));
        }
        let hits: Value = response.json().await?;
        let hits = hits.as_array().into_iter().flatten().filter_map(|hit| {
            Some(Found {
                id: hit["id"].as_str().or_else(|| hit["modelId"].as_str())?.to_string(),
                downloads: hit["downloads"].as_u64().unwrap_or(0),
                likes: hit["likes"].as_u64().unwrap_or(0),
                last_modified: hit["lastModified"].as_str().or_else(|| hit["createdAt"].as_str()).map(str::to_string),
            })
        });
        Ok(hits.take(20).collect())
    }
}

/// A refusal of the hub as a message for people: what to do about a gated repository, or that there is
/// no such repository. The hub answers 401 for a repository it will not say exists, with
/// `X-Error-Code: RepoNotFound`.
pub fn refused(response: &reqwest::Response, repo: &str, endpoint: &str) -> Result<(), PullError> {
    let code = response.headers().get("x-error-code").and_then(|v| v.to_str().ok()).unwrap_or_default();
    match response.status().as_u16() {
        200..=299 => Ok(()),
        401 | 404 if code == "RepoNotFound" => Err(PullError::Hub(format!("no repository {repo} on {endpoint}"))),
        401 | 403 => Err(PullError::Hub(format!("{repo} needs access: set HF_TOKEN to a token that has it"))),
        404 => Err(PullError::Hub(format!("no repository {repo} on {endpoint}"))),
        status => Err(PullError::Hub(format!("{endpoint} answered {status} for {repo}"))),
    }
}

/// The `rel="next"` target of a `Link` header.
fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get(reqwest::header::LINK)?.to_str().ok()?;
    link.split(',').find(|part| part.contains("rel=\"next\"")).and_then(|part| {
        let start = part.find('<')? + 1;
        let end = part.find('>')?;
        Some(part.get(start..end)?.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_comes_from_the_link_header() {
        let mut headers = reqwest::header::HeaderMap::new();
        let value = "<https://hub/api/models/a/b/tree/main?cursor=xyz>; rel=\"next\"";
        headers.insert(reqwest::header::LINK, reqwest::header::HeaderValue::from_static(value));
        assert_eq!(next_link(&headers).as_deref(), Some("https://hub/api/models/a/b/tree/main?cursor=xyz"));
        assert_eq!(next_link(&reqwest::header::HeaderMap::new()), None);
    }
}

//! `llama-dashboard pull user/repo[:quant] [--hf-file NAME]`: fetches one GGUF from Hugging Face into the
//! Hugging Face cache layout (`models--user--repo/{blobs,snapshots,refs}`), where discovery lists it as an
//! `auto` backend model. Honours `HF_ENDPOINT` (a mirror, or a local hub-shaped server) and `HF_TOKEN`
//! (gated or private repos); an interrupted download resumes from its `.incomplete` blob.

mod choose;
mod download;

use crate::backends::discovery::hf_hub_dir;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum PullError {
    #[error("'{0}' is not a repository: write user/repo or user/repo:QUANT")]
    BadRepo(String),
    #[error("no Hugging Face cache directory (set HF_HUB_CACHE or HF_HOME)")]
    NoCache,
    #[error("{0}")]
    Hub(String),
    #[error("{0}")]
    NoFile(String),
    #[error("download failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("cannot write the cache: {0}")]
    Io(#[from] std::io::Error),
}

pub struct Request {
    pub repo: String,
    pub quant: Option<String>,
    pub file: Option<String>,
}

impl Request {
    /// `user/repo[:quant]`; both parts plain names (letters, digits, `.`, `_`, `-`), so none is a path.
    pub fn parse(spec: &str, file: Option<String>) -> Result<Self, PullError> {
        let (repo, quant) = match spec.split_once(':') {
            Some((repo, quant)) => (repo, Some(quant.to_string()).filter(|q| !q.is_empty())),
            None => (spec, None),
        };
        let plain = |s: &str| {
            !s.is_empty() && s != "." && s != ".." && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        };
        match repo.split_once('/') {
            Some((user, name)) if plain(user) && plain(name) => Ok(Self { repo: repo.to_string(), quant, file }),
            _ => Err(PullError::BadRepo(spec.to_string())),
        }
    }
}

/// Where the file was put (a link in the snapshot), once complete.
pub async fn run(request: Request) -> Result<PathBuf, PullError> {
    let endpoint = std::env::var("HF_ENDPOINT").unwrap_or_else(|_| "https://huggingface.co".into());
    let hub = Hub { endpoint: endpoint.trim_end_matches('/').to_string(), token: std::env::var("HF_TOKEN").ok() };
    let client = reqwest::Client::builder().connect_timeout(std::time::Duration::from_secs(15)).build()?;
    let (commit, files) = hub.list(&client, &request.repo).await?;
    let file = choose::file(&files, request.quant.as_deref(), request.file.as_deref())?;
    let cache = hf_hub_dir().ok_or(PullError::NoCache)?;
    let repo_dir = cache.join(format!("models--{}", request.repo.replace('/', "--")));
    eprintln!("[pull] {} -> {} ({file} at {commit})", request.repo, repo_dir.display());
    let blob = download::blob(&client, &hub, &request.repo, &commit, &file, &repo_dir.join("blobs")).await?;
    link(&repo_dir, &commit, &file, &blob)
}

pub struct Hub {
    pub endpoint: String,
    pub token: Option<String>,
}

impl Hub {
    pub fn get(&self, client: &reqwest::Client, url: &str) -> reqwest::RequestBuilder {
        let request = client.get(url);
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// The main branch's commit and the repository's file names.
    async fn list(&self, client: &reqwest::Client, repo: &str) -> Result<(String, Vec<String>), PullError> {
        let url = format!("{}/api/models/{repo}/revision/main", self.endpoint);
        let response = self.get(client, &url).send().await?;
        match response.status().as_u16() {
            200 => {}
            401 | 403 => {
                return Err(PullError::Hub(format!("{repo} needs access: set HF_TOKEN to a token that has it")));
            }
            404 => return Err(PullError::Hub(format!("no repository {repo} on {}", self.endpoint))),
            code => return Err(PullError::Hub(format!("{url} answered {code}"))),
        }
        let info: serde_json::Value = response.json().await?;
        let commit = info["sha"].as_str().filter(|s| s.chars().all(|c| c.is_ascii_hexdigit()) && !s.is_empty());
        let commit = commit.ok_or_else(|| PullError::Hub(format!("{url} gave no commit")))?.to_string();
        let files = info["siblings"].as_array().into_iter().flatten().filter_map(|s| s["rfilename"].as_str());
        Ok((commit, files.map(str::to_string).collect()))
    }
}

/// `snapshots/<commit>/<file>` -> `../../blobs/<etag>` (one more `..` per folder in the file's name), and
/// `refs/main` = commit, as huggingface_hub lays them out.
fn link(repo_dir: &Path, commit: &str, file: &str, blob: &Path) -> Result<PathBuf, PullError> {
    let target = repo_dir.join("snapshots").join(commit).join(file);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let depth = file.matches('/').count() + 2;
    let blob_name = blob.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let relative = PathBuf::from("../".repeat(depth)).join("blobs").join(blob_name);
    if target.symlink_metadata().is_ok() {
        std::fs::remove_file(&target)?;
    }
    std::os::unix::fs::symlink(relative, &target)?;
    std::fs::create_dir_all(repo_dir.join("refs"))?;
    std::fs::write(repo_dir.join("refs/main"), commit)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repository_is_two_plain_names_with_an_optional_quant() {
        let r = Request::parse("bartowski/Qwen3-8B-GGUF:Q4_K_M", None).unwrap();
        assert_eq!((r.repo.as_str(), r.quant.as_deref()), ("bartowski/Qwen3-8B-GGUF", Some("Q4_K_M")));
        for bad in ["qwen", "a/b/c", "../x", "a/..", "a b/c", "/etc"] {
            assert!(Request::parse(bad, None).is_err(), "{bad}");
        }
    }
}

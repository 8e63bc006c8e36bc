//! What a pull will fetch, found before anything is downloaded: the main branch's commit, the model file
//! (named, by quant, or the default rule of [`super::choose`]), every part of a split model, the sidecars
//! asked for (projectors of the same repository), and for each its blob name (ETag) and size from a
//! `HEAD` request. The dashboard replies with this at once; the CLI and the background task then fetch it.

use super::hub::{Hub, Listing};
use super::{PullError, Request, choose};

/// One file to fetch.
#[derive(Debug, Clone)]
pub struct Remote {
    /// Its name in the repository (a relative path, checked by [`choose::is_safe_name`]).
    pub name: String,
    pub url: String,
    /// The blob name in the cache; letters, digits and `-` only.
    pub etag: String,
    pub size: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub repo: String,
    pub commit: String,
    /// The model's (first) file, the one a backend is given.
    pub file: String,
    pub sidecars: Vec<String>,
    /// The model's parts, then the sidecars.
    pub remotes: Vec<Remote>,
}

impl Plan {
    pub fn total_bytes(&self) -> u64 {
        self.remotes.iter().filter_map(|r| r.size).sum()
    }
}

/// Lists the repository and asks the hub about each file of the pull.
pub async fn plan(hub: &Hub, request: &Request, sidecars: &[String]) -> Result<Plan, PullError> {
    let listing = hub.list(&request.repo).await?;
    let file = choose::file(&listing.names(), request.quant.as_deref(), request.file.as_deref())?;
    let sidecars = checked_sidecars(&listing, sidecars)?;
    let mut names = choose::parts(&file);
    let listed = listing.names();
    if let Some(missing) = names.iter().find(|n| !listed.contains(n)) {
        return Err(PullError::NoFile(format!("{file} is split, but the repository has no part {missing}")));
    }
    names.extend(sidecars.iter().cloned());
    let mut remotes = Vec::new();
    for name in names {
        remotes.push(head(hub, &request.repo, &listing.commit, &name).await?);
    }
    Ok(Plan { repo: request.repo.clone(), commit: listing.commit, file, sidecars, remotes })
}

/// Sidecars must be projector files of the repository, each named once.
fn checked_sidecars(listing: &Listing, asked: &[String]) -> Result<Vec<String>, PullError> {
    let names = listing.names();
    let mut out: Vec<String> = Vec::new();
    for name in asked {
        if !names.contains(name) || !choose::is_safe_name(name) {
            return Err(PullError::BadSidecar(format!("the repository has no file {name}")));
        }
        if !choose::is_mmproj(name) {
            return Err(PullError::BadSidecar(format!("{name} is not a projector (mmproj) file")));
        }
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    Ok(out)
}

/// The blob name (`X-Linked-Etag`, else `ETag`) and size (`X-Linked-Size`, else `Content-Length`) of a
/// file. Redirects are not followed here, so the hub's own headers are read rather than a CDN's.
async fn head(hub: &Hub, repo: &str, commit: &str, file: &str) -> Result<Remote, PullError> {
    let url = hub.resolve_url(repo, commit, file);
    let response = hub.head(&url).send().await?;
    let status = response.status();
    if matches!(status.as_u16(), 401 | 403) {
        return Err(PullError::Hub(format!("{repo} needs access: set HF_TOKEN to a token that has it")));
    }
    if status == reqwest::StatusCode::NOT_FOUND {
        return Err(PullError::NoFile(format!("the repository {repo} has no file {file}")));
    }
    if !status.is_success() && !status.is_redirection() {
        return Err(PullError::Hub(format!("{url} answered {status}")));
    }
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let etag = header("x-linked-etag")
        .or_else(|| header("etag"))
        .map(|e| e.trim_start_matches("W/").trim_matches('"').to_string());
    let etag =
        etag.filter(|e| !e.is_empty() && e.len() <= 128 && e.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    let etag = etag.ok_or_else(|| PullError::Hub(format!("{url} gave no usable ETag")))?;
    let size = header("x-linked-size").or_else(|| header("content-length")).and_then(|s| s.parse::<u64>().ok());
    Ok(Remote { name: file.to_string(), url, etag, size })
}

//! `llama-dashboard pull user/repo[:quant] [--hf-file NAME]`: fetches one GGUF from Hugging Face into the
//! Hugging Face cache layout (`models--user--repo/{blobs,snapshots,refs}`), where discovery lists it as an
//! `auto` backend model. Honours `HF_ENDPOINT` (a mirror, or a local hub-shaped server) and `HF_TOKEN`
//! (gated or private repos); an interrupted download resumes from its `.incomplete` blob.
//!
//! The dashboard pulls through the same code: [`plan`] finds what to fetch, [`fetch`] fetches it, and
//! [`service::Pulls`] runs fetches in the background with progress broadcasts and cancellation.

pub mod browse;
mod choose;
mod download;
pub mod header;
pub mod hub;
mod plan;
pub mod service;

pub use choose::{is_mmproj, is_model, is_safe_name, quant_of};
pub use plan::{Plan, Remote, plan};

use crate::backends::discovery::hf_hub_dir;
use download::{Tally, Watch};
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Error)]
pub enum PullError {
    #[error("'{0}' is not a repository: write user/repo or user/repo:QUANT")]
    BadRepo(String),
    #[error("no Hugging Face cache directory (set HF_HUB_CACHE or HF_HOME)")]
    NoCache,
    /// The hub refused or failed (gated, no such repository, an error status).
    #[error("{0}")]
    Hub(String),
    /// The repository has no such file (or no GGUF at all).
    #[error("{0}")]
    NoFile(String),
    /// A file name that would leave the cache.
    #[error("{0}")]
    BadFile(String),
    /// No GGUF file matches the quant asked for.
    #[error("{0}")]
    NoQuant(String),
    /// A sidecar that is not a projector of the repository.
    #[error("{0}")]
    BadSidecar(String),
    /// Pulling the same file twice at once.
    #[error("{0}")]
    Busy(String),
    #[error("cancelled")]
    Cancelled,
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

/// Where a repository lives in the cache: `<hub>/models--user--repo`.
pub fn repo_dir(repo: &str) -> Result<PathBuf, PullError> {
    Ok(hf_hub_dir().ok_or(PullError::NoCache)?.join(format!("models--{}", repo.replace('/', "--"))))
}

/// Downloads what `plan` names into the cache and links it into the snapshot; the model file's link.
pub async fn fetch(
    hub: &hub::Hub,
    plan: &Plan,
    cancel: &CancellationToken,
    watch: &mut dyn Watch,
) -> Result<PathBuf, PullError> {
    let repo_dir = repo_dir(&plan.repo)?;
    let blobs = download::all(hub, &plan.remotes, &repo_dir.join("blobs"), cancel, watch).await?;
    let mut model = None;
    for (remote, blob) in plan.remotes.iter().zip(&blobs) {
        let target = link(&repo_dir, &plan.commit, &remote.name, blob)?;
        if remote.name == plan.file {
            model = Some(target);
        }
    }
    model.ok_or_else(|| PullError::NoFile(format!("{} was not downloaded", plan.file)))
}

/// The CLI: where the file was put (a link in the snapshot), once complete.
pub async fn run(request: Request) -> Result<PathBuf, PullError> {
    let hub = hub::Hub::from_env(hub::Clients::new()?);
    let plan = plan(&hub, &request, &[]).await?;
    eprintln!("[pull] {} -> {} ({} at {})", request.repo, repo_dir(&request.repo)?.display(), plan.file, plan.commit);
    fetch(&hub, &plan, &CancellationToken::new(), &mut Stderr).await
}

/// The CLI's progress line on stderr.
struct Stderr;

impl Watch for Stderr {
    fn resuming(&mut self, _file: &str, at: u64) {
        eprintln!("[pull] resuming at {}", mib(at));
    }

    fn already(&mut self, file: &str) {
        eprintln!("[pull] {file} already downloaded");
    }

    fn progress(&mut self, t: &Tally) {
        let line = match t.total {
            0 => mib(t.bytes),
            total => format!("{:5.1}% {} / {}", 100.0 * t.bytes as f64 / total as f64, mib(t.bytes), mib(total)),
        };
        eprint!("\r[pull] {line}  {}/s   ", mib(t.rate()));
        if t.bytes >= t.total {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
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

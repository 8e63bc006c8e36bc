//! A repository's GGUF files as the dashboard offers them before a pull: each model file (the first part
//! standing for a split model) with its size, quant, GGUF header (read with `Range` requests, a few at a
//! time) and whether it would fit here; projector files as sidecars; and the file a pull without a
//! file or quant would take (the CLI's rule).

use super::header::{self, Header};
use super::hub::Hub;
use super::{PullError, choose};
use crate::models::Fit;
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Headers read at once: each is a few MiB from the hub.
const HEADERS_AT_ONCE: usize = 4;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Browse {
    pub repo: String,
    pub commit: String,
    pub default: Option<String>,
    pub files: Vec<FileInfo>,
    pub sidecars: Vec<FileInfo>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileInfo {
    pub file: String,
    /// All parts together; `None` when the hub gave no size.
    pub size_bytes: Option<u64>,
    pub quant: Option<String>,
    pub kind: &'static str,
    pub parts: usize,
    pub header: Option<Header>,
    pub header_error: Option<String>,
    pub fit: Option<Fit>,
}

/// `fit(header, size)`: the verdict for a model of that header and size, when one can be given.
pub async fn files(hub: &Hub, repo: &str, fit: impl Fn(&Header, u64) -> Option<Fit>) -> Result<Browse, PullError> {
    let mut listing = hub.list(repo).await?;
    let unsized_gguf = listing.files.iter().any(|f| f.size.is_none() && f.path.to_ascii_lowercase().ends_with(".gguf"));
    if unsized_gguf {
        hub.fill_sizes(repo, &mut listing).await?;
    }
    let names: Vec<String> = listing.names().into_iter().filter(|n| choose::is_safe_name(n)).collect();
    let default = choose::file(&names, None, None).ok();
    let mut files: Vec<FileInfo> = names
        .iter()
        .filter(|n| choose::is_model(n))
        .map(|name| {
            let parts = choose::parts(name);
            let size = parts.iter().map(|p| listing.size_of(p)).sum::<Option<u64>>();
            info(name, size, "model", parts.len())
        })
        .collect();
    let sidecars = names.iter().filter(|n| choose::is_mmproj(n)).map(|n| info(n, listing.size_of(n), "mmproj", 1));
    let sidecars: Vec<FileInfo> = sidecars.collect();

    let gate = Arc::new(Semaphore::new(HEADERS_AT_ONCE));
    let mut reads = JoinSet::new();
    for (index, file) in files.iter().enumerate() {
        let (hub, gate) = (hub.clone(), gate.clone());
        let url = hub.resolve_url(repo, &listing.commit, &file.file);
        let first_size = listing.size_of(&file.file);
        reads.spawn(async move {
            let _permit = gate.acquire_owned().await.map_err(|e| e.to_string());
            (index, header::read(&hub, &url, first_size).await)
        });
    }
    while let Some(done) = reads.join_next().await {
        let Ok((index, read)) = done else { continue };
        let Some(file) = files.get_mut(index) else { continue };
        match read {
            Ok(header) => {
                file.quant = file.quant.take().or_else(|| header.summary.quantization.clone());
                file.fit = file.size_bytes.and_then(|size| fit(&header, size));
                file.header = Some(header);
            }
            Err(message) => file.header_error = Some(message),
        }
    }
    Ok(Browse { repo: repo.to_string(), commit: listing.commit, default, files, sidecars })
}

fn info(name: &str, size_bytes: Option<u64>, kind: &'static str, parts: usize) -> FileInfo {
    FileInfo {
        file: name.to_string(),
        size_bytes,
        quant: choose::quant_of(name),
        kind,
        parts,
        header: None,
        header_error: None,
        fit: None,
    }
}

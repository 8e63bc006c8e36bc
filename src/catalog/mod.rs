//! Which models exist: GGUF files under the configured models directory.
//! Projector files (`mmproj*`) and the non-first parts of split models are not models of their own.

mod entry;
pub mod remove;

pub use entry::{CatalogEntry, Fingerprint, scan_with_metadata};
use std::path::{Path, PathBuf};

/// Deep enough for `author/model/file.gguf` layouts; bounded so a bad root cannot walk the disk.
const MAX_DEPTH: usize = 4;

#[derive(Debug, Clone, PartialEq)]
pub struct ModelFile {
    /// File name without `.gguf`: the id llama-server's router uses.
    pub id: String,
    pub path: PathBuf,
    pub size_bytes: u64,
    pub modified_at: Option<i64>,
    /// An `mmproj*` file in the same directory (vision projector), passed along with the model.
    pub projector: Option<PathBuf>,
}

/// Lists model files under `dir`, sorted by id; a missing directory is an empty catalog.
pub fn scan(dir: &Path) -> std::io::Result<Vec<ModelFile>> {
    let mut found = Vec::new();
    let mut projectors = Vec::new();
    if dir.is_dir() {
        walk(dir, 0, &mut found, &mut projectors)?;
    }
    for model in &mut found {
        model.projector = projectors.iter().find(|p| p.parent() == model.path.parent()).cloned();
    }
    found.sort_by(|a, b| a.id.cmp(&b.id).then(a.path.cmp(&b.path)));
    found.dedup_by(|later, first| later.id == first.id);
    Ok(found)
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<ModelFile>, projectors: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let file_type = entry.file_type()?;
        let path = entry.path();
        // Linked files count (the Hugging Face cache links snapshots to blobs); linked directories do not (cycles).
        let is_file = file_type.is_file() || (file_type.is_symlink() && path.is_file());
        if file_type.is_dir() && depth < MAX_DEPTH {
            walk(&path, depth + 1, found, projectors)?;
        } else if is_file {
            if is_projector(&path) {
                projectors.push(path);
            } else if let Some(model) = model_file(&path) {
                found.push(model);
            }
        }
    }
    Ok(())
}

fn is_projector(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_ascii_lowercase();
    name.ends_with(".gguf") && name.contains("mmproj")
}

fn model_file(path: &Path) -> Option<ModelFile> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    let stem = lower.strip_suffix(".gguf")?;
    if lower.contains("mmproj") || is_later_split_part(stem) {
        return None;
    }
    let meta = std::fs::metadata(path).ok()?;
    let modified_at =
        meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_millis() as i64);
    Some(ModelFile {
        id: name[..name.len() - ".gguf".len()].to_string(),
        path: path.to_path_buf(),
        size_bytes: meta.len(),
        modified_at,
        projector: None,
    })
}

/// `name-00002-of-00003` is loaded through its first part.
fn is_later_split_part(stem: &str) -> bool {
    let Some((head, total)) = stem.rsplit_once("-of-") else {
        return false;
    };
    let Some((_, part)) = head.rsplit_once('-') else {
        return false;
    };
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    numeric(part) && numeric(total) && part.trim_start_matches('0') != "1"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_models_skips_projectors_split_parts_and_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("author/repo");
        std::fs::create_dir_all(&nested).unwrap();
        for name in ["a.gguf", "mmproj-a-f16.gguf", "notes.txt", "big-00001-of-00002.gguf", "big-00002-of-00002.gguf"] {
            std::fs::write(dir.path().join(name), b"GGUF").unwrap();
        }
        std::fs::write(nested.join("B.GGUF"), b"GGUF").unwrap();
        let models = scan(dir.path()).unwrap();
        let ids: Vec<_> = models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["B", "a", "big-00001-of-00002"]);
        assert_eq!(models[1].projector, Some(dir.path().join("mmproj-a-f16.gguf")), "paired in the same dir");
        assert_eq!(models[0].projector, None, "not paired across directories");
    }

    #[test]
    fn missing_directory_is_an_empty_catalog() {
        assert!(scan(Path::new("/nonexistent/llama-dashboard-models")).unwrap().is_empty());
    }
}

//! Deleting a model's file from a root we manage (`models.directory`, the Hugging Face cache): the file,
//! the later parts of a split model, and in the cache layout the snapshot link plus its blob once no other
//! snapshot of the repository links to it. Blocking: call it from a blocking thread.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub struct Removed {
    /// What was deleted (links and files), in order.
    pub paths: Vec<PathBuf>,
    /// Bytes given back (file or blob sizes).
    pub bytes: u64,
}

/// `path` is the model's path as listed (a snapshot link in the cache, or a file).
pub fn remove_model(path: &Path) -> std::io::Result<Removed> {
    let mut removed = Removed { paths: Vec::new(), bytes: 0 };
    for part in split_parts(path)? {
        remove_one(&part, &mut removed)?;
    }
    Ok(removed)
}

/// The file itself, and for `x-00001-of-00003.gguf` the other parts beside it.
fn split_parts(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let Some((head, tail)) = name.split_once("-00001-of-") else { return Ok(vec![path.to_path_buf()]) };
    let total: usize = tail.trim_end_matches(".gguf").parse().unwrap_or(1);
    let width = tail.trim_end_matches(".gguf").len();
    let dir = path.parent().unwrap_or(Path::new("."));
    let parts = (1..=total.min(999)).map(|i| dir.join(format!("{head}-{i:0width$}-of-{tail}"))).collect::<Vec<_>>();
    Ok(parts.into_iter().filter(|p| p.symlink_metadata().is_ok()).collect())
}

fn remove_one(path: &Path, removed: &mut Removed) -> std::io::Result<()> {
    let meta = path.symlink_metadata()?;
    if !meta.file_type().is_symlink() {
        removed.bytes += meta.len();
        std::fs::remove_file(path)?;
        removed.paths.push(path.to_path_buf());
        return Ok(());
    }
    let blob = std::fs::canonicalize(path)?;
    std::fs::remove_file(path)?;
    removed.paths.push(path.to_path_buf());
    if let Some(repo) = cache_repo(path)
        && !linked_from(&repo.join("snapshots"), &blob)
    {
        removed.bytes += std::fs::metadata(&blob)?.len();
        std::fs::remove_file(&blob)?;
        removed.paths.push(blob);
    }
    Ok(())
}

/// `models--user--repo` above `snapshots/<commit>/...`.
fn cache_repo(link: &Path) -> Option<PathBuf> {
    link.ancestors()
        .find(|a| a.file_name().is_some_and(|n| n.to_string_lossy().starts_with("models--")))
        .map(Path::to_path_buf)
}

/// Whether any link left under `snapshots` resolves to `blob`.
fn linked_from(snapshots: &Path, blob: &Path) -> bool {
    let mut stack = vec![snapshots.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(_) if std::fs::canonicalize(&path).is_ok_and(|p| p == blob) => return true,
                _ => {}
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn a_file_and_its_split_parts_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        for name in ["big-00001-of-00002.gguf", "big-00002-of-00002.gguf", "other.gguf"] {
            std::fs::write(dir.join(name), b"12345").unwrap();
        }
        let removed = remove_model(&dir.join("big-00001-of-00002.gguf")).unwrap();
        assert_eq!((removed.paths.len(), removed.bytes), (2, 10));
        assert!(dir.join("other.gguf").exists());
    }

    #[test]
    fn a_cache_link_goes_with_its_blob_unless_another_snapshot_uses_it() {
        let root = tempfile::tempdir().unwrap();
        let repo = root.path().join("models--org--m");
        for commit in ["c1", "c2"] {
            std::fs::create_dir_all(repo.join("snapshots").join(commit)).unwrap();
        }
        std::fs::create_dir_all(repo.join("blobs")).unwrap();
        std::fs::write(repo.join("blobs/e1"), b"abcdef").unwrap();
        symlink("../../blobs/e1", repo.join("snapshots/c1/m.gguf")).unwrap();
        symlink("../../blobs/e1", repo.join("snapshots/c2/m.gguf")).unwrap();
        let first = remove_model(&repo.join("snapshots/c1/m.gguf")).unwrap();
        assert_eq!((first.paths.len(), first.bytes), (1, 0), "the blob is still linked from c2");
        assert!(repo.join("blobs/e1").exists());
        let second = remove_model(&repo.join("snapshots/c2/m.gguf")).unwrap();
        assert_eq!((second.paths.len(), second.bytes), (2, 6));
        assert!(!repo.join("blobs/e1").exists());
    }
}

//! A file's revision: a digest of its bytes, so that an editor that loaded one version of the init file
//! saves only over that version (`router:init:save {revision}`), never over a change it has not seen (a
//! `models:update` of an own backend, another tab's save, an edit on disk).

use std::hash::Hasher;
use std::path::Path;

/// What a file that does not exist reads as.
pub const NO_FILE: &str = "none";

/// 16 hex digits of the file's bytes ([`NO_FILE`] when there is none); equal bytes give equal revisions
/// for the life of the process, which is as long as an editor's load and save are compared.
pub fn revision(path: &Path) -> std::io::Result<String> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let mut hasher = std::hash::DefaultHasher::new();
            hasher.write(&bytes);
            Ok(format!("{:016x}", hasher.finish()))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(NO_FILE.to_string()),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revision_changes_with_the_bytes_and_only_with_them() {
        let dir = std::env::temp_dir().join(format!("lldash-revision-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("init.json");
        assert_eq!(revision(&file).unwrap(), NO_FILE);
        std::fs::write(&file, "{\"a\":1}\n").unwrap();
        let first = revision(&file).unwrap();
        assert_eq!(first.len(), 16);
        assert_eq!(revision(&file).unwrap(), first, "same bytes, same revision");
        std::fs::write(&file, "{\"a\":2}\n").unwrap();
        assert_ne!(revision(&file).unwrap(), first);
        std::fs::write(&file, "{\"a\":1}\n").unwrap();
        assert_eq!(revision(&file).unwrap(), first, "the bytes, not the time, make the revision");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

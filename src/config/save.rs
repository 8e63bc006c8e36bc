//! Persisting a config file from the dashboard the way a database writes its files: the previous file
//! kept as `<file>.bak`, the new text written to a unique temp file beside the target, fsynced, renamed
//! into place, and the directory fsynced, so a crash never leaves a half-written or missing file. A
//! symlinked file is written where the link points (the link stays); the file keeps its mode, and a new
//! file holding secrets is created 0600. Callers hold [`super::SharedConfig::lock_writes`] around their
//! read-modify-write, so two writers never lose each other's update.
//!
//! Secrets travel to editors redacted: each as `***` plus a tag derived from it with a per-process
//! random key, so a redacted secret sent back names exactly the secret it stands for, and one that
//! names none is an error (never a literal `***` stored as a key).

use super::REDACTED;
use super::schema::Config;
use super::validate::ConfigIssue;
use serde_json::Value;
use std::hash::BuildHasher;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where the file went and where the previous version was kept (if there was one).
pub struct Saved {
    pub path: PathBuf,
    pub backup: Option<PathBuf>,
}

/// An init file; one created by this write that holds secrets is readable by its owner only.
pub fn write_with_backup(path: &Path, config: &Value) -> std::io::Result<Saved> {
    let text = serde_json::to_string_pretty(config).map_err(std::io::Error::other)? + "\n";
    write_text_with_backup(path, &text, holds_secrets(config))
}

/// Whether an init file's JSON names an admin token or an API key.
fn holds_secrets(config: &Value) -> bool {
    let security = &config["security"];
    security["adminToken"].is_string() || security["apiKeys"].as_array().is_some_and(|keys| !keys.is_empty())
}

/// Keeps the current file as `<name>.bak`, then replaces it atomically and durably with `text`;
/// `secret`: a file created by this write is readable by its owner only.
pub fn write_text_with_backup(path: &Path, text: &str, secret: bool) -> std::io::Result<Saved> {
    let target = resolve_links(path)?;
    let existing = std::fs::metadata(&target).ok().filter(|m| m.is_file());
    let mode = existing.as_ref().map_or(if secret { 0o600 } else { 0o644 }, |m| m.permissions().mode() & 0o7777);
    let backup = match existing {
        Some(_) => {
            let backup = beside(&target, ".bak");
            std::fs::copy(&target, &backup)?;
            Some(backup)
        }
        None => None,
    };
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut tmp = tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(dir)?;
    tmp.as_file().set_permissions(std::fs::Permissions::from_mode(mode))?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(Saved { path: path.to_path_buf(), backup })
}

/// The file a (chain of) symlink(s) points at, so the link itself is kept; the path itself otherwise.
fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = current.parent().map_or(link.clone(), |dir| dir.join(&link));
            }
            _ => return Ok(current),
        }
    }
    Err(std::io::Error::other(format!("{}: too many levels of symbolic links", path.display())))
}

fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// The placeholder a secret is shown as: `***` and 12 hex digits keyed per process, so it says which
/// secret it stands for without revealing anything about it.
pub fn placeholder(secret: &str) -> String {
    static KEY: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    let tag = KEY.get_or_init(Default::default).hash_one(secret);
    format!("{REDACTED}{:012x}", tag & 0xffff_ffff_ffff)
}

/// Puts the stored secrets back in place of their placeholders in a submitted config. A placeholder
/// that stands for no stored secret is an error naming its key: deleting a key in an editor revokes
/// exactly that key, and a stale or forged placeholder never becomes a credential.
pub fn restore_redacted_secrets(submitted: &mut Value, current: &Config) -> Result<(), ConfigIssue> {
    super::nodes::restore(submitted, &current.nodes)?;
    let Some(security) = submitted.get_mut("security").and_then(Value::as_object_mut) else { return Ok(()) };
    let stale =
        |path: String| ConfigIssue::new(path, "stands for no stored secret: type the secret itself, or remove it");
    if let Some(given) = security.get("adminToken").and_then(Value::as_str).filter(|t| t.starts_with(REDACTED)) {
        let stored = current.security.admin_token.as_ref().filter(|t| placeholder(t) == given);
        let stored = stored.ok_or_else(|| stale("security.adminToken".into()))?;
        security.insert("adminToken".into(), Value::String(stored.clone()));
    }
    if let Some(keys) = security.get_mut("apiKeys").and_then(Value::as_array_mut) {
        for (i, key) in keys.iter_mut().enumerate() {
            let Some(given) = key.as_str().filter(|k| k.starts_with(REDACTED)) else { continue };
            let stored = current.security.api_keys.iter().find(|k| placeholder(k) == given);
            *key = Value::String(stored.ok_or_else(|| stale(format!("security.apiKeys[{i}]")))?.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn saving_keeps_the_previous_file_as_a_backup_and_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("llama-router.init.json");
        std::fs::write(&path, "{\"version\": \"old\"}").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let saved = write_with_backup(&path, &json!({"version": "new", "security": {"apiKeys": ["k"]}})).unwrap();
        assert_eq!(std::fs::read_to_string(saved.backup.unwrap()).unwrap(), "{\"version\": \"old\"}");
        assert!(std::fs::read_to_string(&path).unwrap().contains("\"new\""));
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().filter_map(|e| e.ok()).collect();
        assert_eq!(leftovers.len(), 2, "the file and its backup, no temp file");
    }

    #[test]
    fn a_new_file_with_secrets_is_private_and_a_symlink_is_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("new.json");
        write_with_backup(&secret, &json!({"security": {"adminToken": "s3cret-token"}})).unwrap();
        assert_eq!(std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777, 0o600);
        let real = dir.path().join("real.json");
        std::fs::write(&real, "{}").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        write_with_backup(&link, &json!({"version": "via link"})).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
        assert!(std::fs::read_to_string(&real).unwrap().contains("via link"));
    }

    #[test]
    fn redacted_secrets_are_restored_by_identity_and_a_stale_placeholder_is_an_error() {
        let mut current = Config::default();
        current.security.admin_token = Some("the-real-token".into());
        current.security.api_keys = vec!["sk-a".into(), "sk-b".into(), "sk-c".into()];
        let (a, c) = (placeholder("sk-a"), placeholder("sk-c"));
        assert_ne!(a, c);
        assert!(a.starts_with("***") && a.len() == 15);
        let token = placeholder("the-real-token");
        let mut submitted = json!({"security": {"adminToken": token, "apiKeys": [c, "sk-new", a]}});
        restore_redacted_secrets(&mut submitted, &current).unwrap();
        assert_eq!(submitted["security"]["adminToken"], "the-real-token");
        assert_eq!(submitted["security"]["apiKeys"], json!(["sk-c", "sk-new", "sk-a"]), "sk-b alone is gone");
        for forged in [json!({"apiKeys": ["sk-a", "***"]}), json!({"apiKeys": ["***000000000000"]})] {
            let mut submitted = json!({"security": forged});
            let issue = restore_redacted_secrets(&mut submitted, &current).unwrap_err();
            assert!(issue.path.starts_with("security.apiKeys["), "{issue}");
        }
        let mut no_token = json!({"security": {"adminToken": "***"}});
        assert_eq!(restore_redacted_secrets(&mut no_token, &current).unwrap_err().path, "security.adminToken");
    }

    #[test]
    fn a_new_file_is_private_only_when_it_names_a_token_or_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let mode = |name: &str, config: serde_json::Value| {
            let path = dir.path().join(name);
            write_with_backup(&path, &config).unwrap();
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777
        };
        assert_eq!(mode("plain.json", json!({"server": {"port": 3000}})), 0o644);
        assert_eq!(mode("no-keys.json", json!({"security": {"apiKeys": [], "adminToken": null}})), 0o644);
        assert_eq!(mode("key.json", json!({"security": {"apiKeys": ["sk-1"]}})), 0o600);
        assert_eq!(mode("token.json", json!({"security": {"adminToken": "s3cret-token"}})), 0o600);
    }

    #[test]
    fn a_bare_relative_file_name_is_written_in_the_working_directory() {
        // cargo runs tests in the package root; the name is unique to this process and removed at once.
        let name = format!(".save-test-{}.json", std::process::id());
        let result = write_text_with_backup(Path::new(&name), "{}\n", false);
        let written = std::fs::read_to_string(&name);
        let _ = std::fs::remove_file(&name);
        assert!(result.is_ok(), "{:?}", result.err());
        assert_eq!(written.unwrap(), "{}\n");
    }
}

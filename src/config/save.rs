//! Persisting an init file from the dashboard: keep the previous file as `<file>.bak`, write the new one
//! beside it and rename it into place, so a crash mid-write never leaves a half-written config.

use super::schema::Config;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Where the file went and where the previous version was kept (if there was one).
pub struct Saved {
    pub path: PathBuf,
    pub backup: Option<PathBuf>,
}

pub fn write_with_backup(path: &Path, config: &Value) -> std::io::Result<Saved> {
    let text = serde_json::to_string_pretty(config).map_err(std::io::Error::other)? + "\n";
    write_text_with_backup(path, &text)
}

/// Keeps the current file as `<name>.bak`, writes `<name>.tmp` and renames it into place.
pub fn write_text_with_backup(path: &Path, text: &str) -> std::io::Result<Saved> {
    let beside = |suffix: &str| {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(suffix);
        path.with_file_name(name)
    };
    let backup = if path.is_file() {
        let backup = beside(".bak");
        std::fs::copy(path, &backup)?;
        Some(backup)
    } else {
        None
    };
    let tmp = beside(".tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)?;
    Ok(Saved { path: path.to_path_buf(), backup })
}

/// `router:init:load` shows secrets as `"***"`; a config sent back with them keeps the current values.
pub fn restore_redacted_secrets(submitted: &mut Value, current: &Config) {
    let Some(security) = submitted.get_mut("security").and_then(Value::as_object_mut) else { return };
    if security.get("adminToken").and_then(Value::as_str) == Some("***") {
        security.insert("adminToken".into(), serde_json::json!(current.security.admin_token));
    }
    if let Some(keys) = security.get_mut("apiKeys").and_then(Value::as_array_mut) {
        for (i, key) in keys.iter_mut().enumerate() {
            if key.as_str() == Some("***")
                && let Some(existing) = current.security.api_keys.get(i)
            {
                *key = Value::String(existing.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn saving_keeps_the_previous_file_as_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("llama-router.init.json");
        std::fs::write(&path, "{\"version\": \"old\"}").unwrap();
        let saved = write_with_backup(&path, &json!({"version": "new"})).unwrap();
        assert_eq!(std::fs::read_to_string(saved.backup.unwrap()).unwrap(), "{\"version\": \"old\"}");
        assert!(std::fs::read_to_string(&path).unwrap().contains("\"new\""));
    }

    #[test]
    fn redacted_secrets_sent_back_keep_their_values() {
        let mut current = Config::default();
        current.security.admin_token = Some("the-real-token".into());
        current.security.api_keys = vec!["sk-a".into(), "sk-b".into()];
        let mut submitted = json!({"security": {"adminToken": "***", "apiKeys": ["***", "sk-new"]}});
        restore_redacted_secrets(&mut submitted, &current);
        assert_eq!(submitted["security"]["adminToken"], "the-real-token");
        assert_eq!(submitted["security"]["apiKeys"], json!(["sk-a", "sk-new"]));
    }
}

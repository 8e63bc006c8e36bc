//! `presets:get` / `presets:save`: the `--models-preset` INI file (`models.presetsFile`) edited from the
//! dashboard. A save checks the INI's shape (sections with plain names, `key = value` lines), keeps a
//! `.bak` backup, writes atomically and restarts a running router (after requests in flight) so it
//! reads the new presets. The file's path comes from the init file, never from the client. Each preset
//! is a llama-server command line (a `model` path, `log-file`, `slot-save-path`...), so saving needs the
//! admin token, like the keys that name programs and files.

use super::payload::Params;
use crate::app::AppState;
use crate::error::ApiError;
use serde_json::{Value, json};
use std::path::PathBuf;

const MAX_BYTES: usize = 1024 * 1024;

fn presets_path(state: &AppState) -> Result<PathBuf, ApiError> {
    state
        .config()
        .models
        .presets_file
        .clone()
        .map(PathBuf::from)
        .ok_or_else(|| ApiError::bad("models.presetsFile", "no presets file is configured (set models.presetsFile)"))
}

pub async fn get(state: &AppState) -> Result<Value, ApiError> {
    let path = presets_path(state)?;
    let content = match tokio::fs::read_to_string(&path).await {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(ApiError::Internal(format!("cannot read {}: {err}", path.display()))),
    };
    let editable = state.config().security.admin_token.is_some();
    Ok(json!({
        "path": path.display().to_string(),
        "content": content,
        "presets": section_names(&content),
        "editable": editable,
        "reason": (!editable).then_some(READ_ONLY),
    }))
}

const READ_ONLY: &str = "read-only without security.adminToken: each preset is a llama-server command line that \
     can name files to read and write, which is as good as a shell on this host";

pub async fn save(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    if state.config().security.admin_token.is_none() {
        return Err(ApiError::forbidden("content", READ_ONLY));
    }
    let writing = state.config_store.lock_writes().await;
    let path = presets_path(state)?;
    let content = p.opt_str("content", MAX_BYTES)?.ok_or_else(|| ApiError::bad("content", "is required"))?;
    if let Err((line, message)) = check(&content) {
        return Err(ApiError::bad("content", format!("line {line}: {message}")));
    }
    let target = path.clone();
    let text = content.clone();
    let saved = tokio::task::spawn_blocking(move || crate::config::write_text_with_backup(&target, &text, false))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(format!("cannot write {}: {e}", path.display())))?;
    drop(writing);
    tracing::info!(path = %path.display(), "presets saved");
    let restarted = state.router.in_service();
    if restarted {
        state.router.restart().await.map_err(|e| ApiError::Router(e.to_string()))?;
    }
    Ok(json!({
        "path": path.display().to_string(),
        "backup": saved.backup.map(|b| b.display().to_string()),
        "presets": section_names(&content),
        "routerRestarted": restarted,
    }))
}

fn section_names(content: &str) -> Vec<String> {
    content
        .lines()
        .filter_map(|l| l.trim().strip_prefix('[').and_then(|r| r.strip_suffix(']')))
        .map(|name| name.trim().to_string())
        .collect()
}

/// The INI shape llama-server reads: `[name]` sections, `key = value` lines, `;` or `#` comments.
fn check(content: &str) -> Result<(), (usize, String)> {
    let mut seen: Vec<&str> = Vec::new();
    for (i, raw) in content.lines().enumerate() {
        let line = raw.trim();
        let n = i + 1;
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some(inner) = line.strip_prefix('[') {
            let name = inner.strip_suffix(']').ok_or((n, "a section header must end with ']'".to_string()))?.trim();
            if !crate::config::is_plain_name(name) {
                return Err((n, format!("'{name}' is not a plain model name")));
            }
            if seen.contains(&name) {
                return Err((n, format!("section [{name}] appears twice")));
            }
            seen.push(name);
            continue;
        }
        let Some((key, _)) = line.split_once('=') else {
            return Err((n, "expected 'key = value', '[section]' or a comment".into()));
        };
        if key.trim().is_empty() || key.trim().contains(char::is_whitespace) {
            return Err((n, format!("'{}' is not a key", key.trim())));
        }
        if seen.is_empty() && key.trim() != "version" {
            return Err((n, "a setting must follow a [section]".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ini_shape_is_checked_with_line_numbers() {
        assert!(
            check("; presets\n[smol-embed]\nmodel = /m/smol.gguf\nembeddings = true\n\n[big]\nctx-size = 8192\n")
                .is_ok()
        );
        assert_eq!(check("[a]\nmodel /m/a.gguf\n").unwrap_err().0, 2);
        assert_eq!(check("[a\n").unwrap_err().0, 1);
        assert_eq!(check("[../x]\n").unwrap_err().0, 1);
        assert_eq!(check("[a]\n[a]\n").unwrap_err().0, 2);
        assert_eq!(check("model = x\n").unwrap_err().0, 1);
        assert_eq!(section_names("[a]\nk = v\n[ b ]\n"), ["a", "b"]);
    }
}

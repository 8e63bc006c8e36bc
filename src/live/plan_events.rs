//! `models:plan` (what loading a model would do, changing nothing) and `models:delete` (a model's file,
//! inside `models.directory` or the Hugging Face cache only, never while it is loaded).

use super::payload::Params;
use crate::app::AppState;
use crate::backends::{discovery, persist};
use crate::config::ModelOrigin;
use crate::error::ApiError;
use crate::models::{Details, ModelStatus, ModelView};
use serde_json::{Value, json};
use std::path::PathBuf;

pub async fn models_plan(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let model = super::handlers::find_model(state, p)?;
    Ok(json!(state.models.plan(&model.id).await?))
}

pub async fn models_delete(state: &AppState, p: &Params) -> Result<Value, ApiError> {
    let model = super::handlers::find_model(state, p)?;
    if !matches!(model.live.status, ModelStatus::Unloaded | ModelStatus::Error) {
        return Err(ApiError::Conflict(format!(
            "'{}' is {}; unload it before deleting its file",
            model.id,
            model.live.status.llamacpp()
        )));
    }
    let path = file_of(&model)?;
    let roots: Vec<PathBuf> =
        std::iter::once(PathBuf::from(&state.config().models.directory)).chain(discovery::hf_hub_dir()).collect();
    if !crate::config::inside_roots(&path, &roots) {
        return Err(ApiError::bad("id", "its file is not inside models.directory or the Hugging Face cache"));
    }
    let target = path.clone();
    let removed = tokio::task::spawn_blocking(move || crate::catalog::remove::remove_model(&target))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(format!("cannot delete {}: {e}", path.display())))?;
    tracing::info!(model = %model.id, path = %path.display(), bytes = removed.bytes, "model file deleted");
    forget_manual(state, &model).await?;
    state.models.scan().await?;
    Ok(json!({
        "id": model.id,
        "path": path.display().to_string(),
        "bytes": removed.bytes,
        "removed": removed.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "deleted": true,
    }))
}

/// The model's file as listed; a preset has none.
fn file_of(model: &ModelView) -> Result<PathBuf, ApiError> {
    match &model.details {
        Details::File(f) => Ok(PathBuf::from(&f.path)),
        Details::Backend(b) => Ok(PathBuf::from(&b.path)),
        Details::Preset(_) => Err(ApiError::bad("id", "is a preset of the router: it has no file of its own")),
    }
}

/// A `manual` own backend stays in `backends.models` until removed: its file is gone, so it goes too
/// (`auto` ones follow their files by themselves).
async fn forget_manual(state: &AppState, model: &ModelView) -> Result<(), ApiError> {
    let is_manual = matches!(&model.details, Details::Backend(b) if b.state == ModelOrigin::Manual);
    if !is_manual {
        return Ok(());
    }
    persist::update_models(&state.config_store, false, |current| {
        let mut models = current.backends.models.clone();
        models.retain(|m| m.name != model.id);
        Ok::<_, ApiError>(Some(models))
    })
    .await?;
    Ok(())
}

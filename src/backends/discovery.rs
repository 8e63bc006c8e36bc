//! Where backend models come from besides the config: the Hugging Face cache (`auto` models that come and
//! go with their files) and imported directories (`manual` models, never removed automatically). Both pair
//! an `mmproj*` file with the models beside it, and keep names unique.

use crate::catalog;
use crate::config::{BackendModel, ModelOrigin, is_plain_name};
use std::path::{Path, PathBuf};

/// `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
pub fn hf_hub_dir() -> Option<PathBuf> {
    let env = |key: &str| std::env::var_os(key).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("HF_HUB_CACHE")
        .or_else(|| env("HF_HOME").map(|h| h.join("hub")))
        .or_else(|| env("HOME").map(|h| h.join(".cache/huggingface/hub")))
}

/// Where model files may come from without the admin token: `models.directory`, the Hugging Face cache
/// and `backends.importRoots`.
pub fn roots(config: &crate::config::Config) -> Vec<PathBuf> {
    std::iter::once(PathBuf::from(&config.models.directory))
        .chain(hf_hub_dir())
        .chain(config.backends.import_roots.iter().map(PathBuf::from))
        .collect()
}

/// Blocking: the models of every repository in a Hugging Face cache (`models--user--repo`), repository by
/// repository so that the same file name in two repositories gives two models.
pub fn found_in_hub(hub: &Path) -> std::io::Result<Vec<BackendModel>> {
    let mut repos: Vec<PathBuf> = std::fs::read_dir(hub)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("models--")))
        .collect();
    repos.sort();
    let mut all = Vec::new();
    for repo in repos {
        all.extend(found_in(&repo, ModelOrigin::Auto)?);
    }
    Ok(all)
}

/// Blocking: every model file under `dir` as a backend model of the given origin.
pub fn found_in(dir: &Path, state: ModelOrigin) -> std::io::Result<Vec<BackendModel>> {
    Ok(catalog::scan(dir)?
        .into_iter()
        .filter(|f| is_plain_name(&f.id))
        .map(|f| BackendModel {
            name: f.id,
            path: f.path.to_string_lossy().into_owned(),
            state,
            group: None,
            spawn: None,
            ttl: None,
            aliases: Vec::new(),
            mmproj: f.projector.map(|p| p.to_string_lossy().into_owned()),
            pinned: false,
        })
        .collect())
}

/// The `auto` models follow `discovered`: added, kept, or dropped with their files; `manual` ones stay.
/// `None` when nothing changed.
pub fn merge_discovered(current: &[BackendModel], discovered: Vec<BackendModel>) -> Option<Vec<BackendModel>> {
    let mut next: Vec<BackendModel> = current
        .iter()
        .filter(|m| m.state == ModelOrigin::Manual || discovered.iter().any(|d| d.path == m.path))
        .cloned()
        .collect();
    let added = add_new(&mut next, discovered);
    (added.len() + current.len() != next.len() || !added.is_empty()).then_some(next)
}

/// Adds the models of `found` whose files are not listed yet, as `manual`; the names added.
pub fn merge_imported(current: &mut Vec<BackendModel>, found: Vec<BackendModel>) -> Vec<String> {
    let found = found.into_iter().map(|m| BackendModel { state: ModelOrigin::Manual, ..m }).collect();
    add_new(current, found)
}

fn add_new(list: &mut Vec<BackendModel>, found: Vec<BackendModel>) -> Vec<String> {
    let mut added = Vec::new();
    for mut model in found {
        if list.iter().any(|m| m.path == model.path) {
            continue;
        }
        model.name = unique_name(list, &model.name);
        added.push(model.name.clone());
        list.push(model);
    }
    added
}

fn unique_name(list: &[BackendModel], name: &str) -> String {
    let taken = |n: &str| list.iter().any(|m| m.answers_to(n));
    if !taken(name) {
        return name.to_string();
    }
    (2..).map(|i| format!("{name}-{i}")).find(|n| !taken(n)).unwrap_or_else(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, path: &str, state: ModelOrigin) -> BackendModel {
        BackendModel {
            name: name.into(),
            path: path.into(),
            state,
            group: None,
            spawn: None,
            ttl: None,
            aliases: Vec::new(),
            mmproj: None,
            pinned: false,
        }
    }

    #[test]
    fn auto_models_come_and_go_with_their_files_and_manual_ones_stay() {
        let current = vec![model("a", "/hf/a.gguf", ModelOrigin::Auto), model("m", "/x/m.gguf", ModelOrigin::Manual)];
        let next = merge_discovered(&current, vec![model("b", "/hf/b.gguf", ModelOrigin::Auto)]).unwrap();
        let names: Vec<&str> = next.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["m", "b"]);
        assert!(merge_discovered(&next, vec![model("b", "/hf/b.gguf", ModelOrigin::Auto)]).is_none(), "no change");
    }

    #[test]
    fn imports_are_manual_skip_known_files_and_get_unique_names() {
        let mut list = vec![model("a", "/x/a.gguf", ModelOrigin::Auto)];
        let added = merge_imported(
            &mut list,
            vec![model("a", "/y/a.gguf", ModelOrigin::Auto), model("a", "/x/a.gguf", ModelOrigin::Auto)],
        );
        assert_eq!(added, ["a-2"]);
        assert_eq!(list[1].state, ModelOrigin::Manual);
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn a_hub_shaped_directory_yields_linked_snapshot_files_with_their_projector() {
        let hub = tempfile::tempdir().unwrap();
        let blobs = hub.path().join("models--org--vision/blobs");
        let snap = hub.path().join("models--org--vision/snapshots/abc123");
        std::fs::create_dir_all(&blobs).unwrap();
        std::fs::create_dir_all(&snap).unwrap();
        for (blob, name) in [("b1", "vision-Q4_K_M.gguf"), ("b2", "mmproj-vision-f16.gguf")] {
            std::fs::write(blobs.join(blob), b"GGUF").unwrap();
            std::os::unix::fs::symlink(blobs.join(blob), snap.join(name)).unwrap();
        }
        let found = found_in_hub(hub.path()).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].name, "vision-Q4_K_M");
        assert!(found[0].mmproj.as_deref().is_some_and(|p| p.ends_with("mmproj-vision-f16.gguf")));
    }
}

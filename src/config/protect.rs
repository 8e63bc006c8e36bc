//! Keys that name a program or a file the server runs, reads or writes, and the roots model files may
//! come from (a root that could be moved would make the roots meaningless). Changing one is as good as a
//! shell on the host, so without `security.adminToken` they can only be changed in the init file itself
//! (by someone who already has a shell), never over the socket or `/admin`. With a token set, every
//! socket and admin request has presented it, so a change is allowed.

use super::backends::BackendModel;
use super::schema::Config;
use super::validate::ConfigIssue;
use serde_json::{Value, json};
use std::path::{Component, Path, PathBuf};

/// The protected keys as the Configuration page names them (`[]`: every element of the list).
pub const PROTECTED_KEYS: [&str; 9] = [
    "router.serverPath",
    "models.directory",
    "backends.defaultSpawn.command",
    "backends.models[].spawn.command",
    "backends.models[].path",
    "backends.models[].mmproj",
    "models.presetsFile",
    "logging.logFile",
    "backends.importRoots",
];

/// Shown beside the protected keys when no admin token is set.
pub const WHY_READ_ONLY: &str = "read-only without security.adminToken: it names a program or file the server runs, \
     reads or writes, which is as good as a shell on this host; set security.adminToken in the init file (and \
     restart) to change it from here";

/// What `router:init:load` tells an editor about the protected keys.
pub fn protection(config: &Config) -> Value {
    let editable = config.security.admin_token.is_some();
    json!({"editable": editable, "reason": (!editable).then_some(WHY_READ_ONLY), "keys": PROTECTED_KEYS})
}

/// The protected keys that differ between `current` and `next`. Model files (`path`, `mmproj`) may
/// still be added or moved inside `roots` (the models directory, the Hugging Face cache and
/// `backends.importRoots`), as import and discovery do.
pub fn protected_changes(current: &Config, next: &Config, roots: &[PathBuf]) -> Vec<ConfigIssue> {
    let mut issues = Vec::new();
    let mut changed = |path: String, what: &str| {
        issues.push(ConfigIssue::new(path, format!("{what} cannot change: {WHY_READ_ONLY}")));
    };
    if current.router.server_path != next.router.server_path {
        changed("router.serverPath".into(), "the llama-server program");
    }
    if current.backends.default_spawn.command != next.backends.default_spawn.command {
        changed("backends.defaultSpawn.command".into(), "the backend command");
    }
    if current.models.directory != next.models.directory {
        changed("models.directory".into(), "the models directory (a root model files may come from)");
    }
    if current.models.presets_file != next.models.presets_file {
        changed("models.presetsFile".into(), "the presets file");
    }
    if current.logging.log_file != next.logging.log_file {
        changed("logging.logFile".into(), "the log file");
    }
    if current.backends.import_roots != next.backends.import_roots {
        changed("backends.importRoots".into(), "the import roots");
    }
    for (i, model) in next.backends.models.iter().enumerate() {
        let before = current.backends.models.iter().find(|m| m.name == model.name);
        issues.extend(model_changes(i, before, model, roots));
    }
    issues.extend(super::nodes::protected_changes(&current.nodes, &next.nodes));
    issues
}

fn model_changes(i: usize, before: Option<&BackendModel>, model: &BackendModel, roots: &[PathBuf]) -> Vec<ConfigIssue> {
    let at = format!("backends.models[{i}]");
    let mut issues = Vec::new();
    let command = |m: &BackendModel| m.spawn.as_ref().map(|s| s.command.clone());
    if before.map_or(model.spawn.is_some(), |b| command(b) != command(model)) {
        let message = format!("the command of '{}' cannot change: {WHY_READ_ONLY}", model.name);
        issues.push(ConfigIssue::new(format!("{at}.spawn.command"), message));
    }
    let files = [
        ("path", Some(model.path.as_str()), before.map(|b| b.path.as_str())),
        ("mmproj", model.mmproj.as_deref(), before.and_then(|b| b.mmproj.as_deref())),
    ];
    for (key, file, old) in files {
        let Some(file) = file.filter(|f| Some(*f) != old) else { continue };
        if !inside_roots(Path::new(file), roots) {
            let message = format!(
                "'{file}' is outside models.directory, the Hugging Face cache and backends.importRoots; {WHY_READ_ONLY}"
            );
            issues.push(ConfigIssue::new(format!("{at}.{key}"), message));
        }
    }
    issues
}

/// Whether `path` lies inside one of `roots`, symlinks resolved where the file exists; a path that does
/// not exist yet must not climb with `..`.
pub fn inside_roots(path: &Path, roots: &[PathBuf]) -> bool {
    let resolved = match std::fs::canonicalize(path) {
        Ok(p) => p,
        Err(_) if path.components().any(|c| c == Component::ParentDir) => return false,
        Err(_) => match std::path::absolute(path) {
            Ok(p) => p,
            Err(_) => return false,
        },
    };
    roots
        .iter()
        .filter_map(|root| std::fs::canonicalize(root).or_else(|_| std::path::absolute(root)).ok())
        .any(|root| resolved.starts_with(root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ModelOrigin, SpawnConfig};

    fn model(name: &str, path: &str, command: Option<&[&str]>) -> BackendModel {
        BackendModel {
            name: name.into(),
            path: path.into(),
            state: ModelOrigin::Manual,
            group: None,
            spawn: command
                .map(|c| SpawnConfig { command: c.iter().map(|s| s.to_string()).collect(), ..Default::default() }),
            ttl: None,
            aliases: Vec::new(),
            mmproj: None,
            pinned: false,
        }
    }

    fn paths(issues: &[ConfigIssue]) -> Vec<&str> {
        issues.iter().map(|i| i.path.as_str()).collect()
    }

    #[test]
    fn every_program_and_file_key_is_caught_and_other_keys_are_not() {
        let current = Config::default();
        let mut next = current.clone();
        next.performance.context_size = 8192;
        next.security.cors_origins = vec!["https://a.example".into()];
        assert!(protected_changes(&current, &next, &[]).is_empty());
        next.router.server_path = Some("/bin/sh".into());
        next.backends.default_spawn.command = vec!["/bin/sh".into(), "-c".into(), "id".into()];
        next.models.presets_file = Some("/etc/x.ini".into());
        next.logging.log_file = Some("/root/.bashrc".into());
        next.backends.import_roots = vec!["/".into()];
        next.models.directory = "/".into();
        let found = protected_changes(&current, &next, &[]);
        assert_eq!(
            paths(&found),
            [
                "router.serverPath",
                "backends.defaultSpawn.command",
                "models.directory",
                "models.presetsFile",
                "logging.logFile",
                "backends.importRoots"
            ]
        );
        assert!(found[0].message.contains("security.adminToken"));
    }

    #[test]
    fn a_model_may_move_inside_the_roots_but_not_take_a_command_or_a_file_outside() {
        let root = tempfile::tempdir().unwrap();
        let inside = root.path().join("a.gguf");
        std::fs::write(&inside, b"GGUF").unwrap();
        let inside = inside.display().to_string();
        let roots = [root.path().to_path_buf()];
        let mut current = Config::default();
        current.backends.models = vec![model("kept", "/srv/kept.gguf", Some(&["llama-server"]))];
        let mut next = current.clone();
        next.backends.models.push(model("new", &inside, None));
        assert!(protected_changes(&current, &next, &roots).is_empty(), "an import-like addition");
        next.backends.models[0].spawn = Some(SpawnConfig { command: vec!["/bin/sh".into()], ..Default::default() });
        next.backends.models.push(model("evil", "/etc/shadow", Some(&["/bin/sh", "-c", "id"])));
        let climbing = format!("{}/../../etc/passwd", root.path().display());
        next.backends.models.push(model("climb", &climbing, None));
        assert_eq!(
            paths(&protected_changes(&current, &next, &roots)),
            [
                "backends.models[0].spawn.command",
                "backends.models[2].spawn.command",
                "backends.models[2].path",
                "backends.models[3].path"
            ]
        );
        next.backends.models.truncate(1);
        next.backends.models[0] = current.backends.models[0].clone();
        assert!(protected_changes(&current, &next, &roots).is_empty(), "a model kept as it was, outside the roots");
    }

    #[test]
    fn editors_are_told_why_the_protected_keys_are_read_only_until_a_token_is_set() {
        let mut config = Config::default();
        let shown = protection(&config);
        assert_eq!(shown["editable"], false);
        assert_eq!(shown["reason"], WHY_READ_ONLY);
        assert_eq!(shown["keys"], serde_json::json!(PROTECTED_KEYS));
        config.security.admin_token = Some("a-long-admin-token".into());
        let shown = protection(&config);
        assert_eq!((shown["editable"].as_bool(), shown["reason"].is_null()), (Some(true), true));
    }

    #[test]
    fn a_file_that_does_not_exist_yet_is_inside_a_root_unless_it_climbs_out() {
        let root = tempfile::tempdir().unwrap();
        let roots = [root.path().to_path_buf()];
        assert!(inside_roots(&root.path().join("new/model.gguf"), &roots));
        assert!(!inside_roots(&root.path().join("../elsewhere.gguf"), &roots), "not normalized, so refused");
        assert!(!inside_roots(&root.path().join("new/../../elsewhere.gguf"), &roots));
        assert!(!inside_roots(Path::new("/nonexistent-root-sibling/model.gguf"), &roots));
        assert!(!inside_roots(&root.path().join("new/model.gguf"), &[]), "no roots, nothing is inside");
    }
}

//! Splits the router's merged output per model: llama-server logs "spawning server instance with
//! name=ID on port P" and then prefixes each child line with "[P]".

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Lines kept per model, for the history of a model whose process died.
const RECENT_LINES: usize = 5;

#[derive(Clone, Default)]
pub struct ModelPorts {
    ports: Arc<Mutex<HashMap<u16, String>>>,
    /// Each model's last lines (children of the router only: a backend's own tail keeps its lines).
    recent: Arc<Mutex<HashMap<String, VecDeque<String>>>>,
    /// A backend's child serves one model: every line is that model's.
    owner: Option<Arc<str>>,
}

const SPAWN_MARK: &str = "spawning server instance with name=";

impl ModelPorts {
    /// The model a line belongs to (learning new port mappings on the way) and the line without its prefix.
    pub fn owned_by(model: &str) -> Self {
        Self { owner: Some(Arc::from(model)), ..Self::default() }
    }

    pub fn attribute<'a>(&self, line: &'a str) -> (Option<String>, &'a str) {
        if let Some(owner) = &self.owner {
            return (Some(owner.to_string()), line);
        }
        if let Some((model, port)) = parse_spawn(line)
            && let Ok(mut ports) = self.ports.lock()
        {
            ports.insert(port, model.to_string());
            return (Some(model.to_string()), line);
        }
        let Some((port, rest)) = parse_prefix(line) else { return (None, line) };
        let model = self.ports.lock().ok().and_then(|ports| ports.get(&port).cloned());
        if let Some(model) = &model {
            self.remember(model, rest);
        }
        (model, rest)
    }

    /// The last lines a model's process wrote (oldest first).
    pub fn last_lines(&self, model: &str) -> Vec<String> {
        let recent = self.recent.lock().ok();
        recent.and_then(|r| r.get(model).map(|lines| lines.iter().cloned().collect())).unwrap_or_default()
    }

    fn remember(&self, model: &str, line: &str) {
        if let Ok(mut recent) = self.recent.lock() {
            let lines = recent.entry(model.to_string()).or_default();
            if lines.len() == RECENT_LINES {
                lines.pop_front();
            }
            lines.push_back(line.to_string());
        }
    }
}

fn parse_spawn(line: &str) -> Option<(&str, u16)> {
    let rest = &line[line.find(SPAWN_MARK)? + SPAWN_MARK.len()..];
    let (model, after) = rest.split_once(" on port ")?;
    Some((model, after.trim().parse().ok()?))
}

fn parse_prefix(line: &str) -> Option<(u16, &str)> {
    let inner = line.strip_prefix('[')?;
    let (port, rest) = inner.split_once("] ")?;
    Some((port.parse().ok()?, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_lines_are_attributed_to_the_model_spawned_on_their_port() {
        let ports = ModelPorts::default();
        let spawn = "0.02.028 I srv load: spawning server instance with name=SmolLM2-135M on port 55239";
        assert_eq!(ports.attribute(spawn).0.as_deref(), Some("SmolLM2-135M"));
        let (model, rest) = ports.attribute("[55239] 0.00.491 I srv llama_server: model loaded");
        assert_eq!(model.as_deref(), Some("SmolLM2-135M"));
        assert_eq!(rest, "0.00.491 I srv llama_server: model loaded");
        assert_eq!(ports.attribute("[1234] unknown port").0, None);
        assert_eq!(ports.attribute("0.00.004 I srv router line").0, None);
    }

    #[test]
    fn each_model_keeps_its_last_lines() {
        let ports = ModelPorts::default();
        ports.attribute("I srv load: spawning server instance with name=m on port 7000");
        for i in 0..8 {
            ports.attribute(&format!("[7000] line {i}"));
        }
        assert_eq!(ports.last_lines("m"), ["line 3", "line 4", "line 5", "line 6", "line 7"]);
        assert!(ports.last_lines("other").is_empty());
    }
}

//! A TTL a request asked for (Ollama's `keep_alive`, a `/v1` request's `ttl` as LM Studio takes it): it
//! stands in for the model's own TTL, for both kinds, until the model unloads (or someone sets its TTL on
//! the Models page); a request without one leaves it as it is. Seconds as the client gave them: positive,
//! that many seconds idle; 0, unloaded as soon as its requests are done (the idle check runs each
//! second); negative, never unloaded for idleness.

use super::Models;
use std::collections::HashMap;
use std::sync::RwLock;

/// The TTLs asked for, by model id, in our TTL vocabulary (seconds; 0 never).
#[derive(Default)]
pub struct Asked(RwLock<HashMap<String, i64>>);

impl Asked {
    pub fn get(&self, id: &str) -> Option<i64> {
        self.0.read().ok()?.get(id).copied()
    }

    pub fn forget(&self, id: &str) {
        if let Ok(mut map) = self.0.write() {
            map.remove(id);
        }
    }

    fn set(&self, id: &str, ttl_sec: i64) {
        if let Ok(mut map) = self.0.write() {
            map.insert(id.to_string(), ttl_sec);
        }
    }
}

/// A client's seconds as our TTL: 0 (unload when done) becomes the shortest TTL there is, 1 s, since our
/// TTL 0 means never; a negative one becomes 0.
pub fn ttl_of(secs: f64) -> i64 {
    if secs < 0.0 { 0 } else { (secs.ceil() as i64).max(1) }
}

impl Models {
    /// A request for `id` asked to keep it loaded for `secs` idle seconds (see the module's rules); the new
    /// deadline is announced at once.
    pub fn keep_alive(&self, id: &str, secs: f64) {
        self.0.asked.set(id, ttl_of(secs));
        self.publish_status(id);
    }

    /// Back to the model's own TTL (it was set on the Models page).
    pub fn forget_keep_alive(&self, id: &str) {
        self.0.asked.forget(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clients_seconds_map_to_our_ttl() {
        assert_eq!(ttl_of(600.0), 600);
        assert_eq!(ttl_of(1.2), 2);
        assert_eq!(ttl_of(0.0), 1, "unload when done");
        assert_eq!(ttl_of(-1.0), 0, "never");
    }
}

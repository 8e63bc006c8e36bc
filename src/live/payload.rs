//! Reading request payloads: every accessor names the field it rejects.

use crate::error::{ApiError, json_kind as kind};
use serde_json::{Map, Value};

/// A request payload: a JSON object (a missing or `null` payload reads as `{}`).
pub struct Params(Map<String, Value>);

impl Params {
    pub fn from_payload(payload: Option<Value>) -> Result<Self, ApiError> {
        match payload {
            None | Some(Value::Null) => Ok(Self(Map::new())),
            Some(Value::Object(map)) => Ok(Self(map)),
            Some(other) => Err(ApiError::bad("payload", format!("must be an object, got {}", kind(&other)))),
        }
    }

    /// The echoable request id, when it is a string or a number.
    pub fn request_id(&self) -> Option<&Value> {
        self.0.get("requestId").filter(|v| v.is_string() || v.is_number())
    }

    fn present(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }

    pub fn opt_i64(&self, field: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        let Some(v) = self.present(field) else {
            return Ok(None);
        };
        let n = v.as_i64().ok_or_else(|| ApiError::bad(field, format!("must be an integer, got {}", kind(v))))?;
        if n < min || n > max {
            return Err(ApiError::bad(field, format!("must be between {min} and {max}, got {n}")));
        }
        Ok(Some(n))
    }

    pub fn opt_str(&self, field: &str, max_len: usize) -> Result<Option<String>, ApiError> {
        let Some(v) = self.present(field) else {
            return Ok(None);
        };
        let s = v.as_str().ok_or_else(|| ApiError::bad(field, format!("must be a string, got {}", kind(v))))?;
        if s.len() > max_len {
            return Err(ApiError::bad(field, format!("must be at most {max_len} characters")));
        }
        Ok(Some(s.to_string()))
    }

    /// A list of strings (absent: empty), at most `max_items` of at most `max_len` characters each.
    pub fn opt_str_list(&self, field: &str, max_items: usize, max_len: usize) -> Result<Vec<String>, ApiError> {
        let Some(v) = self.present(field) else {
            return Ok(Vec::new());
        };
        let items = v.as_array().ok_or_else(|| ApiError::bad(field, format!("must be a list, got {}", kind(v))))?;
        if items.len() > max_items {
            return Err(ApiError::bad(field, format!("must have at most {max_items} items")));
        }
        items
            .iter()
            .map(|item| match item.as_str() {
                Some(s) if s.len() <= max_len => Ok(s.to_string()),
                Some(_) => Err(ApiError::bad(field, format!("items must be at most {max_len} characters"))),
                None => Err(ApiError::bad(field, format!("items must be strings, got {}", kind(item)))),
            })
            .collect()
    }

    pub fn one_of(&self, field: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        let Some(s) = self.opt_str(field, 64)? else {
            return Ok(None);
        };
        if allowed.contains(&s.as_str()) {
            Ok(Some(s))
        } else {
            Err(ApiError::bad(field, format!("must be one of {}, got '{s}'", allowed.join(", "))))
        }
    }

    pub fn required_object(&self, field: &str) -> Result<&Map<String, Value>, ApiError> {
        match self.present(field) {
            None => Err(ApiError::bad(field, "is required")),
            Some(Value::Object(map)) => Ok(map),
            Some(other) => Err(ApiError::bad(field, format!("must be an object, got {}", kind(other)))),
        }
    }
}

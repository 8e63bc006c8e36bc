//! Token counts and timings read from what llama-server sent back: the `usage` and `timings` objects of a
//! JSON body or of the last SSE events. Only a bounded head and tail of the body are kept.

use serde_json::Value;

const HEAD: usize = 16 * 1024;
const TAIL: usize = 64 * 1024;

/// The first and last bytes of a response body.
#[derive(Default)]
pub struct BodySample {
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl BodySample {
    pub fn push(&mut self, chunk: &[u8]) {
        if self.head.len() < HEAD {
            let take = chunk.len().min(HEAD - self.head.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.tail.extend_from_slice(chunk);
        if self.tail.len() > 2 * TAIL {
            self.tail.drain(..self.tail.len() - TAIL);
        }
    }

    /// Whether an SSE body ended with OpenAI's `data: [DONE]`.
    pub fn ends_with_done(&self) -> bool {
        let end = &self.tail[self.tail.len().saturating_sub(64)..];
        String::from_utf8_lossy(end).trim_end().ends_with("[DONE]")
    }

    /// The `error.message` of an error body, if the body is one.
    pub fn error_message(&self) -> Option<String> {
        let error = last_object(&self.head, b"\"error\":")?;
        Some(error["message"].as_str().unwrap_or("no message").to_string())
    }

    pub fn usage(&self) -> Usage {
        let usage = last_object(&self.tail, b"\"usage\":").or_else(|| last_object(&self.head, b"\"usage\":"));
        let timings = last_object(&self.tail, b"\"timings\":").or_else(|| last_object(&self.head, b"\"timings\":"));
        Usage::from_parts(usage.as_ref(), timings.as_ref())
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Usage {
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    /// llama-server's own prompt processing and generation times.
    pub prompt_ms: Option<f64>,
    pub predicted_ms: Option<f64>,
    pub tokens_per_second: Option<f64>,
}

impl Usage {
    fn from_parts(usage: Option<&Value>, timings: Option<&Value>) -> Self {
        let u = |k: &str| usage.and_then(|u| u[k].as_i64());
        let t = |k: &str| timings.and_then(|t| t[k].as_f64());
        Self {
            prompt_tokens: u("prompt_tokens").or_else(|| t("prompt_n").map(|v| v as i64)),
            completion_tokens: u("completion_tokens").or_else(|| t("predicted_n").map(|v| v as i64)),
            prompt_ms: t("prompt_ms"),
            predicted_ms: t("predicted_ms"),
            tokens_per_second: t("predicted_per_second").filter(|v| v.is_finite()),
        }
    }
}

/// Parses the JSON object that follows the last occurrence of `key` (a quoted key and its colon).
/// A quoted key cannot occur inside a JSON string (quotes there are escaped), so a match is a real key.
fn last_object(bytes: &[u8], key: &[u8]) -> Option<Value> {
    let mut end = bytes.len();
    while let Some(at) = find_last(&bytes[..end], key) {
        let rest = &bytes[at + key.len()..];
        let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
        if let Some(Ok(value)) = serde_json::Deserializer::from_slice(&rest[start..]).into_iter::<Value>().next()
            && value.is_object()
        {
            return Some(value);
        }
        end = at;
    }
    None
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_body_gives_usage_and_timings() {
        let mut s = BodySample::default();
        s.push(br#"{"choices":[{"message":{"content":"say \"usage\":{} now"}}],"usage":{"completion_tokens":7,"#);
        s.push(br#""prompt_tokens":12},"timings":{"prompt_n":12,"prompt_ms":40.5,"predicted_n":7,"predicted_ms":70,"predicted_per_second":100.0}}"#);
        let u = s.usage();
        assert_eq!((u.prompt_tokens, u.completion_tokens), (Some(12), Some(7)));
        assert_eq!((u.prompt_ms, u.predicted_ms, u.tokens_per_second), (Some(40.5), Some(70.0), Some(100.0)));
    }

    #[test]
    fn a_stream_uses_its_last_events_and_timings_stand_in_for_usage() {
        let mut s = BodySample::default();
        for _ in 0..5000 {
            s.push(b"data: {\"choices\":[{\"delta\":{\"content\":\"tok\"}}]}\n\n");
        }
        s.push(b"data: {\"choices\":[],\"timings\":{\"prompt_n\":3,\"predicted_n\":5000}}\n\ndata: [DONE]\n\n");
        let u = s.usage();
        assert_eq!((u.prompt_tokens, u.completion_tokens), (Some(3), Some(5000)));
        assert!(s.ends_with_done());
    }

    #[test]
    fn a_cut_stream_has_no_done_and_no_usage() {
        let mut s = BodySample::default();
        s.push(b"data: {\"choices\":[{\"delta\":{\"content\":\"to");
        assert!(!s.ends_with_done());
        assert_eq!(s.usage(), Usage::default());
    }
}

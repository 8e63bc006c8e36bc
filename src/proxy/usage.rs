//! Token counts and timings read from what llama-server sent back: the `usage` and `timings` objects of a
//! JSON body or of the last SSE events. Only a bounded head and tail of the body are kept.

use serde::Deserialize;
use serde::de::DeserializeOwned;

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
        let error: ErrorFields = last_object(&self.head, b"\"error\":")?;
        Some(error.message.unwrap_or_else(|| "no message".into()))
    }

    pub fn usage(&self) -> Usage {
        let usage = last_object(&self.tail, b"\"usage\":").or_else(|| last_object(&self.head, b"\"usage\":"));
        let timings = last_object(&self.tail, b"\"timings\":").or_else(|| last_object(&self.head, b"\"timings\":"));
        Usage::from_parts(usage.unwrap_or_default(), timings.unwrap_or_default())
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

/// The fields read from an `error` object; the others are skipped unread.
#[derive(Deserialize)]
struct ErrorFields {
    message: Option<String>,
}

/// OpenAI's `usage`. A field of another type is taken as absent.
#[derive(Deserialize, Default)]
struct UsageFields {
    #[serde(default, deserialize_with = "lenient")]
    prompt_tokens: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    completion_tokens: Option<i64>,
}

/// llama-server's `timings`.
#[derive(Deserialize, Default)]
struct TimingsFields {
    #[serde(default, deserialize_with = "lenient")]
    prompt_n: Option<f64>,
    #[serde(default, deserialize_with = "lenient")]
    predicted_n: Option<f64>,
    #[serde(default, deserialize_with = "lenient")]
    prompt_ms: Option<f64>,
    #[serde(default, deserialize_with = "lenient")]
    predicted_ms: Option<f64>,
    #[serde(default, deserialize_with = "lenient")]
    predicted_per_second: Option<f64>,
}

/// A number of the wanted type, else `None` (`null`, a string, or a float where an integer belongs), as the
/// `as_i64` / `as_f64` reads before it.
fn lenient<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient<T> {
        Wanted(T),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Lenient::<T>::deserialize(d)? {
        Lenient::Wanted(value) => Some(value),
        Lenient::Other(_) => None,
    })
}

impl Usage {
    fn from_parts(usage: UsageFields, timings: TimingsFields) -> Self {
        Self {
            prompt_tokens: usage.prompt_tokens.or(timings.prompt_n.map(|v| v as i64)),
            completion_tokens: usage.completion_tokens.or(timings.predicted_n.map(|v| v as i64)),
            prompt_ms: timings.prompt_ms,
            predicted_ms: timings.predicted_ms,
            tokens_per_second: timings.predicted_per_second.filter(|v| v.is_finite()),
        }
    }
}

/// Parses the JSON object that follows the last occurrence of `key` (a quoted key and its colon) into the
/// fields `T` reads, skipping the rest without building it. A quoted key cannot occur inside a JSON string
/// (quotes there are escaped), so a match is a real key.
fn last_object<T: DeserializeOwned>(bytes: &[u8], key: &[u8]) -> Option<T> {
    let mut end = bytes.len();
    while let Some(at) = find_last(&bytes[..end], key) {
        let rest = &bytes[at + key.len()..];
        let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
        if rest[start] == b'{'
            && let Some(Ok(value)) = serde_json::Deserializer::from_slice(&rest[start..]).into_iter::<T>().next()
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
    fn fields_of_another_type_count_as_absent_and_an_error_gives_its_message() {
        let mut s = BodySample::default();
        s.push(br#"{"usage":{"prompt_tokens":null,"completion_tokens":2.5,"x":{"y":[1]}},"#);
        s.push(br#""timings":{"prompt_n":4,"predicted_ms":"fast","predicted_per_second":12}}"#);
        let u = s.usage();
        assert_eq!((u.prompt_tokens, u.completion_tokens), (Some(4), None), "prompt_n stands in; 2.5 is no count");
        assert_eq!((u.predicted_ms, u.tokens_per_second), (None, Some(12.0)));
        let mut e = BodySample::default();
        e.push(br#"{"error":{"code":400,"message":"bad \"thing\"","type":"invalid_request_error"}}"#);
        assert_eq!(e.error_message().as_deref(), Some("bad \"thing\""));
        let mut not_object = BodySample::default();
        not_object.push(br#"{"usage":[1,2],"timings":null}"#);
        assert_eq!(not_object.usage(), Usage::default());
    }

    #[test]
    fn a_cut_stream_has_no_done_and_no_usage() {
        let mut s = BodySample::default();
        s.push(b"data: {\"choices\":[{\"delta\":{\"content\":\"to");
        assert!(!s.ends_with_done());
        assert_eq!(s.usage(), Usage::default());
    }
}

//! Token counts and timings read from what llama-server sent back: the `usage` and `timings` objects of a
//! JSON body or of the last SSE events, in each API's shape (OpenAI's chat and completions, the Responses
//! API, Anthropic's Messages). Only a bounded head and tail of the body are kept.

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

    /// Whether an SSE body ended with `marker` (OpenAI's `[DONE]`, Anthropic's `message_stop` event).
    pub fn ends_with(&self, marker: &str) -> bool {
        let end = &self.tail[self.tail.len().saturating_sub(64)..];
        String::from_utf8_lossy(end).trim_end().ends_with(marker)
    }

    /// The `error.message` of an error body, if the body is one.
    pub fn error_message(&self) -> Option<String> {
        let error: ErrorFields = last_object(&self.head, b"\"error\":")?;
        Some(error.message.unwrap_or_else(|| "no message".into()))
    }

    /// The last `usage` of the body, its missing counts taken from the first one: an Anthropic stream
    /// gives the prompt's size in its first event (`message_start`) and the generated count in its last.
    pub fn usage(&self) -> Usage {
        let last: Option<UsageFields> =
            last_object(&self.tail, b"\"usage\":").or_else(|| last_object(&self.head, b"\"usage\":"));
        // The first one is looked for only when the last lacks a count (every request pays for this scan).
        let usage = match last {
            Some(last) if last.prompt().is_none() || last.completion().is_none() => {
                Some(match first_object(&self.head, b"\"usage\":") {
                    Some(first) => last.or(first),
                    None => last,
                })
            }
            other => other,
        };
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

/// `usage` in any of the shapes llama-server answers with: OpenAI's (`prompt_tokens`, `completion_tokens`),
/// the Responses API's (`input_tokens` with the cached ones included, `output_tokens`) and Anthropic's
/// (`input_tokens` without the ones read from or written to the cache, which it counts apart). A field of
/// another type is taken as absent.
#[derive(Deserialize, Default)]
struct UsageFields {
    #[serde(default, deserialize_with = "lenient")]
    prompt_tokens: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    completion_tokens: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    input_tokens: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    output_tokens: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    cache_read_input_tokens: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    cache_creation_input_tokens: Option<i64>,
}

impl UsageFields {
    fn prompt(&self) -> Option<i64> {
        let cached = self.cache_read_input_tokens.unwrap_or(0) + self.cache_creation_input_tokens.unwrap_or(0);
        self.prompt_tokens.or(self.input_tokens.map(|n| n + cached))
    }

    fn completion(&self) -> Option<i64> {
        self.completion_tokens.or(self.output_tokens)
    }

    /// `self`, with the counts it lacks taken from `earlier`.
    fn or(self, earlier: Self) -> Self {
        Self {
            prompt_tokens: self.prompt_tokens.or(earlier.prompt_tokens),
            completion_tokens: self.completion_tokens.or(earlier.completion_tokens),
            input_tokens: self.input_tokens.or(earlier.input_tokens),
            output_tokens: self.output_tokens.or(earlier.output_tokens),
            cache_read_input_tokens: self.cache_read_input_tokens.or(earlier.cache_read_input_tokens),
            cache_creation_input_tokens: self.cache_creation_input_tokens.or(earlier.cache_creation_input_tokens),
        }
    }
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
            prompt_tokens: usage.prompt().or(timings.prompt_n.map(|v| v as i64)),
            completion_tokens: usage.completion().or(timings.predicted_n.map(|v| v as i64)),
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
        if let Some(value) = object_after(&bytes[at + key.len()..]) {
            return Some(value);
        }
        end = at;
    }
    None
}

/// Like [`last_object`], for the first occurrence of `key` that is followed by an object.
fn first_object<T: DeserializeOwned>(bytes: &[u8], key: &[u8]) -> Option<T> {
    let mut start = 0;
    while let Some(found) = bytes[start..].windows(key.len()).position(|w| w == key) {
        start += found + key.len();
        if let Some(value) = object_after(&bytes[start..]) {
            return Some(value);
        }
    }
    None
}

/// The fields `T` reads from the JSON object that `rest` starts with (after whitespace), if it starts with one.
fn object_after<T: DeserializeOwned>(rest: &[u8]) -> Option<T> {
    let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    if rest[start] != b'{' {
        return None;
    }
    serde_json::Deserializer::from_slice(&rest[start..]).into_iter::<T>().next()?.ok()
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
        assert!(s.ends_with("[DONE]"));
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
    fn anthropic_and_responses_usage_count_the_whole_prompt() {
        let mut whole = BodySample::default();
        whole.push(br#"{"type":"message","content":[],"usage":{"cache_read_input_tokens":31,"input_tokens":1,"output_tokens":4}}"#);
        let u = whole.usage();
        assert_eq!((u.prompt_tokens, u.completion_tokens), (Some(32), Some(4)), "cached tokens are part of the prompt");
        let mut stream = BodySample::default();
        stream.push(b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":12,\"output_tokens\":0}}}\n\n");
        for _ in 0..3000 {
            stream.push(b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"tok\"}}\n\n");
        }
        stream.push(b"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":3000}}\n\n");
        stream.push(b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
        assert!(stream.ends_with(r#"{"type":"message_stop"}"#));
        let u = stream.usage();
        assert_eq!((u.prompt_tokens, u.completion_tokens), (Some(12), Some(3000)), "prompt from the first event");
        let mut responses = BodySample::default();
        responses
            .push(br#"data: {"type":"response.completed","response":{"usage":{"input_tokens":32,"output_tokens":3,"#);
        responses.push(br#""total_tokens":35,"input_tokens_details":{"cached_tokens":31}}},"timings":{"prompt_n":1}}"#);
        let u = responses.usage();
        assert_eq!((u.prompt_tokens, u.completion_tokens), (Some(32), Some(3)), "usage beats timings' uncached count");
    }

    #[test]
    fn a_cut_stream_has_no_done_and_no_usage() {
        let mut s = BodySample::default();
        s.push(b"data: {\"choices\":[{\"delta\":{\"content\":\"to");
        assert!(!s.ends_with("[DONE]"));
        assert_eq!(s.usage(), Usage::default());
    }
}

//! OpenAI answers from llama-server in Ollama's shapes: a whole chat or generate answer, the NDJSON lines
//! of a stream (one per token piece, then a last one with `done: true`, the reason and the counts), and
//! embeddings. Durations are llama-server's own `timings`, in nanoseconds as Ollama gives them.

use axum::body::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};

/// Which Ollama call the answer is for: a chat carries `message`, a generate `response`.
#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Chat,
    Generate,
}

/// A whole chat or text completion as Ollama's answer.
pub fn whole(openai: &Value, model: &str, kind: Kind) -> Value {
    let choice = &openai["choices"][0];
    let text = choice["message"]["content"].as_str().or(choice["text"].as_str()).unwrap_or_default();
    let mut out = piece(model, kind, text);
    if kind == Kind::Chat
        && let Some(calls) = choice["message"].get("tool_calls").filter(|c| c.is_array())
    {
        out["message"]["tool_calls"] = calls.clone();
    }
    finish(&mut out, choice["finish_reason"].as_str(), openai);
    out
}

/// `/api/embed`'s answer (`embeddings`), or with `single` the older `/api/embeddings`' (`embedding`).
pub fn embeddings(openai: &Value, model: &str, single: bool) -> Value {
    let vectors: Vec<Value> = openai["data"].as_array().into_iter().flatten().map(|d| d["embedding"].clone()).collect();
    if single {
        return json!({"embedding": vectors.into_iter().next().unwrap_or_else(|| json!([]))});
    }
    json!({"model": model, "embeddings": vectors, "prompt_eval_count": openai["usage"]["prompt_tokens"]})
}

/// The message of an OpenAI-shaped error body (ours or llama-server's), or the body itself.
pub fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().or(v["error"].as_str()).map(str::to_string))
        .unwrap_or_else(|| text.trim().to_string())
}

fn piece(model: &str, kind: Kind, text: &str) -> Value {
    let now = super::now();
    match kind {
        Kind::Chat => {
            json!({"model": model, "created_at": now, "message": {"role": "assistant", "content": text}, "done": false})
        }
        Kind::Generate => json!({"model": model, "created_at": now, "response": text, "done": false}),
    }
}

/// Marks `out` as the last answer: the reason and the counts and durations from `usage` and `timings`.
fn finish(out: &mut Value, reason: Option<&str>, source: &Value) {
    let ns = |ms: &Value| ms.as_f64().map(|ms| (ms * 1e6) as u64);
    let timings = &source["timings"];
    let (prompt_ns, eval_ns) = (ns(&timings["prompt_ms"]), ns(&timings["predicted_ms"]));
    out["done"] = json!(true);
    out["done_reason"] = json!(match reason {
        Some("length") => "length",
        _ => "stop",
    });
    out["total_duration"] = json!(prompt_ns.unwrap_or(0) + eval_ns.unwrap_or(0));
    out["load_duration"] = json!(0);
    out["prompt_eval_count"] = source["usage"]["prompt_tokens"].clone();
    out["prompt_eval_duration"] = json!(prompt_ns);
    out["eval_count"] = source["usage"]["completion_tokens"].clone();
    out["eval_duration"] = json!(eval_ns);
}

/// An OpenAI SSE body as Ollama's NDJSON stream.
pub fn ndjson<S, E>(sse: S, model: String, kind: Kind) -> impl Stream<Item = Result<Bytes, std::io::Error>>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: std::fmt::Display,
{
    let state =
        Lines { sse: Box::pin(sse), buffer: Vec::new(), model, kind, reason: None, last: Value::Null, done: false };
    futures_util::stream::unfold(state, |mut lines| async move {
        let out = lines.next_lines().await?;
        Some((out, lines))
    })
}

struct Lines<S> {
    sse: std::pin::Pin<Box<S>>,
    buffer: Vec<u8>,
    model: String,
    kind: Kind,
    reason: Option<String>,
    /// The last event, which carries `usage` and `timings` when the stream ends.
    last: Value,
    done: bool,
}

impl<S, E> Lines<S>
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    /// The NDJSON lines for the next events that produce any; `None` once the last line went out.
    async fn next_lines(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        loop {
            if self.done {
                return None;
            }
            let mut out = String::new();
            while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let event: Vec<u8> = self.buffer.drain(..end + 2).collect();
                self.translate(&event, &mut out);
            }
            if !out.is_empty() {
                return Some(Ok(Bytes::from(out)));
            }
            match self.sse.next().await {
                Some(Ok(chunk)) => self.buffer.extend_from_slice(&chunk),
                Some(Err(err)) => {
                    self.done = true;
                    return Some(Ok(Bytes::from(format!("{}\n", json!({"error": err.to_string()})))));
                }
                None => {
                    self.done = true;
                    return Some(Ok(Bytes::from(self.last_line())));
                }
            }
        }
    }

    fn translate(&mut self, event: &[u8], out: &mut String) {
        let text = String::from_utf8_lossy(event);
        for data in text.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim) {
            let Ok(chunk) = serde_json::from_str::<Value>(data) else { continue };
            if let Some(message) = chunk.get("error") {
                let message = message["message"].as_str().unwrap_or("upstream error");
                out.push_str(&format!("{}\n", json!({"error": message})));
                continue;
            }
            let choice = &chunk["choices"][0];
            if let Some(reason) = choice["finish_reason"].as_str() {
                self.reason = Some(reason.to_string());
            }
            let piece_text = choice["delta"]["content"].as_str().or(choice["text"].as_str()).unwrap_or_default();
            if !piece_text.is_empty() {
                out.push_str(&format!("{}\n", piece(&self.model, self.kind, piece_text)));
            }
            self.last = chunk;
        }
    }

    fn last_line(&self) -> String {
        let mut out = piece(&self.model, self.kind, "");
        finish(&mut out, self.reason.as_deref(), &self.last);
        format!("{out}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&str]) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
        let owned: Vec<Result<Bytes, std::io::Error>> = parts.iter().map(|p| Ok(Bytes::from(p.to_string()))).collect();
        futures_util::stream::iter(owned)
    }

    #[tokio::test]
    async fn a_stream_becomes_one_line_per_piece_and_a_last_line_with_the_counts() {
        let sse = chunks(&[
            "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"length\"}]}\n\ndata: {\"choices\":[],",
            "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2},\"timings\":{\"prompt_ms\":1.5,\"predicted_ms\":3}}\n\ndata: [DONE]\n\n",
        ]);
        let lines: Vec<Value> = ndjson(sse, "smol".into(), Kind::Chat)
            .map(|b| b.unwrap())
            .collect::<Vec<_>>()
            .await
            .iter()
            .flat_map(|b| {
                String::from_utf8_lossy(b).lines().map(|l| serde_json::from_str(l).unwrap()).collect::<Vec<Value>>()
            })
            .collect();
        let texts: Vec<&str> = lines.iter().map(|l| l["message"]["content"].as_str().unwrap()).collect();
        assert_eq!(texts, ["Hel", "lo", ""]);
        let last = lines.last().unwrap();
        assert_eq!((last["done"].as_bool(), last["done_reason"].as_str()), (Some(true), Some("length")));
        assert_eq!((last["prompt_eval_count"].as_i64(), last["eval_count"].as_i64()), (Some(5), Some(2)));
        assert_eq!(
            (last["prompt_eval_duration"].as_u64(), last["eval_duration"].as_u64()),
            (Some(1_500_000), Some(3_000_000))
        );
        assert!(lines[..2].iter().all(|l| l["done"] == false));
    }

    #[test]
    fn whole_answers_and_errors_read_as_ollama_gives_them() {
        let openai = json!({"choices": [{"text": "hi", "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1}});
        let out = whole(&openai, "m", Kind::Generate);
        assert_eq!(
            (out["response"].as_str(), out["done"].as_bool(), out["eval_count"].as_i64()),
            (Some("hi"), Some(true), Some(1))
        );
        assert_eq!(
            error_message(br#"{"error":{"message":"no model named 'x'","type":"not_found_error"}}"#),
            "no model named 'x'"
        );
        let embedded = embeddings(&json!({"data": [{"embedding": [0.5]}, {"embedding": [1.0]}]}), "e", false);
        assert_eq!(embedded["embeddings"], json!([[0.5], [1.0]]));
        assert_eq!(embeddings(&json!({"data": [{"embedding": [0.5]}]}), "e", true), json!({"embedding": [0.5]}));
    }
}

//! Ollama's requests as the OpenAI calls llama-server serves: `/api/chat` and `/api/generate` as chat
//! completions (a `raw` generate as a text completion), `/api/embed` and `/api/embeddings` as embeddings.
//! Options map to their OpenAI and llama-server names; `keep_alive`, `num_ctx` and the other
//! load-time options have no per-request meaning here and are not sent on.

use crate::error::ApiError;
use serde_json::{Map, Value, json};

/// One Ollama request, translated: where it goes, the body, and whether the client asked for a stream
/// (Ollama streams unless told `"stream": false`).
pub struct Call {
    pub path: &'static str,
    pub body: Value,
    pub stream: bool,
}

pub fn chat(request: &Value) -> Result<Call, ApiError> {
    let messages = request.get("messages").and_then(Value::as_array).cloned().unwrap_or_default();
    let messages: Vec<Value> = messages.iter().map(message).collect::<Result<_, _>>()?;
    Ok(completion("/v1/chat/completions", request, json!({"messages": messages})))
}

/// `None` for a generate without a prompt, which Ollama's clients send to load (or, with `keep_alive`
/// 0, unload) a model.
pub fn generate(request: &Value) -> Result<Option<Call>, ApiError> {
    let prompt = request.get("prompt").and_then(Value::as_str).unwrap_or_default();
    if prompt.is_empty() {
        return Ok(None);
    }
    if request.get("raw").and_then(Value::as_bool) == Some(true) {
        return Ok(Some(completion("/v1/completions", request, json!({"prompt": prompt}))));
    }
    let mut messages = Vec::new();
    if let Some(system) = request.get("system").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        messages.push(json!({"role": "system", "content": system}));
    }
    let user =
        json!({"role": "user", "content": prompt, "images": request.get("images").cloned().unwrap_or(Value::Null)});
    messages.push(message(&user)?);
    Ok(Some(completion("/v1/chat/completions", request, json!({"messages": messages}))))
}

/// `/api/embed` (`input`: a text or a list of texts) or the older `/api/embeddings` (`prompt`).
pub fn embed(request: &Value) -> Result<Call, ApiError> {
    let input = match (request.get("input"), request.get("prompt")) {
        (Some(input @ (Value::String(_) | Value::Array(_))), _) => input.clone(),
        (None, Some(prompt @ Value::String(_))) => prompt.clone(),
        _ => return Err(ApiError::bad("input", "required: a text or a list of texts to embed")),
    };
    let body = json!({"model": request.get("model").cloned().unwrap_or(Value::Null), "input": input});
    Ok(Call { path: "/v1/embeddings", body, stream: false })
}

fn completion(path: &'static str, request: &Value, mut body: Value) -> Call {
    let stream = request.get("stream").and_then(Value::as_bool).unwrap_or(true);
    body["model"] = request.get("model").cloned().unwrap_or(Value::Null);
    body["stream"] = json!(stream);
    if stream {
        body["stream_options"] = json!({"include_usage": true});
    }
    if let Some(format) = request.get("format").and_then(response_format) {
        body["response_format"] = format;
    }
    if let Some(tools) = request.get("tools").filter(|t| t.is_array()) {
        body["tools"] = tools.clone();
    }
    if let (Some(options), Some(out)) = (request.get("options").and_then(Value::as_object), body.as_object_mut()) {
        copy_options(options, out);
    }
    Call { path, body, stream }
}

/// Ollama's option names and the OpenAI / llama-server names they are sent as.
const OPTIONS: [(&str, &str); 12] = [
    ("temperature", "temperature"),
    ("top_p", "top_p"),
    ("top_k", "top_k"),
    ("min_p", "min_p"),
    ("seed", "seed"),
    ("num_predict", "max_tokens"),
    ("stop", "stop"),
    ("repeat_penalty", "repeat_penalty"),
    ("repeat_last_n", "repeat_last_n"),
    ("presence_penalty", "presence_penalty"),
    ("frequency_penalty", "frequency_penalty"),
    ("typical_p", "typical_p"),
];

fn copy_options(options: &Map<String, Value>, out: &mut Map<String, Value>) {
    for (ollama, openai) in OPTIONS {
        if let Some(value) = options.get(ollama).filter(|v| !v.is_null()) {
            out.insert(openai.to_string(), value.clone());
        }
    }
}

/// Ollama's `keep_alive` in seconds: a number of seconds, or a duration such as `"10m"`, `"1h30m"`, `"45s"`
/// (a bare number in a string is seconds); negative means forever. `None` when it is neither.
pub fn keep_alive_secs(value: &Value) -> Option<f64> {
    if let Some(secs) = value.as_f64() {
        return Some(secs);
    }
    let text = value.as_str()?.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return Some(secs);
    }
    let (sign, text) = text.strip_prefix('-').map_or((1.0, text), |rest| (-1.0, rest));
    humantime::parse_duration(text).ok().map(|d| sign * d.as_secs_f64())
}

/// `"json"`, or a JSON schema, as OpenAI's `response_format`.
fn response_format(format: &Value) -> Option<Value> {
    match format {
        Value::String(s) if s == "json" => Some(json!({"type": "json_object"})),
        Value::Object(_) => Some(json!({"type": "json_schema", "json_schema": {"name": "format", "schema": format}})),
        _ => None,
    }
}

/// An Ollama message as OpenAI's: its `images` (base64) become image parts of the content.
fn message(m: &Value) -> Result<Value, ApiError> {
    let role =
        m.get("role").and_then(Value::as_str).ok_or_else(|| ApiError::bad("messages", "each message needs a role"))?;
    let content = m.get("content").and_then(Value::as_str).unwrap_or_default();
    let images: Vec<&str> =
        m.get("images").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let mut out = json!({"role": role, "content": content});
    if !images.is_empty() {
        let mut parts = vec![json!({"type": "text", "text": content})];
        parts.extend(
            images
                .iter()
                .map(|b64| json!({"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{b64}")}})),
        );
        out["content"] = json!(parts);
    }
    if let Some(calls) = m.get("tool_calls").filter(|c| c.is_array()) {
        out["tool_calls"] = calls.clone();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chat_becomes_a_chat_completion_with_its_options_under_openai_names() {
        let request = json!({"model": "smol", "messages": [{"role": "user", "content": "hi", "images": ["QUJD"]}],
            "options": {"temperature": 0, "num_predict": 8, "num_ctx": 4096, "stop": ["\n"]}, "format": "json", "keep_alive": "5m"});
        let call = chat(&request).unwrap();
        assert_eq!(call.path, "/v1/chat/completions");
        assert!(call.stream, "Ollama streams unless told not to");
        assert_eq!(call.body["max_tokens"], 8);
        assert_eq!(call.body["stop"], json!(["\n"]));
        assert_eq!(call.body["response_format"], json!({"type": "json_object"}));
        assert_eq!(call.body["stream_options"], json!({"include_usage": true}));
        assert!(call.body.get("num_ctx").is_none() && call.body.get("keep_alive").is_none());
        assert_eq!(call.body["messages"][0]["content"][1]["image_url"]["url"], "data:image/png;base64,QUJD");
    }

    #[test]
    fn a_generate_is_a_chat_unless_raw_and_without_a_prompt_it_is_a_load() {
        let request = json!({"model": "m", "prompt": "p", "system": "s", "stream": false});
        let call = generate(&request).unwrap().unwrap();
        assert_eq!(
            call.body["messages"],
            json!([{"role": "system", "content": "s"}, {"role": "user", "content": "p"}])
        );
        assert!(!call.stream && call.body.get("stream_options").is_none());
        let raw = generate(&json!({"model": "m", "prompt": "p", "raw": true})).unwrap().unwrap();
        assert_eq!((raw.path, raw.body["prompt"].as_str()), ("/v1/completions", Some("p")));
        assert!(generate(&json!({"model": "m"})).unwrap().is_none());
    }

    #[test]
    fn keep_alive_reads_seconds_and_durations() {
        for (value, secs) in [
            (json!(0), 0.0),
            (json!(0.0), 0.0),
            (json!("0"), 0.0),
            (json!("0s"), 0.0),
            (json!("10m"), 600.0),
            (json!(-1), -1.0),
            (json!("-1m"), -60.0),
            (json!("1h30m"), 5400.0),
        ] {
            assert_eq!(keep_alive_secs(&value), Some(secs), "{value}");
        }
        assert_eq!(keep_alive_secs(&json!("soon")), None);
    }

    #[test]
    fn embed_takes_input_or_the_older_prompt() {
        assert_eq!(embed(&json!({"model": "e", "input": ["a", "b"]})).unwrap().body["input"], json!(["a", "b"]));
        assert_eq!(embed(&json!({"model": "e", "prompt": "a"})).unwrap().body["input"], "a");
        assert!(embed(&json!({"model": "e", "input": 7})).is_err());
    }
}

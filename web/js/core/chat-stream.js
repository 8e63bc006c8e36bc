// Streams one chat completion from this server's OpenAI-compatible /v1 proxy (same origin).
//
// Contract:
// - streamChat({body, apiKey, signal, onDelta}) POSTs /v1/chat/completions with body (the caller
//   sets stream:true); onDelta({content?, reasoning?}) is called for every streamed piece as it
//   arrives. Resolves with {usage, timings, finishReason, pieces, firstTokenMs, totalMs}
//   (times from the request's start, ms) once `data: [DONE]` arrived or the stream ended.
// - Rejects with a ChatError {status?} for an HTTP error (the message of its JSON
//   `{"error":{"message"}}` body, else its text), for a `data: {"error":{...}}` event (what was
//   streamed before it has been delivered), for an unreadable event, and for a stream that ends
//   without [DONE]. An abort through `signal` rejects with the fetch's AbortError.
// - parseEvent(block) reads one SSE event ("data:" lines joined by "\n"; other fields ignored).

export class ChatError extends Error {
  constructor(message, status) {
    super(message);
    this.name = "ChatError";
    this.status = status;
  }
}

const BOUNDARY = /\r\n\r\n|\n\n|\r\r/;

export async function streamChat({ body, apiKey, signal, onDelta }) {
  const started = performance.now();
  const headers = { "Content-Type": "application/json", Accept: "text/event-stream" };
  if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
  const response = await fetch("/v1/chat/completions", { method: "POST", headers, body: JSON.stringify(body), signal });
  if (!response.ok) throw new ChatError(await httpErrorMessage(response), response.status);

  const result = { usage: null, timings: null, finishReason: null, pieces: 0, firstTokenMs: null, totalMs: null, done: false };
  const take = (chunk) => {
    if (chunk?.error) throw new ChatError(errorText(chunk.error), response.status);
    const choice = chunk?.choices?.[0];
    const delta = choice?.delta || choice?.message || {};
    const piece = {};
    if (typeof delta.content === "string" && delta.content) piece.content = delta.content;
    if (typeof delta.reasoning_content === "string" && delta.reasoning_content) piece.reasoning = delta.reasoning_content;
    if (piece.content || piece.reasoning) {
      if (result.firstTokenMs === null) result.firstTokenMs = performance.now() - started;
      result.pieces += 1;
      onDelta(piece);
    }
    if (choice?.finish_reason) result.finishReason = choice.finish_reason;
    if (chunk?.usage) result.usage = chunk.usage;
    if (chunk?.timings) result.timings = chunk.timings;
  };

  const type = response.headers.get("content-type") || "";
  if (!type.includes("text/event-stream")) {
    // The server may answer a whole JSON body (a client that did not ask to stream, or a proxy in between).
    take(await response.json().catch(() => { throw new ChatError("The server answered with unreadable JSON", response.status); }));
    return finish(result, started);
  }

  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let match;
      while ((match = BOUNDARY.exec(buffer))) {
        const block = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        const data = parseEvent(block);
        if (data === null) continue;
        if (data === "[DONE]") result.done = true;
        else take(parseJson(data));
      }
    }
    const rest = parseEvent(buffer);
    if (rest === "[DONE]") result.done = true;
    else if (rest !== null && rest.trim()) take(parseJson(rest));
  } catch (err) {
    reader.cancel().catch(() => {});
    throw err;
  }
  if (!result.done) throw new ChatError("The stream ended before the reply was complete");
  return finish(result, started);
}

/** The data of one SSE event, or null when it has no data lines (comments, keep-alives). */
export function parseEvent(block) {
  const data = [];
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
  }
  return data.length ? data.join("\n") : null;
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    throw new ChatError(`Unreadable event from the server: ${text.slice(0, 200)}`);
  }
}

function finish(result, started) {
  result.totalMs = performance.now() - started;
  return result;
}

function errorText(error) {
  if (typeof error === "string") return error;
  return error?.message || JSON.stringify(error);
}

async function httpErrorMessage(response) {
  const prefix = `HTTP ${response.status}`;
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text);
    const message = body?.error ? errorText(body.error) : body?.message;
    if (message) return `${prefix}: ${message}`;
  } catch {
    // Not JSON: the text itself says what happened.
  }
  const trimmed = text.trim().slice(0, 500);
  return trimmed ? `${prefix}: ${trimmed}` : `${prefix} ${response.statusText}`.trim();
}

"""The official Ollama Python library against llama-dashboard's Ollama API (`/api/*`), used the way a user
(or Home Assistant, Dify, an IDE plugin) uses it.

    python ollama_check.py --host http://127.0.0.1:3000 --model smol --embed-model smol-embed

Checks: list, show, chat whole and streamed, generate whole and streamed, embed and the older embeddings,
ps with an expiry while the model is loaded, a load and an unload by generate without a prompt, and
ResponseError 404 for an unknown model. Prints one line per check; exits 1 with the reason at the first
failure, 2 on bad arguments.
"""

import argparse
import datetime
import sys

import ollama
from checks import check, expect_error, run_checks

PROMPT = [{"role": "user", "content": "Say hi"}]
OPTIONS = {"num_predict": 8, "temperature": 0}


def listed(client, args):
    names = [m.model for m in client.list().models]
    for want in (args.model, args.embed_model):
        check(want in names, f"list() lacks {want!r}: {names}")
    smol = next(m for m in client.list().models if m.model == args.model)
    check(smol.details.format == "gguf" and smol.details.family == "llama", f"details: {smol.details}")
    check(smol.size and smol.size > 1_000_000, f"size: {smol.size}")
    return f"{names}; {args.model}: {smol.details.parameter_size} {smol.details.quantization_level}"


def show(client, args):
    shown = client.show(args.model + ":latest")
    check(shown.details.family == "llama", f"show details: {shown.details}")
    check((shown.modelinfo or {}).get("llama.context_length", 0) > 0, f"model_info: {shown.modelinfo}")
    return f"context {shown.modelinfo['llama.context_length']}"


def chat(client, args):
    res = client.chat(model=args.model, messages=PROMPT, stream=False, options=OPTIONS)
    check(res.done and res.message.role == "assistant" and res.message.content, f"chat: {res}")
    check(res.eval_count and 0 < res.eval_count <= 8 and res.prompt_eval_count, f"counts: {res}")
    return f"{res.prompt_eval_count} in, {res.eval_count} out, {res.done_reason}: {res.message.content!r}"


def chat_streamed(client, args):
    parts = list(client.chat(model=args.model, messages=PROMPT, stream=True, options=OPTIONS))
    text = "".join(p.message.content for p in parts)
    check(len(parts) > 2 and text, f"streamed parts: {parts}")
    check(parts[-1].done and not any(p.done for p in parts[:-1]), "only the last part is done")
    check(parts[-1].eval_count and parts[-1].eval_count > 0, f"last part's counts: {parts[-1]}")
    return f"{len(parts)} parts, {parts[-1].eval_count} out: {text!r}"


def generate(client, args):
    res = client.generate(model=args.model, prompt="Say hi", stream=False, options=OPTIONS)
    check(res.done and res.response, f"generate: {res}")
    parts = list(client.generate(model=args.model, prompt="Say hi", stream=True, options=OPTIONS))
    check(len(parts) > 2 and parts[-1].done and "".join(p.response for p in parts), f"streamed: {parts}")
    return f"{res.response!r}; streamed in {len(parts)} parts"


def embed(client, args):
    res = client.embed(model=args.embed_model, input=["hello", "world"])
    check(len(res.embeddings) == 2 and len(res.embeddings[0]) == args.embedding_size, f"embed: {len(res.embeddings)} vectors")
    old = client.embeddings(model=args.embed_model, prompt="hello")
    check(len(old.embedding) == args.embedding_size, f"embeddings: {len(old.embedding)} numbers")
    return f"2 vectors of {len(res.embeddings[0])}; the older call: {len(old.embedding)}"


def ps_load_unload(client, args):
    running = {m.model: m for m in client.ps().models}
    check(args.model in running, f"ps() lacks the model just used: {list(running)}")
    expires = running[args.model].expires_at
    now = datetime.datetime.now(datetime.timezone.utc)
    check(expires is not None and expires > now, f"expires_at {expires} is not ahead of {now}")
    client.chat(model=args.model, messages=PROMPT, options=OPTIONS, keep_alive="1h")
    expires = next(m for m in client.ps().models if m.model == args.model).expires_at
    hour = datetime.timedelta(hours=1)
    check(abs(expires - datetime.datetime.now(datetime.timezone.utc) - hour) < datetime.timedelta(seconds=30), f"keep_alive 1h: {expires}")
    gone = client.generate(model=args.model, keep_alive=0)
    check(gone.done_reason == "unload", f"generate with keep_alive 0: {gone}")
    loaded = client.generate(model=args.model)
    check(loaded.done_reason == "load", f"generate without a prompt: {loaded}")
    check(args.model in [m.model for m in client.ps().models], "loaded again")
    return f"expires_at {expires.isoformat()}; unload and load by generate"


def unknown(client, _args):
    err = expect_error(ollama.ResponseError, lambda: client.chat(model="no-such-model", messages=PROMPT, stream=False), status_code=404)
    return f"ResponseError {err.status_code}: {err.error}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--model", default="smol")
    parser.add_argument("--embed-model", default="smol-embed")
    parser.add_argument("--embedding-size", type=int, default=576)
    args = parser.parse_args()
    client = ollama.Client(host=args.host, timeout=120)
    checks = [
        ("list", listed),
        ("show", show),
        ("chat", chat),
        ("chat (stream)", chat_streamed),
        ("generate", generate),
        ("embed and embeddings", embed),
        ("ps, unload and load", ps_load_unload),
        ("unknown model", unknown),
    ]
    return run_checks([(name, lambda run=run: run(client, args)) for name, run in checks])


if __name__ == "__main__":
    sys.exit(main())

"""The official OpenAI Python SDK against llama-dashboard's /v1 proxy, used the way a user uses it.

    python openai_sdk_check.py --base-url http://127.0.0.1:3000 [--model smol] [--embed-model smol-embed]
        [--embedding-size 576] [--keyed-url http://127.0.0.1:3001 --key sk-...]

Checks: models.list, chat (whole and streamed with usage), legacy completions, embeddings, NotFoundError for an
unknown model, and with --keyed-url AuthenticationError for a wrong key and success with the right one.
Prints one line per check; exits 1 with the reason at the first failure, 2 on bad arguments.
"""

import argparse
import math
import sys

import openai
from checks import check, expect_error, run_checks
from openai import OpenAI

PROMPT = [{"role": "user", "content": "Say hi"}]


def client(base_url, api_key="sk-anything"):
    # No automatic retries: a retried failure would pass unseen. A shorter timeout than the default 10 minutes.
    return OpenAI(base_url=base_url.rstrip("/") + "/v1", api_key=api_key, max_retries=0, timeout=120)


def models_list(sdk, args):
    ids = [m.id for m in sdk.models.list()]
    for want in (args.model, args.embed_model):
        check(want in ids, f"models.list() lacks {want!r}: {ids}")
    check(sdk.models.retrieve(args.model).id == args.model, "models.retrieve() returned another id")
    return f"ids {ids}"


def chat(sdk, args):
    res = sdk.chat.completions.create(model=args.model, messages=PROMPT, max_tokens=8, temperature=0)
    text = res.choices[0].message.content
    check(isinstance(text, str) and text, f"no text: {res.choices[0]}")
    u = res.usage
    check(u and u.prompt_tokens > 0 and 0 < u.completion_tokens <= 8, f"usage: {u}")
    check(u.total_tokens == u.prompt_tokens + u.completion_tokens, f"usage total: {u}")
    return f"{text!r}, usage {u.prompt_tokens}+{u.completion_tokens}"


def chat_stream(sdk, args):
    stream = sdk.chat.completions.create(
        model=args.model, messages=PROMPT, max_tokens=8, temperature=0, stream=True,
        stream_options={"include_usage": True},
    )
    text, deltas, usage, finish = "", 0, None, None
    with stream:
        for chunk in stream:
            check(chunk.object == "chat.completion.chunk", f"chunk object {chunk.object!r}")
            for choice in chunk.choices:
                if choice.delta and choice.delta.content:
                    text += choice.delta.content
                    deltas += 1
                finish = choice.finish_reason or finish
            usage = chunk.usage or usage
    check(deltas > 0 and text, "no content deltas")
    check(finish in ("stop", "length"), f"finish_reason {finish!r}")
    check(usage and usage.prompt_tokens > 0 and usage.completion_tokens > 0, f"final usage: {usage}")
    return f"{deltas} deltas {text!r}, usage {usage.prompt_tokens}+{usage.completion_tokens}"


def completions(sdk, args):
    res = sdk.completions.create(model=args.model, prompt="Once upon a time", max_tokens=8, temperature=0)
    text = res.choices[0].text
    check(isinstance(text, str) and text, f"no text: {res.choices[0]}")
    check(res.usage and res.usage.completion_tokens > 0, f"usage: {res.usage}")
    return repr(text)


def embeddings(sdk, args):
    res = sdk.embeddings.create(model=args.embed_model, input=["hello world", "a second text"])
    check(len(res.data) == 2, f"{len(res.data)} vectors for 2 inputs")
    for i, d in enumerate(res.data):
        vec = d.embedding
        check(d.index == i, f"index {d.index} at {i}")
        check(isinstance(vec, list), f"embedding is {type(vec).__name__}, not a list")
        if args.embedding_size:
            check(len(vec) == args.embedding_size, f"embedding size {len(vec)}, expected {args.embedding_size}")
        check(all(isinstance(x, float) and math.isfinite(x) for x in vec), "non-finite values")
        check(any(x != 0 for x in vec), "all zeros")
    check(res.data[0].embedding != res.data[1].embedding, "two texts, one vector")
    return f"2 vectors of {len(res.data[0].embedding)}"


def unknown_model(sdk, args):
    err = expect_error(
        openai.NotFoundError,
        lambda: sdk.chat.completions.create(model="no-such-model", messages=PROMPT, max_tokens=4),
        status_code=404, code="model_not_found", type="not_found_error",
    )
    return str(err)


def api_keys(args):
    for key in ("sk-wrong", args.key + "x"):
        wrong = client(args.keyed_url, key)
        expect_error(openai.AuthenticationError, lambda: wrong.models.list(), status_code=401, code="invalid_api_key")
        expect_error(
            openai.AuthenticationError,
            lambda: wrong.chat.completions.create(model=args.model, messages=PROMPT, max_tokens=4),
            status_code=401,
        )
    ids = [m.id for m in client(args.keyed_url, args.key).models.list()]
    check(args.model in ids, f"the right key lists {ids}")
    return "wrong keys refused, the right key lists the models"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--base-url", required=True, help="llama-dashboard without /v1, with a running router")
    p.add_argument("--model", default="smol")
    p.add_argument("--embed-model", default="smol-embed")
    p.add_argument("--embedding-size", type=int, default=0, help="expected vector length (0: any)")
    p.add_argument("--keyed-url", help="a llama-dashboard with security.apiKeys")
    p.add_argument("--key", help="a key of --keyed-url")
    args = p.parse_args()
    if bool(args.keyed_url) != bool(args.key):
        p.error("--keyed-url and --key go together")

    print(f"openai {openai.__version__} against {args.base_url}", flush=True)
    sdk = client(args.base_url)
    checks = [
        ("models.list", lambda: models_list(sdk, args)),
        ("chat.completions", lambda: chat(sdk, args)),
        ("chat.completions stream", lambda: chat_stream(sdk, args)),
        ("completions", lambda: completions(sdk, args)),
        ("embeddings", lambda: embeddings(sdk, args)),
        ("unknown model -> NotFoundError", lambda: unknown_model(sdk, args)),
    ]
    if args.keyed_url:
        checks.append(("api keys -> AuthenticationError", lambda: api_keys(args)))
    return run_checks(checks)


if __name__ == "__main__":
    sys.exit(main())

"""The official Anthropic Python SDK (`/v1/messages`, `/v1/messages/count_tokens`) and the OpenAI SDK's
Responses API (`/v1/responses`) against llama-dashboard, used the way a user uses them.

    python anthropic_and_responses_check.py --base-url http://127.0.0.1:3000 --model smol [--key sk-...]

Checks: a message whole and streamed with its usage, token counting, Anthropic's NotFoundError for an unknown
model, a response whole and streamed with its usage; with --key every call carries it (the Anthropic SDK sends it
as x-api-key, the OpenAI SDK as a bearer token), and a wrong key gets Anthropic's AuthenticationError.
Prints one line per check; exits 1 with the reason at the first failure, 2 on bad arguments.
"""

import argparse
import sys

import anthropic
from checks import check, expect_error, run_checks
from openai import OpenAI

PROMPT = [{"role": "user", "content": "Say hi"}]


def claude(base_url, api_key="sk-anything"):
    # No automatic retries: a retried failure would pass unseen.
    return anthropic.Anthropic(base_url=base_url.rstrip("/"), api_key=api_key, max_retries=0, timeout=120)


def message(sdk, args):
    res = sdk.messages.create(model=args.model, max_tokens=8, messages=PROMPT)
    text = "".join(block.text for block in res.content if block.type == "text")
    check(res.type == "message" and res.role == "assistant", f"not a message: {res}")
    check(text, f"no text: {res.content}")
    check(res.usage.input_tokens > 0 and res.usage.output_tokens > 0, f"usage: {res.usage}")
    return f"{res.usage.input_tokens} in, {res.usage.output_tokens} out, stop {res.stop_reason}: {text!r}"


def message_streamed(sdk, args):
    with sdk.messages.stream(model=args.model, max_tokens=8, messages=PROMPT) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    check(len(pieces) > 0 and "".join(pieces), f"no streamed text: {pieces}")
    check(final.usage.output_tokens > 0, f"final usage: {final.usage}")
    return f"{len(pieces)} text deltas, {final.usage.output_tokens} out"


def count_tokens(sdk, args):
    counted = sdk.messages.count_tokens(model=args.model, messages=PROMPT)
    check(counted.input_tokens > 0, f"count_tokens: {counted}")
    return f"{counted.input_tokens} input tokens"


def unknown_model(sdk, _args):
    err = expect_error(
        anthropic.NotFoundError,
        lambda: sdk.messages.create(model="no-such-model", max_tokens=4, messages=PROMPT),
    )
    check("no-such-model" in str(err), f"the error does not name the model: {err}")
    return f"NotFoundError: {err.message}"


def response(sdk, args):
    res = sdk.responses.create(model=args.model, input="Say hi", max_output_tokens=8, temperature=0)
    check(res.output_text, f"no output_text: {res}")
    check(res.usage.input_tokens > 0 and res.usage.output_tokens > 0, f"usage: {res.usage}")
    return f"{res.usage.input_tokens} in, {res.usage.output_tokens} out: {res.output_text!r}"


def response_streamed(sdk, args):
    kinds, deltas, completed = [], [], None
    for event in sdk.responses.create(model=args.model, input="Say hi", max_output_tokens=8, stream=True):
        kinds.append(event.type)
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
        if event.type == "response.completed":
            completed = event.response
    check(deltas and "".join(deltas), f"no text deltas: {kinds}")
    check(completed is not None and completed.usage.output_tokens > 0, f"no response.completed with usage: {kinds}")
    return f"{len(kinds)} events, {len(deltas)} text deltas"


def wrong_key(args):
    err = expect_error(
        anthropic.AuthenticationError,
        lambda: claude(args.base_url, "sk-wrong").messages.create(model=args.model, max_tokens=4, messages=PROMPT),
    )
    return f"AuthenticationError ({err.status_code}): {err.message}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", default="smol")
    parser.add_argument("--key")
    args = parser.parse_args()
    key = args.key or "sk-anything"
    claude_sdk = claude(args.base_url, key)
    openai_sdk = OpenAI(base_url=args.base_url.rstrip("/") + "/v1", api_key=key, max_retries=0, timeout=120)
    checks = [
        ("anthropic messages.create", lambda: message(claude_sdk, args)),
        ("anthropic messages.stream", lambda: message_streamed(claude_sdk, args)),
        ("anthropic messages.count_tokens", lambda: count_tokens(claude_sdk, args)),
        ("anthropic unknown model", lambda: unknown_model(claude_sdk, args)),
        ("openai responses.create", lambda: response(openai_sdk, args)),
        ("openai responses.create(stream=True)", lambda: response_streamed(openai_sdk, args)),
    ]
    if args.key:
        checks.append(("anthropic with a wrong API key", lambda: wrong_key(args)))
    return run_checks(checks)


if __name__ == "__main__":
    sys.exit(main())

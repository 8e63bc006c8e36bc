#!/usr/bin/env python3
"""Writes the seed corpora: small valid GGUF headers, hostile ones, and init files.

    python3 fuzz/seeds.py        # (re)writes fuzz/corpus/{gguf,config}/seed-*

Seeds are named seed-*; files the fuzzer added (merged with scripts/fuzz.sh, FUZZ_MERGE=1) keep their
hash names and are left alone. GGUF layout (little-endian): "GGUF", u32 version, u64 tensor_count,
u64 kv_count, then each kv as (u64 len + key, u32 type, value), then each tensor info as
(u64 len + name, u32 n_dims, n_dims x u64, u32 ggml type, u64 offset).
"""

import json
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
FORMATS = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?",
           U64: "<Q", I64: "<q", F64: "<d"}


def string(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def payload(kind, value):
    if kind == STR:
        return string(value)
    if kind == ARR:
        elem, items = value
        return struct.pack("<IQ", elem, len(items)) + b"".join(payload(elem, v) for v in items)
    return struct.pack(FORMATS[kind], value)


def gguf(kvs, tensors=(), version=3, tail=b""):
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, kind, value in kvs:
        out += string(key) + struct.pack("<I", kind) + payload(kind, value)
    for name, dims in tensors:
        out += string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", 0, 0)
    return out + tail


def llama(arch="llama", **dims):
    d = dict(context_length=8192, block_count=30, head_count=9, head_count_kv=3, embedding_length=576)
    d.update(dims)
    kvs = [
        ("general.architecture", STR, arch),
        ("general.name", STR, "Tiny Seed"),
        ("general.file_type", U32, 15),
        (f"{arch}.context_length", U64 if d["context_length"] > 2**32 - 1 else U32, d["context_length"]),
        (f"{arch}.block_count", U64 if d["block_count"] > 2**32 - 1 else U32, d["block_count"]),
        (f"{arch}.attention.head_count", U32, d["head_count"]) if isinstance(d["head_count"], int)
        else (f"{arch}.attention.head_count", ARR, (U32, d["head_count"])),
        (f"{arch}.attention.head_count_kv", U32, d["head_count_kv"]),
        (f"{arch}.embedding_length", U64, d["embedding_length"]),
    ]
    return kvs


TENSORS = [("token_embd.weight", [576, 49152]), ("blk.0.attn_q.weight", [576, 576]), ("output_norm.weight", [576])]

GGUF_SEEDS = {
    "empty-v3": gguf([]),
    "empty-v2": gguf([], version=2),
    "smol-like": gguf(llama() + [
        ("tokenizer.chat_template", STR, "{% for m in messages %}{{ m.content }}{% endfor %}"),
        ("tokenizer.ggml.tokens", ARR, (STR, ["<s>", "</s>", "a", "b"])),
        ("tokenizer.ggml.scores", ARR, (F32, [0.0, -1.5, 2.25])),
        ("tokenizer.ggml.token_type", ARR, (I32, [1, 3, -1])),
    ], TENSORS, tail=struct.pack("<Q", 1024)),
    "every-type": gguf([
        ("u8", U8, 255), ("i8", I8, -128), ("u16", U16, 65535), ("i16", I16, -32768),
        ("u32", U32, 2**32 - 1), ("i32", I32, -(2**31)), ("f32", F32, 3.5), ("bool", BOOL, True),
        ("string", STR, "text"), ("u64", U64, 2**64 - 1), ("i64", I64, -(2**63)), ("f64", F64, -0.25),
        ("nested", ARR, (ARR, [(U8, [1, 2]), (U16, [3])])),
        ("empty", ARR, (STR, [])),
    ]),
    "qwen2-per-layer-heads": gguf(llama("qwen2", head_count=[16, 16, 8]), TENSORS[:1]),
    "head-count-zero": gguf(llama(head_count=0), TENSORS[:1]),
    "context-zero": gguf(llama(context_length=0), TENSORS[:2]),
    "at-the-limits": gguf(llama(context_length=2**32 - 1, block_count=4096, head_count=1,
                                head_count_kv=65536, embedding_length=2**20), TENSORS),
    # Hostile: each is refused with an error naming its field.
    "context-length-2p40": gguf(llama(context_length=2**40), TENSORS),
    "block-count-2p40": gguf(llama(block_count=2**40), TENSORS),
    "tensor-dims-overflow": gguf(llama(), [("big", [2**32, 2**32, 2])]),
    "parameters-overflow": gguf([], [("a", [2**63]), ("b", [2**63])]),
    "too-many-dims": gguf([], [("t", [1] * 9)]),
    "huge-string-length": b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + string("k") + struct.pack("<IQ", STR, 2**60),
    "huge-array-length": b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + string("k") + struct.pack("<IIQ", ARR, U32, 2**40),
    "huge-key-length": b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, 2**62),
    "huge-counts": b"GGUF" + struct.pack("<IQQ", 3, 2**60, 2**60),
    "array-depth-6": b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + string("k") + struct.pack("<I", ARR)
    + struct.pack("<IQ", ARR, 1) * 5 + struct.pack("<IQ", U8, 0),
    "duplicate-key": gguf([("general.name", STR, "a"), ("general.name", STR, "b")]),
    "unknown-type": gguf([]) [:16] + struct.pack("<Q", 1) + string("k") + struct.pack("<I", 13),
    "truncated": gguf(llama(), TENSORS)[:150],
    "bad-magic": b"GGML" + struct.pack("<IQQ", 3, 0, 0),
    "version-1": b"GGUF" + struct.pack("<III", 1, 0, 0),
    "big-endian": b"GGUF" + struct.pack(">IQQ", 3, 0, 0),
}

FULL = json.loads((HERE.parent / "llama-router.init.json").read_text())

CONFIG_SEEDS = {
    "repo-init-file": FULL,
    "empty-object": {},
    "every-key": {
        "version": "1.0",
        "server": {"host": "0.0.0.0", "port": 0},
        "router": {"enabled": False, "host": "localhost", "port": 65535, "serverPath": "/opt/llama/llama-server"},
        "models": {"directory": "/srv/models", "maxLoaded": 64, "autoDiscovery": False,
                   "preloadModels": ["smollm2", "qwen"], "presetsFile": "presets.ini", "idleTimeoutSec": 0},
        "performance": {"contextSize": 1048576, "batchSize": 1, "gpuLayers": 0, "parallelSlots": 256,
                        "httpThreads": 4, "threads": 2},
        "logging": {"level": "trace", "enableDebugOutput": True, "logFile": "/tmp/ld.log", "maxRows": 1000},
        "startup": {"autoStart": False, "timeout": 1000, "retryAttempts": 100, "retryDelay": 0},
        "security": {"adminToken": "s3cret-token", "apiKeys": ["sk-one", "sk-two"], "corsOrigins": ["*"]},
        "metrics": {"intervalMs": 250, "retentionDays": 365},
        "proxy": {"maxBodyBytes": 4294967296, "queueSize": 0, "queueTimeoutMs": 3600000},
        "backends": {
            "basePort": 1024, "connectionTimeoutSec": 600, "readTimeoutSec": 86400, "healthEndpoint": "/health",
            "startTimeoutSec": 3600, "idleTimeoutSec": 31536000, "maxRunning": 64, "hfDiscovery": False,
            "importRoots": ["/data/models"],
            "defaultSpawn": {"command": ["llama-server", "-c", "2048"], "proxyEndpoints": ["/v1/", "/health"]},
            "models": [
                {"name": "a", "path": "/m/a.gguf", "state": "auto", "group": "g", "ttl": 0, "aliases": ["alpha"],
                 "mmproj": "/m/mmproj-a.gguf", "spawn": {"command": ["llama-server", "-ngl", "99"],
                                                        "proxyEndpoints": ["/v1/"]}},
                {"name": "b", "path": "/m/b.gguf"},
            ],
        },
    },
    "backend-models-only": {"backends": {"models": [{"name": "q", "path": "q.gguf", "group": None, "ttl": None,
                                                      "spawn": None, "mmproj": None, "state": "manual"}]}},
    # Refused: each gives a list of issues.
    "root-array": [],
    "root-null": None,
    "unknown-keys": {"sever": {}, "server": {"hots": "x"}, "models": {"maxloaded": 2}},
    "wrong-types": {"server": {"port": "3000"}, "performance": {"contextSize": 1.5}, "startup": {"autoStart": 1}},
    "out-of-range": {"server": {"port": 8134}, "router": {"port": 0}, "performance": {"contextSize": 64,
                     "httpThreads": 0, "threads": -2}, "models": {"maxLoaded": 65, "preloadModels": ["../x", ""]},
                     "metrics": {"intervalMs": 1}, "proxy": {"maxBodyBytes": 9223372036854775807},
                     "logging": {"level": "loud"}},
    "public-host-without-token": {"server": {"host": "192.168.1.2"}, "security": {"adminToken": "short"}},
    "bad-backends": {"backends": {"basePort": 80, "healthEndpoint": "health",
                                  "defaultSpawn": {"command": ["", "--port", "1"]},
                                  "models": [{"name": "a/b", "path": ""}, {"name": "x", "path": "p", "aliases": ["x"]},
                                             {"name": "y", "path": "p", "state": "other", "extra": 1}]}},
    # Found by the fuzzer, kept: an unknown key that is the empty string (its issue's path is "").
    "empty-key": {"": {"port": "3000"}, "perferver": {"port": "3000"}, "ptartupz": {"autoSt`rt": 1}},
    "huge-numbers": {"server": {"port": 70000}, "performance": {"batchSize": 1e300, "gpuLayers": -9223372036854775808}},
}


def write(dir_name, seeds, encode):
    target = HERE / "corpus" / dir_name
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("seed-*"):
        old.unlink()
    for name, seed in seeds.items():
        (target / f"seed-{name}").write_bytes(encode(seed))
    return len(seeds)


if __name__ == "__main__":
    n = write("gguf", GGUF_SEEDS, lambda b: b)
    m = write("config", CONFIG_SEEDS, lambda v: (json.dumps(v, indent=1) + "\n").encode())
    print(f"wrote {n} GGUF seeds and {m} init-file seeds under {HERE / 'corpus'}")

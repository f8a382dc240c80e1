"""A webhook receiver for the end-to-end tests, as a clinic's system would run one
(`POST /records/ach/callback`): every message is verified with the `standardwebhooks` package
from PyPI (the Standard Webhooks project's own implementation, not ours).

    python receiver.py --port PORT

- `POST /admin/endpoints {"path", "secrets": [...], "failFirst": N, "status": S}`: an endpoint
  at `path` whose messages must verify with each of `secrets`, answering `S` (default 500) to
  its first N messages.
- `POST {path}`: verified, kept, answered 204 (or as scripted; 401 when it does not verify).
- `GET /admin/received?path=P`: what `P` received: id, type, data, the secrets it verified
  with, the status it was answered.
- `GET /health`.

It binds 127.0.0.1 only, and the test that starts it ends it.
"""

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

LOCK = threading.Lock()
ENDPOINTS = {}  # path -> {"secrets": [...], "failFirst": n, "status": s, "seen": n}
RECEIVED = {}  # path -> [message]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/health":
            return self.answer(200, {"status": "ok"})
        if url.path == "/admin/received":
            path = parse_qs(url.query).get("path", [""])[0]
            with LOCK:
                return self.answer(200, RECEIVED.get(path, []))
        return self.answer(404, {"error": "no such route"})

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        path = urlsplit(self.path).path
        if path == "/admin/endpoints":
            spec = json.loads(body)
            with LOCK:
                ENDPOINTS[spec["path"]] = {
                    "secrets": spec["secrets"],
                    "failFirst": spec.get("failFirst", 0),
                    "status": spec.get("status", 500),
                    "seen": 0,
                }
                RECEIVED.setdefault(spec["path"], [])
            return self.answer(200, {"ok": True})
        with LOCK:
            endpoint = ENDPOINTS.get(path)
        if endpoint is None:
            return self.answer(404, {"error": "no such endpoint"})
        headers = {k.lower(): v for k, v in self.headers.items()}
        verified = []
        for i, secret in enumerate(endpoint["secrets"]):
            try:
                Webhook(secret).verify(body, headers)
                verified.append(i)
            except WebhookVerificationError:
                pass
        with LOCK:
            endpoint["seen"] += 1
            if not verified:
                status = 401
            elif endpoint["seen"] <= endpoint["failFirst"]:
                status = endpoint["status"]
            else:
                status = 204
            message = json.loads(body) if verified else {}
            RECEIVED[path].append({
                "id": headers.get("webhook-id"),
                "type": message.get("type"),
                "data": message.get("data"),
                "verifiedWith": verified,
                "status": status,
            })
        return self.answer(status)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A scripted OpenAI-compatible model server for scripts/screenshot: it streams canned
answers (SSE, as llama.cpp's server does) so the dashboard shows workflows in every state:
tasks about `add` and `is_even` get working code and tests, `slugify` gets code that fails its
tests, and the others stream slowly enough to be caught running.

Usage: screenshot-server.py PORT
"""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CODE = {
    "add": "def add(a, b):\n    return a + b\n",
    "is_even": "def is_even(n):\n    return n % 2 == 0\n",
    "slugify": "def slugify(text):\n    return text.lower()\n",
    "parse_csv": "def parse_csv(text):\n    rows = []\n    for line in text.splitlines():\n        rows.append(line.split(','))\n    return rows\n",
    "fibonacci": "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
    "word_count": "def word_count(text):\n    return len(text.split())\n",
    "median": "def median(xs):\n    xs = sorted(xs)\n    mid = len(xs) // 2\n    return xs[mid]\n",
}

TESTS = {
    "add": "assert add(2, 3) == 5\n    assert add(-1, 1) == 0",
    "is_even": "assert is_even(4) is True\n    assert is_even(7) is False",
    "slugify": "assert slugify('Hello World') == 'hello-world'",
    "parse_csv": "assert parse_csv('a,b') == [['a', 'b']]",
    "fibonacci": "assert fibonacci(10) == 55",
    "word_count": "assert word_count('a b c') == 3",
    "median": "assert median([3, 1, 2]) == 2",
}

NAMES = {
    "add": "add-two-numbers",
    "is_even": "is-even-check",
    "slugify": "slugify-title",
    "parse_csv": "csv-line-parser",
    "fibonacci": "fibonacci-nth",
    "word_count": "word-counter",
    "median": "list-median",
}

# Tasks whose answers trickle in, so they are still running when the screen is captured.
SLOW = {"parse_csv", "fibonacci", "word_count", "median"}


def which(body):
    """The task's function: the first of CODE's names written as a call in the messages."""
    text = " ".join(m.get("content", "") for m in body.get("messages", []))
    found = [(text.find(key + "("), key) for key in CODE if key + "(" in text]
    return min(found)[1] if found else "add"


def answer(body):
    system = next(
        (m["content"] for m in body.get("messages", []) if m.get("role") == "system"), ""
    )
    key = which(body)
    if "You name programming tasks" in system:
        return NAMES[key]
    if "planning a small coding task" in system:
        return (
            f"Language: python\nFunctions:\n- {key}(...)\nEdge cases:\n- empty input\n"
            "- large values\n"
        )
    if "who writes unit tests" in system:
        return (
            "```python\nfrom solution import *\n\n"
            f"def test_{key}():\n    {TESTS[key]}\n```"
        )
    if "reviewing failing tests" in system:
        return "CODE: it does not replace spaces with dashes."
    return f"```python\n{CODE[key]}```"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.endswith("/models"):
            data = json.dumps({"object": "list", "data": [{"id": "demo", "object": "model"}]})
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data.encode())
        else:
            self.send_error(404)

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        text = answer(body)
        slow = which(body) in SLOW and "You name programming tasks" not in json.dumps(body)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

        def send(data):
            chunk = f"data: {data}\n\n".encode()
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()

        try:
            for piece in text.split(" "):
                delta = {"choices": [{"index": 0, "delta": {"content": piece + " "}}]}
                send(json.dumps(delta))
                time.sleep(1.5 if slow else 0.005)
            send(json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
            send("[DONE]")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()

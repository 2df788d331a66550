"""docs/openapi.json against the server it describes.

    .venv-test/bin/python tests/serve/openapi_test.py G4_BINARY TESTS_DATA_DIR

1. The document is valid OpenAPI 3.0 (the 3.0 meta-schema schemathesis ships, and schemathesis loads
   it); its $refs resolve, its `required` names declared properties, its examples fit their schemas.
2. `g4 serve` (the tiny random-weight model, `--api-key`) serves it at `GET /openapi.json` byte for byte.
3. schemathesis fuzzes every operation from it (examples, coverage and fuzzing phases; a fixed number
   of cases per operation, deterministic generation), checking: no 5xx or dropped connection; only
   documented statuses, content types and headers; bodies (and each server-sent event) that match
   the documented schemas; requests the document calls invalid refused; the API key enforced where
   the document says so.
4. Streams and errors the fuzzer cannot reach or check deeply: every chunk of streamed chat and text
   completions and every event of a streamed message against the chunk schemas of the document; the
   404 of an unknown model, the 413 of an oversized body and the 401 without the key in each API's
   error shape.
5. Requests the fuzzer is unlikely to build (server bugs found while writing this test): a body on a
   request whose body the server does not read must not be served as the next request of the
   connection; a few odd requests must get a documented status.
6. The server is still up at the end.

The `POST /v1/messages*` operations are skipped (with a note) while the server answers 404 for them.

This file is also the schemathesis hooks module (SCHEMATHESIS_HOOKS) of the run: before each request
the hook caps `max_tokens` (so random generation stays short), fixes a `seed`, and names the served
model (so requests get past the model check and really generate). The hook changes only valid values;
schemathesis re-checks whether a case it edited is still invalid.
"""
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DOC = os.path.join(ROOT, "docs", "openapi.json")

MODEL = "g4-openapi-test"     # the server's --alias: the model id requests must name
API_KEY = "openapi-test-key"  # the server runs with --api-key: auth is part of what is checked
MAX_BODY = 64 * 1024          # the server's --max-body, for the 413 checks
MAX_TOKENS = 3                # generation per fuzzed request
# Cases per operation in the fuzzing phase, and the phases; the sanitizer build (a server several
# times slower) runs a shorter pass: G4_OPENAPI_MAX_EXAMPLES, G4_OPENAPI_PHASES.
MAX_EXAMPLES = int(os.environ.get("G4_OPENAPI_MAX_EXAMPLES", "25"))
PHASES = os.environ.get("G4_OPENAPI_PHASES", "examples,coverage,fuzzing")
FUZZ_TIMEOUT = 480            # seconds: a hung run fails instead of blocking ctest
CHECKS = ",".join([
    "not_a_server_error",           # no 5xx, no dropped connection
    "status_code_conformance",      # only documented statuses
    "content_type_conformance",     # only documented content types
    "response_headers_conformance",
    "response_schema_conformance",  # bodies (and SSE events) match the documented schemas
    "negative_data_rejection",      # a request the document calls invalid is refused
    "ignored_auth",                 # 401 without the key, where the document asks for one
])
GENERATING = ("/v1/chat/completions", "/v1/completions", "/v1/messages")
I30 = 1 << 30

# Request fields the server passes on (to the chat template) or drops without checking their type:
# the document gives the type clients should send, the fuzz run treats them as any value (else
# sending e.g. `"name": 5` would count as an invalid request the server wrongly accepts).
UNCHECKED = [
    "/components/schemas/ChatMessage/properties/name",
    "/components/schemas/ChatMessage/properties/tool_call_id",
    "/components/schemas/ChatMessage/properties/reasoning_content",
    "/components/schemas/ChatToolCallIn/properties/id",
    "/components/schemas/ChatToolCallIn/properties/type",
    "/components/schemas/ChatTool/properties/function/properties/description",
    "/components/schemas/ChatTool/properties/function/properties/strict",
    "/components/schemas/AnthropicTextBlock/properties/cache_control",
    "/components/schemas/AnthropicThinkingBlock/properties/thinking",
    "/components/schemas/AnthropicThinkingBlock/properties/signature",
    "/components/schemas/AnthropicRedactedThinkingBlock/properties/data",
    "/components/schemas/AnthropicTool/properties/description",
]


# ---- schemathesis hooks (this file is loaded as the hooks module of the schemathesis run) ----

def _valid_int(v, lo, hi):
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def shorten(path, body):
    """Caps what a request may generate, fixes its seed and names the served model (valid values only)."""
    if not isinstance(body, dict):
        return
    if isinstance(body.get("model"), str):
        body["model"] = os.environ.get("G4_OPENAPI_MODEL", MODEL)
    if path not in GENERATING:
        return
    if "seed" not in body:
        body["seed"] = 0
    for key in ("max_tokens", "max_completion_tokens"):
        if _valid_int(body.get(key), MAX_TOKENS + 1, I30):
            body[key] = MAX_TOKENS
    # The OpenAI endpoints generate to the end of the context when no limit is given.
    if path != "/v1/messages" and body.get("max_tokens") is None and body.get("max_completion_tokens") is None:
        body["max_tokens"] = MAX_TOKENS
    th = body.get("thinking")
    if isinstance(th, dict) and _valid_int(th.get("budget_tokens"), MAX_TOKENS, I30):
        th["budget_tokens"] = MAX_TOKENS - 1


if __name__ != "__main__" and os.environ.get("G4_OPENAPI_HOOKS") == "1":
    import schemathesis

    @schemathesis.hook
    def before_call(context, case, kwargs):
        shorten(case.operation.path, case.body)


# ---- helpers ----

def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def request(url, method="GET", body=None, headers=None, raw=None):
    data = raw if raw is not None else json.dumps(body).encode() if body is not None else None
    h = {"Content-Type": "application/json", "Authorization": "Bearer " + API_KEY}
    h.update(headers or {})
    h = {k: v for k, v in h.items() if v is not None}
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def up(server):
    """The server process runs and answers /health."""
    try:
        return server.proc.poll() is None and request(server.url + "/health")[0] == 200
    except OSError:
        return False


def pointer(doc, ptr):
    node = doc
    for part in ptr.lstrip("#").split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def draft4(node):
    """An OpenAPI 3.0 schema as JSON Schema draft 4: `nullable` becomes a union with null."""
    if isinstance(node, list):
        return [draft4(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: draft4(v) for k, v in node.items()
           if k not in ("nullable", "discriminator", "example", "deprecated", "readOnly", "writeOnly")}
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


class Validators:
    """Validators of the document's component schemas (draft 4, $refs resolved in the document)."""

    def __init__(self, doc):
        import jsonschema_rs
        self.rs = jsonschema_rs
        self.doc = doc
        self.components = {"schemas": draft4(doc["components"]["schemas"])}
        self.cache = {}

    def errors(self, schema, value):
        key = json.dumps(schema, sort_keys=True)
        if key not in self.cache:
            root = {"allOf": [draft4(schema)], "components": self.components}
            self.cache[key] = self.rs.Draft4Validator(root)
        return [str(e).splitlines()[0][:300] for e in self.cache[key].iter_errors(value)]

    def check(self, what, schema, value):
        errs = self.errors(schema, value)
        if errs:
            fail("%s does not match the document:\n  %s\n  value: %s" % (what, "\n  ".join(errs[:5]),
                                                                       json.dumps(value)[:600]))


def ref(name):
    return {"$ref": "#/components/schemas/" + name}


# ---- 1. the document ----

def check_document():
    with open(DOC, "rb") as f:
        raw = f.read()
    doc = json.loads(raw)
    if not str(doc.get("openapi", "")).startswith("3.0."):
        fail("docs/openapi.json: 'openapi' must be 3.0.x, is %r" % doc.get("openapi"))
    from schemathesis.specs.openapi.definitions import OPENAPI_30_VALIDATOR
    errors = list(OPENAPI_30_VALIDATOR.iter_errors(doc))
    if errors:
        fail("docs/openapi.json is not a valid OpenAPI 3.0 document:\n" + "\n".join(str(e)[:500] for e in errors[:5]))
    import schemathesis
    schema = schemathesis.openapi.from_dict(doc)
    schema.validate()
    for op in schema.get_all_operations():
        op.ok()  # raises on an operation schemathesis cannot use

    problems = []

    def walk(node, where):
        if isinstance(node, dict):
            r = node.get("$ref")
            if isinstance(r, str) and (not r.startswith("#/") or pointer(doc, r) is None):
                problems.append("%s: unresolvable $ref %s" % (where, r))
            if isinstance(node.get("required"), list) and isinstance(node.get("properties"), dict):
                for name in node["required"]:
                    if name not in node["properties"]:
                        problems.append("%s: required '%s' is not among the properties" % (where, name))
            for k, v in node.items():
                walk(v, where + "/" + k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, "%s/%d" % (where, i))

    walk(doc, "#")
    for p in UNCHECKED:
        if pointer(doc, p) is None:
            problems.append("UNCHECKED names %s, which the document does not have" % p)
    if problems:
        fail("docs/openapi.json:\n  " + "\n  ".join(problems[:20]))

    v = Validators(doc)
    n_examples = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for media in op.get("requestBody", {}).get("content", {}).values():
                if "example" in media:
                    v.check("the example of %s %s" % (method.upper(), path), media["schema"], media["example"])
                    n_examples += 1
    return raw, doc, v, n_examples


# ---- 3. the fuzz run ----

def fuzz(doc, url, exclude_messages):
    st = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    if not os.path.exists(st):
        fail(st + " is missing: run scripts/setup")
    fuzz_doc = copy.deepcopy(doc)
    for p in UNCHECKED:
        node = pointer(fuzz_doc, p)
        desc = node.get("description")
        node.clear()
        if desc:
            node["description"] = desc
    env = dict(os.environ, SCHEMATHESIS_HOOKS=os.path.abspath(__file__), G4_OPENAPI_HOOKS="1",
               G4_OPENAPI_MODEL=MODEL, PYTHONHASHSEED="0", NO_COLOR="1")
    with tempfile.TemporaryDirectory(prefix="g4-openapi-") as cwd:
        path = os.path.join(cwd, "openapi.json")
        with open(path, "w") as f:
            json.dump(fuzz_doc, f)
        cmd = [st, "run", path, "--url", url,
               "--header", "Authorization: Bearer " + API_KEY,
               "--checks", CHECKS,
               "--phases", PHASES,
               "--max-examples", str(MAX_EXAMPLES),
               "--generation-deterministic",
               "--workers", "1",
               "--request-timeout", "60",
               "--max-failures", "30",
               "--no-color"]
        if exclude_messages:
            cmd += ["--exclude-path-regex", "^/v1/messages"]
        try:
            p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=FUZZ_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            print(out)
            fail("schemathesis did not finish in %d s" % FUZZ_TIMEOUT)
    return p.returncode, p.stdout


# ---- 4. streams and errors ----

def sse_events(body):
    """A text/event-stream body as (event, data) pairs."""
    events = []
    for block in body.decode().split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data.append(line[len("data: "):])
        events.append((name, "\n".join(data)))
    return events


def check_openai_stream(v, url, path, body, chunk_schema):
    status, headers, raw = request(url + path, "POST", body)
    what = "POST %s (stream)" % path
    if status != 200 or not headers.get("Content-Type", "").startswith("text/event-stream"):
        fail("%s: status %d, %s: %s" % (what, status, headers.get("Content-Type"), raw[:300]))
    events = sse_events(raw)
    if not events or events[-1][1] != "[DONE]":
        fail(what + ": the stream does not end with data: [DONE]")
    finished, usage = set(), 0
    for name, data in events[:-1]:
        if name is not None:
            fail("%s: unexpected event name %r" % (what, name))
        chunk = json.loads(data)
        if "error" in chunk:
            fail("%s: the generation failed: %s" % (what, data))
        v.check(what + " chunk", ref(chunk_schema), chunk)
        for c in chunk["choices"]:
            if c["finish_reason"] is not None:
                finished.add(c["index"])
        usage += "usage" in chunk
    n = body.get("n", 1)
    if finished != set(range(n)) or usage != 1:
        fail("%s: finish reasons for choices %s (want 0..%d), %d usage chunks (want 1)" % (what, sorted(finished), n - 1, usage))
    return len(events)


def check_messages_stream(v, url, body):
    status, headers, raw = request(url + "/v1/messages", "POST", body)
    what = "POST /v1/messages (stream)"
    if status != 200 or not headers.get("Content-Type", "").startswith("text/event-stream"):
        fail("%s: status %d, %s: %s" % (what, status, headers.get("Content-Type"), raw[:300]))
    schemas = {"message_start": "AnthropicMessageStartEvent", "content_block_start": "AnthropicContentBlockStartEvent",
               "content_block_delta": "AnthropicContentBlockDeltaEvent",
               "content_block_stop": "AnthropicContentBlockStopEvent", "message_delta": "AnthropicMessageDeltaEvent",
               "message_stop": "AnthropicMessageStopEvent", "ping": "AnthropicPingEvent", "error": "AnthropicError"}
    events = sse_events(raw)
    names = [n for n, _ in events]
    if not names or names[0] != "message_start" or names[-1] != "message_stop":
        fail("%s: events %s: want message_start first and message_stop last" % (what, names))
    for name, data in events:
        if name not in schemas:
            fail("%s: undocumented event %r" % (what, name))
        ev = json.loads(data)
        if ev.get("type") != name:
            fail("%s: event %s with data.type %r" % (what, name, ev.get("type")))
        v.check("%s event %s" % (what, name), ref(schemas[name]), ev)
    return len(events)


def check_error(v, what, status, headers, raw, want_status, schema):
    if status != want_status or not headers.get("Content-Type", "").startswith("application/json"):
        fail("%s: status %d (want %d), %s" % (what, status, want_status, headers.get("Content-Type")))
    v.check(what, ref(schema), json.loads(raw))


def check_streams_and_errors(v, url, have_messages):
    msgs = [{"role": "user", "content": "Hi"}]
    n = check_openai_stream(v, url, "/v1/chat/completions",
                            {"model": MODEL, "messages": msgs, "max_tokens": 3, "n": 2, "seed": 1, "stream": True,
                             "stream_options": {"include_usage": True}, "logprobs": True, "top_logprobs": 2},
                            "ChatCompletionChunk")
    n += check_openai_stream(v, url, "/v1/completions",
                             {"model": MODEL, "prompt": "Hi", "max_tokens": 3, "n": 2, "seed": 1, "stream": True,
                              "echo": True, "stream_options": {"include_usage": True}, "logprobs": 2},
                             "CompletionChunk")
    if have_messages:
        n += check_messages_stream(v, url, {"model": MODEL, "messages": msgs, "max_tokens": 3, "stream": True,
                                            "thinking": {"type": "enabled", "budget_tokens": 1}})
    # 404: a model the server does not serve; 413: a body over --max-body; 401: no key.
    big = b'{"pad": "' + b"x" * (MAX_BODY + 1) + b'"}'
    cases = [("/v1/chat/completions", {"model": "no-such-model", "messages": msgs, "max_tokens": 1}, "Error"),
             ("/v1/completions", {"model": "no-such-model", "prompt": "Hi", "max_tokens": 1}, "Error")]
    if have_messages:
        cases += [("/v1/messages", {"model": "no-such-model", "messages": msgs, "max_tokens": 1}, "AnthropicError"),
                  ("/v1/messages/count_tokens", {"model": "no-such-model", "messages": msgs}, "AnthropicError")]
    for path, body, schema in cases:
        check_error(v, "POST %s (unknown model)" % path, *request(url + path, "POST", body), 404, schema)
        check_error(v, "POST %s (body over --max-body)" % path, *request(url + path, "POST", raw=big), 413, schema)
        check_error(v, "POST %s (no API key)" % path, *request(url + path, "POST", body, {"Authorization": None}),
                    401, schema)
    return n, 3 * len(cases)


def keep_alive_framing(url):
    """A request body the server does not read must not be taken for the next request on the connection."""
    import socket
    host, port = url[len("http://"):].split(":")
    inner = (b"POST /tokenize HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + API_KEY.encode() +
             b"\r\nContent-Length: 16\r\n\r\n{\"content\": \"x\"}")
    found = []
    for first in (b"GET /health", b"GET /v1/models", b"OPTIONS /v1/chat/completions"):
        c = socket.create_connection((host, int(port)), timeout=5)
        try:
            # Headers and body in two packets, as HTTP clients send them.
            c.sendall(first + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + API_KEY.encode() +
                      b"\r\nContent-Length: %d\r\n\r\n" % len(inner))
            time.sleep(0.1)
            c.sendall(inner)
            c.settimeout(1.0)
            data = b""
            try:
                while True:
                    d = c.recv(65536)
                    if not d:
                        break
                    data += d
            except socket.timeout:
                pass
        finally:
            c.close()
        n = data.count(b"HTTP/1.1 ")
        if n != 1:
            found.append("%s with a body: %d responses on the connection (the body was served as a request): %r" %
                         (first.decode(), n, data[:400]))
    return found


def edge_requests(v, url):
    """Requests the fuzzer is unlikely to build: each must get a documented status and body, and the server
    must stay up. Returns the problems found."""
    msgs = [{"role": "user", "content": "Hi"}]
    cases = [
        # A tool whose `type` is not a string.
        ("/v1/chat/completions", {"messages": msgs, "max_tokens": 1, "tools": [{"type": 1, "function": {"name": "f"}}]}),
        # A token prompt that does not decode to valid UTF-8 (token 433 is the byte 0xC3), echoed.
        ("/v1/completions", {"prompt": [433], "echo": True, "max_tokens": 1}),
        ("/v1/completions", {"prompt": [433], "echo": True, "max_tokens": 1, "stream": True}),
    ]
    doc_ops = v.doc["paths"]
    found = []
    for path, body in cases:
        what = "POST %s %s" % (path, json.dumps(body))
        try:
            status, headers, raw = request(url + path, "POST", body)
        except Exception as e:  # a dropped connection
            found.append("%s: no response (%s)" % (what, type(e).__name__))
            continue
        responses = doc_ops[path]["post"]["responses"]
        if status >= 500 or str(status) not in responses:
            found.append("%s: status %d: %s" % (what, status, raw[:300]))
            continue
        if status != 200 and headers.get("Content-Type", "").startswith("application/json"):
            r = responses[str(status)]
            r = pointer(v.doc, r["$ref"]) if "$ref" in r else r
            errs = v.errors(r["content"]["application/json"]["schema"], json.loads(raw))
            if errs:
                found.append("%s: %d body does not match: %s" % (what, status, errs[0]))
        if status == 200 and headers.get("Content-Type", "").startswith("text/event-stream"):
            for _, data in sse_events(raw):
                if data.startswith("{") and "error" in json.loads(data):
                    found.append("%s: the stream reports an error: %s" % (what, data[:300]))
    return found


def summary_lines(out):
    """The phases and the case count of a schemathesis report."""
    keep = []
    for line in out.splitlines():
        line = line.strip()
        m = re.match(r"^\W*((Examples|Coverage|Fuzzing) \(in [0-9.]+s\))", line)
        if m:
            keep.append(m.group(1))
        elif re.match(r"^\d+ generated", line):
            keep.append(line)
    return ", ".join(keep)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    g4, data_dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    sys.path.insert(0, HERE)
    from g4server import G4Server

    t0 = time.time()
    raw, doc, v, n_examples = check_document()
    n_ops = sum(1 for p in doc["paths"].values() for m in p if m in ("get", "post", "put", "delete", "patch"))
    print("openapi: docs/openapi.json is valid OpenAPI %s: %d operations, %d schemas, %d request examples that fit" %
          (doc["openapi"], n_ops, len(doc["components"]["schemas"]), n_examples))

    with G4Server(g4, data_dir, "-np", "4", "-c", "256", "--api-key", API_KEY, "-a", MODEL,
                  "--max-body", str(MAX_BODY)) as s:
        status, headers, served = request(s.url + "/openapi.json", headers={"Authorization": None})
        if status != 200 or served != raw:
            fail("GET /openapi.json: status %d, %d bytes, not the %d bytes of docs/openapi.json (rebuild g4?)" %
                 (status, len(served), len(raw)))
        if not headers.get("Content-Type", "").startswith("application/json"):
            fail("GET /openapi.json: Content-Type %r" % headers.get("Content-Type"))
        print("openapi: GET /openapi.json serves docs/openapi.json byte for byte (%d bytes)" % len(raw))

        status, _, body = request(s.url + "/v1/messages", "POST",
                                  {"model": MODEL, "max_tokens": 1, "messages": [{"role": "user", "content": "Hi"}]})
        have_messages = not (status == 404 and b"no such endpoint" in body)
        if not have_messages:
            print("openapi: POST /v1/messages answers 404 (not implemented yet): /v1/messages* skipped")

        problems = []
        t1 = time.time()
        rc, out = fuzz(doc, s.url, not have_messages)
        fuzz_s = time.time() - t1
        if rc != 0:
            print(out)
            problems.append("schemathesis found problems (exit code %d); see its report above" % rc)
        else:
            print("openapi: schemathesis: " + summary_lines(out))
        if not up(s):
            fail("the server died during the schemathesis run; its log:\n" + s.log()[-3000:])

        n_events, n_errors = check_streams_and_errors(v, s.url, have_messages)
        print("openapi: %d streamed events and %d error responses match the document" % (n_events, n_errors))
        problems += keep_alive_framing(s.url) + edge_requests(v, s.url)
        if not up(s):
            problems.append("the server is not up at the end; its log:\n" + s.log()[-2000:])
        if problems:
            fail("%d problems:\n- " % len(problems) + "\n- ".join(problems))
        print("openapi: keep-alive framing and edge requests: OK")
    print("openapi: OK (schemathesis %.0f s, all %.0f s)" % (fuzz_s, time.time() - t0))


if __name__ == "__main__":
    main()

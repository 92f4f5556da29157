#!/usr/bin/env python3
"""A fake Errorbrain (spec-driven G2 server) for Fluxbrain's tests.

Validates every POST /events body against the spec/v1 JSON Schemas with the `jsonschema` package (draft-07, with
a strict RFC 3339 `date-time` check) and answers like the real server (see shared/reference/errorbrain.md):

* valid body  -> 200 verdict from the real rules engine (reference section 5), with the real quirks:
  `created_at` without a timezone and with microseconds, `event_id` echoed verbatim;
* invalid body -> 422 `{"detail": [{"type", "loc": ["body", ...], "msg", "input"}]}`; like the real server, the
  `input` echoes the offending part of the request (for a missing field, the whole parent object).

Every POST /events body is recorded, one JSON line each, to --record (and served by GET /_requests).

Scripted behaviour ("mode"), read from --control-file before each request (JSON {"mode": ..., "slow_seconds": ...})
or set with POST /_control:
  ok            normal verdicts
  uppercase     verdict `id` and `event_id` in upper case
  fail500once   the first POST /events answers 500 (plain text, as uvicorn does), later ones are normal
  always500     every POST /events answers 500
  slow          sleep `slow_seconds` (default 5) before answering
  garbage       200 with a body that is not JSON
  confidence7   200 with hypothesis.confidence = 7
  missing       200 with a verdict without hypothesis.confidence
  reject422     422 even for a valid body (a `missing` error that echoes the whole body)
  retry_safe    the verdict carries an extension field `retry_safe: false` with a `retry_reason`

Usage: fake_errorbrain.py --spec-dir DIR [--port 0] [--port-file F] [--record F] [--control-file F]
The chosen port is written to --port-file (and printed as `PORT <n>`) once the server listens.
"""

import argparse
import datetime
import json
import os
import re
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema

RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def is_rfc3339(value):
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        return False
    try:
        datetime.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00").replace("t", "T"))
    except ValueError:
        return False
    return True


FORMAT_CHECKER = jsonschema.FormatChecker()
FORMAT_CHECKER.checks("date-time")(is_rfc3339)


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.mode = "ok"
        self.slow_seconds = 5.0
        self.failed_once = False
        self.requests = []
        self.verdicts = {}
        with open(os.path.join(args.spec_dir, "error_event.schema.json")) as f:
            self.event_schema = json.load(f)
        with open(os.path.join(args.spec_dir, "verdict.schema.json")) as f:
            self.verdict_schema = json.load(f)
        jsonschema.Draft7Validator.check_schema(self.event_schema)
        jsonschema.Draft7Validator.check_schema(self.verdict_schema)
        self.event_validator = jsonschema.Draft7Validator(self.event_schema, format_checker=FORMAT_CHECKER)
        # The real server's own verdicts fail the `date-time` format (no timezone): check shape, not format.
        self.verdict_validator = jsonschema.Draft7Validator(self.verdict_schema)

    def current_mode(self):
        control = self.args.control_file
        if control and os.path.exists(control):
            try:
                with open(control) as f:
                    data = json.load(f)
                with self.lock:
                    if data.get("mode") and data["mode"] != self.mode:
                        self.mode = data["mode"]
                        self.failed_once = False
                    if "slow_seconds" in data:
                        self.slow_seconds = float(data["slow_seconds"])
            except (OSError, ValueError):
                pass
        with self.lock:
            return self.mode

    def record(self, entry):
        with self.lock:
            self.requests.append(entry)
            if self.args.record:
                with open(self.args.record, "a") as f:
                    f.write(json.dumps(entry, sort_keys=True) + "\n")


def pydantic_errors(validator, body):
    """jsonschema errors in FastAPI/pydantic's 422 shape."""
    details = []
    for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
        path = ["body"] + list(error.absolute_path)
        if error.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", error.message)
            for name in missing:
                details.append({"type": "missing", "loc": path + [name], "msg": "Field required", "input": error.instance})
        elif error.validator == "additionalProperties":
            allowed = set(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    details.append({
                        "type": "extra_forbidden", "loc": path + [key],
                        "msg": "Extra inputs are not permitted", "input": error.instance[key],
                    })
        elif error.validator == "type":
            kind = {"object": "dict_type", "array": "list_type", "string": "string_type"}.get(error.validator_value, "type_error")
            details.append({"type": kind, "loc": path, "msg": error.message, "input": error.instance})
        else:
            details.append({"type": "value_error", "loc": path, "msg": "Value error, " + error.message, "input": error.instance})
    return details


def rules_verdict(event, uppercase=False):
    """The real server's rules engine (core/reasoning/rules.py), reference section 5."""
    severity = str(event.get("severity") or "").lower()
    if severity in ("critical", "error"):
        impact, confidence, urgency = "critical", 0.85, "high"
    elif severity == "warning":
        impact, confidence, urgency = "warning", 0.7, "medium"
    else:
        impact, confidence, urgency = "info", 0.55, "low"
    source = event.get("source") or {}
    name = source.get("name", "unknown")
    actions = [{
        "title": "Inspect recent error",
        "description": "Review the error message and recent deployment or configuration changes. Use attached evidence where available.",
        "urgency": urgency,
    }]
    if impact == "critical":
        actions.append({
            "title": "Mitigate impact",
            "description": "Consider rolling back latest changes or scaling affected service while investigating.",
            "urgency": "high",
        })
    tags = source.get("tags") or []
    if tags:
        actions.append({"title": "Check tagged context", "description": "Validate components tagged: " + ", ".join(tags), "urgency": urgency})
    components = [name]
    component = (event.get("metadata") or {}).get("component")
    if isinstance(component, str):
        components.append(component)
    event_id = event["id"]
    verdict_id = str(uuid.uuid4())
    if uppercase:
        event_id, verdict_id = event_id.upper(), verdict_id.upper()
    return {
        "id": verdict_id,
        "event_id": event_id,
        "hypothesis": {"title": "Issue observed in " + name, "description": event.get("message", ""), "confidence": confidence},
        "impact": {"severity": impact, "affected_components": components},
        "recommended_actions": actions,
        "evidence_refs": ["%s#e%d" % (event_id, i) for i in range(len(event.get("evidence") or []))],
        # datetime.utcnow().isoformat(): naive, microseconds.
        "created_at": datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds"),
    }


class Handler(BaseHTTPRequestHandler):
    server_version = "uvicorn"
    sys_version = ""

    def log_message(self, fmt, *args):
        if os.environ.get("FAKE_ERRORBRAIN_VERBOSE"):
            sys.stderr.write("fake-errorbrain: " + (fmt % args) + "\n")

    def send(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    @property
    def state(self):
        return self.server.state

    def do_GET(self):
        if self.path == "/healthz":
            self.send(200, {"status": "ok", "spec_version": "v1", "schemas": ["error_event", "verdict"]})
        elif self.path == "/_requests":
            with self.state.lock:
                self.send(200, list(self.state.requests))
        elif self.path.startswith("/analysis/"):
            verdict = self.state.verdicts.get(self.path[len("/analysis/"):])
            self.send(200, verdict) if verdict else self.send(404, {"detail": "Verdict not found"})
        elif self.path == "/events":
            self.send(405, {"detail": "Method Not Allowed"})
        else:
            self.send(404, {"detail": "Not Found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path == "/_control":
            data = json.loads(raw or b"{}")
            with self.state.lock:
                self.state.mode = data.get("mode", "ok")
                self.state.slow_seconds = float(data.get("slow_seconds", self.state.slow_seconds))
                self.state.failed_once = False
            self.send(200, {"mode": self.state.mode})
            return
        if self.path != "/events":
            self.send(404, {"detail": "Not Found"})
            return
        mode = self.state.current_mode()
        try:
            body = json.loads(raw)
        except ValueError as error:
            self.state.record({"raw": raw.decode("utf-8", "replace"), "valid": False, "errors": ["json_invalid"]})
            self.send(422, {"detail": [{"type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error", "input": {}, "ctx": {"error": str(error)}}]})
            return
        details = pydantic_errors(self.state.event_validator, body)
        self.state.record({
            "body": body, "valid": not details, "mode": mode,
            "content_type": self.headers.get("Content-Type"),
            "errors": [".".join(str(p) for p in d["loc"]) + ": " + d["type"] for d in details],
        })
        if details:
            self.send(422, {"detail": details})
            return
        if mode == "slow":
            time.sleep(self.state.slow_seconds)
        if mode == "always500" or (mode == "fail500once" and not self.state.failed_once):
            with self.state.lock:
                self.state.failed_once = True
            self.send(500, b"Internal Server Error", "text/plain; charset=utf-8")
            return
        if mode == "reject422":
            self.send(422, {"detail": [{"type": "missing", "loc": ["body", "message"], "msg": "Field required", "input": body}]})
            return
        if mode == "garbage":
            self.send(200, b"<html>upstream says hi</html>{not json", "application/json")
            return
        verdict = rules_verdict(body, uppercase=(mode == "uppercase"))
        problems = [e.message for e in self.state.verdict_validator.iter_errors(verdict)]
        if problems and mode != "uppercase":
            self.send(500, {"detail": "fake verdict violates the schema: %s" % problems})
            return
        if mode == "confidence7":
            verdict["hypothesis"]["confidence"] = 7
        elif mode == "missing":
            del verdict["hypothesis"]["confidence"]
        elif mode == "retry_safe":
            verdict["retry_safe"] = False
            verdict["retry_reason"] = "The manifest references a file that does not exist; a commit is needed"
        with self.state.lock:
            self.state.verdicts[verdict["event_id"]] = verdict
        self.send(200, verdict)


def main():
    # A test runner may spawn us with SIGTERM blocked or ignored (the mask and ignored dispositions are inherited):
    # restore the defaults so `terminate()` stops the fake.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec-dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--record")
    parser.add_argument("--control-file")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.rename(tmp, args.port_file)
    print("PORT %d" % port, flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

"""Webhook deliveries checked by a real client: the reference
`standardwebhooks` library from PyPI verifies every delivery Premia makes,
and a server killed with SIGKILL while it delivers loses nothing.

Starts `premia serve` over a fresh data directory, registers an endpoint
for every event type on a receiver inside this script (slow on purpose, so
the kill lands mid-delivery), binds policies, kills the server with
SIGKILL after some deliveries, starts it again over the same directory,
binds more, and checks:

- every delivery verifies with `standardwebhooks.Webhook(secret).verify`;
- every policy bound has its `policy.issued` delivered at least once
  (before or after the kill), and every message id seen is a message of
  the log (same id, same body on a re-delivery);
- messages arrive in log order per endpoint (sequence never goes back
  except for re-deliveries after the restart).

Usage: verify.py <premia binary> [policies before kill] [policies after]
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

BINARY = sys.argv[1]
BEFORE = int(sys.argv[2]) if len(sys.argv) > 2 else 20
AFTER = int(sys.argv[3]) if len(sys.argv) > 3 else 10

received = []  # (id, type, sequence, body, verified)
lock = threading.Lock()
secret_box = {}


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            Webhook(secret_box["secret"]).verify(body, headers)
            verified = True
        except WebhookVerificationError:
            verified = False
        message = json.loads(body)
        with lock:
            received.append(
                (headers["webhook-id"], message["type"], message["sequence"], body, verified)
            )
        time.sleep(0.03)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(data, port):
    log = open(os.path.join(data, f"serve-{time.time()}.log"), "w+")
    process = subprocess.Popen(
        [BINARY, "serve", "--data", os.path.join(data, "d"), "--listen", f"127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    for _ in range(200):
        log.seek(0)
        text = log.read()
        if "listening" in text:
            return process, text
        time.sleep(0.1)
    raise SystemExit("the server did not start:\n" + text)


def call(port, key, method, path, body=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def policy(locator):
    return {
        "locator": locator, "account": "A-1", "product": "auto", "start": "2026-01-01",
        "time_zone": "America/New_York",
        "data": {"fields": {"territory": ["urban"], "producer": ["agency-7"]},
                 "exposures": {"V1": {"name": "vehicle",
                                      "fields": {"vehicle_class": ["sedan"], "driver_age": [30]},
                                      "perils": {"V1-BI": {"name": "bodily_injury"}}}}},
    }


def bind(port, key, locators):
    for locator in locators:
        status, body = call(port, key, "POST", "/v1/policies", policy(locator))
        assert status == 201, (locator, status, body)


def wait_until(predicate, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def issued():
    with lock:
        return {json.loads(body)["data"]["policy"] for (_, t, _, body, _) in received if t == "policy.issued"}


def main():
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/in"
    data = tempfile.mkdtemp()
    port = free_port()
    server, log = start(data, port)
    key = log.split("prm_", 1)[1].split()[0]
    key = "prm_" + key
    status, types = call(port, key, "GET", "/v1/webhooks/event-types")
    assert status == 200, types
    status, endpoint = call(port, key, "POST", "/v1/webhooks/endpoints",
                            {"url": url, "event_types": [t["type"] for t in types]})
    assert status == 201, endpoint
    secret_box["secret"] = endpoint["secret"]
    status, _ = call(port, key, "POST", "/v1/accounts",
                     {"locator": "A-1", "name": "Ada", "currency": "USD"})
    assert status == 201
    first = [f"P-{n}" for n in range(1, BEFORE + 1)]
    bind(port, key, first)
    # Kill while it delivers: some, not all, of the first policies are told.
    wait_until(lambda: len(issued()) >= BEFORE // 3, 60)
    server.send_signal(signal.SIGKILL)
    server.wait()
    told_before_kill = len(issued())
    server, _ = start(data, port)
    later = [f"P-{n}" for n in range(BEFORE + 1, BEFORE + AFTER + 1)]
    bind(port, key, later)
    everyone = set(first + later)
    complete = wait_until(lambda: everyone <= issued(), 120)
    server.send_signal(signal.SIGTERM)
    server.wait()
    with lock:
        deliveries = list(received)
    bad = [d[0] for d in deliveries if not d[4]]
    by_id = {}
    for (message_id, _, _, body, _) in deliveries:
        by_id.setdefault(message_id, set()).add(body)
    changed = [m for m, bodies in by_id.items() if len(bodies) > 1]
    missing = sorted(everyone - issued())
    print(json.dumps({
        "deliveries": len(deliveries),
        "distinct_messages": len(by_id),
        "re_deliveries": len(deliveries) - len(by_id),
        "policies_told_before_kill": told_before_kill,
        "policies": len(everyone),
        "signatures_failed": len(bad),
        "missing_policy_issued": missing,
        "messages_whose_body_changed": changed,
    }, indent=2))
    assert not bad, "signatures that standardwebhooks refused"
    assert complete and not missing, "policies whose policy.issued was never delivered"
    assert not changed, "a message re-delivered with another body"
    assert told_before_kill < len(everyone), "the kill came after every delivery"


if __name__ == "__main__":
    main()

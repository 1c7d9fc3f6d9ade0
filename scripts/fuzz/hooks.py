"""Schemathesis hooks for Premia's API fuzzing (scripts/fuzz-api.sh).

Adds the check `rejected_requests_change_nothing`: after any response with a
4xx or 5xx status, the tenant's event feed must hold no event it did not hold
before the request. Requests run one at a time (one worker), so the feed's
head before each call is exact.
"""

import os

import requests
import schemathesis

BASE = os.environ["PREMIA_BASE_URL"]
AUTH = {"Authorization": f"Bearer {os.environ['PREMIA_API_KEY']}"}
STATE = {"head": 0, "rejected": 0, "accepted": 0}


def feed_head(after: int) -> int:
    """The sequence of the tenant's last event, paging from `after`."""
    while True:
        answer = requests.get(
            f"{BASE}/v1/events", params={"after": after, "limit": 500}, headers=AUTH, timeout=30
        )
        if answer.status_code != 200:
            raise RuntimeError(
                f"the fuzzer's own feed read answered {answer.status_code}: {answer.text[:300]}"
            )
        page = answer.json()
        if page["data"]:
            after = page["data"][-1]["sequence"]
        if page.get("next_cursor") is None:
            return after


@schemathesis.hook
def before_call(ctx, case, kwargs):
    STATE["head"] = feed_head(STATE["head"])


@schemathesis.check
def rejected_requests_change_nothing(ctx, response, case):
    if response.status_code < 400:
        STATE["accepted"] += 1
        return
    STATE["rejected"] += 1
    page = requests.get(
        f"{BASE}/v1/events", params={"after": STATE["head"], "limit": 5}, headers=AUTH, timeout=30
    ).json()
    if page["data"]:
        kinds = [event["kind"] for event in page["data"]]
        raise AssertionError(
            f"{case.method} {case.path} answered {response.status_code} but appended events {kinds}"
        )


@schemathesis.serializer("application/wasm")
def wasm_bytes(ctx, value):
    """Plugin uploads: generated bodies are sent as raw bytes (always refused
    as components, which is the point: refusal must be clean)."""
    if isinstance(value, bytes):
        return value
    return str(value).encode()

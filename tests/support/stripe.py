"""localstripe on 127.0.0.1 for tests: a real Stripe-compatible API, signed webhooks and a fake Stripe.js.

It runs in a subprocess (aiohttp's `run_app` owns its event loop and signals) with its pickled store
pointed at a file of this run instead of the shared /tmp/localstripe.pickle. Webhooks it sends are caught
by `WebhookInbox`, a small HTTP receiver in the test process, so a test can hand the exact signed bytes to
the app (in its own event loop) once, three times or ten times at once.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.support.peers import missing_peer

HOST = "127.0.0.1"
SECRET_KEY = "sk_test_kyoso_localstripe"
PUBLISHABLE_KEY = "pk_test_kyoso_localstripe"
WEBHOOK_SECRET = "whsec_kyoso_test_secret"
STARTUP_TIMEOUT = 20.0

# Runs in the subprocess: the store's load/dump go to the file named on the command line.
SERVER_SCRIPT = """
import pickle, sys
from aiohttp import web
import localstripe.resources as resources
from localstripe import server

path = sys.argv[2]

def load(self):
    try:
        with open(path, "rb") as handle:
            old = pickle.load(handle)
    except FileNotFoundError:
        return
    self.clear()
    self.update(old)

def dump(self):
    with open(path, "wb") as handle:
        pickle.dump(dict(self), handle, protocol=pickle.HIGHEST_PROTOCOL)

resources.Store.try_load_from_disk = load
resources.Store.dump_to_disk = dump
web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class LocalStripe:
    """A running localstripe: its API base and a synchronous client for test set-up."""

    base_url: str
    process: subprocess.Popen[bytes]

    def post(self, path: str, data: dict[str, Any] | None = None) -> Any:
        """POST form data to the API with the secret key and return the JSON answer."""
        response = httpx.post(
            self.base_url + path, data=data or {}, auth=(SECRET_KEY, ""), timeout=10.0, trust_env=False
        )
        return response.json() if response.content else {}

    def get(self, path: str) -> Any:
        """GET an API object."""
        return httpx.get(self.base_url + path, auth=(SECRET_KEY, ""), timeout=10.0, trust_env=False).json()

    def card_token(self, number: str) -> str:
        """Tokenize a test card as Stripe.js does in the browser (with the publishable key)."""
        card = {"card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2034", "card[cvc]": "123"}
        response = httpx.post(
            self.base_url + "/v1/tokens", data={**card, "key": PUBLISHABLE_KEY}, timeout=10.0, trust_env=False
        )
        return str(response.json()["id"])

    def register_webhook(self, url: str, secret: str = WEBHOOK_SECRET) -> None:
        """Make localstripe send signed events to `url`."""
        httpx.post(
            f"{self.base_url}/_config/webhooks/kyoso", data={"url": url, "secret": secret}, trust_env=False
        ).raise_for_status()

    def flush(self) -> None:
        """Forget every object (between tests)."""
        httpx.delete(f"{self.base_url}/_config/data", trust_env=False).raise_for_status()

    def stop(self) -> None:
        """Terminate the subprocess."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()


@contextmanager
def run_localstripe(store_file: Path, log_file: Path) -> Iterator[LocalStripe]:
    """Start localstripe on a free port of 127.0.0.1; skip (fail in CI) when it cannot start."""
    try:
        import localstripe  # noqa: F401
    except ImportError:
        missing_peer("localstripe", "pip install localstripe")
    port = free_port()
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVER_SCRIPT, str(port), str(store_file)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LocalStripe(base_url=f"http://{HOST}:{port}", process=process)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        try:
            httpx.get(server.base_url + "/js.stripe.com/v3/", timeout=1.0, trust_env=False)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                missing_peer("localstripe", log_file.read_text(errors="replace")[-2000:])
            time.sleep(0.1)
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class Delivery:
    """One webhook as localstripe sent it: the raw body and its Stripe-Signature header."""

    body: bytes
    signature: str

    @property
    def event(self) -> dict[str, Any]:
        """The parsed event."""
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class WebhookInbox:
    """An HTTP receiver on 127.0.0.1 that records every delivery and answers 200."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with inbox._lock:
                    inbox._deliveries.append(Delivery(body, self.headers.get("Stripe-Signature", "")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self._server.server_address[1]}/webhook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def deliveries(self) -> list[Delivery]:
        """What arrived so far."""
        with self._lock:
            return list(self._deliveries)

    def clear(self) -> None:
        """Forget what arrived."""
        with self._lock:
            self._deliveries.clear()

    def wait_for(self, event_type: str, object_id: str, timeout: float = 10.0) -> Delivery:
        """The first delivery of `event_type` about `object_id` (localstripe sends after about 1 s)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for delivery in self.deliveries():
                event = delivery.event
                if event["type"] == event_type and event["data"]["object"].get("id") == object_id:
                    return delivery
            time.sleep(0.05)
        seen = [(d.event["type"], d.event["data"]["object"].get("id")) for d in self.deliveries()]
        raise AssertionError(f"no {event_type} for {object_id} within {timeout} s; got {seen}")

    def close(self) -> None:
        """Stop receiving."""
        self._server.shutdown()
        self._server.server_close()

"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, recording what it receives, failing on demand.

It runs in a thread with its own event loop (aiosmtpd's `Controller`), so the test's loop talks to it over
a real TCP connection exactly as the app talks to a mail relay. Every accepted message is recorded (the
envelope, the raw bytes and the parsed message) before the server answers 250, so once the client's send
returns, the message is in `messages`. `fail_rcpt` / `fail_data` make it answer an error instead (451: try
again later; 550: refused for good); `stop` closes the port (connection refused) and `start` opens the
same port again.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMessage:
    """One message the server accepted: envelope sender and recipients, the bytes, and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage

    @property
    def message_id(self) -> str:
        """The Message-ID header ('' when missing)."""
        return str(self.message.get("Message-ID", ""))


class RecordingHandler:
    """aiosmtpd handler: records accepted messages; answers `rcpt_reply` / `data_reply` when they are set."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[ReceivedMessage] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None
        self.refused_addresses: dict[str, str] = {}  # address -> reply, for that recipient only
        self.refused = 0  # RCPT or DATA commands answered with an error

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        """Accept the recipient, or refuse it with `rcpt_reply`."""
        reply = self.refused_addresses.get(address, self.rcpt_reply)
        if reply is not None:
            with self._lock:
                self.refused += 1
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        """Record the message, or refuse it with `data_reply`."""
        reply = self.data_reply
        if reply is not None:
            with self._lock:
                self.refused += 1
            return reply
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        received = ReceivedMessage(
            mail_from=str(envelope.mail_from),
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=raw,
            message=parsed,
        )
        with self._lock:
            self._messages.append(received)
        return "250 Message accepted for delivery"

    def messages(self) -> list[ReceivedMessage]:
        """A copy of what was received so far, in arrival order."""
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        """Forget what was received."""
        with self._lock:
            self._messages.clear()
            self.refused = 0


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    """An SMTP server on a fixed port of 127.0.0.1 that can be stopped and started again."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.handler = RecordingHandler()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        """The SMTP_URL the app needs to send here (short timeout: a test must not hang 30 s)."""
        return f"smtp://{HOST}:{self.port}?timeout=5"

    @property
    def running(self) -> bool:
        """Whether the port accepts connections now."""
        return self._controller is not None

    def start(self) -> None:
        """Listen on the port (again). aiosmtpd closes a stopped controller's loop: make a new one."""
        if self._controller is not None:
            return
        controller = Controller(self.handler, hostname=HOST, port=self.port, ready_timeout=10)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Close the port: clients now get 'connection refused'."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    # What it received.

    @property
    def messages(self) -> list[ReceivedMessage]:
        """Every accepted message, in arrival order."""
        return self.handler.messages()

    def message_ids(self) -> Counter[str]:
        """How many times each Message-ID arrived (a duplicate shows as a count above 1)."""
        return Counter(received.message_id for received in self.messages)

    def to(self, address: str) -> list[ReceivedMessage]:
        """The messages whose envelope names `address`."""
        return [received for received in self.messages if address in received.rcpt_tos]

    # How it answers.

    def fail_rcpt(self, reply: str = "451 4.3.0 Try again later") -> None:
        """Refuse every recipient with `reply` (e.g. '550 5.1.1 No such user') until `accept`."""
        self.handler.rcpt_reply = reply

    def fail_data(self, reply: str = "451 4.3.0 Try again later") -> None:
        """Refuse every message at DATA with `reply` until `accept`."""
        self.handler.data_reply = reply

    def refuse(self, address: str, reply: str = "550 5.1.1 No such user") -> None:
        """Refuse one recipient address with `reply` until `accept`."""
        self.handler.refused_addresses[address] = reply

    def accept(self) -> None:
        """Accept everything again."""
        self.handler.rcpt_reply = None
        self.handler.data_reply = None
        self.handler.refused_addresses.clear()

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

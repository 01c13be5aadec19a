"""Email: compose a Japanese-safe MIME message and hand it to SMTP, or to var/mail/ when no SMTP is set."""

from __future__ import annotations

import email.policy
import os
import ssl
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from types import TracebackType
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from app.notifications.messages import RenderedMessage

SMTP_TIMEOUT_SECONDS = 30


class CachedHeaderRegistry(HeaderRegistry):
    """The standard header registry, but it builds each header class once.

    `HeaderRegistry.__getitem__` creates a new class with `type()` for every header set or parsed: about a
    third of the CPU time of composing a message. The classes depend only on the header name.
    """

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls


# SMTP's policy (CRLF line ends, RFC 2047 encoded headers) with the faster header registry.
POLICY = email.policy.SMTP.clone(header_factory=CachedHeaderRegistry())


class DeliveryFailed(Exception):
    """A message could not be handed over; `temporary` ones are tried again later."""

    def __init__(self, reason: str, *, temporary: bool) -> None:
        super().__init__(reason)
        self.temporary = temporary


def compose(
    rendered: RenderedMessage,
    *,
    sender: str,
    recipient: str,
    message_id: str,
    unsubscribe_url: str | None = None,
) -> EmailMessage:
    """A multipart/alternative message (text, then HTML) in UTF-8 with encoded headers."""
    message = EmailMessage(policy=POLICY)
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text, charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return message


def sender_domain(sender: str) -> str:
    """The domain of the From address (for Message-IDs)."""
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return Address(addr_spec=address).domain or "kyoso.invalid"


class MailTransport(Protocol):
    """Somewhere messages go: opened once per batch, then `send` for each message."""

    async def __aenter__(self) -> MailTransport: ...

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def send(self, message: EmailMessage, *, name: str) -> None:
        """Hand one message over, or raise DeliveryFailed."""


class SmtpTransport:
    """SMTP through aiosmtplib: smtp:// (STARTTLS when offered), smtp+starttls:// (required), smtps:// (TLS).

    User and password come from the URL (percent-encoded); `?timeout=` in seconds. One connection serves a
    whole batch and is reopened after a connection failure.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtp+starttls", "smtps"}:
            raise ValueError(
                f"SMTP_URL must start with smtp://, smtp+starttls:// or smtps://, not {parts.scheme}://"
            )
        options = parse_qs(parts.query)
        self.hostname = parts.hostname or "127.0.0.1"
        self.port = parts.port or (465 if parts.scheme == "smtps" else 25)
        self.use_tls = parts.scheme == "smtps"
        self.start_tls: bool | None = True if parts.scheme == "smtp+starttls" else None
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = float(options.get("timeout", [SMTP_TIMEOUT_SECONDS])[0])
        self._client: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> SmtpTransport:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._close()

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(
            hostname=self.hostname,
            port=self.port,
            use_tls=self.use_tls,
            start_tls=self.start_tls,
            username=self.username,
            password=self.password,
            timeout=self.timeout,
            tls_context=ssl.create_default_context() if (self.use_tls or self.start_tls) else None,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(
                f"cannot connect to {self.hostname}:{self.port}: {error}", temporary=True
            ) from error
        return client

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()

    async def send(self, message: EmailMessage, *, name: str) -> None:
        """Send over the batch's connection; 4xx and connection trouble are temporary, 5xx permanent."""
        if self._client is None or not self._client.is_connected:
            self._client = await self._connect()
        try:
            await self._client.send_message(message)
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = [recipient.code for recipient in refused.recipients]
            raise DeliveryFailed(
                str(refused), temporary=all(400 <= code < 500 for code in codes)
            ) from refused
        except aiosmtplib.SMTPResponseException as response:
            if response.code >= 500 or response.code < 400:
                raise DeliveryFailed(f"{response.code} {response.message}", temporary=False) from response
            raise DeliveryFailed(f"{response.code} {response.message}", temporary=True) from response
        except (aiosmtplib.SMTPException, OSError) as error:
            await self._close()
            raise DeliveryFailed(f"connection failed: {error}", temporary=True) from error
        except ValueError as error:
            # aiosmtplib refuses an address it cannot put in an envelope before sending anything.
            raise DeliveryFailed(f"invalid address: {error}", temporary=False) from error


class FileTransport:
    """The embedded default: each message becomes an .eml file under var/mail/ (admins can read it too)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def __aenter__(self) -> FileTransport:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def send(self, message: EmailMessage, *, name: str) -> None:
        """Write `<name>.eml` atomically (a reader never sees half a file)."""
        target = self.folder / f"{name}.eml"
        partial = target.with_suffix(".eml.part")
        try:
            partial.write_bytes(message.as_bytes())
            os.replace(partial, target)
        except OSError as error:
            raise DeliveryFailed(f"cannot write {target}: {error}", temporary=True) from error


def transport_for(smtp_url: str | None, mail_dir: Path) -> SmtpTransport | FileTransport:
    """SMTP when SMTP_URL is set, files otherwise."""
    return SmtpTransport(smtp_url) if smtp_url else FileTransport(mail_dir)

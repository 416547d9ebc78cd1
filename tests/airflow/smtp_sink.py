"""A local SMTP server that keeps every mail it receives (aiosmtpd), for the alert tests."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.airflow.harness import free_port


class SmtpSink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd API
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    @property
    def connection_uri(self) -> str:
        """``AIRFLOW_CONN_SMTP_DEFAULT`` for this sink (plain SMTP, no TLS)."""
        return f"smtp://127.0.0.1:{self.port}?disable_tls=true&disable_ssl=true"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def wait_for(self, needle: str, *, timeout: float) -> EmailMessage:
        """The first mail whose subject contains ``needle``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for message in self.messages:
                    if needle in str(message["subject"]):
                        return message
            time.sleep(1)
        subjects = [str(m["subject"]) for m in self.messages]
        raise TimeoutError(f"no mail with {needle!r} in {timeout}s; got {subjects}")

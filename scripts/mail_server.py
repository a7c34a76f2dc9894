"""A real SMTP server for the tests: aiosmtpd as its own process, writing every message it
accepts into a Maildir (the stack starts the same server for the demo and the browser tests).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from email.message import Message
from pathlib import Path
from typing import List, Optional

from stack import ROOT, free_port, mail_server_command, read_mail


class MailServer:
    """``with MailServer(folder) as smtp``: listening on 127.0.0.1:``smtp.port``; ``smtp.messages()``."""

    def __init__(self, folder: Path, port: Optional[int] = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self._process: Optional[subprocess.Popen] = None

    def start(self) -> "MailServer":
        self._process = subprocess.Popen(mail_server_command(self.folder, self.port), cwd=ROOT,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError("the SMTP server exited")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as probe:
                    if probe.recv(3) == b"220":
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the SMTP server did not start")

    def kill(self) -> None:
        """SIGKILL, as a crash."""
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=10)

    def messages(self) -> List[Message]:
        """What arrived, oldest first."""
        return read_mail(self.folder)

    def __enter__(self) -> "MailServer":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.kill()

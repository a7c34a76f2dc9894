"""Email through the configured SMTP server (``email:``), with aiosmtplib.

A dispatch's payload holds the message as written when it was asked for: ``to``,
``subject``, ``text`` and an optional ``attachment`` ({filename, text}). A
refusal the server means for good (a 5xx reply: no such mailbox, say) is not
tried again; anything else is (see storage/dispatches.py).
"""

from __future__ import annotations

import email.utils
from email.message import EmailMessage
from typing import Any, Dict

import aiosmtplib

from handoff_connector.service.outbound import EmailConfig


class SendFailed(Exception):
    def __init__(self, reason: str, final: bool) -> None:
        super().__init__(reason)
        self.final = final  # the server refused it for good: no further try


def message(config: EmailConfig, payload: Dict[str, Any]) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = config.sender
    mail["To"] = payload["to"]
    mail["Subject"] = " ".join(str(payload["subject"]).split())  # one line, whatever a name held
    mail["Date"] = email.utils.formatdate(usegmt=True)
    mail["Message-ID"] = email.utils.make_msgid(domain=config.sender.rsplit("@", 1)[-1].rstrip(">"))
    mail.set_content(payload["text"])
    attachment = payload.get("attachment")
    if attachment:
        mail.add_attachment(attachment["text"], filename=attachment["filename"])
    return mail


async def send(config: EmailConfig, payload: Dict[str, Any]) -> None:
    try:
        await aiosmtplib.send(
            message(config, payload), hostname=config.host, port=config.port, username=config.username,
            password=config.password, start_tls=config.starttls, use_tls=config.tls,
            timeout=config.timeout_seconds)
    except aiosmtplib.SMTPRecipientsRefused as error:
        refusal = error.recipients[0]
        raise SendFailed(f"the mail server refused {payload['to']}: {refusal.code} {refusal.message}",
                         refusal.code >= 500) from error
    except aiosmtplib.SMTPResponseException as error:
        raise SendFailed(f"the mail server answered {error.code} {error.message}", error.code >= 500) from error
    except (aiosmtplib.SMTPException, OSError) as error:
        raise SendFailed(f"no mail server at {config.host}:{config.port} ({error})", False) from error

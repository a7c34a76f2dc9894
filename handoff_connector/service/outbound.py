"""What leaves the connector other than to Rasa: email (``email:``) and a signed webhook
(``webhook:``) in the config. Plain settings; sending is in mail.py and webhook.py.

``email`` names an SMTP server the connector sends through (follow-ups, transcripts);
``webhook`` a URL that hears of closes and follow-ups, each call signed with the
secret (``X-Handoff-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlparse

WEBHOOK_EVENTS = ("handoff.closed", "follow_up.created", "follow_up.done", "follow_up.answered")
MIN_SECRET = 16
_EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


class OutboundError(ValueError):
    """A wrong ``email`` or ``webhook`` setting; the message names the key."""


@dataclass(frozen=True)
class EmailConfig:
    host: str
    sender: str  # From: "Community help line <help@example.org>"
    port: int = 25
    username: Optional[str] = None
    password: Optional[str] = None  # or HANDOFF_SMTP_PASSWORD; never logged (HANDOFF_SMTP_PORT: the port)
    starttls: bool = False  # upgrade the connection (port 587)
    tls: bool = False  # TLS from the start (port 465)
    helpdesk_address: Optional[str] = None  # where "send the transcript to the help desk" goes
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret: str  # or HANDOFF_WEBHOOK_SECRET; never logged
    events: Tuple[str, ...] = WEBHOOK_EVENTS
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class Outbound:
    email: Optional[EmailConfig] = None
    webhook: Optional[WebhookConfig] = None
    follow_up_link_days: float = 14.0


def valid_email(value: str) -> bool:
    """An address a person could type (one mailbox, no display name, no header tricks)."""
    return len(value) <= 254 and bool(_EMAIL.match(value))


def parse_outbound(raw: Dict[str, Any], source: str) -> Outbound:
    days = raw.get("follow_up_link_days", 14.0)
    if isinstance(days, bool) or not isinstance(days, (int, float)) or days <= 0:
        raise OutboundError(f"{source}: `follow_up_link_days` must be a number of days > 0, got {days!r}.")
    return Outbound(_email(raw.get("email"), f"{source}: email"),
                    _webhook(raw.get("webhook"), f"{source}: webhook"), float(days))


def _email(raw: Any, where: str) -> Optional[EmailConfig]:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise OutboundError(f"{where}: expected a mapping with `host` and `from`.")
    unknown = set(raw) - {"host", "port", "from", "username", "password", "starttls", "tls",
                          "helpdesk_address", "timeout_seconds"}
    if unknown:
        raise OutboundError(f"{where}: unknown key(s) {sorted(unknown)}.")
    host, sender = raw.get("host"), raw.get("from")
    if not isinstance(host, str) or not host:
        raise OutboundError(f"{where}: `host` must name the SMTP server.")
    if not isinstance(sender, str) or not valid_email(parseaddr(sender)[1]):
        raise OutboundError(f"{where}: `from` must be an address, like 'Help line <help@example.org>', "
                            f"got {sender!r}.")
    port = int(os.environ["HANDOFF_SMTP_PORT"]) if os.environ.get("HANDOFF_SMTP_PORT", "").isdigit() \
        else raw.get("port", 25)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise OutboundError(f"{where}: `port` must be a port number, got {port!r}.")
    flags = {key: raw.get(key, False) for key in ("starttls", "tls")}
    for key, value in flags.items():
        if not isinstance(value, bool):
            raise OutboundError(f"{where}: `{key}` must be true or false, got {value!r}.")
    if flags["starttls"] and flags["tls"]:
        raise OutboundError(f"{where}: `starttls` (port 587) and `tls` (port 465) exclude each other.")
    helpdesk = raw.get("helpdesk_address")
    if helpdesk is not None and (not isinstance(helpdesk, str) or not valid_email(helpdesk)):
        raise OutboundError(f"{where}: `helpdesk_address` must be an address, got {helpdesk!r}.")
    return EmailConfig(host=host, sender=_sender(sender), port=port,
                       username=str(raw["username"]) if raw.get("username") else None,
                       password=os.environ.get("HANDOFF_SMTP_PASSWORD") or raw.get("password") or None,
                       starttls=flags["starttls"], tls=flags["tls"], helpdesk_address=helpdesk,
                       timeout_seconds=_timeout(raw, where))


def _sender(value: str) -> str:
    name, address = parseaddr(value)
    user, domain = address.split("@", 1)
    return str(Address(display_name=name, username=user, domain=domain))


def _webhook(raw: Any, where: str) -> Optional[WebhookConfig]:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise OutboundError(f"{where}: expected a mapping with `url` and `secret`.")
    unknown = set(raw) - {"url", "secret", "events", "timeout_seconds"}
    if unknown:
        raise OutboundError(f"{where}: unknown key(s) {sorted(unknown)}.")
    url = raw.get("url")
    if not isinstance(url, str) or urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc:
        raise OutboundError(f"{where}: `url` must be an http(s) URL, got {url!r}.")
    secret = os.environ.get("HANDOFF_WEBHOOK_SECRET") or raw.get("secret")
    if not isinstance(secret, str) or len(secret) < MIN_SECRET:
        raise OutboundError(f"{where}: `secret` (or HANDOFF_WEBHOOK_SECRET) must have at least "
                            f"{MIN_SECRET} characters.")
    events: List[str] = list(raw.get("events") or WEBHOOK_EVENTS)
    unknown_events = set(events) - set(WEBHOOK_EVENTS)
    if unknown_events:
        raise OutboundError(f"{where}: unknown event(s) {sorted(unknown_events)}; known: "
                            f"{', '.join(WEBHOOK_EVENTS)}.")
    return WebhookConfig(url=url, secret=secret, events=tuple(events), timeout_seconds=_timeout(raw, where))


def _timeout(raw: Dict[str, Any], where: str) -> float:
    value = raw.get("timeout_seconds", 10.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 30:
        raise OutboundError(f"{where}: `timeout_seconds` must be a number of seconds in (0, 30], got {value!r}.")
    return float(value)

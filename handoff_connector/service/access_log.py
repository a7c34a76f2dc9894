"""The access log, without secrets: tokens in a query string or a link's path never reach it."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

SECRET_PARAMS = {"token", "access_token", "password", "secret"}
_RESUME = re.compile(r"^/resume/[^/?]+")


def redacted(path: str, query_string: str) -> str:
    """The request target as logged: secret parameters and link tokens as "[redacted]"."""
    path = _RESUME.sub("/resume/[redacted]", path)
    if not query_string:
        return path
    pairs = [(k, "[redacted]" if k.lower() in SECRET_PARAMS else v)
             for k, v in parse_qsl(query_string, keep_blank_values=True)]
    return f"{path}?{urlencode(pairs, safe='[]')}"


class AccessLogger(AbstractAccessLogger):
    """One line per request: address, method, target (redacted), status, size, seconds."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info('%s "%s %s" %s %s %.3fs', request.remote, request.method,
                         redacted(request.path, request.query_string), response.status,
                         response.body_length, time)

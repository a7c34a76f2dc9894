"""Agents' photos: uploaded in the desk, served to the desk and the web chat.

``PUT /api/v1/agents/{id}/photo`` takes the image as the raw body or as the
first file of a ``multipart/form-data`` form. The type is told by the bytes
(PNG, JPEG or WebP signatures), never by the client's header or file name, so
an HTML or SVG file sent as "image/png" is refused; at most ``PHOTO_MAX_BYTES``.
``GET`` needs no sign-in: the web chat is a user's page, and a photo beside
an agent's messages is meant to be seen (as in other help-line chats). It is
served with an ETag and revalidated, under a URL that changes with the photo.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from aiohttp import BodyPartReader, web

from handoff_connector.service.agent_api import current_agent
from handoff_connector.service.errors import BadRequest, HandoffError, NotFound
from handoff_connector.service.keys import STORE

PHOTO_MAX_BYTES = 1024 * 1024
PHOTO_TYPES = ("image/png", "image/jpeg", "image/webp")
_CHUNK = 64 * 1024


class PhotoTooLarge(HandoffError):
    status = 413


class NotAnImage(HandoffError):
    status = 415


def image_type(data: bytes) -> Optional[str]:
    """The image type the bytes begin with, or None: PNG, JPEG or WebP only."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _too_large() -> PhotoTooLarge:
    return PhotoTooLarge(f"The photo is larger than {PHOTO_MAX_BYTES // 1024} KB; send a smaller one "
                         f"(a square of 400 pixels is plenty).")


async def _read(stream: "BodyPartReader | web.Request") -> bytes:
    """Reads at most PHOTO_MAX_BYTES, a chunk at a time: a larger body is refused before it is all in."""
    data = bytearray()
    while True:
        if isinstance(stream, BodyPartReader):
            chunk = await stream.read_chunk(_CHUNK)
        else:
            chunk = await stream.content.read(_CHUNK)
        if not chunk:
            return bytes(data)
        data += chunk
        if len(data) > PHOTO_MAX_BYTES:
            raise _too_large()


async def _upload(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > PHOTO_MAX_BYTES + 64 * 1024:
        raise _too_large()
    if request.content_type.startswith("multipart/"):
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if isinstance(part, BodyPartReader) and (part.filename is not None or part.name == "photo"):
                    return await _read(part)
        except (ValueError, AssertionError, RuntimeError) as error:
            raise BadRequest(f"The form could not be read ({error}); send the image as the body, or as "
                             f"a file field of a multipart/form-data form.") from error
        raise BadRequest("The form has no file; add the photo as a file field (`photo`).")
    return await _read(request)


async def put_photo(request: web.Request) -> web.Response:
    """PUT /api/v1/agents/{id}/photo: one's own, or anyone's for a supervisor."""
    actor = await current_agent(request)
    agent_id = request.match_info["id"]
    data = await _upload(request)
    kind = image_type(data)
    if kind is None:
        raise NotAnImage("That is not a PNG, JPEG or WebP image (told by its content, whatever its name "
                         "or type says); export the photo as one of those.")
    store = request.app[STORE]
    await store.photos.put(actor.id, agent_id, kind, data)
    return web.json_response((await store.accounts.get(agent_id)).as_dict())


async def delete_photo(request: web.Request) -> web.Response:
    """DELETE /api/v1/agents/{id}/photo: back to initials."""
    actor = await current_agent(request)
    store = request.app[STORE]
    await store.photos.delete(actor.id, request.match_info["id"])
    return web.json_response((await store.accounts.get(request.match_info["id"])).as_dict())


async def get_photo(request: web.Request) -> web.Response:
    """GET /api/v1/agents/{id}/photo: an agent's photo, for those signed in (by login id)."""
    await current_agent(request)
    photo = await request.app[STORE].photos.get(request.match_info["id"])
    if photo is None:
        raise NotFound("This agent has no photo; show their initials.")
    return _image(request, photo)


async def public_photo(request: web.Request) -> web.Response:
    """GET /api/v1/photos/{version}: an active agent's photo, for the web chat (no sign-in, and
    no login id in the address: a user's page must not learn the agents' logins)."""
    photo = await request.app[STORE].photos.by_version(request.match_info["version"][:64])
    if photo is None:
        raise NotFound("No such photo; show the agent's initials.")
    return _image(request, photo)


def _image(request: web.Request, photo: Dict[str, Any]) -> web.Response:
    """The image, or 304 when the browser's copy is current."""
    etag = f'"{photo["version"]}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300, must-revalidate",
               "Content-Security-Policy": "default-src 'none'", "X-Content-Type-Options": "nosniff"}
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        return web.Response(status=304, headers=headers)
    return web.Response(body=photo["data"], content_type=photo["content_type"], headers=headers)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/photos/{version}", public_photo)
    app.router.add_get("/api/v1/agents/{id}/photo", get_photo)
    app.router.add_put("/api/v1/agents/{id}/photo", put_photo)
    app.router.add_delete("/api/v1/agents/{id}/photo", delete_photo)

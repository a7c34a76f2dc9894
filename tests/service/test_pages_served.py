"""The desk, the insights and admin pages and the chart library are served from the connector itself (no CDN)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Awaitable, Callable

from aiohttp.test_utils import TestClient

from handoff_connector.service import create_app
from handoff_connector.service.desk import STATIC
from tests.service.conftest import make_config

Client = Callable[..., Awaitable[TestClient]]
JAVASCRIPT = ("application/javascript", "text/javascript")


async def _check_modules(client: TestClient, folder: str) -> None:
    """Every module in the folder, and each it imports (there or in common/), is served as JavaScript."""
    names = sorted(p.name for p in (STATIC / folder).glob("*.js"))
    assert names, folder
    for name in names:
        text = (STATIC / folder / name).read_text()
        assert text.startswith("// "), (folder, name)  # the one-line header saying what it is for
        for imported in re.findall(r'from "(\.\.?/[\w/-]+\.js)"', text):
            path = (STATIC / folder / imported).resolve()
            assert path.is_file() and STATIC.resolve() in path.parents, (name, imported)
            served = f"/static/{path.relative_to(STATIC.resolve()).as_posix()}"
            response = await client.get(served)
            assert response.status == 200 and response.content_type in JAVASCRIPT, served
        response = await client.get(f"/static/{folder}/{name}")
        assert response.status == 200 and response.content_type in JAVASCRIPT, name


async def _page_sources(client: TestClient, path: str) -> list[str]:
    page = await client.get(path)
    assert page.status == 200 and page.content_type == "text/html"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    sources = [s for s in re.findall(r'(?:src|href)="([^"#]+)"', await page.text()) if not s.startswith("data:")]
    assert sources and all(s.startswith("/") for s in sources), sources  # nothing from another site
    for source in sources:
        if source.startswith("/static/"):
            assert (await client.get(source)).status == 200, source
    return sources


async def test_the_insights_page_loads_only_what_the_connector_serves(tmp_path: Path, aiohttp_client: Client) -> None:
    client = await aiohttp_client(create_app(make_config(tmp_path)))
    await _page_sources(client, "/desk/insights")
    await _check_modules(client, "insights")


async def test_the_desk_page_loads_its_modules_from_the_connector(tmp_path: Path, aiohttp_client: Client) -> None:
    client = await aiohttp_client(create_app(make_config(tmp_path)))
    sources = await _page_sources(client, "/desk")
    # One entry module; it imports the rest (the old single script is gone).
    assert [s for s in sources if s.endswith(".js")] == ["/static/desk/main.js"], sources
    assert '<script type="module" src="/static/desk/main.js">' in await (await client.get("/desk")).text()
    assert (await client.get("/static/desk.js")).status == 404
    await _check_modules(client, "desk")
    await _check_modules(client, "common")


async def test_the_admin_page_loads_its_module_from_the_connector(tmp_path: Path, aiohttp_client: Client) -> None:
    client = await aiohttp_client(create_app(make_config(tmp_path)))
    sources = await _page_sources(client, "/desk/admin")
    assert [s for s in sources if s.endswith(".js")] == ["/static/desk/admin.js"], sources


def test_the_vendored_chart_library_is_the_release_its_readme_names() -> None:
    readme = (STATIC / "vendor" / "README.md").read_text()
    version = re.search(r"\| `chart\.umd\.min\.js` \| \[Chart\.js\]\([^)]*\) \| ([\d.]+) \|", readme)
    assert version is not None
    library = (STATIC / "vendor" / "chart.umd.min.js").read_bytes()
    assert library.startswith(b"/*!\n * Chart.js v" + version.group(1).encode() + b"\n")
    assert hashlib.sha256(library).hexdigest() in readme

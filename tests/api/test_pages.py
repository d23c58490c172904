"""GraphiQL (/graphql) and Swagger UI (/docs) load every asset from the app itself, so both
render on a machine without internet access; their Content-Security-Policy allows nothing else,
and they still render under it in a real browser (headless Chromium)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.graphql import UNPKG_ASSETS, offline_graphiql_html
from api.rest.table import ROUTES
from api.settings import Settings
from tests.live import running_server
from tests.tokens import TEST_SECRET, bearer

# What a browser accepts for each kind of asset the pages reference.
CONTENT_TYPES = {
    "script": ("text/javascript", "application/javascript"),
    "stylesheet": ("text/css",),
    "icon": ("image/",),
}
EXTERNAL_URL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
CSS_EXTERNAL_URL = re.compile(r"""url\(\s*["']?\s*(?:https?:)?//|@import""", re.IGNORECASE)


class Asset:
    def __init__(self, url: str, kind: str, integrity: str | None) -> None:
        self.url = url
        self.kind = kind
        self.integrity = integrity

    def __repr__(self) -> str:
        return f"Asset({self.url!r}, {self.kind!r})"


class AssetCollector(HTMLParser):
    """Every `src=`/`href=` on the page, with what kind of asset it is."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[Asset] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in ("src", "href"):
            url = attributes.get(name)
            if url is None:
                continue
            rel = (attributes.get("rel") or "").lower()
            kind = "script" if tag == "script" else "stylesheet" if "stylesheet" in rel else "icon"
            self.assets.append(Asset(url.strip(), kind, attributes.get("integrity")))


@pytest.fixture
async def page_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    await app.state.database.dispose()


async def _assert_page_is_offline(client: httpx.AsyncClient, path: str) -> list[Asset]:
    response = await client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    collector = AssetCollector()
    collector.feed(response.text)
    assets = [asset for asset in collector.assets if not asset.url.startswith("data:")]
    assert assets, f"{path} references no assets"
    external = [asset.url for asset in assets if EXTERNAL_URL.match(asset.url)]
    assert not external, f"{path} loads assets from outside the app: {external}"

    for asset in assets:
        fetched = await client.get(asset.url)
        assert fetched.status_code == 200, f"{asset.url}: {fetched.status_code}"
        content_type = fetched.headers["content-type"]
        assert content_type.startswith(CONTENT_TYPES[asset.kind]), (asset, content_type)
        assert fetched.content, asset
        if asset.kind == "stylesheet":
            assert not CSS_EXTERNAL_URL.search(fetched.text), f"{asset.url} imports external files"
        if asset.integrity:  # the browser refuses the file unless its hash matches
            algorithm, _, expected = asset.integrity.partition("-")
            digest = base64.b64encode(hashlib.new(algorithm, fetched.content).digest()).decode()
            assert digest == expected, f"{asset.url} does not match its integrity hash"
    return assets


async def test_graphiql_loads_every_asset_from_the_app(page_client: httpx.AsyncClient) -> None:
    assets = await _assert_page_is_offline(page_client, "/graphql")
    urls = {asset.url for asset in assets}
    assert urls == {f"/graphql-assets/{name}" for name in UNPKG_ASSETS.values()}
    assert all(asset.integrity for asset in assets)
    assert (await page_client.get("/graphql-assets/missing.js")).status_code == 404


async def test_graphiql_assets_follow_the_root_path(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db"))
    transport = httpx.ASGITransport(app=app, root_path="/gateway")
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/graphql", headers={"Accept": "text/html"})
    await app.state.database.dispose()
    assert response.status_code == 200
    assert 'src="/gateway/graphql-assets/graphiql.min.js"' in response.text


async def test_swagger_ui_loads_every_asset_from_the_app(page_client: httpx.AsyncClient) -> None:
    await _assert_page_is_offline(page_client, "/docs")
    spec = await page_client.get("/openapi.json")  # fetched by the page's script
    assert spec.status_code == 200
    assert spec.json()["paths"]


async def test_pages_are_off_in_production(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db",
        environment="production",
        auth_jwt_secret=TEST_SECRET,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    # An admin's token: production serves no page to anyone (anonymous callers get 401).
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=bearer()
    ) as client:
        graphiql = await client.get("/graphql", headers={"Accept": "text/html"})
        docs = await client.get("/docs")
        asset = await client.get("/graphql-assets/graphiql.min.js")
    await app.state.database.dispose()
    assert "graphiql" not in graphiql.text.lower()
    assert docs.status_code == 404
    assert asset.status_code == 404


def test_an_unvendored_cdn_url_fails_loudly() -> None:
    template = '<script src="https://unpkg.com/graphiql@9.9.9/graphiql.min.js"></script>'
    with pytest.raises(RuntimeError, match="not vendored"):
        offline_graphiql_html(template, "/graphql-assets")


# --- Content-Security-Policy ------------------------------------------------------------------


class InlineCode(HTMLParser):
    """The text of each inline <script> and <style>, exactly as a browser hashes it."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: dict[str, list[str]] = {"script": [], "style": []}
        self._open: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "style" or (tag == "script" and dict(attrs).get("src") is None):
            self._open, self._text = tag, []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            self.blocks[tag].append("".join(self._text))
            self._open = None


def directives(policy: str) -> dict[str, list[str]]:
    parsed = [part.split() for part in policy.split(";") if part.strip()]
    return {name: sources for name, *sources in parsed}


def sha256_sources(blocks: list[str]) -> set[str]:
    return {
        f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'"
        for block in blocks
    }


async def _page_policy(client: httpx.AsyncClient, path: str) -> tuple[dict[str, list[str]], str]:
    response = await client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    return directives(response.headers["content-security-policy"]), response.text


@pytest.mark.parametrize("path", ["/graphql", "/docs"])
async def test_a_page_may_run_only_the_inline_code_it_holds(
    page_client: httpx.AsyncClient, path: str
) -> None:
    policy, html = await _page_policy(page_client, path)
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    inline = InlineCode()
    inline.feed(html)
    assert inline.blocks["script"], f"{path} has no inline script: is this the page?"
    for kind in ("script", "style"):
        assert set(policy[f"{kind}-src"]) == {"'self'"} | sha256_sources(inline.blocks[kind])
    # Only the app itself (and data: images and fonts), never another host or 'unsafe-*'.
    sources = {source for values in policy.values() for source in values}
    assert not {s for s in sources if not s.startswith(("'self'", "'none'", "'sha256-", "data:"))}


async def test_the_docs_policy_follows_the_root_path(tmp_path: Path) -> None:
    """Swagger UI's inline script names /openapi.json under the root path: another hash."""
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db"))
    policies = []
    # The root path in `path` too (as uvicorn's --root-path puts it), or not (as a proxy may).
    for root_path, path in (("", "/docs"), ("/gateway", "/docs"), ("/gateway", "/gateway/docs")):
        transport = httpx.ASGITransport(app=app, root_path=root_path)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            policy, html = await _page_policy(client, path)
        assert f"url: '{root_path}/openapi.json'" in html
        inline = InlineCode()
        inline.feed(html)
        assert set(policy["script-src"]) == {"'self'"} | sha256_sources(inline.blocks["script"])
        policies.append(policy["script-src"])
    await app.state.database.dispose()
    assert policies[0] != policies[1] == policies[2]


# Debian's `chromium` (.ci/run installs it). The flags keep it off the network but for the page.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=15000",  # scripts, fetches and React's rendering settle first
)


def rendered(urls: list[str], profiles: Path) -> list[tuple[str, list[str]]]:
    """The DOM of each of `urls` once Chromium has run its scripts, and what the page's console
    said; one Chromium per page, side by side."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("needs headless Chromium: `apt-get install -y chromium` (.ci/run does)")
    browsers = [
        subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profiles / str(n)}", "--dump-dom", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, url in enumerate(urls)
    ]
    pages = []
    for browser in browsers:
        try:
            dom, log = browser.communicate(timeout=120)
        finally:
            browser.kill()
        assert browser.returncode == 0, log[-3000:]
        pages.append((dom, [line for line in log.splitlines() if ":CONSOLE" in line]))
    return pages


def test_graphiql_and_swagger_ui_render_in_chromium_under_their_policy(
    database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    with (
        log.open("wb") as output,
        running_server(database_url, env={"LOG_FORMAT": "json"}, output=output) as base,
    ):
        (graphiql, graphiql_console), (docs, docs_console) = rendered(
            [f"{base}/graphql", f"{base}/docs"], tmp_path
        )
    # Chromium logs each blocked script, style or fetch to the page's console.
    blocked = [
        line
        for line in graphiql_console + docs_console
        if "Content Security Policy" in line or "Refused to" in line
    ]
    assert not blocked, blocked
    # GraphiQL rendered its editors (the page itself only says "Loading...") ...
    for element in ("graphiql-query-editor", "graphiql-execute-button", "CodeMirror"):
        assert element in graphiql, f"GraphiQL did not render {element}"
    assert "Loading..." not in graphiql
    # ... and fetched the schema from /graphql (connect-src 'self'),
    served = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    asked = {line.get("graphql_operation") for line in served if line.get("route") == "/graphql"}
    assert "IntrospectionQuery" in asked
    # and Swagger UI rendered the operations of the /openapi.json it fetched.
    assert docs.count('class="opblock opblock-') >= len(ROUTES), "Swagger UI listed no routes"
    assert 'data-path="/api/v1/mentor-statuses/{mentor_id}"' in docs

"""GraphiQL (/graphql) and Swagger UI (/docs) load every asset from the app itself, so both
render on a machine without internet access."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.graphql import UNPKG_ASSETS, offline_graphiql_html
from api.settings import Settings
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

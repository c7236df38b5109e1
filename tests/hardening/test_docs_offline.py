"""``/docs`` renders offline: Swagger UI comes from the installed package's assets, served by
the hub itself, and the page names no other host (it was blank without Internet access)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from hub.api import create_app
from hub.api.docs import assets_folder
from hub.settings import Settings
from mocks.core.server import serve_app


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("docs")
    settings = Settings(environment="test", database_url=f"sqlite:///{folder / 'hub.sqlite3'}")
    with serve_app(create_app(settings)) as url:
        yield url


def _references(html: str) -> list[str]:
    """Every URL the page loads or links: src, href, and the JavaScript's url: '...'."""
    attributes = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    scripted = re.findall(r"""\burl\s*:\s*["']([^"']+)["']""", html)
    return attributes + scripted


def test_the_docs_page_loads_only_the_hubs_own_urls(api: str) -> None:
    page = httpx.get(f"{api}/docs", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    references = _references(page.text)
    assert any(ref.endswith("swagger-ui-bundle.js") for ref in references), references
    assert any(ref.endswith("swagger-ui.css") for ref in references), references
    assert "/openapi.json" in references
    for ref in references:
        absolute = urljoin(f"{api}/docs", ref)
        assert urlsplit(absolute).netloc == urlsplit(api).netloc, f"{ref} is not the hub's"
        answer = httpx.get(absolute, timeout=10)
        assert answer.status_code == 200, ref
        assert answer.content, ref
    assert not re.search(r"https?://", re.sub(r"<!--.*?-->", "", page.text, flags=re.DOTALL))


def test_the_assets_are_swagger_ui_5_which_reads_openapi_3_1(api: str) -> None:
    bundle = httpx.get(f"{api}/docs/assets/swagger-ui-bundle.js", timeout=10)
    assert bundle.status_code == 200
    assert "javascript" in bundle.headers["content-type"]
    assert len(bundle.content) > 500_000  # the whole bundle, not a stub
    document = httpx.get(f"{api}/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.1")
    assert re.fullmatch(r"swagger-ui-5\.[0-9.]+", Path(assets_folder()).name)


def test_the_docs_are_outside_the_contract(api: str) -> None:
    paths = httpx.get(f"{api}/openapi.json", timeout=10).json()["paths"]
    assert not [path for path in paths if path.startswith("/docs")]
    assert httpx.get(f"{api}/redoc", timeout=10).status_code == 404

"""The API docs render with no internet: Swagger UI, ReDoc and the AsyncAPI document come from the service.

Most locality networks have no internet access. Headless Chromium opens each page with every request
to anything but loopback aborted, and the page must still render its API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.async_api import Browser, Route, async_playwright

from shared.service import create_app
from shared.settings import Settings
from tests.integration.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS
from tongban.registry import definition, event_consumers
from tongban.testbed.processes import free_port


@pytest.fixture
async def catalogue_url(tmp_path: Path) -> AsyncIterator[str]:
    """The catalogue service, embedded (SQLite, in-process bus), on a loopback port."""
    settings = Settings(data_dir=tmp_path, bus="memory", localities_file=None)
    app = create_app(definition("catalogue"), settings, event_consumers=event_consumers())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(600):
        if server.started or task.done():
            break
        await asyncio.sleep(0.1)
    assert server.started, "the catalogue did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run `make chromium-install`"
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.mark.parametrize(("path", "rendered"), [("/docs", ".swagger-ui .information-container .title"),
                                                 ("/redoc", ".api-info h1")])
async def test_the_docs_render_with_every_non_loopback_request_blocked(
    catalogue_url: str, browser: Browser, path: str, rendered: str
) -> None:
    page = await browser.new_page()
    blocked: list[str] = []

    async def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_loopback)
    await page.goto(catalogue_url + path)
    title = await page.wait_for_selector(rendered, timeout=60_000)
    assert title is not None and "catalogue" in (await title.inner_text()).lower()
    assert blocked == [], f"the docs page asked the internet for {blocked}"
    await page.close()


async def test_each_service_serves_its_asyncapi_document(catalogue_url: str) -> None:
    import httpx

    async with httpx.AsyncClient() as http:
        answer = await http.get(catalogue_url + "/asyncapi.json")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    document = answer.json()
    assert document["asyncapi"] == "3.0.0"
    assert "routing-receives-from-310110" in document["operations"]  # consumers of every service, not only its own

"""The webhook health alert in real headless Chromium, on the embedded system (``tongban up``).

Suzhou subscribes an endpoint that is down; once its retries run out, Suzhou's operator sees the
alert above the panels and the failing row in the webhook health panel; the endpoint comes up, the
subscription is resumed through the webhooks API, and the alert goes away.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser

from tests.integration.test_dashboard_browser import Embedded, browser, login  # noqa: F401  (the browser fixture)
from tests.support.webhook_receiver import Receiver
from tongban.testbed.processes import free_port

SUZHOU = "320505"
HOOKS_ENV = {"TONGBAN_WEBHOOK_ALLOW_HTTP_LOOPBACK": "true", "TONGBAN_WEBHOOK_RETRY_FIRST_SECONDS": "0.3",
             "TONGBAN_WEBHOOK_RETRY_LONGEST_SECONDS": "1", "TONGBAN_WEBHOOK_RETRY_HORIZON_SECONDS": "3",
             "TONGBAN_WEBHOOK_DISPATCH_POLL_SECONDS": "0.5", "TONGBAN_WEBHOOK_HEALTH_REPORT_SECONDS": "1"}


@pytest.fixture
def embedded_hooks(tmp_path: Path) -> Iterator[Embedded]:
    system = Embedded(tmp_path, env=HOOKS_ENV)
    system.start()
    yield system
    system.stop()


async def test_a_failing_subscription_raises_an_alert_on_the_page_until_it_is_resumed(
    embedded_hooks: Embedded, browser: Browser, tmp_path: Path  # noqa: F811
) -> None:
    system = embedded_hooks
    cred = system.credentials[SUZHOU]
    receiver = Receiver(free_port())  # not listening yet: the endpoint is down
    page = await browser.new_page(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        await login(page, system.url("dashboard"), cred, regional=False)
        assert await page.is_hidden("#alerts")
        async with httpx.AsyncClient(timeout=15) as http:
            token = (await http.post(system.url("authorization") + "/oauth/token", data={
                "grant_type": "client_credentials", "client_id": cred["client_id"],
                "client_secret": cred["client_secret"]})).json()["access_token"]
            http.headers["Authorization"] = f"Bearer {token}"
            created = await http.post(system.url("webhooks") + "/v1/subscriptions",
                                      json={"url": receiver.url, "event_types": ["*"]})
            assert created.status_code == 201, created.text
            sub = created.json()
            receiver.secrets.append(sub["secret"])
            # Something happens on Suzhou's topic: its maintainer registers a client.
            registered = await http.post(system.url("authorization") + "/v1/clients", json={
                "locality": SUZHOU, "name": "窗口系统", "roles": ["window_clerk"]})
            assert registered.status_code == 201, registered.text

            alert = f'#alerts li[data-subscription="{sub["id"]}"]'
            await page.wait_for_selector(alert, timeout=60_000)
            text = await page.text_content(alert) or ""
            assert sub["id"] in text and receiver.url in text
            await page.wait_for_selector(f'#webhooks-body tr.failing[data-locality="{SUZHOU}"]', timeout=15_000)
            await page.wait_for_function(  # failing / active
                "code => document.querySelector(`#webhooks-body tr[data-locality='${code}'] td:nth-child(2)`)"
                ".textContent === '1 / 0'", arg=SUZHOU, timeout=15_000)
            assert await page.text_content("#alerts h2") == "推送订阅失败"
            await page.screenshot(path=str(tmp_path / "dashboard-webhook-alert.png"))
            await page.locator("#panel-webhooks").screenshot(path=str(tmp_path / "dashboard-webhook-panel.png"))

            await receiver.start()
            resumed = await http.post(system.url("webhooks") + f"/v1/subscriptions/{sub['id']}/resume")
            assert resumed.status_code == 200, resumed.text
            await page.wait_for_selector("#alerts", state="hidden", timeout=30_000)
            await page.wait_for_selector(f'#webhooks-body tr[data-locality="{SUZHOU}"]:not(.failing)', timeout=15_000)
            await page.wait_for_function(
                "code => document.querySelector(`#webhooks-body tr[data-locality='${code}'] td.waiting`)"
                ".textContent === '0'", arg=SUZHOU, timeout=30_000)
            assert receiver.accepted, "the waiting events went out once resumed"
            await page.click("#lang")
            assert await page.text_content("#panel-webhooks h2") == "Webhook health (per locality)"
            assert errors == []
    finally:
        await receiver.stop()

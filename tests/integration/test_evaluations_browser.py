"""The evaluations panel (好差评) in real headless Chromium, on the embedded system (``tongban up``).

A case is accepted at a window; the applicant, with the query code printed on the receipt, rates the
visit 非常不满意; the accepting locality's operator sees the panel's row for its locality: one
evaluation, the level's share, one rectification open, none overdue; in English too.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.async_api import Browser

from tests.integration.test_dashboard_browser import (  # noqa: F401  (the fixtures)
    BOZHOU,
    SUZHOU,
    Embedded,
    browser,
    embedded,
    login,
)
from tests.integration.test_window_documents import read_pdf
from tongban.testbed.patience import patience
from tongban.traffic import DEMO_ITEMS, Client, Player, Summary, TrafficPlan, published_items, submission_shape


async def test_a_poor_evaluation_shows_on_the_panel_of_the_locality_responsible(
    embedded: Embedded, browser: Browser, tmp_path: Path  # noqa: F811
) -> None:
    base = {n: embedded.url(n) for n in ("catalogue", "routing", "authorization", "delivery")}
    client = Client(base, embedded.credentials, 2)
    try:
        items = await published_items(client, SUZHOU, Summary())
        player = Player(client, items or DEMO_ITEMS, await submission_shape(client, SUZHOU),
                        TrafficPlan(seed=7, step_delay=(0.0, 0.0)), Summary(), time.monotonic() + 120)
        player.rng = random.Random(7)
        player.localities = [SUZHOU, BOZHOU]
        case_id = None
        for _ in range(10):  # an item the seeded agreement covers, accepted
            case_id = await player.play(steps=["accept"])
            if case_id and player.summary.transitions:
                break
        assert case_id and player.summary.transitions == 1, player.summary.as_dict()
        case = (await client.call("GET", "routing", f"/v1/cases/{case_id}", SUZHOU)).json()
        window = case["accepting_locality"]
        documents = (await client.call("GET", "routing", f"/v1/cases/{case_id}/documents", window)).json()
        pdf = await client.call("GET", "routing", documents["documents"][0]["href"], window)
        _text, codes = read_pdf(pdf.content)
        code = parse_qs(urlsplit(codes[0]).query)["code"][0]
    finally:
        await client.close()

    async with httpx.AsyncClient(timeout=15) as http:  # the applicant: no token
        given = await http.post(embedded.url("routing") + f"/v1/status/{case_id}/evaluations", params={"code": code},
                                json={"channel": "window", "level": "very_dissatisfied", "reasons": ["waiting"],
                                      "comment": "排队太久"})
        assert given.status_code == 201, given.text

    page = await browser.new_page(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await login(page, embedded.url("dashboard"), embedded.credentials[window], regional=False)
    row = f'#evaluations-body tr[data-locality="{window}"]'
    await page.wait_for_function(
        "sel => document.querySelector(sel + ' .rectifications')?.textContent === '1 / 0'", arg=row,
        timeout=20_000 * patience())
    assert await page.text_content(f"{row} .shares") == "非常不满意 100%"
    assert await page.text_content(f"{row} td.num") == "1"
    assert await page.text_content(f"{row} .on-time") == "–"
    assert await page.locator("#evaluations-body tr").count() == 1, "a locality's operator sees its own row"
    await page.locator("#panel-evaluations").screenshot(path=str(tmp_path / "evaluations-panel.png"))
    await page.click("#lang")
    await page.wait_for_function(
        "sel => document.querySelector(sel + ' .shares')?.textContent === 'very dissatisfied 100%'", arg=row,
        timeout=10_000 * patience())
    assert await page.text_content("#panel-evaluations h2") == "Applicants' evaluations (per locality responsible)"
    assert not errors, errors
    await page.close()

"""The dashboard as its own process on Kafka and PostgreSQL: consumer lag from Kafka's admin API, dead letters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.contracts.catalogue import ItemWithdrawn
from shared.envelope import Envelope
from tests.integration.conftest import REGIONAL, SystemFactory
from tongban.testbed.kafka_io import produce_raw, wait_for

SUZHOU = "320505"


@pytest.mark.parametrize("secured", [False, True], ids=["plain", "secured"])
async def test_dashboard_shows_consumer_lag_from_kafka_and_dead_letters(
    start_system: SystemFactory, request: pytest.FixtureRequest, secured: bool
) -> None:
    # Secured: SASL/SCRAM with ACLs (issue 14); the dashboard's principal reads the lag of the services'
    # groups (DESCRIBE on the prefix tongban-) and the dead-letter topics; the test writes as the super-user.
    system = await start_system("delivery", "dashboard",
                                broker=request.getfixturevalue("secure_kafka") if secured else None)
    admin = system.kafka.client_options()
    cred = system.credentials[SUZHOU]
    topic = system.topic(SUZHOU)
    async with httpx.AsyncClient(base_url=system.url("dashboard"), timeout=10) as http:
        assert (await http.get("/api/panels/lag")).status_code == 401
        login = await http.post("/api/session", json={"client_id": cred["client_id"], "client_secret": "wrong"})
        assert login.status_code == 401 and login.headers["content-type"].startswith("application/problem+json")
        # No locality's bootstrap client opens the regional view, whatever roles it holds; the joint office's does.
        login = await http.post("/api/session", json={"client_id": cred["client_id"],
                                                      "client_secret": cred["client_secret"], "view": "regional"})
        assert login.status_code == 403 and login.json()["type"].endswith("insufficient-role"), login.text
        assert "regional_operator" in login.json()["detail"]
        office = system.credentials[REGIONAL]
        login = await http.post("/api/session", json={"client_id": office["client_id"],
                                                      "client_secret": office["client_secret"], "view": "regional"})
        assert login.status_code == 200, login.text
        assert login.json()["regional"] is True and len(login.json()["localities"]) == 4
        assert "httponly" in login.headers["set-cookie"].lower()
        assert "samesite=strict" in login.headers["set-cookie"].lower()

        async def lag_of(group: str) -> dict[str, Any] | None:
            panel = (await http.get("/api/panels/lag")).json()
            assert panel["source"] == "kafka" and panel["error"] is None, panel
            rows = [r for r in panel["rows"] if r["group"] == group and r["topic"] == topic]
            return rows[0] if rows else None

        async def settled() -> bool:
            rows = [await lag_of(g) for g in ("tongban-delivery", "tongban-dashboard", "tongban-authorization")]
            return all(r is not None and r["lag"] == 0 for r in rows)

        # The bootstrap clients' events have been read by every group: no lag anywhere.
        await wait_for(settled, timeout=60, interval=1)

        # Delivery stops; five events and one unreadable record arrive on Suzhou's topic.
        system.services["delivery"].stop()
        for n in range(5):
            envelope = Envelope.wrap(ItemWithdrawn(code=f"YRD-ZZ-{n:04d}", revision=1, reason="lag test"), "/test")
            record = envelope.to_record(topic)
            await produce_raw(system.kafka.bootstrap, topic, record.value, record.key, list(record.headers),
                              **admin)
        await produce_raw(system.kafka.bootstrap, topic, b"not an event", b"junk", **admin)

        async def delivery_behind() -> bool:
            delivery, dashboard = await lag_of("tongban-delivery"), await lag_of("tongban-dashboard")
            return bool(delivery and delivery["lag"] >= 6 and dashboard and dashboard["lag"] == 0)

        await wait_for(delivery_behind, timeout=60, interval=1)

        # The dashboard read the dead letters its own group and the authorization service's wrote.
        async def dead_letters() -> bool:
            panel = (await http.get("/api/panels/dead-letters")).json()
            groups = {r["group"] for r in panel["reasons"] if r["reason_class"] == "missing-headers"}
            return {"tongban-dashboard", "tongban-authorization"} <= groups

        await wait_for(dead_letters, timeout=60, interval=1)
        recent = (await http.get("/api/events", params={"locality": SUZHOU, "limit": 50})).json()
        assert {f"YRD-ZZ-{n:04d}" for n in range(5)} <= {e["subject"] for e in recent}

        # Delivery comes back and catches up.
        system.services["delivery"].start()

        async def delivery_caught_up() -> bool:
            row = await lag_of("tongban-delivery")
            return bool(row and row["lag"] == 0)

        await wait_for(delivery_caught_up, timeout=90, interval=1)

        # A locality's operator sees the lag on its own topic only.
        http.cookies.clear()
        assert (await http.post("/api/session", json={"client_id": cred["client_id"],
                                                      "client_secret": cred["client_secret"]})).status_code == 200
        panel = (await http.get("/api/panels/lag")).json()
        assert panel["rows"] and {r["locality"] for r in panel["rows"]} == {SUZHOU}
        assert (await http.delete("/api/session")).status_code == 204
        assert (await http.get("/api/panels/lag")).status_code == 401

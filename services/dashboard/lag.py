"""Consumer lag of every service's group on every locality topic.

On Kafka it comes from the broker: the admin API lists the consumer groups and their committed
offsets, and a group-less consumer reads the end offsets. On the in-process bus of the embedded
system it comes from the bus itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from services.dashboard.domain import LagRow, consumer_lag
from shared.bus import MemoryBus
from shared.kafka_security import KafkaSecurity
from shared.service import ServiceContext
from shared.settings import DEFAULT_PORTS

log = logging.getLogger("tongban.dashboard.lag")

GROUP_PREFIX = "tongban-"
CACHE_SECONDS = 3.0


class LagReader:
    """Reads the lag of the ``tongban-*`` groups, at most once every few seconds."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._cached: tuple[float, dict[str, Any]] | None = None
        self._lock = asyncio.Lock()
        self._admin: Any = None
        self._consumer: Any = None

    @property
    def source(self) -> str:
        """``kafka`` or ``memory``."""
        return "memory" if isinstance(self.ctx.bus, MemoryBus) else "kafka"

    async def read(self) -> dict[str, Any]:
        """``{"source", "rows": [LagRow...], "error", "at"}``, cached for a few seconds."""
        async with self._lock:
            now = time.monotonic()
            if self._cached and now - self._cached[0] < CACHE_SECONDS:
                return self._cached[1]
            try:
                rows = self._memory() if isinstance(self.ctx.bus, MemoryBus) else await self._kafka()
                result: dict[str, Any] = {"source": self.source, "rows": rows, "error": None}
            except Exception as exc:
                log.warning("consumer lag unavailable", extra={"error": repr(exc)})
                await self.close()
                result = {"source": self.source, "rows": [], "error": f"{type(exc).__name__}: {exc}"}
            result["at"] = time.time()
            self._cached = (now, result)
            return result

    def _memory(self) -> list[LagRow]:
        bus = self.ctx.bus
        assert isinstance(bus, MemoryBus)
        topics = self.ctx.localities.topics
        ends = {(t, p): end for t in topics for p, end in enumerate(bus.end_offsets(t))}
        groups = [GROUP_PREFIX + name for name in DEFAULT_PORTS]
        committed: dict[tuple[str, str, int], int | None] = {
            (g, t, p): bus.committed(g, t, p) for g in groups for (t, p) in ends
        }
        return consumer_lag(groups, ends, committed)

    async def _clients(self) -> tuple[Any, Any]:
        from aiokafka import AIOKafkaConsumer
        from aiokafka.admin import AIOKafkaAdminClient

        servers = self.ctx.settings.kafka_bootstrap_servers
        security = KafkaSecurity.from_settings(self.ctx.settings).client_options()
        if self._admin is None:
            admin = AIOKafkaAdminClient(bootstrap_servers=servers, client_id="tongban-dashboard-lag",
                                        request_timeout_ms=5000, **security)
            await asyncio.wait_for(admin.start(), 10)
            self._admin = admin
        if self._consumer is None:
            consumer = AIOKafkaConsumer(bootstrap_servers=servers, client_id="tongban-dashboard-lag",
                                        group_id=None, enable_auto_commit=False, request_timeout_ms=5000,
                                        **security)
            await asyncio.wait_for(consumer.start(), 10)
            self._consumer = consumer
        return self._admin, self._consumer

    async def _kafka(self) -> list[LagRow]:
        from aiokafka.structs import TopicPartition

        admin, consumer = await self._clients()
        topics = self.ctx.localities.topics
        described = await asyncio.wait_for(admin.describe_topics(topics), 10)
        partitions = [
            TopicPartition(t["topic"], p["partition"])
            for t in described if t["topic"] in topics and not t.get("error_code")
            for p in t["partitions"]
        ]
        ends_raw = await asyncio.wait_for(consumer.end_offsets(partitions), 10)
        starts_raw = await asyncio.wait_for(consumer.beginning_offsets(partitions), 10)
        ends = {(tp.topic, tp.partition): int(o) for tp, o in ends_raw.items()}
        starts = {(tp.topic, tp.partition): int(o) for tp, o in starts_raw.items()}
        listed = await asyncio.wait_for(admin.list_consumer_groups(), 10)
        groups = sorted({str(g[0]) for g in listed if str(g[0]).startswith(GROUP_PREFIX)})
        committed: dict[tuple[str, str, int], int | None] = {}
        active: list[str] = []
        wanted = set(topics)
        for group in groups:
            offsets = await asyncio.wait_for(admin.list_consumer_group_offsets(group), 10)
            mine = {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items() if tp.topic in wanted}
            if not mine:
                continue  # a group of another system on the same broker, or one that never consumed here
            active.append(group)
            committed.update({(group, t, p): o for (t, p), o in mine.items()})
        return consumer_lag(active, ends, committed, starts)

    async def close(self) -> None:
        """Close the Kafka clients (they are made again on the next read)."""
        admin, consumer, self._admin, self._consumer = self._admin, self._consumer, None, None
        for client, stop in ((admin, "close"), (consumer, "stop")):
            if client is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(getattr(client, stop)(), 5)

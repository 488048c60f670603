"""Load generators: open loop (a fixed offered rate) and closed loop (a fixed concurrency).

Each generator runs in a child process of its own (``in_child``), so that the process measuring
(the Kafka consumer of W1, the harness) does not share an event loop with the one offering load.
Times that cross processes are wall-clock seconds (``time.time()``); the machine is one.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bench.rawhttp import HttpPool

# --------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``; 0 when there are none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max of latencies given in seconds, in milliseconds."""
    return {
        "p50_ms": round(percentile(seconds, 50) * 1000, 2),
        "p95_ms": round(percentile(seconds, 95) * 1000, 2),
        "p99_ms": round(percentile(seconds, 99) * 1000, 2),
        "max_ms": round(max(seconds, default=0.0) * 1000, 2),
    }


# --------------------------------------------------------------------------- child processes


def _child_main(target: str, spec: dict[str, Any], conn: Any) -> None:
    import importlib

    import uvloop

    module, _, name = target.partition(":")
    func = getattr(importlib.import_module(module), name)
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(func(spec))
        conn.send(("ok", result))
    except BaseException as exc:  # reported to the parent, which raises
        import traceback

        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    finally:
        conn.close()


async def in_child(target: str, spec: dict[str, Any], limit_seconds: float = 600) -> Any:
    """Run the async function ``module:name`` with ``spec`` in a new process; its result."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child_main, args=(target, spec, child), daemon=True)
    process.start()
    child.close()
    try:
        deadline = time.monotonic() + limit_seconds
        while not parent.poll():
            if not process.is_alive() and not parent.poll():
                raise RuntimeError(f"load generator {target} died with exit code {process.exitcode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"load generator {target} still running after {limit_seconds}s")
            await asyncio.sleep(0.05)
        kind, result = parent.recv()
    finally:
        process.join(5)
        if process.is_alive():
            process.kill()
    if kind == "error":
        raise RuntimeError(f"load generator {target} failed: {result}")
    return result


# --------------------------------------------------------------------------- open loop


async def open_loop(rate: float, duration: float, fire: Callable[[int], Awaitable[None]],
                    drain_timeout: float = 30.0) -> dict[str, Any]:
    """Start ``fire(i)`` at ``rate`` per second for ``duration`` seconds, never waiting for answers.

    Returns how late the generator started requests behind schedule (its own lag, which says
    whether the offered rate was really offered) and the achieved start rate.
    """
    loop = asyncio.get_running_loop()
    count = max(1, int(rate * duration))
    pending: set[asyncio.Task[None]] = set()
    lags: list[float] = []
    start = loop.time() + 0.05
    for i in range(count):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lags.append(max(0.0, loop.time() - due))
        task = asyncio.ensure_future(fire(i))
        pending.add(task)
        task.add_done_callback(pending.discard)
    offered_for = loop.time() - start
    if pending:
        _done, late = await asyncio.wait(set(pending), timeout=drain_timeout)
        for task in late:
            task.cancel()
    return {"count": count, "offered_seconds": round(offered_for, 3),
            "achieved_rate": round(count / offered_for, 1) if offered_for > 0 else float(count),
            "generator_lag_p99_ms": round(percentile(lags, 99) * 1000, 2)}


async def http_open_loop(spec: dict[str, Any]) -> dict[str, Any]:
    """Open-loop POSTs of prepared bodies; per request: wall time sent and answered, status, ``id``."""
    # At most this many requests in flight: an overloaded service gets a bounded backlog, and the
    # requests beyond it wait here (their latency counts from the moment they were due to leave).
    pool = HttpPool(spec["base_url"], size=spec.get("connections", 256), headers=spec["headers"])
    bodies: list[bytes] = [b.encode() if isinstance(b, str) else b for b in spec["bodies"]]
    prepared = [pool.prepare("POST", spec["path"], body, {"Content-Type": "application/json"}) for body in bodies]
    results: list[tuple[float, float, int, str]] = []

    async def fire(i: int) -> None:
        sent = time.time()
        try:
            response = await pool.send(prepared[i % len(prepared)])
            ident = ""
            if response.status in (200, 201):
                ident = str(response.json().get(spec.get("id_field", "id"), ""))
            results.append((sent, time.time(), response.status, ident))
        except asyncio.CancelledError:  # not answered within the drain time: a failure
            results.append((sent, time.time(), 0, ""))
            raise
        except Exception:
            results.append((sent, time.time(), 0, ""))

    stats = await open_loop(spec["rate"], spec["duration"], fire)
    await pool.close()
    return {**stats, "results": results}


async def kafka_open_loop(spec: dict[str, Any]) -> dict[str, Any]:
    """Open-loop raw aiokafka produce (acks=all, idempotent, linger 1 ms: the bus's producer)."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=spec["bootstrap"], acks="all", enable_idempotence=True,
                                linger_ms=1)
    await producer.start()
    value = b"x" * spec["value_size"]
    headers = [(k, v.encode() if isinstance(v, str) else bytes(v)) for k, v in spec["headers"]]
    run = uuid.uuid4().hex[:8]
    results: list[tuple[str, float, int]] = []

    async def fire(i: int) -> None:
        key = f"{run}-{i:09d}"
        sent = time.time()
        try:
            future = await producer.send(spec["topic"], value=value, key=key.encode(), headers=headers)
            await future
            results.append((key, sent, 1))
        except asyncio.CancelledError:
            results.append((key, sent, 0))
            raise
        except Exception:
            results.append((key, sent, 0))

    try:
        stats = await open_loop(spec["rate"], spec["duration"], fire)
    finally:
        await producer.stop()
    return {**stats, "results": results}


# --------------------------------------------------------------------------- closed loop


async def closed_loop(concurrency: int, duration: float, once: Callable[[int], Awaitable[int]],
                      warmup: float = 1.0) -> dict[str, Any]:
    """``concurrency`` workers repeat ``once(worker)`` (returning an HTTP status) for ``duration`` s.

    Requests finished during the first ``warmup`` seconds are not counted.
    """
    loop = asyncio.get_running_loop()
    begin = loop.time()
    counted_from = begin + warmup
    stop = counted_from + duration
    statuses: Counter[int] = Counter()
    latencies: list[float] = []

    async def worker(n: int) -> None:
        while loop.time() < stop:
            started = loop.time()
            try:
                status = await once(n)
            except Exception:
                status = 0
            finished = loop.time()
            if finished >= counted_from:
                statuses[status] += 1
                latencies.append(finished - started)

    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    elapsed = loop.time() - counted_from
    ok = sum(c for s, c in statuses.items() if 200 <= s < 300)
    return {"concurrency": concurrency, "seconds": round(elapsed, 2), "ok": ok,
            "statuses": {str(s): c for s, c in sorted(statuses.items())},
            "per_second": round(ok / elapsed, 1) if elapsed > 0 else 0.0, **summary_ms(latencies)}


async def http_closed_loop(spec: dict[str, Any]) -> dict[str, Any]:
    """Closed-loop POSTs cycling through prepared bodies."""
    pool = HttpPool(spec["base_url"], size=spec["concurrency"], headers=spec["headers"])
    bodies = [b.encode() if isinstance(b, str) else b for b in spec["bodies"]]
    prepared = [pool.prepare(spec.get("method", "POST"), spec["path"], body, {"Content-Type": "application/json"})
                for body in bodies]
    counter = iter(range(10**12))
    keep: list[bytes] = []
    keep_max = spec.get("keep_bodies", 0)

    async def once(_worker: int) -> int:
        response = await pool.send(prepared[next(counter) % len(prepared)])
        if len(keep) < keep_max and response.status in (200, 201):
            keep.append(response.body)
        return response.status

    try:
        result = await closed_loop(spec["concurrency"], spec["duration"], once, spec.get("warmup", 1.0))
    finally:
        await pool.close()
    if keep_max:
        result["bodies"] = [b.decode() for b in keep]
    return result


async def carrier_batches(spec: dict[str, Any]) -> dict[str, Any]:
    """Signed carrier batches (some events repeated), one worker per list of batches, each in order.

    Each worker owns its waybills, so that batches sent at the same time never touch one waybill.
    """
    from services.delivery.domain import sign

    secret = bytes.fromhex(spec["hmac_secret"])
    pool = HttpPool(spec["base_url"], size=len(spec["batches"]), headers=spec["headers"])
    outcomes: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    latencies: list[float] = []

    async def worker(batches: list[str]) -> None:
        for batch in batches:
            body = batch.encode()
            stamp = str(int(time.time()))
            started = time.perf_counter()
            response = await pool.send(pool.prepare("POST", spec["path"], body, {
                "Content-Type": "application/json", "X-Tongban-Timestamp": stamp,
                "X-Tongban-Signature": sign(secret, stamp, body), "X-Tongban-Carrier": spec.get("carrier", "ems")}))
            latencies.append(time.perf_counter() - started)
            statuses[response.status] += 1
            if response.status in (200, 207):
                answer = response.json()
                outcomes.update(accepted=answer["accepted"], duplicates=answer["duplicates"],
                                refused=answer["refused"])

    started = time.perf_counter()
    await asyncio.gather(*(worker(b) for b in spec["batches"]))
    elapsed = max(time.perf_counter() - started, 1e-9)
    await pool.close()
    events = outcomes["accepted"] + outcomes["duplicates"]
    return {"workers": len(spec["batches"]), "batches": sum(statuses.values()), "seconds": round(elapsed, 2),
            "statuses": {str(s): c for s, c in sorted(statuses.items())}, "accepted": outcomes["accepted"],
            "duplicates": outcomes["duplicates"], "refused": outcomes["refused"], "events": events,
            "events_per_second": round(events / elapsed, 1), **summary_ms(latencies)}

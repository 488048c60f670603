"""Benchmark of the catalogue's search and item fetch at the scale of the whole Yangtze River Delta.

Generates 10,000 items x 41 localities (410,000 business standards) into a catalogue database,
then drives the catalogue's real API in process (ASGI: routing, token verification, the query
layer, JSON, ETag; no network) and prints p50/p95/p99 per kind of request; the figures also go
to a JSON file.

    python bench/catalogue_search.py /var/tmp/catalogue-bench.db
    python bench/catalogue_search.py postgresql+asyncpg://tongban@127.0.0.1:15432/catalogue_bench

The database must be empty (or hold a previous run's data, which is reused with --reuse).
Tokens come from an in-process authorization service on a temporary SQLite database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.authorization.app import local_jwks
from services.authorization.service import bootstrap_clients
from services.catalogue.app import DEFINITION
from services.catalogue.domain.items import HANDLING_MODES, Item, modes_mask
from services.catalogue.domain.search import TOKENIZER_VERSION, index_terms
from services.catalogue.firstlist import read
from services.catalogue.store import AreaRow, ItemRow, SearchTermRow, StandardRow, search_texts
from shared.auth import JwksCache
from shared.bus import MemoryBus
from shared.db import create_engine
from shared.migrations import upgrade
from shared.service import create_app
from shared.settings import Settings
from tongban.registry import definition

# The cities of the Yangtze River Delta beyond the four built-in localities (Yangpu stands for
# Shanghai, Huqiu for Suzhou): 12 of Jiangsu, 10 of Zhejiang, 15 of Anhui. 4 + 37 = 41.
CITIES = [
    ("320100", "江苏省南京市", "Nanjing"), ("320200", "江苏省无锡市", "Wuxi"),
    ("320300", "江苏省徐州市", "Xuzhou"), ("320400", "江苏省常州市", "Changzhou"),
    ("320600", "江苏省南通市", "Nantong"), ("320700", "江苏省连云港市", "Lianyungang"),
    ("320800", "江苏省淮安市", "Huai'an"), ("320900", "江苏省盐城市", "Yancheng"),
    ("321000", "江苏省扬州市", "Yangzhou"), ("321100", "江苏省镇江市", "Zhenjiang"),
    ("321200", "江苏省泰州市", "Taizhou, Jiangsu"), ("321300", "江苏省宿迁市", "Suqian"),
    ("330100", "浙江省杭州市", "Hangzhou"), ("330200", "浙江省宁波市", "Ningbo"),
    ("330300", "浙江省温州市", "Wenzhou"), ("330400", "浙江省嘉兴市", "Jiaxing"),
    ("330500", "浙江省湖州市", "Huzhou"), ("330600", "浙江省绍兴市", "Shaoxing"),
    ("330700", "浙江省金华市", "Jinhua"), ("330800", "浙江省衢州市", "Quzhou"),
    ("330900", "浙江省舟山市", "Zhoushan"), ("331100", "浙江省丽水市", "Lishui"),
    ("340100", "安徽省合肥市", "Hefei"), ("340200", "安徽省芜湖市", "Wuhu"),
    ("340300", "安徽省蚌埠市", "Bengbu"), ("340400", "安徽省淮南市", "Huainan"),
    ("340500", "安徽省马鞍山市", "Ma'anshan"), ("340600", "安徽省淮北市", "Huaibei"),
    ("340700", "安徽省铜陵市", "Tongling"), ("340800", "安徽省安庆市", "Anqing"),
    ("341000", "安徽省黄山市", "Huangshan"), ("341100", "安徽省滁州市", "Chuzhou"),
    ("341200", "安徽省阜阳市", "Fuyang"), ("341300", "安徽省宿州市", "Suzhou, Anhui"),
    ("341500", "安徽省六安市", "Lu'an"), ("341700", "安徽省池州市", "Chizhou"),
    ("341800", "安徽省宣城市", "Xuancheng"),
]
QUALIFIERS = [
    ("", ""), ("（个人）", "(individuals)"),
    ("（单位）", "(employers)"), ("（告知承诺制）", "(by written commitment)"),
    ("（容缺受理）", "(accepted with materials to follow)"),
    ("（港澳台居民）", "(residents of Hong Kong, Macao, Taiwan)"),
    ("（外籍人员）", "(foreign nationals)"), ("（退役军人）", "(veterans)"),
    ("（高校毕业生）", "(graduates)"), ("（灵活就业人员）", "(flexibly employed)"),
    ("（农村居民）", "(rural residents)"), ("（残疾人）", "(disabled persons)"),
    ("（电子证照）", "(electronic licence)"), ("（变更）", "(change)"),
    ("（补办）", "(replacement)"), ("（注销）", "(cancellation)"),
    ("（延续）", "(renewal)"), ("（查询）", "(query)"),
    ("（转移）", "(transfer)"), ("（备案）", "(filing)"),
]


def _codes(n: int) -> list[str]:
    """Item codes that cannot collide with the first list's (prefixes X?, Q?)."""
    prefixes = [f"{a}{b}" for a in "XQ" for b in "ABCDEFGHJKLMNPRTUVWY"]
    return [f"YRD-{prefixes[i // 9999]}-{i % 9999 + 1:04d}" for i in range(n)]


async def generate(url: str, n_items: int, localities: list[str], seed: int) -> dict[str, Any]:
    """Fill an empty catalogue database; how many rows, how long."""
    rng = random.Random(seed)
    data = read()
    templates = [(item, standards) for item, standards, _p in data.items]
    areas = {a.key: a for a in data.areas}
    engine = create_engine(url)
    started = time.perf_counter()
    await upgrade(engine, DEFINITION.migrations)
    counts = {"items": 0, "standards": 0, "search_terms": 0}
    async with engine.begin() as conn:
        if (await conn.execute(select(func.count()).select_from(ItemRow))).scalar_one():
            raise SystemExit("the database holds items already: give an empty one, or --reuse")
        await conn.execute(insert(AreaRow), [a.as_dict() for a in data.areas])
    codes = _codes(n_items)
    for start in range(0, n_items, 500):
        items, standards, terms = [], [], []
        for code in codes[start : start + 500]:
            template, template_standards = rng.choice(templates)
            zh, en = rng.choice(QUALIFIERS)
            modes = tuple(m for m in HANDLING_MODES if m in template.modes or rng.random() < 0.15)
            item = Item(
                code=code, name_zh=template.name_zh + zh, name_en=f"{template.name_en} {en}".strip(),
                area=template.area, modes=modes, ownership_rule=template.ownership_rule,
                committed_days=template.committed_days, status="published", revision=1,
                keywords=template.keywords, illustrative=True,
            )
            items.append({"code": code, "name_zh": item.name_zh, "name_en": item.name_en, "area": item.area,
                          "modes": list(item.modes), "ownership_rule": item.ownership_rule,
                          "committed_days": item.committed_days, "status": "published", "revision": 1,
                          "keywords": list(item.keywords), "illustrative": True, "modes_mask": modes_mask(modes),
                          "index_version": TOKENIZER_VERSION})
            terms += [{"term": t, "item_code": code} for t in index_terms(search_texts(item, areas.get(item.area)))]
            base = template_standards[0].content()
            for locality in localities:
                committed = rng.randint(0, base["legal_days"])
                standards.append({
                    "item_code": code, "locality": locality,
                    "competent_department": f"{locality} {base['competent_department']}",
                    "legal_days": base["legal_days"], "committed_days": committed, "fee": base["fee"],
                    "materials": base["materials"][:3], "conditions": base["conditions"],
                    "legal_basis": base["legal_basis"][:2], "illustrative": True, "note": "",
                })
        async with engine.begin() as conn:
            await conn.execute(insert(ItemRow), items)
            await conn.execute(insert(SearchTermRow), terms)
            for chunk in range(0, len(standards), 5000):
                await conn.execute(insert(StandardRow), standards[chunk : chunk + 5000])
        counts["items"] += len(items)
        counts["standards"] += len(standards)
        counts["search_terms"] += len(terms)
        print(f"\r  generated {counts['items']}/{n_items} items", end="", flush=True)
    print()
    # What autovacuum would have done by now on a catalogue that changes rarely: statistics for the
    # planner and, on PostgreSQL, a visibility map that allows index-only scans of search_terms.
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    await engine.dispose()
    return {**counts, "seconds": round(time.perf_counter() - started, 1)}


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def measure(
    name: str, call: Callable[[], Awaitable[httpx.Response]], requests: int, warmup: int = 20
) -> dict[str, Any]:
    """Latencies of ``requests`` sequential calls (after a warm-up), in milliseconds."""
    for _ in range(warmup):
        (await call()).raise_for_status()
    latencies: list[float] = []
    sizes: list[int] = []
    for _ in range(requests):
        started = time.perf_counter()
        response = await call()
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        body = response.json()
        sizes.append(len(body["items"]) if isinstance(body, dict) and "items" in body else 1)
    return {
        "name": name, "requests": requests, "p50_ms": round(_percentile(latencies, 50), 2),
        "p95_ms": round(_percentile(latencies, 95), 2), "p99_ms": round(_percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2), "mean_ms": round(statistics.fmean(latencies), 2),
        "mean_results": round(statistics.fmean(sizes), 1),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Generate (unless reused), start the service in process, measure."""
    url = args.database if "://" in args.database else f"sqlite+aiosqlite:///{args.database}"
    tmp = Path(tempfile.mkdtemp(prefix="catalogue-bench-"))
    extra = CITIES[: max(0, args.localities - 4)]
    (tmp / "localities.json").write_text(json.dumps([
        {"code": c, "name_zh": zh, "name_en": en, "province_zh": zh[:3], "province_en": en} for c, zh, en in extra
    ], ensure_ascii=False), encoding="utf-8")
    settings = Settings(data_dir=tmp, localities_file=tmp / "localities.json")
    localities = ["310110", "320505", "331000", "341600", *(c for c, _zh, _en in extra)]
    generated: dict[str, Any] = {"reused": True}
    if not args.reuse:
        print(f"generating {args.items} items x {len(localities)} localities into {url.split('@')[-1]}")
        generated = await generate(url, args.items, localities, args.seed)
    rng = random.Random(args.seed + 1)
    codes = _codes(args.items)
    async with AsyncExitStack() as stack:
        bus = MemoryBus()
        auth = create_app(definition("authorization"), settings, bus=bus,
                          database_url=f"sqlite+aiosqlite:///{tmp}/authorization.db")
        await stack.enter_async_context(auth.router.lifespan_context(auth))
        app = create_app(DEFINITION, settings, bus=bus, database_url=url)
        await stack.enter_async_context(app.router.lifespan_context(app))
        app.state.ctx.jwks = app.state.ctx.verifier.jwks = JwksCache(local_jwks(auth.state.ctx))
        async with auth.state.ctx.uow() as uow:
            client = (await bootstrap_clients(uow))[0]
            await uow.commit()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(auth), base_url="http://auth") as http:
            token = (await http.post("/oauth/token", data={
                "grant_type": "client_credentials", "client_id": client["client_id"],
                "client_secret": client["client_secret"]})).json()["access_token"]
        http = await stack.enter_async_context(httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://catalogue",
            headers={"Authorization": f"Bearer {token}"}, timeout=60))
        total = (await http.get("/v1/items", params={"q": "医保", "limit": 200})).json()
        second_page = total["next_cursor"]

        def get(path: str, **params: Any) -> Callable[[], Awaitable[httpx.Response]]:
            return lambda: http.get(path, params={k: (v() if callable(v) else v) for k, v in params.items()})

        kinds = [
            ("search 医保 (a quarter of all items)", get("/v1/items", q="医保")),
            ("search 社保卡", get("/v1/items", q="社保卡")),
            ("search \"business licence\"", get("/v1/items", q="business licence")),
            ("search 异地就医备案 (5 char pairs)", get("/v1/items", q="异地就医备案")),
            ("search 登记 + locality + mode", get("/v1/items", q="登记", locality=lambda: rng.choice(localities),
                                                mode="accepted_here_handled_there")),
            ("search 医保, second page (cursor)", get("/v1/items", q="医保", cursor=second_page)),
            ("list by locality (no q)", get("/v1/items", locality=lambda: rng.choice(localities))),
            ("item fetch", lambda: http.get(f"/v1/items/{rng.choice(codes)}")),
            ("standards of one locality", lambda: http.get(f"/v1/items/{rng.choice(codes)}/standards",
                                                           params={"locality": rng.choice(localities)})),
        ]
        results = [await measure(name, call, args.requests) for name, call in kinds]
    return {
        "database": url.split("://")[0], "items": args.items, "localities": len(localities),
        "generated": generated, "results": results,
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine()},
    }


def main() -> None:
    """Parse the arguments, run, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database", help="a PostgreSQL URL (postgresql+asyncpg://...) or a SQLite file path")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--localities", type=int, default=41, choices=range(4, 42), metavar="4..41")
    parser.add_argument("--requests", type=int, default=300, help="measured requests per kind")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--reuse", action="store_true", help="use the data of a previous run")
    parser.add_argument("--out", type=Path, default=Path("catalogue_search.json"), help="where the JSON goes")
    args = parser.parse_args()
    if "://" not in args.database:
        args.database = str(Path(args.database).resolve())
    report = asyncio.run(run(args))
    print(f"\n{report['database']}: {report['items']} items x {report['localities']} localities "
          f"(generated: {report['generated']})")
    print(f"{'request':<40} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'results':>8}")
    for r in report["results"]:
        print(f"{r['name']:<40} {r['p50_ms']:>8} {r['p95_ms']:>8} {r['p99_ms']:>8} {r['max_ms']:>8} "
              f"{r['mean_results']:>8}")
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()

"""W4: attestations signed and verified through the API, Ed25519 then SM2, beside the raw libraries."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.load import in_child
from bench.system import ACCEPTING, OWNING, BenchSystem
from bench.workloads import Params, _ratio, settle


def raw_ed25519(seconds: float, payload_size: int) -> dict[str, float]:
    """Ed25519 signatures made and verified per second with ``cryptography``, in this process, one core."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    return _sign_verify_rates(key.sign, key.public_key().verify, seconds, payload_size)


def raw_sm2(seconds: float, payload_size: int) -> dict[str, float]:
    """SM2-with-SM3 signatures per second through Tongban's OpenSSL binding (shared.crypto), one core."""
    from shared.crypto import Sm2Private

    key = Sm2Private()
    public = key.public_key()

    def verify(signature: bytes, message: bytes) -> None:
        if not public.verify(signature, message):
            raise AssertionError("SM2 signature did not verify")

    return _sign_verify_rates(key.sign, verify, seconds, payload_size)


def _sign_verify_rates(sign: Any, verify: Any, seconds: float, payload_size: int) -> dict[str, float]:
    message = os.urandom(payload_size)
    out: dict[str, float] = {}
    for kind in ("sign", "verify"):
        signature = sign(message)
        count, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds / 2:
            for _ in range(100):
                if kind == "sign":
                    sign(message)
                else:
                    verify(signature, message)
            count += 100
        out[f"{kind}_per_second"] = round(count / elapsed, 1)
    return out


def openssl_speed(algorithm: str, seconds: int = 2) -> dict[str, float] | None:
    """``openssl speed`` of ``sm2`` or ``ed25519`` (the C library alone, one core); None without openssl."""
    binary = shutil.which("openssl")
    if binary is None:
        return None
    done = subprocess.run([binary, "speed", "-seconds", str(seconds), "-mr", algorithm],
                          capture_output=True, text=True, timeout=120)
    for line in done.stdout.splitlines():
        fields = line.split(":")
        if line.startswith("+F") and len(fields) >= 6:
            return {"sign_per_second": round(float(fields[4]), 1), "verify_per_second": round(float(fields[5]), 1)}
    return None


async def _attestation_rates(bench: BenchSystem, params: Params, tag: str) -> tuple[dict[str, Any], ...]:
    """Attestations issued, then verified, per second through the API (closed loop, in a child process)."""
    now = datetime.now(UTC).isoformat()
    bodies = [json.dumps({
        "case_id": f"bench-{tag}-{n:06d}", "item_code": "YRD-SB-0002", "mode": "accepted_here_handled_there",
        "owners": [OWNING], "clerk": "bench-clerk", "accepted_at": now,
        "materials": [{"name": "居民身份证", "form": "electronic", "sha256": f"{n:064x}"},
                      {"name": "申请表", "form": "paper"}]}) for n in range(500)]
    headers = await bench.headers(ACCEPTING)
    await settle(bench, params.settle_timeout)
    issued = await in_child("bench.load:http_closed_loop", {
        "base_url": bench.url("authorization"), "path": "/v1/attestations", "bodies": bodies, "headers": headers,
        "concurrency": params.w4_concurrency, "duration": params.w4_seconds, "keep_bodies": 300})
    jws = [json.loads(b)["jws"] for b in issued.pop("bodies")]
    print(f"  W4 {tag} issued: {issued['per_second']}/s {issued['statuses']}", flush=True)
    await settle(bench, params.settle_timeout)
    verified = await in_child("bench.load:http_closed_loop", {
        "base_url": bench.url("authorization"), "path": "/v1/attestations/verify",
        "bodies": [json.dumps({"jws": j}) for j in jws], "headers": await bench.headers(OWNING),
        "concurrency": params.w4_concurrency, "duration": params.w4_seconds})
    print(f"  W4 {tag} verified: {verified['per_second']}/s {verified['statuses']}", flush=True)
    return issued, verified, {"jws_bytes": len(jws[0]), "alg": json.loads(
        base64.urlsafe_b64decode(jws[0].split(".")[0] + "==")).get("alg")}


async def _switch_accepting_key_to_sm2(bench: BenchSystem) -> None:
    """Restart authorization under the national suite and rotate the accepting locality's key (to SM2)."""
    authorization = bench.system.services["authorization"]
    await asyncio.to_thread(authorization.stop)
    authorization.env["TONGBAN_CRYPTO_SUITE"] = "national"
    await asyncio.to_thread(authorization.start)
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(bench.url("authorization") + f"/v1/localities/{ACCEPTING}/keys/rotate",
                                   headers=await bench.headers(ACCEPTING))
    response.raise_for_status()


async def w4_signatures(bench: BenchSystem, params: Params) -> dict[str, Any]:
    """Attestations issued and verified through the API with Ed25519, then SM2; the raw libraries beside."""
    issued, verified, shape = await _attestation_rates(bench, params, "ed25519")
    seconds = max(2.0, params.w4_seconds / 2)
    raw = await asyncio.to_thread(raw_ed25519, seconds, shape["jws_bytes"] * 3 // 4)
    print(f"  W4 raw Ed25519: {raw}", flush=True)
    await _switch_accepting_key_to_sm2(bench)
    sm2_issued, sm2_verified, sm2_shape = await _attestation_rates(bench, params, "sm2")
    raw_sm2_rates = await asyncio.to_thread(raw_sm2, seconds, sm2_shape["jws_bytes"] * 3 // 4)
    c_speed = {"sm2": await asyncio.to_thread(openssl_speed, "sm2"),
               "ed25519": await asyncio.to_thread(openssl_speed, "ed25519")}
    print(f"  W4 raw SM2 (binding): {raw_sm2_rates}; openssl speed: {c_speed}", flush=True)
    return {"issued": issued, "verified": verified, "raw": raw,
            "issue_ratio": _ratio(issued["per_second"], raw["sign_per_second"]),
            "verify_ratio": _ratio(verified["per_second"], raw["verify_per_second"]),
            "sm2": {"alg": sm2_shape["alg"], "issued": sm2_issued, "verified": sm2_verified, "raw": raw_sm2_rates,
                    "issue_ratio": _ratio(sm2_issued["per_second"], raw_sm2_rates["sign_per_second"]),
                    "verify_ratio": _ratio(sm2_verified["per_second"], raw_sm2_rates["verify_per_second"])},
            "openssl_speed": c_speed}

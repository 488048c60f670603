"""Profiles of service processes under load, with py-spy (sampling; the process is not changed)."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise RuntimeError("py-spy is not installed (pip install -e '.[test]')")
    return found


async def record(pid: int, seconds: float, base: Path) -> Path:
    """Sample ``pid`` for ``seconds``; the collapsed stacks go to ``<base>.txt``, a flame graph to ``.svg``."""
    base.parent.mkdir(parents=True, exist_ok=True)
    raw = base.with_suffix(".txt")
    for fmt, out in (("raw", raw),):
        proc = await asyncio.create_subprocess_exec(
            _py_spy(), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200",
            "--nonblocking", "--format", fmt, "--output", str(out),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"py-spy failed on {pid}: {output.decode(errors='replace')[-500:]}")
    return raw


def top_frames(collapsed: Path, limit: int = 25) -> dict[str, Any]:
    """The frames that hold the most samples: by their own time and including what they call."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    project: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [f.strip() for f in stack.split(";") if f.strip()]
        if not frames:
            continue
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
            if "services/" in frame or "shared/" in frame:
                project[frame] += count

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(frame, round(100 * n / total, 1)) for frame, n in counter.most_common(limit)] if total else []

    return {"samples": total, "own": share(own), "inclusive": share(inclusive),
            "project_inclusive": share(project)}

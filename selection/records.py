"""A draw as JSON (stored with its placements, published in the report) and back."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from selection.model import Candidate, Draw, GroupDraw, GroupSpec, Quota


def draw_to_json(draw: Draw) -> dict[str, Any]:
    """The draw as JSON-ready data (probabilities keyed by the id as text, as JSON objects must be)."""
    data = asdict(draw)
    for group in data["groups"]:
        group["probabilities"] = {str(k): v for k, v in group["probabilities"].items()}
    for spec in data["specs"]:
        spec["quotas"] = {sector: dict(quota) for sector, quota in spec["quotas"].items()}
    data["extra"] = dict(draw.extra)
    return data


def draw_from_json(data: dict[str, Any]) -> Draw:
    """The draw `draw_to_json` wrote."""
    return Draw(
        seed=int(data["seed"]),
        algorithm=data["algorithm"],
        library_version=data["library_version"],
        solver_version=data["solver_version"],
        groups=tuple(
            GroupDraw(
                code=g["code"],
                seats=int(g["seats"]),
                pool=tuple(g["pool"]),
                selected=tuple(g["selected"]),
                reserve=tuple(g["reserve"]),
                probabilities={int(k): float(v) for k, v in g["probabilities"].items()},
                lottery=bool(g["lottery"]),
                second_seats=tuple(g.get("second_seats", ())),
                notes=tuple(g.get("notes", ())),
            )
            for g in data["groups"]
        ),
        specs=tuple(
            GroupSpec(
                code=s["code"],
                seats=int(s["seats"]),
                quotas={sector: Quota(int(q["min"]), int(q["max"])) for sector, q in s["quotas"].items()},
            )
            for s in data["specs"]
        ),
        candidates=tuple(Candidate(int(c["id"]), c["sector"], tuple(c["groups"])) for c in data["candidates"]),
        extra=dict(data.get("extra", {})),
    )

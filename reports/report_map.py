"""The report's map: Warsaw's 18 districts as a tile map (an inline SVG) coloured by responses per
10,000 residents, with its legend, its alt text and the same figures as a table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path

import yaml

# Each district's place on a 6 × 5 grid, north up, keeping neighbours next to each other: the left bank
# in the west (Bielany to Wilanów), the right bank in the east (Białołęka to Wawer).
TILES: dict[str, tuple[int, int]] = {
    "bielany": (1, 0),
    "bialoleka": (2, 0),
    "bemowo": (0, 1),
    "zoliborz": (1, 1),
    "praga_polnoc": (2, 1),
    "targowek": (3, 1),
    "ursus": (0, 2),
    "wola": (1, 2),
    "srodmiescie": (2, 2),
    "praga_poludnie": (3, 2),
    "rembertow": (4, 2),
    "wesola": (5, 2),
    "wlochy": (0, 3),
    "ochota": (1, 3),
    "mokotow": (2, 3),
    "wawer": (3, 3),
    "ursynow": (1, 4),
    "wilanow": (2, 4),
}
# A sequential palette (ColorBrewer "Reds", 5 classes) and one colour for "no responses".
PALETTE = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")
NONE_COLOUR = "#f2f2f2"
TILE = 78  # px


@dataclass(frozen=True, slots=True)
class DistrictRate:
    """One district's responses against its residents."""

    code: str
    name: str
    responses: int
    residents: int

    @property
    def per_10k(self) -> float:
        return self.responses * 10_000 / self.residents if self.residents else 0.0


def load_residents(path: Path) -> dict[str, int]:
    """Residents per district code from config/population.yaml (empty when the file or margin is absent)."""
    if not path.is_file():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    margin = ((raw.get("margins") or {}).get("district") or {}).get("residents") or {}
    return {str(code): int(n) for code, n in margin.items()}


def rates(responses: Mapping[str, int], residents: Mapping[str, int], names: Mapping[str, str]) -> list[DistrictRate]:
    """Every district with residents, in the order of the names given (the questionnaire's order)."""
    order = [code for code in names if code in residents] + sorted(set(residents) - set(names))
    return [DistrictRate(code, names.get(code, code), responses.get(code, 0), residents[code]) for code in order]


def _breaks(values: list[float]) -> list[float]:
    """Four upper bounds splitting the districts with responses into five equal-width classes."""
    top = max(values, default=0.0)
    return [top * k / 5 for k in range(1, 5)]


def _colour(value: float, breaks: list[float]) -> str:
    if value <= 0:
        return NONE_COLOUR
    for bound, colour in zip(breaks, PALETTE, strict=False):
        if value <= bound:
            return colour
    return PALETTE[-1]


def _number(value: float) -> str:
    """1 decimal with a decimal comma, as Polish readers expect."""
    return f"{value:.1f}".replace(".", ",")


def _lines(name: str) -> list[str]:
    """A long district name on two lines, broken after its hyphen (Praga-/Południe) to fit its tile."""
    head, dash, tail = name.partition("-")
    return [head + dash, tail] if dash and len(name) > 11 else [name]


def thousands(value: int) -> str:
    """1 862 402: thousands apart with a no-break space, as Polish readers expect."""
    return f"{value:,}".replace(",", "\u00a0")


def render_map(districts: list[DistrictRate]) -> str:
    """The tile map with its legend and alt text, followed by its table."""
    placed = [d for d in districts if d.code in TILES]
    if not placed:
        return ""
    breaks = _breaks([d.per_10k for d in placed])
    width, height = 6 * TILE + 8, 5 * TILE + 8
    tiles = []
    for d in placed:
        column, row = TILES[d.code]
        x, y = 4 + column * TILE, 4 + row * TILE
        fill = _colour(d.per_10k, breaks)
        ink = "#fff" if fill in PALETTE[3:] else "#222"
        tiles.append(
            f"<g><title>{escape(d.name)}: {_number(d.per_10k)} na 10 tys. mieszkańców ({d.responses})</title>"
            f'<rect x="{x}" y="{y}" width="{TILE - 4}" height="{TILE - 4}" rx="6" fill="{fill}" stroke="#888"/>'
            f'<text x="{x + (TILE - 4) / 2}" y="{y + 22}" text-anchor="middle" font-size="10" fill="{ink}">'
            + "".join(
                f'<tspan x="{x + (TILE - 4) / 2}" dy="{12 if k else 0}">{escape(part)}</tspan>'
                for k, part in enumerate(_lines(d.name))
            )
            + "</text>"
            f'<text x="{x + (TILE - 4) / 2}" y="{y + 52}" text-anchor="middle" font-size="14" font-weight="bold"'
            f' fill="{ink}">{_number(d.per_10k)}</text></g>'
        )
    ranked = sorted(placed, key=lambda d: (-d.per_10k, d.name))
    alt = (
        "Mapa dzielnic Warszawy (schemat kafelkowy): odpowiedzi na 10 tys. mieszkańców. Najwięcej: "
        + ", ".join(f"{d.name} {_number(d.per_10k)}" for d in ranked[:3])
        + "; najmniej: "
        + ", ".join(f"{d.name} {_number(d.per_10k)}" for d in ranked[-3:][::-1])
        + ". Pełne dane w tabeli pod mapą."
    )
    svg = (
        f'<svg class="map" role="img" aria-labelledby="map-title" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">'
        f'<title id="map-title">{escape(alt)}</title>' + "".join(tiles) + "</svg>"
    )
    bounds = [0.0, *breaks]
    legend_items = [f'<li><span class="swatch" style="background:{NONE_COLOUR}"></span>brak odpowiedzi</li>']
    for k, colour in enumerate(PALETTE):
        low = bounds[k]
        high = breaks[k] if k < len(breaks) else max(d.per_10k for d in placed)
        legend_items.append(
            f'<li><span class="swatch" style="background:{colour}"></span>'
            f"{'powyżej ' + _number(low) if k else 'powyżej 0'} do {_number(high)}</li>"
        )
    legend = '<ul class="legend" aria-label="Legenda mapy">' + "".join(legend_items) + "</ul>"
    rows = "".join(
        f'<tr><th scope="row">{escape(d.name)}</th><td>{d.responses}</td>'
        f"<td>{thousands(d.residents)}</td><td>{_number(d.per_10k)}</td></tr>"
        for d in districts
    )
    table = (
        '<table class="data"><caption>Odpowiedzi według dzielnicy na 10 tys. mieszkańców</caption>'
        '<thead><tr><th scope="col">Dzielnica</th><th scope="col">Odpowiedzi</th>'
        '<th scope="col">Mieszkańcy</th><th scope="col">Na 10 tys.</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )
    return f'<figure class="map-figure">{svg}<figcaption>{legend}</figcaption></figure>{table}'

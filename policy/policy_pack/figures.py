"""Prices and quotas from the pack's data files, with the page and date each figure came from.

``data/prices.csv`` and ``data/quotas.csv`` hold one figure per row: ``service``, ``item``, ``region``,
``value``, ``unit``, ``source``, ``as_of``, ``note``. The pack's idle-cost table and the capacity tool
(``offline/capacity.py``) both read them here, so a price is written once. The files live inside
``policy/`` because the pack must stand alone when a team copies the folder.

A lookup for a region without its own row falls back to the ``*`` row, then to the us-east-1 row, and
says which figure it used instead (:attr:`Lookup.fallback`), so no report silently prices a region at
another region's rate.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

DATA_DIR: Final = Path(__file__).resolve().parent / "data"
PRICES_FILE: Final = DATA_DIR / "prices.csv"
QUOTAS_FILE: Final = DATA_DIR / "quotas.csv"
COLUMNS: Final = ("service", "item", "region", "value", "unit", "source", "as_of", "note")
ANY_REGION: Final = "*"
REFERENCE_REGION: Final = "us-east-1"


class FigureFileError(ValueError):
    """A data file is malformed; the message names the file, the line and the column."""


@dataclass(frozen=True)
class Figure:
    """One price or quota, as its row says."""

    service: str
    item: str
    region: str
    value: float
    unit: str
    source: str
    as_of: str
    note: str


@dataclass(frozen=True)
class Lookup:
    """A figure found for a region, and what was used instead when the region has no row of its own."""

    figure: Figure
    region: str

    @property
    def value(self) -> float:
        """The figure's value."""
        return self.figure.value

    @property
    def fallback(self) -> str | None:
        """``None`` when the region has its own row; otherwise which row stood in for it."""
        if self.figure.region == self.region:
            return None
        if self.figure.region == ANY_REGION:
            return f"no {self.region} row: the default for every region is used"
        return f"no {self.region} figure: the {self.figure.region} figure is used"


class FigureTable:
    """The rows of one data file, indexed by ``(service, item, region)``."""

    def __init__(self, figures: Iterable[Figure], name: str = "figures") -> None:
        self.name = name
        self.figures = list(figures)
        self._index = {(f.service, f.item, f.region): f for f in self.figures}

    @classmethod
    def load(cls, path: Path) -> FigureTable:
        """Read a data file (``#`` lines are comments).

        Raises
        ------
        FigureFileError
            When the header is not :data:`COLUMNS`, a value is not a number, an ``as_of`` is not a
            ``YYYY-MM-DD`` date, a required cell is empty, or a row repeats a ``(service, item, region)``.
        """
        lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
        rows = csv.reader(lines)
        header = next(rows, None)
        if tuple(header or ()) != COLUMNS:
            raise FigureFileError(f"{path.name}: header must be {','.join(COLUMNS)}, got {header}")
        figures: list[Figure] = []
        seen: set[tuple[str, str, str]] = set()
        for number, row in enumerate(rows, start=2):
            figure = _parse_row(path.name, number, row)
            key = (figure.service, figure.item, figure.region)
            if key in seen:
                raise FigureFileError(f"{path.name}: row {number} repeats {'/'.join(key)}")
            seen.add(key)
            figures.append(figure)
        return cls(figures, path.name)

    def __iter__(self) -> Iterator[Figure]:
        return iter(self.figures)

    def find(self, service: str, item: str, region: str) -> Lookup:
        """The figure for ``region``: its own row, else the ``*`` row, else the us-east-1 row.

        Raises
        ------
        KeyError
            When no row exists for ``service``/``item`` at all.
        """
        for candidate in (region, ANY_REGION, REFERENCE_REGION):
            figure = self._index.get((service, item, candidate))
            if figure is not None:
                return Lookup(figure, region)
        raise KeyError(f"{self.name} has no figure for {service} {item}")

    def value(self, service: str, item: str, region: str) -> float:
        """Shorthand for ``find(...).value``."""
        return self.find(service, item, region).value


def _parse_row(file: str, number: int, row: list[str]) -> Figure:
    if len(row) != len(COLUMNS):
        raise FigureFileError(f"{file}: row {number} has {len(row)} cells, expected {len(COLUMNS)}")
    cells = dict(zip(COLUMNS, (cell.strip() for cell in row), strict=True))
    for column in ("service", "item", "region", "unit", "source", "as_of"):
        if not cells[column]:
            raise FigureFileError(f"{file}: row {number} has an empty {column}")
    try:
        value = float(cells["value"])
    except ValueError as error:
        raise FigureFileError(f"{file}: row {number} value {cells['value']!r} is not a number") from error
    date = cells["as_of"]
    if len(date) != 10 or date[4] != "-" or date[7] != "-" or not date.replace("-", "").isdigit():
        raise FigureFileError(f"{file}: row {number} as_of {date!r} is not a YYYY-MM-DD date")
    return Figure(
        service=cells["service"],
        item=cells["item"],
        region=cells["region"],
        value=value,
        unit=cells["unit"],
        source=cells["source"],
        as_of=date,
        note=cells["note"],
    )


@cache
def prices() -> FigureTable:
    """The pack's price table (``data/prices.csv``)."""
    return FigureTable.load(PRICES_FILE)


@cache
def quotas() -> FigureTable:
    """The pack's quota table (``data/quotas.csv``)."""
    return FigureTable.load(QUOTAS_FILE)

"""The product catalogue: ``catalogue.json`` beside this module, read once per execution environment.

The same file seeds the inventory table (the Pulumi program reads it), so its shape is a contract:
a JSON list of ``{sku, name, unitPriceCents, initialStock}``. Every price is in :data:`CURRENCY`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Final

from pydantic import Field, TypeAdapter, ValidationError

from shared.models.common import ContractModel

CATALOGUE_PATH: Final = Path(__file__).with_name("catalogue.json")
CURRENCY: Final = "EUR"
"""ISO 4217 currency of every catalogue price."""


class Product(ContractModel):
    """One catalogue entry."""

    sku: str = Field(min_length=1, max_length=32, pattern=r"^[A-Z0-9][A-Z0-9-]*$")
    name: str = Field(min_length=1)
    unit_price_cents: int = Field(ge=0, strict=True)
    initial_stock: int = Field(ge=0, strict=True)


class CatalogueError(ValueError):
    """The catalogue file is unreadable or breaks its contract; the message names the entry and field."""


def parse_catalogue(raw_json: str | bytes, source: str = "catalogue") -> Mapping[str, Product]:
    """Validate catalogue JSON and index it by SKU.

    Parameters
    ----------
    raw_json:
        The JSON text: a list of ``{sku, name, unitPriceCents, initialStock}`` objects.
    source:
        Name used in error messages (usually the file path).

    Returns
    -------
    Mapping[str, Product]
        Read-only mapping SKU → product, in file order.

    Raises
    ------
    CatalogueError
        For invalid JSON, a missing or mistyped field (named as ``<index>.<field>``), or a duplicate SKU.
    """
    try:
        products = TypeAdapter(list[Product]).validate_json(raw_json)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc']) or 'document'}: {issue['msg']}"
            for issue in error.errors(include_url=False, include_input=False)
        )
        raise CatalogueError(f"{source}: {problems}") from error
    by_sku: dict[str, Product] = {}
    for index, product in enumerate(products):
        if product.sku in by_sku:
            raise CatalogueError(f"{source}: {index}.sku: duplicate sku {product.sku!r}")
        by_sku[product.sku] = product
    return MappingProxyType(by_sku)


@cache
def load_catalogue() -> Mapping[str, Product]:
    """The packaged catalogue, parsed on first use and cached for the life of the execution environment.

    Returns
    -------
    Mapping[str, Product]
        Read-only mapping SKU → product.

    Raises
    ------
    CatalogueError
        When ``catalogue.json`` breaks its contract.
    """
    return parse_catalogue(CATALOGUE_PATH.read_bytes(), source=str(CATALOGUE_PATH))

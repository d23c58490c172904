"""How stats figures are rounded: half up, from exact integer aggregates, on every dialect.

The database sums and counts; these turn the integers into the published decimals, so both
dialects publish the same figures (no float averages computed differently per engine).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def ratio(numerator: int, denominator: int, places: int) -> float:
    """numerator / denominator rounded half up to `places` decimals; 0 when there is nothing."""
    if denominator == 0:
        return 0.0
    quantum = Decimal(1).scaleb(-places)
    return float((Decimal(numerator) / Decimal(denominator)).quantize(quantum, ROUND_HALF_UP))


def rounded(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up to a whole number; 0 when there is nothing."""
    return int(ratio(numerator, denominator, 0))


def hours(minutes: int) -> float:
    """Minutes as hours with one decimal."""
    return ratio(minutes, 60, 1)


def percentage(part: int, whole: int) -> float:
    """`part` as a percentage of `whole`, one decimal."""
    return ratio(100 * part, whole, 1)


def percentile(fewer: int, population: int) -> int:
    """round(100 * fewer / (population - 1)); one alone ranks 100 (docs/domain.md peer rank)."""
    return 100 if population <= 1 else rounded(100 * fewer, population - 1)

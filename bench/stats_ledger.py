"""A deterministic activity ledger for the stats benchmark, written as CSV for the importer.

Same arguments (and anchor date), same file. The first `mentors` rows give every mentor one
activity, so a prefix of the file (the small ledger) already knows every mentor; after that,
mentors are drawn with a mild skew (some are far busier than others), over three years.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from random import Random

from domain.activities import FIELDS

SEED = 20261126
HISTORY_DAYS = 3 * 365
# (type id, weight, shortest, longest minutes)
TYPES = (
    ("act_type_001", 40, 30, 90),
    ("act_type_002", 10, 45, 120),
    ("act_type_003", 30, 10, 30),
    ("act_type_004", 15, 10, 45),
    ("act_type_005", 5, 60, 180),
)
CANCELLED_SHARE = 0.07
SKEW = 1.5  # mentor index = mentors * u ** SKEW: the busiest have a few hundred times the least


def _rows(mentors: int, activities: int, anchor: date) -> Iterator[list[str]]:
    rng = Random(SEED)
    first_day = datetime.combine(anchor, time(), UTC) - timedelta(days=HISTORY_DAYS - 1)
    weights = [kind[1] for kind in TYPES]
    for number in range(activities):
        mentor = number if number < mentors else int(mentors * rng.random() ** SKEW)
        type_id, _, shortest, longest = rng.choices(TYPES, weights=weights)[0]
        started = first_day + timedelta(
            days=rng.randrange(HISTORY_DAYS), minutes=7 * 60 + 15 * rng.randrange(56)
        )
        yield [
            f"act_{number:07d}",
            f"mentor-{mentor:05d}",
            f"Mentor {mentor:05d}",
            type_id,
            f"contact_{rng.randrange(50 * mentors)}",
            started.isoformat().replace("+00:00", "Z"),
            str(5 * rng.randint(shortest // 5, longest // 5)),
            "cancelled" if rng.random() < CANCELLED_SHARE else "completed",
        ]


def write_ledger(path: Path, *, mentors: int, activities: int, anchor: date) -> Path:
    """Write the ledger to `path` (kept if it already holds these exact arguments)."""
    stamp = path.with_suffix(".args")
    arguments = f"{SEED} {mentors} {activities} {anchor}"
    if path.exists() and stamp.exists() and stamp.read_text() == arguments:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        writer.writerows(_rows(mentors, activities, anchor))
    stamp.write_text(arguments)
    return path


def sample_mentors(mentors: int, count: int = 50) -> list[str]:
    """Mentor ids spread evenly over the whole range, busy and quiet alike."""
    step = max(1, mentors // count)
    return [f"mentor-{n:05d}" for n in range(0, mentors, step)][:count]

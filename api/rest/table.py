"""The whole REST route table: every legacy contract's rows, in one list."""

from __future__ import annotations

from api.rest.contracts import milestones, personal_stats, statuses, sync
from api.rest.route import RestRoute

ROUTES: list[RestRoute] = [
    *statuses.ROUTES,
    *sync.ROUTES,
    *milestones.ROUTES,
    *personal_stats.ROUTES,
]

"""Requests on the seeded board through the integration API, shared by the benchmarks."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from load import RequestMaker, json_request
from seed import SeedInfo

LIMIT = 10


def channel_path(info: SeedInfo) -> str:
    """The seeded channel's path below ``/api`` (v1) or ``/api/v2`` (v2)."""
    return f"/projects/{info.project_id}/channels/{info.channel_id}"


def v1_search(
    info: SeedInfo, query: Callable[[random.Random], dict[str, Any]], page: int = 1
) -> RequestMaker:
    """``POST .../feedbacks/search`` (201) with a query varied per request."""
    path = "/api" + channel_path(info) + "/feedbacks/search"
    return lambda rng: json_request(
        "POST", path, {"query": query(rng), "limit": LIMIT, "page": page}, 201
    )


def api_headers(info: SeedInfo) -> dict[str, str]:
    return {"x-api-key": info.api_key}

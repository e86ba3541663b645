"""JSON for both APIs: key order kept, and NaN/Infinity refused as the JSON standard says."""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class StrictJSONProvider(DefaultJSONProvider):
    # Feedback items list field values before id/createdAt/updatedAt/issues, as the reference.
    sort_keys = False
    ensure_ascii = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        # Python's parser accepts NaN and Infinity, which would be stored and break readers.
        return json.loads(s, parse_constant=_reject_constant, **kwargs)

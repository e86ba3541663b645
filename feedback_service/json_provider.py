"""JSON for the APIs: key order kept, and only input that can be stored and sent back.

Python's parser accepts ``NaN`` and ``Infinity`` (not JSON), reads ``1e400`` as infinity,
accepts lone UTF-16 surrogates such as ``"\\ud800"`` (which no UTF-8 database or response
can hold) and nesting deep enough to exhaust the stack; all of these are refused here as
invalid JSON, so they answer 400.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} does not fit a double")
    return value


class StrictJSONProvider(DefaultJSONProvider):
    # Feedback items list field values before id/createdAt/updatedAt/issues, as the reference.
    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = json.loads(
                s, parse_constant=_reject_constant, parse_float=_finite_float, **kwargs
            )
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        raw = s.encode("utf-8", "surrogatepass") if isinstance(s, str) else s
        if ESCAPED_SURROGATE.search(raw):
            # Valid pairs decode to one character; a lone half stays a surrogate and fails here.
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        return value

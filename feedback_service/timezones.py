"""Project timezones in the wire shape ``{"countryCode", "name", "offset"}``."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_TIMEZONE = "Asia/Seoul"


@cache
def _country_codes() -> dict[str, str]:
    """Zone name to ISO 3166 country code, from the IANA ``zone.tab`` shipped with tzdata."""
    table = files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    codes: dict[str, str] = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            country, _coordinates, zone = line.split("\t")[:3]
            codes[zone] = country
    return codes


def describe_timezone(name: str, *, now: datetime | None = None) -> dict[str, str]:
    """``Asia/Seoul`` -> ``{"countryCode": "KR", "name": "Asia/Seoul", "offset": "+09:00"}``.

    The offset is the zone's offset at ``now`` (daylight saving included).

    :raises ValueError: for a name that is not an IANA zone.
    """
    if name not in available_timezones():
        raise ValueError(f"unknown timezone: {name} (expected an IANA name such as Asia/Seoul)")
    try:
        zone = ZoneInfo(name)
    except ZoneInfoNotFoundError as error:  # pragma: no cover - listed zones always load
        raise ValueError(f"unknown timezone: {name}") from error
    offset = (now or datetime.now(UTC)).astimezone(zone).utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return {
        "countryCode": _country_codes().get(name, ""),
        "name": name,
        "offset": f"{sign}{hours:02d}:{minutes:02d}",
    }


@cache
def timezone_names() -> list[str]:
    """Every IANA zone name, sorted: the choices a form offers."""
    return sorted(available_timezones())


def project_zone(name: str) -> ZoneInfo:
    """A project's zone for local days and times; UTC if tzdata no longer knows the name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")

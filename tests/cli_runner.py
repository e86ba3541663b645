"""Running the ``feedback-service`` console script as a process, and reading its database."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONSOLE_SCRIPT = Path(sys.executable).parent / "feedback-service"


@dataclass
class Cli:
    """Runs ``feedback-service`` (or another launcher) on one instance folder and database."""

    instance: Path
    database: Path
    launcher: tuple[str, ...] = (str(CONSOLE_SCRIPT),)
    cwd: Path | None = None
    # More environment variables (e.g. FEEDBACK_S3_SECRET_ACCESS_KEY) on top of the two above.
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = {
            name: value for name, value in os.environ.items() if not name.startswith("FEEDBACK_")
        }
        env["FEEDBACK_INSTANCE_PATH"] = str(self.instance)
        env["FEEDBACK_DATABASE_URL"] = f"sqlite:///{self.database}"
        return {**env, **self.extra_env}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.launcher, *args],
            env=self.env,
            cwd=self.cwd or self.instance.parent,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def ok(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr
        return result

    def json(self, *args: str) -> dict[str, Any]:
        """Run with ``--json``; stdout must be exactly one JSON object."""
        payload = json.loads(self.ok(*args, "--json").stdout)
        assert isinstance(payload, dict)
        return payload

    def fails(self, *args: str) -> str:
        """Run a command that must fail; its stderr, after checking stdout stayed empty."""
        result = self.run(*args)
        assert result.returncode != 0, result.stdout
        assert result.stdout == ""
        return result.stderr


def query(database: Path, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(database)) as connection:
        return connection.execute(statement, params).fetchall()

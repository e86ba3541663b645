"""Running the ``feedback-service`` console script as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.databases import TestDatabase

CONSOLE_SCRIPT = Path(sys.executable).parent / "feedback-service"


@dataclass
class Cli:
    """Runs ``feedback-service`` (or another launcher) on one instance folder and database."""

    instance: Path
    database: TestDatabase
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
        env["FEEDBACK_DATABASE_URL"] = self.database.url
        return {**env, **self.extra_env}

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.launcher, *args],
            input=stdin,
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

    def create_user(self, email: str, password: str, role: str = "admin") -> dict[str, Any]:
        """``create-admin`` with the password on stdin, as a script would run it."""
        result = self.run(
            "create-admin", "--email", email, "--role", role, "--json", stdin=f"{password}\n"
        )
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))

    def fails(self, *args: str) -> str:
        """Run a command that must fail; its stderr, after checking stdout stayed empty."""
        result = self.run(*args)
        assert result.returncode != 0, result.stdout
        assert result.stdout == ""
        return result.stderr

"""app.runs never imports the web stack (the executor and workers must not need it)."""

from __future__ import annotations

import subprocess
import sys


def test_runs_package_imports_no_web_framework() -> None:
    code = (
        "import sys, app.runs.service.front_door, app.runs.execution.factory, app.runs.store.runs\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'starlette', 'uvicorn') or m.startswith('app.web'))\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

"""The image's HEALTHCHECK: exit 0 when /healthz on this container's port answers ok.

`python -m app.healthcheck` reads the port the server listens on the way the settings do
(PLAYGROUND_PORT, else the platform's PORT, else 8000), so the check follows it; stdlib
only (no curl in a slim image) and fast (no settings, no torch).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request


def main() -> int:
    port = os.environ.get("PLAYGROUND_PORT") or os.environ.get("PORT") or "8000"
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:  # a fixed local URL
            body = json.loads(response.read())
    except (OSError, ValueError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    if body.get("status") != "ok":
        print(f"unhealthy: {url}: {body.get('status')!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Container healthchecks without curl in the image.

``healthcheck.py http URL``: the URL answers 2xx within 5 s (the web server's /healthz).
``healthcheck.py file PATH MAX_AGE_S``: PATH was touched within MAX_AGE_S seconds (a consumer's
``--healthcheck-file``, touched by its processing loop).
"""

import os
import sys
import time
import urllib.request


def main(argv: list[str]) -> int:
    match argv:
        case ["http", url]:
            with urllib.request.urlopen(url, timeout=5) as response:
                return 0 if 200 <= response.status < 300 else 1
        case ["file", path, max_age_s]:
            try:
                age = time.time() - os.path.getmtime(path)
            except OSError:
                return 1
            return 0 if age <= float(max_age_s) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

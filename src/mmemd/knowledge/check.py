"""``python -m mmemd.knowledge.check``: validate the curated knowledge base and list every problem at once."""

from __future__ import annotations

import sys
from collections import Counter


def main() -> int:
    from mmemd.knowledge._load import CurationError, load_curated

    try:
        curated = load_curated()
    except CurationError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
    by_source = Counter(curated.sources[c.source].alias for c in curated.claims)
    summary = ", ".join(f"{alias}: {n}" for alias, n in sorted(by_source.items()))
    print(f"ok: {len(curated.claims)} claims ({summary})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Course tooling, run with ``python -m``: ``student`` (generate chapters/),
``outputs`` (re-execute solutions/), ``bench`` (benchmark report)."""

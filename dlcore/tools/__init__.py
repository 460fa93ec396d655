"""Course tooling, run with ``python -m``: ``student`` (generate chapters/),
``outputs`` (re-execute solutions/), ``bench`` (benchmark report), ``grade``
(grade students' notebooks) and ``progress`` (a learner's own progress page)."""

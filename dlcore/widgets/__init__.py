"""The course's interactive explorers (ipywidgets; imported lazily).

Each explorer is a plain Python object: its controls are ipywidgets, its
logic is ordinary methods that compute a ``state`` and redraw a figure shown
as a PNG image. Tests drive it by setting ``explorer.<control>.value`` and
reading ``explorer.state``; in a notebook, displaying the object shows it.
"""

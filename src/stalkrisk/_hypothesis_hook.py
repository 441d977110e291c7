"""Entry point hypothesis calls on import (``[project.entry-points.hypothesis]``).

It registers stalkrisk's strategies so that ``st.from_type(stalkrisk.Case)``
works without importing ``stalkrisk.strategies`` first.
"""


def _hypothesis_setup_hook() -> None:
    import stalkrisk.strategies  # noqa: F401 - importing registers the strategies

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

# Lets test modules import the shared builders as `from builders import ...`.
sys.path.insert(0, str(Path(__file__).parent))

# "ci": derandomized (the same examples on every run), enough to matter, a few minutes
# in all.  "thorough": for researchers, `pytest --hypothesis-profile=thorough`.
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=300,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=5_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("quick", max_examples=25, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

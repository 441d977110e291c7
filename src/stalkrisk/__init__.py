"""stalkrisk: graded, explained recommendations for clinicians stalked by a client.

    >>> import stalkrisk
    >>> result = stalkrisk.assess(stalkrisk.example_case())
    >>> result.level.value
    'referral'

The public API is exactly the names in ``__all__``; every other module is private.
"""

import contextlib

from ._api import assess, assess_json
from ._assessment import (
    Action,
    Ages,
    Assessment,
    ElementFinding,
    Elements,
    FiredRule,
    RaiseIf,
    RulePackInfo,
    Threshold,
)
from ._case import (
    Behaviour,
    Boundaries,
    BoundaryWarning,
    Case,
    CaseInput,
    Channel,
    ClientHistory,
    ClinicalState,
    Contact,
    Fear,
    FearLevel,
    FearReport,
    KnownSince,
    Motive,
    Relationship,
    Target,
    parse_case,
)
from ._compare import Comparison, compare
from ._examples import example_case
from ._exceptions import CaseValidationError, EngineError, Problem, RulePackError, StalkriskError
from ._exercise import Exercise, ExerciseAnswer, ExerciseFeedback, WhatIf
from ._exercise_view import ExerciseView, exercise
from ._ladder import Level
from ._packmodel import RulePack
from ._registry import bundled_packs, default_rule_pack, load_rule_pack
from ._trajectory import (
    ElementsReached,
    GradeDrop,
    Reached,
    StepThreshold,
    ThresholdCrossing,
    Trajectory,
    TrajectoryRule,
    TrajectoryStep,
    TrajectorySummary,
    trajectory,
)
from ._version import __version__
from .batch import CaseError, assess_iter, assess_many

__all__ = [
    "Action",
    "Ages",
    "Assessment",
    "Behaviour",
    "Boundaries",
    "BoundaryWarning",
    "Case",
    "CaseError",
    "CaseInput",
    "CaseValidationError",
    "Channel",
    "ClientHistory",
    "ClinicalState",
    "Comparison",
    "Contact",
    "ElementFinding",
    "Elements",
    "ElementsReached",
    "EngineError",
    "Exercise",
    "ExerciseAnswer",
    "ExerciseFeedback",
    "ExerciseView",
    "Fear",
    "FearLevel",
    "FearReport",
    "FiredRule",
    "GradeDrop",
    "KnownSince",
    "Level",
    "Motive",
    "Problem",
    "RaiseIf",
    "Reached",
    "Relationship",
    "RulePack",
    "RulePackError",
    "RulePackInfo",
    "StalkriskError",
    "StepThreshold",
    "Target",
    "Threshold",
    "ThresholdCrossing",
    "Trajectory",
    "TrajectoryRule",
    "TrajectoryStep",
    "TrajectorySummary",
    "WhatIf",
    "__version__",
    "assess",
    "assess_iter",
    "assess_json",
    "assess_many",
    "bundled_packs",
    "compare",
    "default_rule_pack",
    "example_case",
    "exercise",
    "load_rule_pack",
    "parse_case",
    "trajectory",
]

# Show the public path in reprs, docs and tracebacks (as httpx does).
for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__") and _name != "__version__":
        with contextlib.suppress(AttributeError, TypeError):
            _obj.__module__ = __name__
del _name, _obj

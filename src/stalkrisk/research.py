"""Compare rule packs on the same cases, and sweep one parameter of a pack.

    >>> import stalkrisk
    >>> from stalkrisk import research, vignettes
    >>> cases = [vignettes.load(name).case for name in vignettes.names()]
    >>> default = stalkrisk.default_rule_pack()
    >>> result = research.compare_packs(cases, [default, default], names=["a", "b"])
    >>> result.pair("a", "b").agreement
    1.0

:func:`compare_packs` assesses every case under each pack and measures how far
the packs agree: on the grade (the share of cases with the same grade, a
weighted Cohen's kappa, the confusion matrix) and on each element of stalking
(pattern, threat, fear).  :func:`sweep` assesses the cases under one pack with
one parameter set to each of several values and counts the grades per value;
:func:`plot_sweep` draws those counts as stacked bars in the ladder's colours.

Grades are on an ordinal scale, so kappa is weighted by the distance between
two grades on the ladder (``weights="linear"`` by default): a ``referral``
against a ``police`` is a smaller disagreement than ``none`` against
``police``.  The weights always span the whole ladder of six levels, whichever
levels occur.

Requires pandas and scikit-learn, and matplotlib for :func:`plot_sweep`
(``pip install "stalkrisk[research]"``).  ``import stalkrisk`` never imports
this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Literal, TypeAlias

try:
    import pandas as pd
    from sklearn.metrics import (  # type: ignore[import-untyped]
        cohen_kappa_score,
        confusion_matrix,
    )
except ImportError as error:  # pragma: no cover - exercised in a test by hiding pandas
    raise ImportError(
        "stalkrisk.research needs pandas and scikit-learn, from the research extra: "
        'pip install "stalkrisk[research]"'
    ) from error

from ._assessment import Assessment
from ._case import Case, CaseInput, parse_case
from ._html import COLOURS
from ._ladder import Level
from ._packmodel import RulePack
from ._suggest import did_you_mean
from .batch import assess_many

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["PackComparison", "PairComparison", "compare_packs", "plot_sweep", "sweep"]

KappaWeights: TypeAlias = Literal["linear", "quadratic"] | None

LEVEL_CODES: tuple[str, ...] = tuple(level.value for level in Level)
"""The ladder's codes, lowest first: the categories of every level column."""
LEVEL_DTYPE = pd.CategoricalDtype(list(LEVEL_CODES), ordered=True)
"""The dtype of a column of grades: ordered along the ladder, so ``<`` and ``max`` work."""
ELEMENTS: tuple[str, ...] = ("pattern", "threat", "fear")
"""The three elements of stalking, in the order of ``Assessment.elements``."""

_RANKS = list(range(len(LEVEL_CODES)))
_WEIGHTS = ("linear", "quadratic", None)


@dataclass(frozen=True, eq=False, repr=False)
class PairComparison:
    """How two packs agree on the same cases.

    ``confusion`` counts the cases per pair of grades: rows are ``first``'s
    grade, columns ``second``'s, both over all six levels in ladder order, so
    the diagonal holds the agreements.  ``elements`` maps ``"pattern"``,
    ``"threat"`` and ``"fear"`` to the share of cases on which the two packs
    agree about that element's presence.
    """

    first: str
    second: str
    cases: int
    agreement: float
    """The share of cases that get the same grade."""
    kappa: float
    """Cohen's kappa on the grades, weighted by ``weights``.

    When both packs give every case one and the same grade, kappa is undefined
    (scikit-learn returns nan, with a warning): the packs never disagree, so
    this is 1.0 then.  When each pack gives one grade of its own, it is 0.0.
    """
    weights: KappaWeights
    confusion: pd.DataFrame
    elements: Mapping[str, float]

    def swapped(self) -> PairComparison:
        """The same comparison seen from ``second``: the confusion matrix transposed."""
        confusion = self.confusion.T.copy()
        return PairComparison(
            first=self.second,
            second=self.first,
            cases=self.cases,
            agreement=self.agreement,
            kappa=self.kappa,
            weights=self.weights,
            confusion=confusion,
            elements=self.elements,
        )

    def summary(self) -> str:
        """Agreement, kappa, element agreement and the confusion matrix, as text."""
        kind = f"weighted kappa ({self.weights})" if self.weights else "kappa"
        elements = ", ".join(f"{name} {share:.3f}" for name, share in self.elements.items())
        matrix = self.confusion.rename_axis(index=None, columns=None).to_string()
        return "\n".join([
            f"{self.first} vs {self.second} on {self.cases} cases:",
            f"  agreement {self.agreement:.3f}, {kind} {self.kappa:.3f}",
            f"  elements agree: {elements}",
            f"  grades (rows {self.first}, columns {self.second}):",
            *(f"    {line}" for line in matrix.splitlines()),
        ])  # fmt: skip

    def __repr__(self) -> str:
        return self.summary()


@dataclass(frozen=True, eq=False, repr=False)
class PackComparison:
    """The grades and elements of the same cases under several packs, and how they agree.

    ``levels`` has one row per case (the index is the case's position in the
    input) and one column per pack, named by ``names``; its dtype is an ordered
    categorical over the ladder's codes.  ``elements`` has the same rows and a
    two-level column index (pack name, element) of booleans: whether the pack
    found the pattern, threat or fear present.  ``pairs`` holds a
    :class:`PairComparison` for each pair of packs, in the order given.
    """

    names: tuple[str, ...]
    packs: tuple[RulePack, ...]
    levels: pd.DataFrame
    elements: pd.DataFrame
    pairs: Mapping[tuple[str, str], PairComparison]
    weights: KappaWeights

    def pair(self, first: str, second: str) -> PairComparison:
        """The comparison of the packs named ``first`` and ``second`` (in either order)."""
        if (first, second) in self.pairs:
            return self.pairs[first, second]
        if (second, first) in self.pairs:
            return self.pairs[second, first].swapped()
        for name in (first, second):
            if name not in self.names:
                hint = did_you_mean(name, self.names)
                raise KeyError(
                    f"no pack named {name!r}" + (f"; {hint}" if hint else "")
                    + f" (the packs are {', '.join(map(repr, self.names))})"
                )  # fmt: skip
        raise KeyError(f"a pack is not compared with itself: {first!r}")

    @property
    def pairwise(self) -> pd.DataFrame:
        """One row per pair of packs: agreement, kappa and the three element agreements."""
        rows = [
            {"agreement": p.agreement, "kappa": p.kappa, **p.elements} for p in self.pairs.values()
        ]
        index = pd.MultiIndex.from_tuples(list(self.pairs), names=["first", "second"])
        return pd.DataFrame(rows, index=index, columns=["agreement", "kappa", *ELEMENTS])

    def distribution(self, *, normalize: bool = False) -> pd.DataFrame:
        """Cases per grade: one row per pack, one column per level in ladder order.

        ``normalize=True`` gives each pack's shares instead (rows sum to 1).
        """
        counts = pd.DataFrame(
            {name: self.levels[name].value_counts(sort=False) for name in self.names}
        ).T
        counts.columns = pd.Index(LEVEL_CODES, name="level")
        counts.index.name = "pack"
        return counts.div(counts.sum(axis=1), axis=0) if normalize else counts

    def summary(self) -> str:
        """The grade counts per pack, then each pair's agreement, as text."""
        kind = f"kappa weights {self.weights}" if self.weights else "unweighted kappa"
        counts = self.distribution().rename_axis(index=None, columns=None).to_string()
        lines = [
            f"PackComparison of {len(self.names)} rule packs on {len(self.levels)} cases ({kind})",
            "",
            "Cases per grade:",
            *(f"  {line}" for line in counts.splitlines()),
        ]
        for pair in self.pairs.values():
            lines += ["", pair.summary()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def compare_packs(
    cases: Iterable[CaseInput],
    packs: Sequence[RulePack],
    *,
    names: Sequence[str] | None = None,
    weights: KappaWeights = "linear",
    workers: int | None = 1,
) -> PackComparison:
    """Assess every case under each of ``packs`` and measure how far the packs agree.

    ``cases`` are :class:`stalkrisk.Case` models or their JSON (text, bytes or
    mappings); each is validated once.  ``packs`` are two or more rule packs.
    ``names`` label them in the result; by default each pack's name and version
    (``"stalkrisk-default 1.1.0"``), with ``" #2"``, ``" #3"`` … added to repeats.
    ``weights`` weights Cohen's kappa: ``"linear"`` (default), ``"quadratic"``
    or ``None`` for plain kappa.  ``workers`` is passed to
    :func:`stalkrisk.assess_many`: ``1`` (default) assesses in this process,
    more (or ``None``, every core) pays off from some tens of thousands of cases.

    Raises ``ValueError`` for no cases, fewer than two packs, names that do not
    fit the packs, or unknown weights, and :class:`stalkrisk.CaseValidationError`
    for an invalid case.
    """
    pack_list = list(packs)
    if len(pack_list) < 2:
        raise ValueError(f"compare_packs() needs two or more packs, got {len(pack_list)}")
    for position, pack in enumerate(pack_list):
        if not isinstance(pack, RulePack):
            raise TypeError(
                f"packs[{position}] is a {type(pack).__name__}, not a RulePack "
                "(load one with stalkrisk.load_rule_pack)"
            )
    labels = _names(pack_list, names)
    if weights not in _WEIGHTS:
        raise ValueError(f"weights={weights!r} must be 'linear', 'quadratic' or None")
    valid = _parsed(cases)

    results = {
        name: assess_many(valid, workers=workers, rule_pack=pack)
        for name, pack in zip(labels, pack_list, strict=True)
    }
    index = pd.RangeIndex(len(valid), name="case")
    levels = pd.DataFrame(
        {name: pd.Categorical(_codes(found), dtype=LEVEL_DTYPE) for name, found in results.items()},
        index=index,
    )
    elements = pd.DataFrame(
        {
            (name, element): [getattr(a.elements, element).present for a in found]
            for name, found in results.items()
            for element in ELEMENTS
        },
        index=index,
    )
    elements.columns = pd.MultiIndex.from_product([labels, ELEMENTS], names=["pack", "element"])
    pairs = {
        (first, second): _pair(levels, elements, first, second, weights)
        for first, second in combinations(labels, 2)
    }
    return PackComparison(
        names=tuple(labels),
        packs=tuple(pack_list),
        levels=levels,
        elements=elements,
        pairs=pairs,
        weights=weights,
    )


def _names(packs: list[RulePack], names: Sequence[str] | None) -> list[str]:
    if names is None:
        labels: list[str] = []
        for pack in packs:
            base = f"{pack.name} {pack.version}"
            label, repeat = base, 1
            while label in labels:
                repeat += 1
                label = f"{base} #{repeat}"
            labels.append(label)
        return labels
    if isinstance(names, str):
        raise TypeError("names must be a sequence of names, one per pack, not one string")
    labels = list(names)
    if len(labels) != len(packs):
        raise ValueError(f"names has {len(labels)} names for {len(packs)} packs")
    if not all(isinstance(label, str) and label for label in labels):
        raise ValueError("every name must be a non-empty string")
    if len(set(labels)) != len(labels):
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        raise ValueError(f"names must be unique; repeated: {', '.join(map(repr, repeated))}")
    return labels


def _parsed(cases: Iterable[CaseInput]) -> list[Case]:
    if isinstance(cases, str | bytes | Case | Mapping):
        raise TypeError("cases must be an iterable of cases; wrap a single case in a list")
    valid = [parse_case(case) for case in cases]
    if not valid:
        raise ValueError("cases is empty: there is nothing to compare")
    return valid


def _codes(found: Iterable[Assessment]) -> list[str]:
    return [a.level.value for a in found]


def _pair(
    levels: pd.DataFrame,
    elements: pd.DataFrame,
    first: str,
    second: str,
    weights: KappaWeights,
) -> PairComparison:
    a = levels[first].cat.codes.to_numpy()
    b = levels[second].cat.codes.to_numpy()
    matrix = confusion_matrix(a, b, labels=_RANKS)
    confusion = pd.DataFrame(
        matrix,
        index=pd.Index(LEVEL_CODES, name=first),
        columns=pd.Index(LEVEL_CODES, name=second),
    )
    return PairComparison(
        first=first,
        second=second,
        cases=len(a),
        agreement=float((a == b).mean()),
        kappa=_kappa(a.tolist(), b.tolist(), weights),
        weights=weights,
        confusion=confusion,
        elements={
            element: float((elements[first, element] == elements[second, element]).mean())
            for element in ELEMENTS
        },
    )


def _kappa(a: list[int], b: list[int], weights: KappaWeights) -> float:
    if len(set(a)) == 1 and set(a) == set(b):
        # Undefined (no disagreement is possible by chance); the packs never disagree.
        return 1.0
    return float(cohen_kappa_score(a, b, labels=_RANKS, weights=weights))


def sweep(
    cases: Iterable[CaseInput],
    pack: RulePack,
    *,
    normalize: bool = False,
    workers: int | None = 1,
    **values: Iterable[int | float],
) -> pd.DataFrame:
    """The grades of ``cases`` under ``pack`` with one parameter set to each value in turn.

        sweep(cases, pack, pattern_min_span_days=[7, 10, 14, 21, 28])

    Exactly one parameter, given as a keyword with a list of values.  Each
    variant is ``pack.with_parameters(name=value)``.  The result has one row
    per value (the index is named after the parameter) and one column per
    level in ladder order, all six present: the number of cases with that
    grade, or with ``normalize=True`` the share of the cases (rows sum to 1).
    ``workers`` is as for :func:`compare_packs`.

    Raises ``TypeError`` for no parameter, several, or one the pack does not
    have, and ``ValueError`` for no values, repeated values or no cases.
    """
    if not isinstance(pack, RulePack):
        raise TypeError(f"pack is a {type(pack).__name__}, not a RulePack")
    if len(values) != 1:
        given = ", ".join(sorted(values)) or "none"
        raise TypeError(
            "sweep() varies exactly one parameter, given as a keyword with a list of values "
            f"(e.g. pattern_min_span_days=[7, 14, 28]); got {len(values)}: {given}"
        )
    [(name, raw)] = values.items()
    if name not in pack.parameters:
        hint = did_you_mean(name, pack.parameters)
        raise TypeError(
            f"the pack {pack.name} has no parameter {name!r}" + (f"; {hint}" if hint else "")
        )
    if isinstance(raw, str | bytes) or not isinstance(raw, Iterable):
        raise TypeError(f"{name}= must be a list of values, got {raw!r}")
    settings = list(raw)
    if not settings:
        raise ValueError(f"{name}= has no values to sweep")
    if len(set(settings)) != len(settings):
        raise ValueError(f"{name}= repeats a value: {settings!r}")
    valid = _parsed(cases)

    rows = []
    for value in settings:
        variant = pack.with_parameters(**{name: value})
        found = assess_many(valid, workers=workers, rule_pack=variant)
        counts = pd.Categorical(_codes(found), dtype=LEVEL_DTYPE).value_counts()
        rows.append(counts.to_numpy())
    result = pd.DataFrame(
        rows,
        index=pd.Index(settings, name=name),
        columns=pd.Index(LEVEL_CODES, name="level"),
    )
    return result.div(result.sum(axis=1), axis=0) if normalize else result


def plot_sweep(result: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Draw a :func:`sweep` result as stacked bars: one bar per value, one colour per level.

    The levels stack from ``none`` at the bottom to ``police`` at the top, in
    the ladder's colours.  Counts and shares (``normalize=True``) both draw;
    the y axis is labelled accordingly.  Draws on ``ax`` if given, otherwise on
    a new figure (pyplot is never used); returns the Axes.  Needs matplotlib.
    """
    if list(result.columns) != list(LEVEL_CODES):
        raise ValueError(
            "plot_sweep() draws a sweep() result: its columns must be the six ladder "
            f"levels in order, got {list(result.columns)!r}"
        )
    if ax is None:
        try:
            from .plot import _NotebookFigure
        except ImportError as error:
            raise ImportError(
                'plot_sweep() needs matplotlib: pip install "stalkrisk[research]"'
            ) from error
        size = (max(4.0, 0.8 * len(result) + 2.5), 4.0)
        ax = _NotebookFigure(figsize=size, layout="constrained").add_subplot()
    positions = list(range(len(result)))
    bottom = [0.0] * len(result)
    for code in LEVEL_CODES:
        heights = [float(h) for h in result[code]]
        ax.bar(positions, heights, bottom=bottom, color=COLOURS[Level(code)], label=code)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_xticks(positions, [f"{value:g}" for value in result.index])
    ax.set_xlabel(str(result.index.name or "value"))
    shares = all(pd.api.types.is_float_dtype(dtype) for dtype in result.dtypes)
    ax.set_ylabel("share of cases" if shares else "cases")
    handles, labels = ax.get_legend_handles_labels()
    # Listed top to bottom, as the bars stack.
    ax.legend(
        handles[::-1], labels[::-1], title="grade", loc="center left", bbox_to_anchor=(1, 0.5)
    )
    return ax

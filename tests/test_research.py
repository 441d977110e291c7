"""stalkrisk.research: comparing rule packs on the same cases, and sweeping one parameter."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from typing import Any

import pandas as pd
import pytest
from builders import case, contact
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.metrics import cohen_kappa_score  # type: ignore[import-untyped]

import stalkrisk
from stalkrisk import research

LADDER = ["none", "reflective", "boundaries", "consultation", "referral", "police"]

# Five hand-built cases.  Two stalking behaviours ten days apart make a pattern
# only when the pack's threshold is shorter than ten days; twenty days are a
# pattern under both thresholds used here (7 and 14 days).
GIFT = case(contact("c1", 0, "gift"))
TEN_DAYS = case(contact("c1", 0, "unwanted_correspondence"), contact("c2", 10, "unwanted_calls"))
TEN_DAYS_FEARED = case(
    contact("c1", 0, "unwanted_correspondence"),
    contact("c2", 10, "unwanted_calls"),
    fear="significant",
)
TWENTY_DAYS = case(contact("c1", 0, "unwanted_correspondence"), contact("c2", 20, "unwanted_calls"))
THREAT = case(contact("c1", 0, "threat"))
CASES = [GIFT, TEN_DAYS, TEN_DAYS_FEARED, TWENTY_DAYS, THREAT]


@pytest.fixture(scope="module")
def default() -> stalkrisk.RulePack:
    return stalkrisk.default_rule_pack()


@pytest.fixture(scope="module")
def week(default: stalkrisk.RulePack) -> stalkrisk.RulePack:
    """The default pack with a one-week pattern threshold instead of two weeks."""
    return default.with_parameters(pattern_min_span_days=7)


@pytest.fixture(scope="module")
def compared(default: stalkrisk.RulePack, week: stalkrisk.RulePack) -> research.PackComparison:
    return research.compare_packs(CASES, [default, week], names=["default", "week"])


@pytest.fixture(scope="module")
def same(default: stalkrisk.RulePack) -> research.PackComparison:
    return research.compare_packs(CASES, [default, default], names=["a", "b"])


# --- levels and elements -----------------------------------------------------------------


def test_levels_are_an_ordered_categorical_in_ladder_order(
    compared: research.PackComparison,
) -> None:
    for name in ("default", "week"):
        dtype = compared.levels[name].dtype

        assert isinstance(dtype, pd.CategoricalDtype)
        assert dtype.ordered
        assert list(dtype.categories) == LADDER


def test_levels_have_one_row_per_case_and_one_column_per_pack(
    compared: research.PackComparison,
) -> None:
    assert list(compared.levels.index) == [0, 1, 2, 3, 4]
    assert list(compared.levels.columns) == ["default", "week"]


def test_levels_are_each_packs_grades(compared: research.PackComparison) -> None:
    expected = pd.DataFrame(
        {
            "default": ["reflective", "boundaries", "consultation", "consultation", "police"],
            "week": ["reflective", "consultation", "referral", "consultation", "police"],
        }
    )

    assert compared.levels.astype(str).to_dict("list") == expected.to_dict("list")


def test_names_default_to_pack_name_and_version_made_unique(default: stalkrisk.RulePack) -> None:
    result = research.compare_packs([GIFT], [default, default, default])
    base = f"{default.name} {default.version}"

    assert result.names == (base, f"{base} #2", f"{base} #3")


def test_elements_have_one_column_per_pack_and_element(
    compared: research.PackComparison,
) -> None:
    columns: list[Any] = list(compared.elements.columns)

    assert columns == [
        ("default", "pattern"), ("default", "threat"), ("default", "fear"),
        ("week", "pattern"), ("week", "threat"), ("week", "fear"),
    ]  # fmt: skip
    assert list(compared.elements["week", "pattern"]) == [False, True, True, True, False]


def test_cases_may_be_json_text(
    default: stalkrisk.RulePack, week: stalkrisk.RulePack, compared: research.PackComparison
) -> None:
    texts = [json.dumps(data) for data in CASES]

    result = research.compare_packs(texts, [default, week], names=["default", "week"])

    pd.testing.assert_frame_equal(result.levels, compared.levels)


def test_workers_give_the_same_levels(
    default: stalkrisk.RulePack, week: stalkrisk.RulePack, compared: research.PackComparison
) -> None:
    result = research.compare_packs(CASES, [default, week], names=["default", "week"], workers=2)

    pd.testing.assert_frame_equal(result.levels, compared.levels)


# --- identical packs -----------------------------------------------------------------------


def test_identical_packs_agree_on_every_case(same: research.PackComparison) -> None:
    pair = same.pair("a", "b")

    assert (pair.agreement, pair.kappa) == (1.0, 1.0)


def test_identical_packs_give_a_diagonal_confusion_matrix(same: research.PackComparison) -> None:
    confusion = same.pair("a", "b").confusion
    matrix = confusion.to_numpy()

    assert list(confusion.index) == list(confusion.columns) == LADDER
    assert matrix.trace() == matrix.sum() == len(CASES)
    assert list(matrix.diagonal()) == list(same.distribution().loc["a"])


def test_identical_packs_agree_on_every_element(same: research.PackComparison) -> None:
    assert same.pair("a", "b").elements == {"pattern": 1.0, "threat": 1.0, "fear": 1.0}


def test_one_shared_grade_everywhere_gives_kappa_one_without_a_warning(
    default: stalkrisk.RulePack,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = research.compare_packs([GIFT, GIFT], [default, default], names=["a", "b"])

    assert result.pair("a", "b").kappa == 1.0


# --- a variant against the default ---------------------------------------------------------


def test_a_one_week_threshold_disagrees_on_the_ten_day_cases(
    compared: research.PackComparison,
) -> None:
    levels = compared.levels

    assert list(levels.index[levels["default"] != levels["week"]]) == [1, 2]
    assert (levels["week"] >= levels["default"]).all()


def test_the_confusion_matrix_counts_the_disagreements(compared: research.PackComparison) -> None:
    confusion = compared.pair("default", "week").confusion
    cells = {
        (row, column): count
        for column, rows in confusion.to_dict().items()
        for row, count in rows.items()
        if count
    }

    assert cells == {
        ("reflective", "reflective"): 1,
        ("boundaries", "consultation"): 1,  # ten days: an emerging pattern becomes one
        ("consultation", "referral"): 1,  # ten days with fear: pattern and fear make stalking
        ("consultation", "consultation"): 1,
        ("police", "police"): 1,
    }


def test_agreement_is_the_share_of_equal_grades(compared: research.PackComparison) -> None:
    assert compared.pair("default", "week").agreement == 3 / 5


@pytest.mark.parametrize("weights", ["linear", "quadratic", None])
def test_kappa_equals_sklearns_on_the_same_grades(
    default: stalkrisk.RulePack, week: stalkrisk.RulePack, weights: Any
) -> None:
    result = research.compare_packs(CASES, [default, week], names=["d", "w"], weights=weights)
    expected = cohen_kappa_score(
        list(result.levels["d"]), list(result.levels["w"]), labels=LADDER, weights=weights
    )

    assert result.pair("d", "w").kappa == pytest.approx(expected)


def test_kappa_is_linear_by_default(compared: research.PackComparison) -> None:
    assert compared.weights == "linear"
    assert compared.pair("default", "week").weights == "linear"


def test_element_agreement_is_the_share_of_equal_findings(
    compared: research.PackComparison,
) -> None:
    assert compared.pair("default", "week").elements == {
        "pattern": 3 / 5,
        "threat": 1.0,
        "fear": 1.0,
    }


def test_pair_in_reverse_order_transposes_the_confusion(
    compared: research.PackComparison,
) -> None:
    forward = compared.pair("default", "week")
    backward = compared.pair("week", "default")

    pd.testing.assert_frame_equal(backward.confusion, forward.confusion.T)
    assert (backward.agreement, backward.kappa) == (forward.agreement, forward.kappa)


def test_pairwise_has_one_row_per_pair_of_packs(
    default: stalkrisk.RulePack, week: stalkrisk.RulePack
) -> None:
    result = research.compare_packs(CASES, [default, week, default], names=["d", "w", "d2"])

    assert list(result.pairwise.index) == [("d", "w"), ("d", "d2"), ("w", "d2")]
    assert list(result.pairwise.columns) == ["agreement", "kappa", "pattern", "threat", "fear"]


def test_the_summary_gives_the_packs_and_their_agreement(
    compared: research.PackComparison,
) -> None:
    text = compared.summary()

    assert "2 rule packs on 5 cases" in text
    assert "default vs week on 5 cases:" in text
    assert "agreement 0.600" in text
    assert "elements agree: pattern 0.600, threat 1.000, fear 1.000" in text
    assert repr(compared) == text


# --- bad arguments -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"cases": CASES, "packs": "one"}, ValueError, "two or more packs"),
        ({"cases": [], "packs": "two"}, ValueError, "cases is empty"),
        ({"cases": GIFT, "packs": "two"}, TypeError, "wrap a single case in a list"),
        ({"cases": CASES, "packs": "two", "names": ["a"]}, ValueError, "1 names for 2 packs"),
        ({"cases": CASES, "packs": "two", "names": ["a", "a"]}, ValueError, "repeated: 'a'"),
        ({"cases": CASES, "packs": "two", "weights": "cubic"}, ValueError, "weights='cubic'"),
    ],
    ids=["one-pack", "no-cases", "one-case", "names-count", "names-repeat", "weights"],
)
def test_compare_packs_rejects_bad_arguments(
    default: stalkrisk.RulePack, arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    packs = [default] if arguments.pop("packs") == "one" else [default, default]

    with pytest.raises(error, match=message):
        research.compare_packs(packs=packs, **arguments)


def test_compare_packs_rejects_something_that_is_not_a_pack(default: stalkrisk.RulePack) -> None:
    with pytest.raises(TypeError, match=r"packs\[1\] is a str"):
        research.compare_packs(CASES, [default, "rules/sai.yaml"])  # type: ignore[list-item]


def test_pair_names_an_unknown_pack(compared: research.PackComparison) -> None:
    with pytest.raises(KeyError, match="did you mean 'week'"):
        compared.pair("default", "weak")


# --- sweeping one parameter ----------------------------------------------------------------

SPANS = [7, 14, 21]


@pytest.fixture(scope="module")
def swept(default: stalkrisk.RulePack) -> pd.DataFrame:
    return research.sweep(CASES, default, pattern_min_span_days=SPANS)


def test_sweep_has_one_row_per_value_and_one_column_per_level(swept: pd.DataFrame) -> None:
    assert list(swept.index) == SPANS
    assert swept.index.name == "pattern_min_span_days"
    assert list(swept.columns) == LADDER


def test_sweep_counts_sum_to_the_number_of_cases(swept: pd.DataFrame) -> None:
    assert list(swept.sum(axis=1)) == [len(CASES)] * len(SPANS)


def test_sweep_counts_the_grades_per_value(swept: pd.DataFrame) -> None:
    expected = {
        7: {"reflective": 1, "consultation": 2, "referral": 1, "police": 1},
        14: {"reflective": 1, "boundaries": 1, "consultation": 2, "police": 1},
        21: {"reflective": 1, "boundaries": 2, "consultation": 1, "police": 1},
    }

    assert {span: {k: v for k, v in row.items() if v} for span, row in swept.iterrows()} == expected


def test_a_longer_threshold_never_raises_the_grades(swept: pd.DataFrame) -> None:
    ranks = pd.Series(range(len(LADDER)), index=LADDER)
    mean_rank = swept.mul(ranks, axis=1).sum(axis=1) / len(CASES)

    assert mean_rank.is_monotonic_decreasing
    assert mean_rank[7] > mean_rank[21]


def test_sweep_normalize_gives_shares(default: stalkrisk.RulePack, swept: pd.DataFrame) -> None:
    shares = research.sweep(CASES, default, normalize=True, pattern_min_span_days=SPANS)

    pd.testing.assert_frame_equal(shares, swept / len(CASES))


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        ({}, TypeError, "exactly one parameter"),
        (
            {"pattern_min_span_days": [7], "recent_days": [3]},
            TypeError,
            "got 2: pattern_min_span_days, recent_days",
        ),
        ({"pattern_min_span_dayz": [7]}, TypeError, "did you mean 'pattern_min_span_days'"),
        ({"pattern_min_span_days": 7}, TypeError, "must be a list of values"),
        ({"pattern_min_span_days": []}, ValueError, "no values"),
        ({"pattern_min_span_days": [7, 7]}, ValueError, "repeats a value"),
    ],
    ids=["none", "several", "unknown", "scalar", "empty", "repeated"],
)
def test_sweep_rejects_bad_arguments(
    default: stalkrisk.RulePack, values: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        research.sweep(CASES, default, **values)


# --- plotting a sweep ----------------------------------------------------------------------


def test_plot_sweep_draws_one_stacked_bar_per_value(swept: pd.DataFrame) -> None:
    ax = research.plot_sweep(swept)

    assert isinstance(ax, Axes)
    assert len(ax.containers) == len(LADDER)  # one bar stack layer per level
    assert all(len(layer) == len(SPANS) for layer in ax.containers)
    assert [label.get_text() for label in ax.get_xticklabels()] == ["7", "14", "21"]


def test_plot_sweep_colours_the_levels_as_the_ladder(swept: pd.DataFrame) -> None:
    from matplotlib.colors import to_hex

    from stalkrisk._html import COLOURS

    ax = research.plot_sweep(swept)

    colours = [to_hex(layer.patches[0].get_facecolor()) for layer in ax.containers]  # type: ignore[attr-defined]
    assert colours == [COLOURS[stalkrisk.Level(code)] for code in LADDER]


def test_plot_sweep_draws_on_the_given_axes(swept: pd.DataFrame) -> None:
    given = Figure().add_subplot()

    assert research.plot_sweep(swept, ax=given) is given


def test_plot_sweep_labels_shares(default: stalkrisk.RulePack) -> None:
    shares = research.sweep([GIFT], default, normalize=True, pattern_min_span_days=[7, 14])

    assert research.plot_sweep(shares).get_ylabel() == "share of cases"


def test_plot_sweep_rejects_a_table_without_the_ladder_columns(swept: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="six ladder levels in order"):
        research.plot_sweep(swept[LADDER[::-1]])


# --- the optional extra --------------------------------------------------------------------


def test_import_stalkrisk_imports_neither_research_nor_pandas_nor_sklearn() -> None:
    code = (
        "import sys, stalkrisk\n"
        "print(sorted(m for m in ('stalkrisk.research', 'pandas', 'sklearn') if m in sys.modules))"
    )

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("hidden", ["pandas", "sklearn"])
def test_without_the_extra_the_import_error_says_what_to_install(hidden: str) -> None:
    code = (
        "import sys\n"
        f"sys.modules[{hidden!r}] = None\n"
        "try:\n"
        "    import stalkrisk.research\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert 'pip install "stalkrisk[research]"' in done.stdout

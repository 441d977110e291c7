"""stalkrisk.dask on a real two-process cluster: the rows of batch.summary, seeded sweeps, Parquet.

Dask is part of the dev extra, so these tests run in CI (no importorskip).
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import dask
import dask.bag
import dask.dataframe
import pandas
import pytest
from distributed import Client, LocalCluster
from pandas.testing import assert_frame_equal

import stalkrisk
from stalkrisk import batch, vignettes
from stalkrisk.dask import assess_summary, generate_and_assess, seeded_case, summary_meta

if TYPE_CHECKING:
    from dask.bag import Bag
    from dask.dataframe import DataFrame

ROOT = Path(__file__).resolve().parents[1]
# The example case is at +01:00, the others in UTC: summary() of them all has mixed offsets.
CASES = [
    stalkrisk.example_case().model_dump_json(),
    *(vignettes.load(name).case.model_dump_json() for name in vignettes.names()),
    *(json.dumps(seeded_case(11, number)) for number in range(24)),
]


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    # Workers without distributed's MALLOC_TRIM_THRESHOLD_=65536: a third faster (docs/dask.md).
    trim = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
    with (
        dask.config.set({trim: None}),
        LocalCluster(  # type: ignore[no-untyped-call]  # untyped
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        Client(cluster) as connected,  # type: ignore[no-untyped-call]  # untyped
    ):
        yield connected


# Dask and distributed leave these untyped: each is called through one typed helper.
def bag(items: list[str], partitions: int) -> Bag:
    made: Bag = dask.bag.from_sequence(items, npartitions=partitions)  # type: ignore[no-untyped-call]  # untyped
    return made


def frame(table: pandas.DataFrame, partitions: int) -> DataFrame:
    made: DataFrame = dask.dataframe.from_pandas(table, npartitions=partitions)  # type: ignore[no-untyped-call]  # untyped
    return made


def computed(rows: DataFrame) -> pandas.DataFrame:
    result: pandas.DataFrame = rows.compute()  # type: ignore[no-untyped-call]  # untyped
    return result


def expected_rows(
    cases: list[str], rule_pack: stalkrisk.RulePack | None = None
) -> pandas.DataFrame:
    """batch.summary of the cases assessed here, one by one, in summary_meta's dtypes."""
    rows = batch.summary([stalkrisk.assess(c, rule_pack=rule_pack) for c in cases])
    return rows.astype(summary_meta().dtypes.to_dict())


def in_order(rows: pandas.DataFrame) -> pandas.DataFrame:
    return rows.sort_index(kind="stable").reset_index(drop=True)


def test_import_stalkrisk_does_not_import_dask() -> None:
    code = "import sys, stalkrisk; print(sorted(m for m in sys.modules if m.startswith('dask')))"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert shown.stdout.strip() == "[]"


def test_without_dask_the_import_error_says_how_to_install() -> None:
    code = "import sys; sys.modules['dask'] = None; import stalkrisk.dask"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    assert run.returncode == 1
    assert "ImportError: stalkrisk.dask needs Dask" in run.stderr
    assert 'pip install "stalkrisk[dask]"' in run.stderr


def test_a_rule_pack_pickles_whole() -> None:
    pack = stalkrisk.load_rule_pack(ROOT / "rules" / "sai.yaml")

    copy = pickle.loads(pickle.dumps(pack))

    assert copy == pack
    assert copy.rules == pack.rules


def test_summary_meta_has_the_columns_of_batch_summary() -> None:
    rows = batch.summary([stalkrisk.assess(stalkrisk.example_case())])

    assert list(summary_meta().columns) == list(rows.columns)
    assert str(summary_meta()["assessed_at"].dtype) == "datetime64[us, UTC]"


def test_a_bag_of_case_json_gives_the_rows_of_batch_summary(client: Client) -> None:
    cases = bag(CASES, 4)

    rows = computed(assess_summary(cases))

    assert rows.dtypes.to_dict() == summary_meta().dtypes.to_dict()
    assert_frame_equal(rows.reset_index(drop=True), expected_rows(CASES))


def test_a_dataframe_column_gives_the_rows_of_batch_summary_on_its_index(
    client: Client,
) -> None:
    table = pandas.DataFrame({"json": CASES}, index=pandas.RangeIndex(100, 100 + len(CASES)))
    cases = frame(table, 3)

    rows = computed(assess_summary(cases, column="json"))

    assert list(rows.index) == list(table.index)
    assert_frame_equal(in_order(rows), expected_rows(CASES))


def test_empty_partitions_have_the_declared_columns_and_dtypes(client: Client) -> None:
    cases = frame(pandas.DataFrame({"case": CASES, "n": range(len(CASES))}), 4)

    rows = computed(assess_summary(cases[cases["n"] < 3]))  # the last three partitions empty

    assert rows.dtypes.to_dict() == summary_meta().dtypes.to_dict()
    assert_frame_equal(rows, expected_rows(CASES[:3]))


def test_a_custom_rule_pack_travels_to_the_workers(client: Client) -> None:
    sai = stalkrisk.load_rule_pack(ROOT / "rules" / "sai.yaml")
    cases = bag(CASES, 2)

    rows = computed(assess_summary(cases, rule_pack=sai))

    assert set(rows["rule_pack_sha256"]) == {sai.sha256}
    assert_frame_equal(rows.reset_index(drop=True), expected_rows(CASES, sai))


def test_an_invalid_case_fails_the_computation_with_its_validation_error(
    client: Client,
) -> None:
    bad = json.dumps({"assessed_at": "2025-01-01T00:00:00Z", "client": {"relationship": "x"}})
    cases = bag([CASES[0], bad], 1)

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        computed(assess_summary(cases))

    assert caught.value.problems[0].loc == "client.relationship"


def test_generated_rows_are_batch_summary_of_the_seeded_cases(client: Client) -> None:
    rows = computed(generate_and_assess(30, seed=3, partitions=4))

    assert list(rows.index) == list(range(30))
    cases = [json.dumps(seeded_case(3, number)) for number in range(30)]
    assert_frame_equal(rows.reset_index(drop=True), expected_rows(cases))


def test_the_same_seed_gives_the_same_rows_for_any_partitions(client: Client) -> None:
    first = computed(generate_and_assess(30, seed=5, partitions=3))
    again = computed(generate_and_assess(30, seed=5, partitions=7))
    other = computed(generate_and_assess(30, seed=6, partitions=3))

    assert_frame_equal(again, first)
    assert not first.equals(other)


def test_seeded_cases_vary_as_documented() -> None:
    cases = [seeded_case(0, number) for number in range(200)]

    contacts = [len(c["contacts"]) for c in cases]
    assert min(contacts) == 1
    assert max(contacts) <= 30
    assert {c["client"]["relationship"] for c in cases} == {"former", "current"}
    assert 0 < sum("fear" in c for c in cases) < len(cases)
    assert seeded_case(0, 7) == seeded_case(0, 7)


# dask 2026.8's read_parquet still calls reset_index and set_index with inplace=True,
# which pandas 3.1 deprecates.
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame:pandas.errors.Pandas4Warning")
def test_parquet_is_written_per_partition_and_reads_back_equal(
    client: Client, tmp_path: Path
) -> None:
    generate_and_assess(40, seed=9, partitions=4, path=tmp_path)

    files = sorted(p.name for p in tmp_path.glob("*.parquet"))
    assert files == [f"part.{i}.parquet" for i in range(4)]
    rows = computed(generate_and_assess(40, seed=9, partitions=4))
    assert_frame_equal(pandas.read_parquet(tmp_path), rows)
    assert_frame_equal(computed(dask.dataframe.read_parquet(tmp_path)), rows)


@pytest.mark.parametrize(
    ("n_cases", "partitions", "message"),
    [(0, 1, "n_cases=0"), (3, 4, "partitions=4"), (3, 0, "partitions=0")],
)
def test_sweep_arguments_are_checked(n_cases: int, partitions: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_and_assess(n_cases, seed=1, partitions=partitions)


def test_cases_of_another_type_are_refused() -> None:
    with pytest.raises(TypeError, match="dask Bag or a dask DataFrame"):
        assess_summary(CASES)  # type: ignore[arg-type]


def test_an_unknown_column_is_named() -> None:
    cases = frame(pandas.DataFrame({"json": CASES}), 1)

    with pytest.raises(ValueError, match="column='case'"):
        assess_summary(cases)

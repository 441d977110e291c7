"""Several rule packs in one process: side by side, and loaded twice without clashing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml
from builders import case, contact

import stalkrisk

ROOT = Path(__file__).resolve().parents[2]
TEN_DAYS = case(contact("a", 0, "following"), contact("b", 10, "surveillance"))


@pytest.fixture(scope="module")
def week_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    document = yaml.safe_load((ROOT / "rules" / "default.yaml").read_text(encoding="utf-8"))
    document["name"] = "one-week"
    document["parameters"]["pattern_min_span_days"]["value"] = 7
    path = tmp_path_factory.mktemp("packs") / "week.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_default_and_custom_pack_assess_side_by_side(week_pack: Path) -> None:
    custom = stalkrisk.load_rule_pack(week_pack)

    with_custom = stalkrisk.assess(TEN_DAYS, rule_pack=custom)
    with_default = stalkrisk.assess(TEN_DAYS)

    assert with_custom.threshold.met
    assert not with_default.threshold.met
    assert with_custom.rule_pack.name == "one-week"
    assert with_default.rule_pack.name == "stalkrisk-default"


def test_loading_the_same_pack_twice_reuses_it(week_pack: Path) -> None:
    first = stalkrisk.load_rule_pack(week_pack)
    second = stalkrisk.load_rule_pack(week_pack)

    assert second is first


def test_two_packs_interleaved_on_threads_give_each_packs_own_answer(week_pack: Path) -> None:
    custom = stalkrisk.load_rule_pack(week_pack)
    results: dict[tuple[str, int], bool] = {}

    def work(name: str, pack: stalkrisk.RulePack | None) -> None:
        for n in range(100):
            results[(name, n)] = stalkrisk.assess(TEN_DAYS, rule_pack=pack).threshold.met

    threads = [
        threading.Thread(target=work, args=("custom", custom)),
        threading.Thread(target=work, args=("default", None)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert all(met for (name, _), met in results.items() if name == "custom")
    assert not any(met for (name, _), met in results.items() if name == "default")


def test_a_rule_on_a_field_no_bundled_rule_reads_still_sees_it(tmp_path: Path) -> None:
    # Facts carry only the fields some rule tests; a custom rule adds its own.
    document = yaml.safe_load((ROOT / "rules" / "default.yaml").read_text(encoding="utf-8"))
    document["name"] = "gift-note"
    document["rules"].append(
        {
            "id": "note.gift",
            "title": "A gift was given",
            "fact": "grade",
            "when": {"all": [{"field": "gift_contacts", "gte": 1}]},
            "then": {"note": "Talk about the gift in the next session."},
            "rationale": "Gifts blur the frame.",
            "source": "[seed-000]",
        }
    )
    path = tmp_path / "gift.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    pack = stalkrisk.load_rule_pack(path)

    with_gift = stalkrisk.assess(case(contact("g", 0, "gift")), rule_pack=pack)
    without = stalkrisk.assess(case(contact("f", 0, "following")), rule_pack=pack)

    assert "note.gift" in [rule.id for rule in with_gift.rules_fired]
    assert next(r for r in with_gift.rules_fired if r.id == "note.gift").evidence == ("g",)
    assert "note.gift" not in [rule.id for rule in without.rules_fired]

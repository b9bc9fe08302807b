"""The model: standard 二级 rows of both frameworks, spans, amounts."""

from __future__ import annotations

from decimal import Decimal

from jixiao.frameworks import infer, with_standard_rows
from jixiao.model import format_amount

from .conftest import SAMPLES, sample_forms


def test_missing_standard_rows_are_added_in_their_place():
    tree = {"产出指标": {"质量指标": [1], "自定义指标": [2]}, "效益指标": {"社会效益 指标": [3]}}
    done = with_standard_rows(tree, 2015)
    assert list(done["产出指标"]) == ["数量指标", "质量指标", "时效指标", "成本指标", "自定义指标"]
    assert list(done["效益指标"]) == ["经济效益指标", "社会效益 指标", "生态效益指标", "可持续影响指标"]
    assert done["产出指标"]["数量指标"] == [] and done["产出指标"]["自定义指标"] == [2]


def test_the_2021_framework_has_cost_as_a_first_level():
    tree = {"产出指标": {"数量指标": [1]}, "成本指标": {"经济成本": [2]}}
    assert infer(tree) == 2021 and infer({"产出指标": {}}) == 2015
    done = with_standard_rows(tree, 2021)
    assert list(done["成本指标"]) == ["经济成本", "社会成本指标", "生态环境成本指标"]
    assert list(done["产出指标"]) == ["数量指标", "质量指标", "时效指标"]


def test_rows_and_spans_of_a_published_form():
    form = sample_forms(SAMPLES / "houjie-party-office-2026-department-approval.yaml")[0]
    rows = form.indicator_rows()
    assert len(rows) == 12 + 7 + 4 + 6
    assert (rows[0].level1, rows[0].level1_span, rows[0].level2, rows[0].level2_span) == ("产出指标", 12, "数量指标", 6)
    assert [r.level2 for r in rows if r.level1 == "效益指标" or (r.level2 and r.level2.endswith("效益"))] == [
        "经济效益", "社会效益", "生态效益"]
    assert rows[-1] == type(rows[-1])(None, 6, "生态环境成本指标", 1)


def test_empty_rows_can_be_switched_off():
    form = sample_forms(SAMPLES / "dongkeng-party-office-2024-project-targets.yaml")[0]
    written = {l1: {l2: items for l2, items in groups.items() if items} for l1, groups in form.indicators.items()}
    form = form.model_copy(update={"indicators": written})  # the empty 二级 left out
    assert "经济效益指标" in [r.level2 for r in form.indicator_rows()]
    plain = form.model_copy(update={"show_empty": False})
    assert "经济效益指标" not in [r.level2 for r in plain.indicator_rows()]


def test_amounts_print_as_the_forms_do():
    assert format_amount(Decimal("517200"), "元") == "517200"
    assert format_amount(Decimal("0"), "万元") == "0.00"
    assert format_amount(Decimal("137.3"), "万元") == "137.30"
    assert format_amount(Decimal("10.5"), "元") == "10.50"
    assert format_amount(None, "元") == ""

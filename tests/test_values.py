"""The indicator value parser the review rules share."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jixiao.values import parse


@pytest.mark.parametrize("text, operator, number, unit", [
    ("≥90%", "≥", "90", "%"),
    ("约862人次", "≈", "862", "人次"),
    ("≤10.5万/人", "≤", "10.5", "万/人"),
    ("大于等于1000元/人", "≥", "1000", "元/人"),
    (">80%", ">", "80", "%"),
    (">=90%", "≥", "90", "%"),
    ("90%以上", "≥", "90", "%"),
    ("100%", "=", "100", "%"),
    ("4", "=", "4", ""),
    ("一批", "=", "1", "批"),
    ("≥ 5 次", "≥", "5", "次"),
])
def test_quantitative_values(text, operator, number, unit):
    value = parse(text)
    assert (value.operator, value.number, value.unit) == (operator, Decimal(number), unit)
    assert value.quantitative and value.text == text


@pytest.mark.parametrize("text", ["有效提升", "无投诉或投诉全部落实", "是", "短期内可持续", "", "一次性完成全部培训任务"])
def test_qualitative_values(text):
    value = parse(text)
    assert not value.quantitative and value.operator is None and value.text == text


@pytest.mark.parametrize(("text", "operator", "number", "unit", "upper"), [
    ("每年1次", "=", "1", "次", None), ("年均4个班次", "=", "4", "个班次", None), ("约9天", "≈", "9", "天", None),
    ("年均1-2次", "区间", "1", "次", "2"), ("1-2次", "区间", "1", "次", "2"), ("1,172.47", "=", "1172.47", "", None),
])
def test_counts_per_period_ranges_and_grouped_numbers(text, operator, number, unit, upper):
    value = parse(text)
    assert (value.operator, value.number, value.unit) == (operator, Decimal(number), unit)
    assert value.upper == (Decimal(upper) if upper else None)

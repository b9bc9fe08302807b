"""The mechanical part of a finance office's review of target forms (完整性、相关性、适当性、可行性).

In: the forms of a loaded file. Out: :class:`Finding` objects, each with a rule id, a severity, a
Chinese message, the form, the field path and the source line. Every rule is a small generator
registered with :func:`rule`; ``RULES`` is the list the README documents. A form's ``检查`` settings
(or 公共's) switch rules off and set thresholds; the command line can add to them.

Severities: ``error`` (the form cannot be approved as written; ``jixiao render`` refuses it unless
``--force``) and ``warning`` (a reviewer would ask about it).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Callable, Iterable, Iterator

from . import frameworks, values
from .errors import InputError
from .frameworks import STANDARD, norm
from .loader import FormFile, LoadedForm
from .model import AnyForm, DepartmentForm, ProjectForm, in_yuan

ERROR, WARNING = "error", "warning"
SEVERITY_NAMES = {ERROR: "错误", WARNING: "警告"}
SOURCE_2015 = "财预〔2015〕88号（绩效指标分产出、效益、满意度；目标应完整、细化、量化）"
SOURCE_2021 = "财预〔2021〕101号（成本指标为一级；指标值应可衡量）"
SOURCE_EXECUTION = "财预〔2020〕10号附件与部门整体支出评价共性指标均含预算执行率"
SOURCE_BALANCE = "部门预算收支平衡：支出合计 = 收入来源合计"

# What an indicator measures is the noun its name ends with ("补贴发放次数", "党员满意度（%）"); a
# name that merely mentions one ("参与活动的人数达到设定要求") is a statement, and 效率 is no rate.
_TAIL = r"\s*(?:[（(][^）)]*[）)])?\s*$"
_RATE = re.compile(rf"((?<!效)率|满意度|比例|占比){_TAIL}")
_COUNT = re.compile(rf"(数量|人数|次数|场次|份数|个数|期数|轮次|人次|户数|天数){_TAIL}")
_AMOUNT = re.compile(rf"(金额|成本|费用|标准){_TAIL}")
_UNIT_IN_NAME = re.compile(r"[（(]([^）)]+)[）)]\s*$")
_BUDGET_EXECUTION = re.compile(r"预算.{0,3}执行")


@dataclass(frozen=True)
class Finding:
    """One problem found in one form."""

    rule: str
    severity: str
    message: str
    file: str
    form: int      # 1-based position in the file
    name: str      # project or department name
    field: str
    line: int | None

    def as_dict(self) -> dict:
        """The finding for ``--format json``."""
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    """A review rule: what it checks, how bad a breach is, and where the requirement comes from."""

    id: str
    severity: str
    title: str
    source: str
    check: Callable[["_Context"], Iterable[tuple[tuple, str]]]


RULES: dict[str, Rule] = {}


def rule(rule_id: str, severity: str, title: str, source: str):
    """Register a rule: a generator of (field path, message) for one form."""
    def register(check):
        RULES[rule_id] = Rule(rule_id, severity, title, source, check)
        return check
    return register


@dataclass
class _Context:
    form: AnyForm
    loaded: LoadedForm
    earlier: list[LoadedForm]
    floor: Decimal

    @property
    def framework(self) -> frameworks.Framework:
        return self.form.effective_framework

    def indicators(self) -> Iterator[tuple[tuple, str, str, object]]:
        """(path, 一级, 二级, indicator) of every 三级, in order."""
        for level1, groups in self.form.indicators.items():
            for level2, items in groups.items():
                for i, item in enumerate(items):
                    yield ("绩效指标", level1, level2, i), level1, level2, item


def check_file(form_file: FormFile, off: Iterable[str] = (), floor: Decimal | None = None,
               severities: tuple[str, ...] = (ERROR, WARNING)) -> list[Finding]:
    """Every finding of every valid form of a file, in form order then rule order."""
    findings = []
    for position, loaded in enumerate(form_file.forms):
        findings += check_form(loaded, form_file, off, floor, severities, form_file.forms[:position])
    return findings


def check_form(loaded: LoadedForm, form_file: FormFile, off: Iterable[str] = (), floor: Decimal | None = None,
               severities: tuple[str, ...] = (ERROR, WARNING),
               earlier: list[LoadedForm] | None = None) -> list[Finding]:
    """The findings of one form; ``earlier`` are the forms before it in the file (for duplicates)."""
    settings = loaded.form.checks
    disabled = _rule_ids(list(off), form_file, loaded, None) | _rule_ids(settings.off, form_file, loaded,
                                                                       ("检查", "关闭"))
    context = _Context(loaded.form, loaded, earlier or [], floor if floor is not None else settings.satisfaction_floor)
    findings = []
    for rule_id, current in RULES.items():
        if rule_id in disabled or current.severity not in severities:
            continue
        for path, message in current.check(context):
            findings.append(Finding(rule_id, current.severity, message, str(form_file.path), loaded.index,
                                    loaded.form.display_name, loaded.describe(path), loaded.line_of(path)))
    return findings


def _rule_ids(ids: list[str], form_file: FormFile, loaded: LoadedForm, path: tuple | None) -> set[str]:
    wanted = {i.strip().upper() for i in ids if i.strip()}
    unknown = sorted(wanted - set(RULES))
    if unknown:
        where = dict(file=form_file.path, line=loaded.line_of(path), field=loaded.describe(path)) if path else {}
        raise InputError.at(f"未知的检查规则「{'、'.join(unknown)}」，可选：{'、'.join(RULES)}", **where)
    return wanted


def _value_key(form: AnyForm) -> str:
    return "年度指标值" if isinstance(form, DepartmentForm) else "当年度指标值"


# ---- structure -------------------------------------------------------------------------------

@rule("S001", ERROR, "缺少一级指标", f"{SOURCE_2015}；{SOURCE_2021}")
def _missing_level1(ctx: _Context):
    present = {norm(name) for name in ctx.form.indicators}
    required = list(STANDARD[ctx.framework])
    for level1 in required:
        if norm(level1) not in present:
            yield ("绩效指标",), (f"缺少一级指标「{level1}」：{frameworks.DESCRIPTIONS[ctx.framework]}要求"
                                 f"{'、'.join(required)}")


@rule("S002", ERROR, "二级指标放错了一级指标", f"{SOURCE_2015}；{SOURCE_2021}")
def _wrong_parent(ctx: _Context):
    owner = {norm(level2): level1 for level1, names in STANDARD[ctx.framework].items() for level2 in names}
    for level1, groups in ctx.form.indicators.items():
        for level2 in groups:
            expected = owner.get(norm(level2))
            if expected and norm(expected) != norm(level1):
                yield ("绩效指标", level1, level2), (f"二级指标「{level2}」属于一级指标「{expected}」，"
                                                     f"不应放在「{level1}」下")


@rule("S003", WARNING, "二级指标没有三级指标", SOURCE_2015)
def _empty_level2(ctx: _Context):
    standard = {norm(name) for names in STANDARD[ctx.framework].values() for name in names}
    core = {"数量", "质量", "时效", "服务对象满意度"} | ({"成本"} if ctx.framework != 2021 else set())
    for level1, groups in ctx.form.indicators.items():
        for level2, items in groups.items():
            if not items and (norm(level2) in core or norm(level2) not in standard):
                yield ("绩效指标", level1, level2), f"二级指标「{level2}」下没有三级指标：请补充指标，或删去该二级指标"


@rule("S004", WARNING, "一级指标没有任何三级指标", SOURCE_2015)
def _empty_level1(ctx: _Context):
    for level1, groups in ctx.form.indicators.items():
        if groups and not any(groups.values()):
            yield ("绩效指标", level1), f"一级指标「{level1}」下没有任何三级指标"


@rule("S005", WARNING, "一级指标缺少标准二级指标行", SOURCE_2015)
def _missing_standard_rows(ctx: _Context):
    if ctx.form.show_empty:
        return  # the renderer adds them
    for level1, groups in ctx.form.indicators.items():
        present = {norm(name) for name in groups}
        for standard_level1, names in STANDARD[ctx.framework].items():
            missing = [n for n in names if norm(n) not in present]
            if norm(standard_level1) == norm(level1) and missing:
                yield ("绩效指标", level1), (f"一级指标「{level1}」缺少标准二级指标 {'、'.join(missing)}；"
                                            "发布的表样会打印这些空行（打印空二级指标: true）")


# ---- values ----------------------------------------------------------------------------------

@rule("V001", ERROR, "指标值为空", SOURCE_2015)
def _empty_value(ctx: _Context):
    key = _value_key(ctx.form)
    for path, _, _, item in ctx.indicators():
        if not item.annual_value:
            yield path + (key,), f"三级指标「{item.name}」没有{key}"
        if isinstance(ctx.form, ProjectForm) and not item.period_value:
            yield path + ("实施周期指标值",), f"三级指标「{item.name}」没有实施周期指标值"


@rule("V002", WARNING, "定量指标缺数值或单位", f"{SOURCE_2015}；{SOURCE_2021}")
def _quantity_without_unit(ctx: _Context):
    for path, _, _, item in ctx.indicators():
        kind = _quantity_kind(item.name)
        if kind is None:
            continue
        for key, text in _values_of(ctx.form, item):
            value = values.parse(text)
            if not value.quantitative:
                yield path + (key,), f"「{item.name}」是{kind}指标，指标值「{text}」没有数值（如 ≥90%）"
            elif not value.unit and not _UNIT_IN_NAME.search(item.name):
                yield path + (key,), f"「{item.name}」的指标值「{text}」没有单位（如 {_example_unit(kind)}）"


@rule("V003", WARNING, "满意度目标低于下限", "各地评审常用的满意度下限（默认 80%，可设）")
def _low_satisfaction(ctx: _Context):
    for path, level1, _, item in ctx.indicators():
        if norm(level1) != "满意度":
            continue
        for key, text in _values_of(ctx.form, item):
            value = values.parse(text)
            if value.unit == "%" and value.number is not None and (
                    value.number < ctx.floor or value.operator in ("≤", "<")):
                yield path + (key,), f"满意度目标「{text}」低于下限 {ctx.floor:g}%"


@rule("V004", WARNING, "缺少预算执行率指标", SOURCE_EXECUTION)
def _no_budget_execution(ctx: _Context):
    if not any(_BUDGET_EXECUTION.search(item.name) for *_, item in ctx.indicators()):
        yield ("绩效指标",), "没有预算执行率指标：建议在产出指标（成本或时效）下加「预算执行率」"


@rule("V005", WARNING, "实施周期指标值弱于当年度指标值", "年度目标是实施周期目标的一部分（财预〔2015〕88号）")
def _period_weaker(ctx: _Context):
    for path, _, _, item in ctx.indicators():
        period, annual = values.parse(item.period_value), values.parse(item.annual_value)
        comparable = (period.quantitative and annual.quantitative and period.unit == annual.unit
                      and period.operator in ("≥", ">", "=", "≈") and annual.operator in ("≥", ">", "=", "≈"))
        if comparable and period.number < annual.number:
            yield path + ("实施周期指标值",), (f"「{item.name}」实施周期指标值「{item.period_value}」"
                                             f"小于当年度指标值「{item.annual_value}」")


@rule("V006", WARNING, "应使用 ≥ ≤ 符号", "表样印 ≥、≤")
def _ascii_operator(ctx: _Context):
    for path, _, _, item in ctx.indicators():
        for key, text in _values_of(ctx.form, item):
            for ascii_op, sign in values.ASCII_OPERATORS.items():
                if ascii_op in text:
                    yield path + (key,), f"「{text}」中的 {ascii_op} 应写作 {sign}：「{text.replace(ascii_op, sign)}」"
                    break


def _values_of(form: AnyForm, item) -> list[tuple[str, str]]:
    """The indicator's non-empty values; the period value only when it differs (one finding, not two)."""
    pairs = [(_value_key(form), item.annual_value)]
    if item.period_value != item.annual_value:
        pairs.append(("实施周期指标值", item.period_value))
    return [(key, text) for key, text in pairs if text]


def _quantity_kind(name: str) -> str | None:
    for pattern, kind in ((_RATE, "比率"), (_COUNT, "数量"), (_AMOUNT, "金额")):
        match = pattern.search(name)
        if match:
            return "满意度" if match.group(1) == "满意度" else kind
    return None


def _example_unit(kind: str) -> str:
    return {"比率": "%", "满意度": "%", "数量": "次、人、个", "金额": "元、万元"}[kind]


# ---- consistency -----------------------------------------------------------------------------

@rule("C001", WARNING, "三级指标重复", "指标应相互独立（相关性、适当性）")
def _duplicate_indicator(ctx: _Context):
    seen = Counter()
    for path, _, _, item in ctx.indicators():
        seen[norm(item.name)] += 1
        if seen[norm(item.name)] == 2:
            yield path + ("三级指标",), f"三级指标「{item.name}」在本表中出现了不止一次"


@rule("C002", WARNING, "同一文件中项目重复", "预算公开：每个项目公开一张表")
def _duplicate_form(ctx: _Context):
    for other in ctx.earlier:
        if other.form.display_name == ctx.form.display_name:
            same = other.form == ctx.form
            yield (), (f"与表单第{other.index}项{'完全相同，是重复的表' if same else '名称相同'}："
                       f"「{ctx.form.display_name}」")
            return


@rule("C003", ERROR, "预算年度不在实施周期内", "年度目标是实施周期目标的一部分（财预〔2015〕88号）")
def _year_outside_period(ctx: _Context):
    if isinstance(ctx.form, ProjectForm):
        period = ctx.form.period
        if not period.start <= ctx.form.year <= period.end:
            yield ("预算年度",), f"预算年度 {ctx.form.year} 不在实施周期 {period.start}—{period.end} 内"


@rule("C004", ERROR, "部门预算收支不平衡", SOURCE_BALANCE)
def _budget_arithmetic(ctx: _Context):
    if not isinstance(ctx.form, DepartmentForm):
        return
    b = ctx.form.budget
    if None in (b.basic, b.project, b.appropriation, b.other_funds):
        return
    spending, income = b.basic + b.project, b.appropriation + b.other_funds
    tolerance = Decimal("0.02") if ctx.form.budget_unit == "万元" else Decimal(1)
    if abs(spending - income) > tolerance:
        yield ("预算整体情况",), (f"基本支出 + 项目支出 = {spending}，财政拨款 + 其他资金 = {income}，"
                                 "两者应相等（部门预算支出）")


@rule("C005", WARNING, "重点工作任务资金超过项目支出", "重点工作任务的资金由项目支出安排")
def _tasks_over_budget(ctx: _Context):
    if not isinstance(ctx.form, DepartmentForm) or ctx.form.budget.project is None:
        return
    form = ctx.form
    total = sum((task.funds for task in form.key_tasks if task.funds is not None), Decimal(0))
    if in_yuan(total, form.task_unit) > in_yuan(form.budget.project, form.budget_unit):
        yield ("年度重点工作任务",), (f"年度重点工作任务拟投入资金合计 {total}{form.task_unit}，"
                                     f"超过项目支出 {form.budget.project}{form.budget_unit}")


@rule("C006", WARNING, "金额单位可能错了", "元与万元相差一万倍")
def _unit_factor(ctx: _Context):
    for path, amount, unit in _amounts(ctx.form):
        tasks = path[0] in ("年度重点工作任务", "其他需完成的任务")
        setting = "任务金额单位" if tasks and ctx.form.task_amount_unit else "金额单位"
        if unit == "元" and 0 < amount < 1000:
            yield path, f"金额 {amount} 元偏小：是否应以万元为单位（{setting}: 万元）？"
        elif unit == "万元" and amount >= 100000:
            yield path, f"金额 {amount} 万元（{amount / 10000:g} 亿元）偏大：是否应以元为单位（{setting}: 元）？"


def _amounts(form: AnyForm) -> Iterator[tuple[tuple, Decimal, str]]:
    """(path, amount, unit) of every amount of a form, each in its block's unit."""
    if isinstance(form, ProjectForm):
        yield ("预算金额",), form.amount, form.amount_unit
        return
    for name, field in type(form.budget).model_fields.items():
        amount = getattr(form.budget, name)
        if amount is not None:
            yield ("预算整体情况", field.alias), amount, form.budget_unit
    for i, task in enumerate(form.key_tasks):
        if task.funds is not None:
            yield ("年度重点工作任务", i, "拟投入的资金"), task.funds, form.task_unit
    others = form.other_tasks if isinstance(form.other_tasks, list) else []  # a table in the city layout
    for i, task in enumerate(others):
        if task.funds is not None:
            yield ("其他需完成的任务", i, "拟投入的资金"), task.funds, form.task_unit

"""The input model: one class per layout, validated, with the indicator spans computed once.

Keys are the Chinese words the forms print (aliases); attributes are English for the Python API. A
form is one of four layouts, chosen by ``表样``:

========================  ===============================  ==========================
``表样``                  class                            published example
========================  ===============================  ==========================
项目绩效目标表            :class:`ProjectForm`             Dongkeng 2024
项目支出绩效目标批复表    :class:`ProjectApprovalForm`     Wangniudun 2024
部门整体支出绩效目标表    :class:`DepartmentForm`          (Houjie without approval)
部门整体支出绩效目标批复表  :class:`DepartmentApprovalForm`  Houjie 2026
========================  ===============================  ==========================

Text is kept as typed (stripped); amounts are :class:`~decimal.Decimal`. Nothing here knows about
files, templates or output formats.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, ClassVar, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from . import frameworks

# Characters XML 1.0 cannot hold; DOCX and XLSX are XML, so such text could not be written.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


_P_BLOCK = r"\s*<p>((?:(?!</?p>).)*)</p>\s*"  # a <p> block with no <p> inside
_P_BLOCKS = re.compile(_P_BLOCK, re.S | re.I)
_ALL_P_BLOCKS = re.compile(f"(?:{_P_BLOCK})+", re.S | re.I)


def paragraphs(text: str) -> list[str]:
    """Split cell text into paragraphs: ``<p>…</p>`` blocks of the source systems, or lines.

    Only a text made wholly of ``<p>`` blocks is read as paragraphs (their entities decoded); any other
    markup stays as the characters typed.
    """
    if _ALL_P_BLOCKS.fullmatch(text):
        return [html.unescape(block).strip() for block in _P_BLOCKS.findall(text)]
    lines = [line.strip() for line in text.splitlines()]
    return [line for line in lines if line] or [""]


def _clean(text: str) -> str:
    bad = _XML_ILLEGAL.search(text)
    if bad:
        raise ValueError(f"含有 Word/Excel 无法保存的控制字符 U+{ord(bad.group()):04X}，请删除该字符")
    # Kept as its printed paragraphs, one a line: "<p>a</p><p>b</p>" and "a\nb" are the same form.
    return "\n".join(paragraphs(text.strip()))


Text = Annotated[str, AfterValidator(_clean)]
Year = Annotated[int, Field(ge=1900, le=9999)]
MAX_AMOUNT = Decimal(10) ** 15  # 千万亿: above any budget, and small enough to print in a cell at once


def _bounded(value: Decimal) -> Decimal:
    if value.copy_abs() >= MAX_AMOUNT:  # copy_abs: no context, so 1e999999999 cannot overflow
        raise ValueError("金额超出上限（应小于 10 的 15 次方，即一千万亿）：请检查是否多写了数字或指数")
    return value


Amount = Annotated[Decimal, Field(allow_inf_nan=False), AfterValidator(_bounded)]
AmountUnit = Literal["元", "万元", ""]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, coerce_numbers_to_str=True)


class Period(_Model):
    """实施周期: the first and last budget year of a project."""

    start: Year = Field(alias="起始年度")
    end: Year = Field(alias="到期年度", description="2099 表示长期项目")

    @model_validator(mode="after")
    def _ordered(self) -> "Period":
        if self.start > self.end:
            raise ValueError(f"起始年度（{self.start}）晚于到期年度（{self.end}），请检查年份")
        return self


class Goals(_Model):
    """总体绩效目标 of a project: the goal for the whole period and for the budget year."""

    overall: Text = Field(alias="实施周期总目标")
    annual: Text = Field(alias="年度目标")


class ProjectIndicator(_Model):
    """A 三级指标 of a project form, with its two target values."""

    name: Text = Field(alias="三级指标")
    period_value: Text = Field("", alias="实施周期指标值")
    annual_value: Text = Field("", alias="当年度指标值")


class DepartmentIndicator(_Model):
    """A 三级指标 of a department form; most give only the annual value."""

    name: Text = Field(alias="三级指标")
    period_value: Text = Field("", alias="实施周期指标值")
    annual_value: Text = Field("", alias="年度指标值")


def _check_tree(tree: dict[str, dict[str, list]]) -> dict[str, dict[str, list]]:
    if not tree:
        raise ValueError("绩效指标为空：至少需要一个一级指标（如 产出指标），其下写二级指标和三级指标")
    for level1, groups in tree.items():
        if not groups:
            raise ValueError(f"一级指标「{level1}」下没有二级指标：请写出其二级指标（可以没有三级指标，写成 []）")
    return tree


ProjectTree = Annotated[dict[Text, dict[Text, list[ProjectIndicator]]], AfterValidator(_check_tree)]
DepartmentTree = Annotated[dict[Text, dict[Text, list[DepartmentIndicator]]],
                           AfterValidator(_check_tree)]


class Approval(_Model):
    """The finance office's approval (批复) row at the end of an approval form."""

    heading: Text = Field("财政部门批复意见", alias="栏目", description="批复意见栏的名称")
    opinion: Text = Field(alias="意见", description="批复意见正文；<p>…</p> 段落按段落打印")
    one_cell: bool = Field(False, alias="合并为一格",
                           description="栏目与意见写在同一格，以“：”相连（部分镇的表样）")


class DepartmentApproval(Approval):
    """Approval of a department form: also names the approving office under the title."""

    office: Text = Field(alias="批复单位", description="打印在标题下：批复单位：……")


class Budget(_Model):
    """预算整体情况 of a department form, in the form's 金额单位; a blank amount prints blank."""

    basic: Amount | None = Field(None, alias="基本支出")
    project: Amount | None = Field(None, alias="项目支出")
    appropriation: Amount | None = Field(None, alias="财政拨款")
    other_funds: Amount | None = Field(None, alias="其他资金")
    special_funds: Amount | None = Field(None, alias="财政专项资金")
    other_development: Amount | None = Field(None, alias="其他事业发展性支出")
    own_level: Amount | None = Field(None, alias="市本级使用资金")
    transfers: Amount | None = Field(None, alias="拟用于对下转移支付资金")


class KeyTask(_Model):
    """A row of 年度重点工作任务."""

    name: Text = Field(alias="名称")
    content: Text = Field("", alias="主要实施内容")
    funds: Amount | None = Field(None, alias="拟投入的资金")
    target: Text = Field("", alias="期望达到的目标")


class CheckSettings(_Model):
    """检查: how ``jixiao check`` reviews this form (or, under 公共, every form of the file)."""

    off: list[str] = Field(default_factory=list, alias="关闭", description="不做的检查规则编号，如 [V004]")
    satisfaction_floor: Decimal = Field(Decimal(80), ge=0, le=100, alias="满意度下限",
                                        description="满意度指标值的下限（百分数），默认 80")


@dataclass(frozen=True)
class IndicatorRow:
    """One printed row of the indicator table; a group name is set only on the row that starts it."""

    level1: str | None
    level1_span: int
    level2: str | None
    level2_span: int
    name: str = ""
    period_value: str = ""
    annual_value: str = ""


class _FormBase(_Model):
    title: Text | None = Field(None, alias="标题", description="表头标题；不写时用表样的标准标题")
    year_line: Text | None = Field(None, alias="年度行", description="标题下的年度行，如 (2026年度)")
    year: Year = Field(alias="预算年度")
    framework: frameworks.Framework | None = Field(
        None, alias="指标体系", description="2015（成本指标为产出的二级）或 2021（成本指标为一级）；不写时自动判断")
    show_empty: bool = Field(True, alias="打印空二级指标",
                             description="是否补齐并打印没有三级指标的标准二级指标行（发布的表样都打印）")
    checks: CheckSettings = Field(default_factory=CheckSettings, alias="检查",
                                  description="jixiao check 的设置：关闭的规则、满意度下限")

    DEFAULT_TITLE: ClassVar[str] = ""

    @property
    def heading(self) -> str:
        """The title printed above the table."""
        return self.title or self.DEFAULT_TITLE

    @property
    def display_name(self) -> str:
        """The name this form is known by (project or department name)."""
        raise NotImplementedError

    def indicator_rows(self) -> list[IndicatorRow]:
        """The indicator table's rows, standard empty 二级 included, with the spans of each group."""
        tree = self.indicators  # type: ignore[attr-defined]
        if self.show_empty:
            tree = frameworks.with_standard_rows(tree, self.framework or frameworks.infer(tree))
        rows: list[IndicatorRow] = []
        for level1, groups in tree.items():
            level1_span = sum(max(1, len(items)) for items in groups.values())
            for g, (level2, items) in enumerate(groups.items()):
                rows.extend(_group_rows(level1 if g == 0 else None, level1_span, level2, items))
        return rows


def _group_rows(level1: str | None, level1_span: int, level2: str, items: list) -> list[IndicatorRow]:
    span = max(1, len(items))
    if not items:
        return [IndicatorRow(level1, level1_span, level2, 1)]
    return [IndicatorRow(level1 if i == 0 else None, level1_span, level2 if i == 0 else None, span,
                         item.name, item.period_value, item.annual_value)
            for i, item in enumerate(items)]


class ProjectForm(_FormBase):
    """项目绩效目标表."""

    layout: Literal["项目绩效目标表"] = Field(alias="表样")
    name: Text = Field(alias="项目名称")
    project_type: Text = Field(alias="项目类型")
    grade: Text = Field(alias="项目等级")
    department: Text = Field(alias="主管部门")
    unit: Text = Field(alias="用款单位")
    period: Period = Field(alias="实施周期")
    amount: Amount = Field(alias="预算金额")
    amount_unit: AmountUnit = Field("元", alias="金额单位", description="元、万元，或空（标签不写单位）")
    goals: Goals = Field(alias="总体绩效目标")
    indicators: ProjectTree = Field(alias="绩效指标", description="一级指标 → 二级指标 → 三级指标列表")

    DEFAULT_TITLE: ClassVar[str] = "项目绩效目标表"

    @property
    def display_name(self) -> str:
        return self.name


class ProjectApprovalForm(ProjectForm):
    """项目支出绩效目标批复表: the project form with the finance office's opinion as its last row."""

    layout: Literal["项目支出绩效目标批复表"] = Field(alias="表样")  # type: ignore[assignment]
    approval: Approval = Field(alias="批复")

    DEFAULT_TITLE: ClassVar[str] = "项目支出绩效目标批复表"


class DepartmentForm(_FormBase):
    """部门（单位）整体支出绩效目标表."""

    layout: Literal["部门整体支出绩效目标表"] = Field(alias="表样")
    name: Text = Field(alias="部门名称")
    staff: int | None = Field(None, ge=0, alias="财政供养人员数")
    subunits: int | None = Field(None, ge=0, alias="下属二级单位数")
    amount_unit: AmountUnit = Field("万元", alias="金额单位", description="元、万元，或空（标签不写单位）")
    budget: Budget = Field(default_factory=Budget, alias="预算整体情况")
    goal: Text = Field(alias="总体绩效目标", description="可写多段；<p>…</p> 段落按段落打印")
    key_tasks: list[KeyTask] = Field(default_factory=list, alias="年度重点工作任务")
    other_tasks: Text = Field("", alias="其他需完成的任务")
    indicators: DepartmentTree = Field(alias="绩效指标", description="一级指标 → 二级指标 → 三级指标列表")

    DEFAULT_TITLE: ClassVar[str] = "部门（单位）整体支出绩效目标表"

    @property
    def display_name(self) -> str:
        return self.name

    @property
    def year_heading(self) -> str:
        """The year line under the title, as the published form prints it."""
        return self.year_line or f"({self.year}年度)"


class DepartmentApprovalForm(DepartmentForm):
    """部门（单位）整体支出绩效目标批复表: adds the approving office and its opinion."""

    layout: Literal["部门整体支出绩效目标批复表"] = Field(alias="表样")  # type: ignore[assignment]
    approval: DepartmentApproval = Field(alias="批复")

    DEFAULT_TITLE: ClassVar[str] = "部门（单位）整体支出绩效目标批复表"


Form = Annotated[Union[ProjectForm, ProjectApprovalForm, DepartmentForm, DepartmentApprovalForm],
                 Field(discriminator="layout")]
FORM_CLASSES: dict[str, type[_FormBase]] = {
    "项目绩效目标表": ProjectForm,
    "项目支出绩效目标批复表": ProjectApprovalForm,
    "部门整体支出绩效目标表": DepartmentForm,
    "部门整体支出绩效目标批复表": DepartmentApprovalForm,
}
AnyForm = ProjectForm | ProjectApprovalForm | DepartmentForm | DepartmentApprovalForm


def format_amount(value: Decimal | None, unit: str) -> str:
    """An amount as the forms print it: 万元 with two decimals, 元 as a whole number when it is one."""
    if value is None:
        return ""
    if unit == "万元" or value != value.to_integral_value():
        return f"{value:.2f}"
    return f"{value:.0f}"


def unit_suffix(unit: str) -> str:
    """The label suffix for an amount unit: （元）, （万元）, or nothing."""
    return f"（{unit}）" if unit else ""

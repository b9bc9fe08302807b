"""The input model: one class per layout, validated, with the indicator spans computed once.

Keys are the Chinese words the forms print (aliases); attributes are English for the Python API. A
form is one of five layouts, chosen by ``表样``:

========================  ===============================  ==========================
``表样``                  class                            published example
========================  ===============================  ==========================
项目绩效目标表            :class:`ProjectForm`             Dongkeng 2024
项目支出绩效目标批复表    :class:`ProjectApprovalForm`     Wangniudun 2024
部门整体支出绩效目标表    :class:`DepartmentForm`          (Houjie without approval)
部门整体支出绩效目标批复表  :class:`DepartmentApprovalForm`  Houjie 2026
东莞市部门整体预算绩效目标表  :class:`CityDepartmentForm`      Dongguan city departments
========================  ===============================  ==========================

Text is kept as typed (stripped); amounts are :class:`~decimal.Decimal`. Nothing here knows about
files, templates or output formats.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

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
# An amount as typed or copied from Excel: 517200, 137.34, "1,172.47", "998,550.00". Commas must group
# thousands; anything else ("1,17,2", "12万", "约5000") is left to the Decimal parser, which refuses it.
AMOUNT_PATTERN = r"^\s*[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?\s*$"
_GROUPED = re.compile(r"\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\s*")


def parse_amount(value: object) -> object:
    """Drop thousands separators from an amount written as text; any other value is passed on as is."""
    if isinstance(value, str) and _GROUPED.fullmatch(value):
        return value.replace(",", "").strip()
    return value


Amount = Annotated[Decimal, BeforeValidator(parse_amount), Field(allow_inf_nan=False),
                   WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": AMOUNT_PATTERN}],
                                   "description": "金额：数字，或带千分位逗号的文本（如 \"1,172.47\"），不写单位"})]
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
        None, alias="指标体系", description="2015（成本指标为产出的二级）、2021（成本指标为一级）或 2015市直"
        "（服务对象满意度指标为效益指标的二级，无满意度指标一级）；不写时自动判断")
    show_empty: bool = Field(True, alias="打印空二级指标",
                             description="是否补齐并打印没有三级指标的标准二级指标行（发布的表样都打印）")
    checks: CheckSettings = Field(default_factory=CheckSettings, alias="检查",
                                  description="jixiao check 的设置：关闭的规则、满意度下限")

    extra: dict[str, Any] = Field(default_factory=dict, alias="附加",
                                  description="模板可用的附加数据（form.extra），表样自带模板不使用")

    DEFAULT_TITLE: ClassVar[str] = ""
    DEFAULT_FRAMEWORK: ClassVar[frameworks.Framework] = 2015
    TEMPLATE: ClassVar[str] = "project.html.j2"

    @property
    def effective_framework(self) -> frameworks.Framework:
        """The framework of the indicator tree: 指标体系 as written, else inferred from the tree."""
        return self.framework or frameworks.infer(self.indicators, self.DEFAULT_FRAMEWORK)  # type: ignore[attr-defined]

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
            tree = frameworks.with_standard_rows(tree, self.effective_framework)
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
    amount_unit: AmountUnit = Field("万元", alias="金额单位",
                                    description="预算整体情况的金额单位，也是其他金额栏的默认单位：元、万元，或空（标签不写单位）")
    task_amount_unit: AmountUnit | None = Field(
        None, alias="任务金额单位",
        description="年度重点工作任务（及其他需完成的任务）拟投入资金的单位；不写时同 金额单位")
    budget: Budget = Field(default_factory=Budget, alias="预算整体情况")
    goal: Text = Field(alias="总体绩效目标", description="可写多段；<p>…</p> 段落按段落打印")
    key_tasks: list[KeyTask] = Field(default_factory=list, alias="年度重点工作任务")
    other_tasks: Text = Field("", alias="其他需完成的任务")
    indicators: DepartmentTree = Field(alias="绩效指标", description="一级指标 → 二级指标 → 三级指标列表")

    DEFAULT_TITLE: ClassVar[str] = "部门（单位）整体支出绩效目标表"
    TEMPLATE: ClassVar[str] = "department.html.j2"

    @property
    def display_name(self) -> str:
        return self.name

    @property
    def year_heading(self) -> str:
        """The year line under the title, as the published form prints it."""
        return self.year_line or f"({self.year}年度)"

    @property
    def budget_unit(self) -> str:
        """The unit of the 预算整体情况 amounts."""
        return self.amount_unit

    @property
    def task_unit(self) -> str:
        """The unit of the task funds (拟投入的资金): 任务金额单位, else 金额单位."""
        return self.amount_unit if self.task_amount_unit is None else self.task_amount_unit


class DepartmentApprovalForm(DepartmentForm):
    """部门（单位）整体支出绩效目标批复表: adds the approving office and its opinion."""

    layout: Literal["部门整体支出绩效目标批复表"] = Field(alias="表样")  # type: ignore[assignment]
    approval: DepartmentApproval = Field(alias="批复")

    DEFAULT_TITLE: ClassVar[str] = "部门（单位）整体支出绩效目标批复表"


class OtherTask(_Model):
    """A row of 其他需完成的任务 in the city layout."""

    name: Text = Field(alias="名称")
    content: Text = Field("", alias="目标内容")
    funds: Amount | None = Field(None, alias="拟投入的资金")


class CityDepartmentForm(DepartmentForm):
    """东莞市部门整体预算绩效目标表: the city departments' form.

    The department form's blocks with task funds in 元 (the budget in 万元), 其他需完成的任务 as a table of
    its own, the 三级指标 printed in two columns, and the city variant of the 2015 indicator tree.
    """

    layout: Literal["东莞市部门整体预算绩效目标表"] = Field(alias="表样")  # type: ignore[assignment]
    task_amount_unit: AmountUnit | None = Field(  # type: ignore[assignment]
        "元", alias="任务金额单位", description="年度重点工作任务、其他需完成的任务拟投入资金的单位（本表样默认 元）")
    other_tasks: list[OtherTask] = Field(  # type: ignore[assignment]
        default_factory=list, alias="其他需完成的任务",
        description="其他需完成的任务（可选填）：名称、目标内容、拟投入的资金")

    DEFAULT_TITLE: ClassVar[str] = "东莞市部门整体预算绩效目标表"
    DEFAULT_FRAMEWORK: ClassVar[frameworks.Framework] = frameworks.CITY
    TEMPLATE: ClassVar[str] = "city-department.html.j2"

    @property
    def year_heading(self) -> str:
        """The year line under the title: (2023年)."""
        return self.year_line or f"({self.year}年)"


Form = Annotated[Union[ProjectForm, ProjectApprovalForm, DepartmentForm, DepartmentApprovalForm,
                       CityDepartmentForm], Field(discriminator="layout")]
FORM_CLASSES: dict[str, type[_FormBase]] = {
    "项目绩效目标表": ProjectForm,
    "项目支出绩效目标批复表": ProjectApprovalForm,
    "部门整体支出绩效目标表": DepartmentForm,
    "部门整体支出绩效目标批复表": DepartmentApprovalForm,
    "东莞市部门整体预算绩效目标表": CityDepartmentForm,
}
AnyForm = ProjectForm | ProjectApprovalForm | DepartmentForm | DepartmentApprovalForm | CityDepartmentForm


def format_amount(value: Decimal | None, unit: str, grouping: bool = False, decimals: int | None = None) -> str:
    """An amount as a layout prints it (the ``amount`` filter).

    By default as the town forms print it: 万元 with two decimals, 元 as a whole number when it is one
    (517200, 10.50). ``decimals`` fixes the number of decimals whatever the unit; ``grouping`` puts a
    comma between thousands (998,550.00), as the city form prints its task funds.
    """
    if value is None:
        return ""
    if decimals is None:
        decimals = 2 if unit == "万元" or value != value.to_integral_value() else 0
    return f"{value:{',' if grouping else ''}.{decimals}f}"


def unit_suffix(unit: str, brackets: str = "（）") -> str:
    """The label suffix for an amount unit (the ``unit_suffix`` filter): （元）, （万元）, or nothing.

    ``brackets`` gives the opening and closing bracket: ``"()"`` prints the ASCII (元) of the city form.
    """
    if not unit:
        return ""
    if len(brackets) != 2:
        raise ValueError(f"unit_suffix 的括号应为两个字符（如 \"()\"），收到 {brackets!r}")
    return f"{brackets[0]}{unit}{brackets[1]}"


def in_yuan(value: Decimal, unit: str) -> Decimal:
    """An amount in 元 (a 万元 amount times 10000); an amount without unit is taken as written."""
    return value * 10000 if unit == "万元" else value

"""Find the forms in rows of cells, by their printed labels, and read them into input data.

In: :class:`~jixiao.importer.sources.Row` objects. Out: one dict per form, in the input schema's Chinese
keys, and a warning for every non-empty cell that could not be placed. Labels are found by their text,
not by position, so hand-made files with other column widths, blank rows, a differently worded title,
or several forms one after another work. Extracted text, whose cells may be shifted by a column, is read
by the same rules: a cell's place in the indicator table comes from the header row's columns, and a
value past the last column is still a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ..frameworks import STANDARD, norm
from ..model import FORM_CLASSES
from .sources import Cell, Row

TITLE = re.compile(r"绩效目标.{0,8}表")
YEAR_LINE = re.compile(r"^[(（]\s*(\d{4})\s*年度?\s*[)）]$")
OFFICE_LINE = re.compile(r"^批复单位\s*[:：]\s*(.+)$")
AMOUNT_LABEL = re.compile(r"^(\d{4})\s*年预算金额\s*(?:[（(](.*?)[)）])?$")
ANNUAL_GOAL = re.compile(r"^(\d{4})\s*年度目标$")
UNIT_LABEL = re.compile(r"[（(](万元|元)[)）]")
PROJECT_FIELDS = ("项目名称", "项目类型", "项目等级", "主管部门", "用款单位")
BUDGET_FIELDS = ("基本支出", "项目支出", "财政拨款", "其他资金", "财政专项资金", "其他事业发展性支出",
                 "市本级使用资金", "拟用于对下转移支付资金")
BUDGET_HEADINGS = ("部门预算支出", "收入来源", "事业发展性支出", "按预算级次划分")
TASK_COLUMNS = ("名称", "主要实施内容", "拟投入的资金", "期望达到的目标")
VALUE_LABELS = set(PROJECT_FIELDS + BUDGET_FIELDS + BUDGET_HEADINGS) | {"起始年度", "到期年度", "财政供养人员数",
                                                                       "下属二级单位数", "部门名称"}
LEVEL1_NAMES = {norm(level1) for levels in STANDARD.values() for level1 in levels}
LEVEL2_OF = {norm(level2): norm(level1) for levels in STANDARD.values()
             for level1, names in levels.items() for level2 in names}


@dataclass
class Found:
    """A form read from rows: its data, where it started, and the cells used."""

    start: str
    title: str | None = None
    data: dict = field(default_factory=dict)
    used: set[int] = field(default_factory=set)      # id() of the cells placed
    cells: list[Cell] = field(default_factory=list)  # every non-empty cell seen in the form
    mode: str | None = None
    columns: dict[str, int] = field(default_factory=dict)
    level1: str | None = None
    level2: str | None = None
    approval: bool = False
    department: bool = False


@dataclass
class Recognized:
    """The forms found and the cells nobody could place."""

    forms: list[Found]
    unplaced: list[Cell]


def recognize(rows: list[Row]) -> Recognized:
    """Read every form in ``rows``.

    What comes before the first form that holds data (a cover, a table of contents, as a combined
    document opens with) is front matter: not part of any form, and not reported as unplaced.
    """
    forms: list[Found] = []
    front: list[Cell] = []
    current: Found | None = None
    for row in rows:
        texts = row.texts()
        if not texts:
            continue
        first = texts[0][1].text
        if _starts_form(texts, first, current):
            current = Found(start=texts[0][1].where)
            forms.append(current)
        if current is None:
            front.extend(cell for _, cell in texts)
            continue
        current.cells.extend(cell for _, cell in texts)
        _read_row(current, row, texts)
    while forms and not forms[0].data:  # a cover's title reads like a form's title
        front.extend(forms.pop(0).cells)
    unplaced = [c for form in forms for c in form.cells if id(c) not in form.used]
    return Recognized(forms, unplaced if forms else front + unplaced)


def _is_title(texts: list[tuple[int, Cell]]) -> bool:
    """A title: one short text at the left edge (a 三级 or a value never stands there)."""
    position, cell = texts[0]
    return len(texts) == 1 and position <= 1 and len(cell.text) <= 40 and bool(TITLE.search(cell.text))


def _starts_form(texts: list[tuple[int, Cell]], first: str, current: Found | None) -> bool:
    if current is not None and current.mode == "goals" and current.columns.get("next"):
        return False  # the goal text that is due, whatever it says
    if _is_title(texts):
        return current is None or bool(current.data) or current.title is not None
    if first in ("项目名称", "部门名称") and texts[0][0] <= 1:
        return current is None or first in current.data
    return False


def _read_row(form: Found, row: Row, texts: list[tuple[int, Cell]]) -> None:
    """Place one row. The section being read decides first: inside the indicator or task table a cell
    that happens to read like a label (a value "市本级使用资金") is still data."""
    position, cell = texts[0]
    first = cell.text
    if form.mode == "goals" and form.columns.get("next") and first != "绩效指标":
        _goals(form, texts)
    elif form.mode == "tasks" and first != "绩效指标" and not first.startswith("其他需完成的任务"):
        _tasks(form, row, texts)
    elif position <= 1 and "批复意见" in first:
        _approval(form, row, texts)
    elif form.mode == "indicators":
        _indicators(form, row, texts)
    elif _is_title(texts) and form.title is None and not form.data:
        form.title = first
        _use(form, cell)
    elif YEAR_LINE.match(first) and len(texts) == 1:
        form.data["预算年度"] = int(YEAR_LINE.match(first).group(1))
        form.data["年度行"] = first
        _use(form, cell)
    elif OFFICE_LINE.match(first) and len(texts) == 1:
        form.data.setdefault("批复", {})["批复单位"] = OFFICE_LINE.match(first).group(1).strip()
        _use(form, cell)
    elif first in PROJECT_FIELDS:
        _put(form, first, row, position)
    elif first == "部门名称":
        form.department = True
        _put(form, first, row, position)
    elif first == "实施周期":
        _period(form, row, texts)
    elif AMOUNT_LABEL.match(first):
        _amount(form, row, texts)
    elif first == "基本信息":
        _basic_info(form, row, texts)
    elif first == "预算整体情况" or form.mode == "budget" and first in BUDGET_FIELDS + BUDGET_HEADINGS:
        _budget(form, row, texts)
    elif first == "总体绩效目标":
        _overall(form, row, texts)
    elif first == "年度重点工作任务":
        _tasks(form, row, texts)
    elif first.startswith("其他需完成的任务"):
        form.mode = None
        _put(form, "其他需完成的任务", row, position)
    elif first == "绩效指标":
        _indicators(form, row, texts)
    elif form.mode == "goals":
        _goals(form, texts)


def _use(form: Found, *cells: Cell | None) -> None:
    form.used.update(id(c) for c in cells if c is not None)


def _next(row: Row, position: int) -> tuple[int, Cell] | None:
    """The value after the label at ``position``: the next cell with text, unless that is another label.

    Hand-made forms leave empty cells between a label and its value; a blank value is followed
    directly by the next label (财政专项资金 | | 市本级使用资金).
    """
    for i in range(position + 1, len(row.cells)):
        cell = row.cells[i]
        if cell is not None and cell.text.strip():
            return None if cell.text in VALUE_LABELS else (i, cell)
    return None


def _put(form: Found, key: str, row: Row, position: int) -> None:
    """Set ``key`` to the value after the label at ``position`` (blank when there is none)."""
    found = _next(row, position)
    form.data[key] = found[1].text if found else ""
    _use(form, row.cells[position], found[1] if found else None)


def _period(form: Found, row: Row, texts: list[tuple[int, Cell]]) -> None:
    period = form.data.setdefault("实施周期", {})
    _use(form, texts[0][1])
    for i, cell in texts:
        if cell.text in ("起始年度", "到期年度"):
            found = _next(row, i)
            if found and found[1].text.strip():
                period[cell.text] = _integer(found[1].text)
                _use(form, cell, found[1])


def _amount(form: Found, row: Row, texts: list[tuple[int, Cell]]) -> None:
    position, cell = texts[0]
    match = AMOUNT_LABEL.match(cell.text)
    form.data["预算年度"] = int(match.group(1))
    form.data["金额单位"] = match.group(2) or ""
    found = _next(row, position)
    if found and found[1].text.strip():
        form.data["预算金额"] = _number(found[1].text)
    _use(form, cell, found[1] if found else None)


def _overall(form: Found, row: Row, texts: list[tuple[int, Cell]]) -> None:
    _use(form, texts[0][1])
    if len(texts) > 1 and texts[1][1].text == "实施周期总目标":  # the project form's goals block
        _use(form, texts[1][1])
        form.mode, form.columns = "goals", {"next": "实施周期总目标"}
        form.data.setdefault("总体绩效目标", {"实施周期总目标": "", "年度目标": ""})
        return
    found = _next(row, texts[0][0])
    form.data["总体绩效目标"] = found[1].text if found else ""
    _use(form, found[1] if found else None)


def _goals(form: Found, texts: list[tuple[int, Cell]]) -> None:
    cell = texts[0][1]
    _use(form, cell)
    goals = form.data.setdefault("总体绩效目标", {"实施周期总目标": "", "年度目标": ""})
    if cell.text == "实施周期总目标":
        form.columns["next"] = "实施周期总目标"
    elif ANNUAL_GOAL.match(cell.text):
        form.columns["next"] = "年度目标"
    elif form.columns.get("next"):
        goals[form.columns.pop("next")] = cell.text


def _approval(form: Found, row: Row, texts: list[tuple[int, Cell]]) -> None:
    position, cell = texts[0]
    form.approval, form.mode = True, None
    approval = form.data.setdefault("批复", {})
    joined = re.search(r"批复意见\s*[:：]", cell.text)
    if joined and cell.text[joined.end():].strip():  # heading and opinion printed in one cell
        approval.update({"栏目": cell.text[:joined.start() + 4].strip(), "意见": cell.text[joined.end():].strip(),
                         "合并为一格": True})
        _use(form, cell)
        return
    found = _next(row, position)
    approval.update({"栏目": cell.text, "意见": found[1].text if found else ""})
    _use(form, cell, found[1] if found else None)


def _basic_info(form: Found, row: Row, texts: list[tuple[int, Cell]]) -> None:
    form.department = True
    _use(form, texts[0][1])
    for i, cell in texts:
        if cell.text in ("财政供养人员数", "下属二级单位数"):
            found = _next(row, i)
            if found and found[1].text.strip():
                form.data[cell.text] = _integer(found[1].text)
            _use(form, cell, found[1] if found else None)


def _budget(form: Found, row: Row, texts: list[tuple[int, Cell]]) -> None:
    form.department, form.mode = True, "budget"
    budget = form.data.setdefault("预算整体情况", {})
    for i, cell in texts:
        if cell.text == "预算整体情况" or cell.text in BUDGET_HEADINGS:
            _use(form, cell)
        elif UNIT_LABEL.search(cell.text) and cell.text.startswith("预算金额"):
            form.data["金额单位"] = UNIT_LABEL.search(cell.text).group(1)
            _use(form, cell)
        elif cell.text in BUDGET_FIELDS:
            found = _next(row, i)
            value = found[1].text.strip() if found else ""
            if value and _is_number(value):
                budget[cell.text] = _number(value)
                _use(form, found[1])
            _use(form, cell)


def _tasks(form: Found, row: Row, texts: list[tuple[int, Cell]]) -> None:
    form.department = True
    if texts[0][1].text == "年度重点工作任务":
        _use(form, texts[0][1])
        texts = texts[1:]
    if texts and texts[0][1].text == "名称":  # the header: where each column is
        form.mode = "tasks"
        form.columns = {}
        for i, cell in texts:
            key = next((k for k in TASK_COLUMNS if cell.text.startswith(k)), None)
            if key:
                form.columns[key] = i
                unit = UNIT_LABEL.search(cell.text)
                if unit:
                    form.data["金额单位"] = unit.group(1)
                _use(form, cell)
        return
    if not texts or form.mode != "tasks":
        return
    task = {}
    order = sorted(form.columns, key=form.columns.get)
    for i, cell in texts:
        key = next((k for k in reversed(order) if form.columns[k] <= i), order[0])
        if key in task:  # shifted text: the next free column
            key = next((k for k in order if k not in task), key)
        task[key] = _number(cell.text) if key == "拟投入的资金" and _is_number(cell.text) else cell.text
        _use(form, cell)
    form.data.setdefault("年度重点工作任务", []).append(task)


def _indicators(form: Found, row: Row, texts: list[tuple[int, Cell]]) -> None:
    labels = [c for _, c in texts if c.text == "绩效指标"]  # also repeated at the top of a new page
    _use(form, *labels)
    texts = [(i, c) for i, c in texts if c.text != "绩效指标"]
    if not texts:
        return
    names = [c.text for _, c in texts]
    if "一级指标" in names and "三级指标" in names:  # the header
        form.mode = "indicators"
        for i, cell in texts:
            key = {"一级指标": "l1", "二级指标": "l2", "三级指标": "l3", "实施周期指标值": "period"}.get(cell.text)
            if cell.text.endswith("年度指标值"):
                key, form.columns["annual_label"] = "annual", cell.text
            if key:
                form.columns[key] = i
            _use(form, cell)
        return
    if form.mode != "indicators":
        return
    _indicator_row(form, texts, shifted=not row.grid)


def _indicator_row(form: Found, texts: list[tuple[int, Cell]], shifted: bool) -> None:
    """One row of the indicator table; ``shifted`` for extracted text, whose cells may sit a column off."""
    cols = form.columns
    tree = form.data.setdefault("绩效指标", {})
    level1 = level2 = name = None
    values: list[tuple[int, str]] = []
    for i, cell in texts:
        if i >= cols["period"]:
            values.append((i, cell.text))
        elif i == cols["l3"] or (shifted and i < cols["l1"] and norm(cell.text) not in LEVEL1_NAMES):
            name = cell.text  # a 三级, or one the extractor shifted left
        elif i == cols["l2"] or (shifted and i == cols["l1"] and _is_level2(form, cell.text)):
            level2 = cell.text
        elif i == cols["l1"]:
            level1 = cell.text
        else:
            continue  # left of the table: not placed, reported
        _use(form, cell)
    if level1:
        form.level1, form.level2 = level1, None
        tree.setdefault(level1, {})
    if level2 and form.level1:
        form.level2 = level2
        tree[form.level1].setdefault(level2, [])
    if name and form.level1 and form.level2:
        annual_key = "年度指标值" if form.department else "当年度指标值"
        item = {"三级指标": name, "实施周期指标值": "", annual_key: ""}
        if len(values) >= 2:
            item["实施周期指标值"], item[annual_key] = values[0][1], values[1][1]
        elif values:
            item["实施周期指标值" if values[0][0] == cols["period"] and cols["annual"] != cols["period"]
                 else annual_key] = values[0][1]
        tree[form.level1][form.level2].append(item)


def _is_level2(form: Found, text: str) -> bool:
    """A text in the 一级 column that is a standard 二级 of the current 一级 (an extractor shift)."""
    return norm(text) not in LEVEL1_NAMES and form.level1 is not None \
        and LEVEL2_OF.get(norm(text)) == norm(form.level1)


def _integer(text: str) -> int | str:
    try:
        return int(Decimal(text.strip()))
    except (InvalidOperation, ValueError):
        return text


def _is_number(text: str) -> bool:
    try:
        Decimal(text.strip())
    except InvalidOperation:
        return False
    return True


def _number(text: str) -> Decimal | str:
    return Decimal(text.strip()) if _is_number(text) else text


def layout_of(found: Found) -> str:
    """The 表样 of a found form."""
    if found.department:
        return "部门整体支出绩效目标批复表" if found.approval else "部门整体支出绩效目标表"
    return "项目支出绩效目标批复表" if found.approval else "项目绩效目标表"


def to_input(found: Found) -> dict:
    """The form as input data in the samples' key order, defaults left out."""
    layout = layout_of(found)
    cls = FORM_CLASSES[layout]
    data = dict(found.data)
    data["表样"] = layout
    if found.title and found.title != cls.DEFAULT_TITLE:
        data["标题"] = found.title
    if data.get("年度行") and "预算年度" in data and data["年度行"] == f"({data['预算年度']}年度)":
        del data["年度行"]
    if found.department and "金额单位" not in data:
        data["金额单位"] = ""
    order = [f.alias for f in cls.model_fields.values()]
    first = ["表样", "标题"]
    return {k: data[k] for k in first + [k for k in order if k not in first] if k in data}

"""Find the forms in rows of cells, by their printed labels, and read them into input data.

In: :class:`~jixiao.importer.sources.Row` objects. Out: one dict per form, in the input schema's Chinese
keys, and a warning for every non-empty cell that could not be placed. Labels are found by their text,
not by position, so hand-made files with other column widths, blank rows, a differently worded title,
or several forms one after another work.

In a grid (XLSX, DOCX, PDF) an indicator row's cells take their place from the header row's columns.
Extracted text shifts cells, drops empty ones and prints a tall merged cell's text at its middle, so
there an indicator row is read by its words and its shape: the standard 一级/二级 names of the
frameworks (and which 一级 each 二级 belongs to) from the left, the values from the right end, the 三级
name between them. A 二级 whose 一级 is printed later (or was cut off) goes under its standard 一级; a
一级 printed on a row of its block adopts the 二级 being read. 三级 names and values are kept as printed.
A missing value stays empty with a warning naming its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ..frameworks import CITY, STANDARD, norm
from ..model import FORM_CLASSES, parse_amount
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
CITY_LAYOUT = "东莞市部门整体预算绩效目标表"
CITY_TITLE = re.compile(r"部门整体预算绩效目标表")
OTHER_TASK_COLUMNS = ("名称", "目标内容", "拟投入的资金")
DASHES = re.compile(r"^[-—–_=─━·.。\s]{3,}$")  # a rule line an extractor wrote between rows
LEVEL1_NAMES = {norm(level1) for levels in STANDARD.values() for level1 in levels}
# The standard 一级 of each standard 二级: the city variant's, and that of the town frameworks.
PARENTS = {key: {norm(level2): level1 for level1, names in STANDARD[framework].items() for level2 in names}
           for key, framework in (("city", CITY), ("2021", 2021), ("2015", 2015))}
LEVEL2_NAMES = {name for parents in PARENTS.values() for name in parents}
COST_CHILDREN = {norm(n) for n in STANDARD[2021]["成本指标"]}
# Text that is a target value, never a 三级 name: ≥90%, 100%, 12期, 约862人次, ≤89人.
VALUE_LIKE = re.compile(r"^(?:[≥≤><=≈＞＜]|约)?\s*\d[\d.,]*\s*(?:%|％|[^\d\s]{1,4})?$")


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
    city: bool = False
    inferred: bool = False  # the current 一级 was taken from its 二级's standard parent, not printed
    opened: list[str] = field(default_factory=list)  # the 二级 opened since the last printed 一级
    items: list[tuple[dict, Cell]] = field(default_factory=list)  # each 三级 read, with its name's cell
    label_cells: dict[str, Cell] = field(default_factory=dict)  # where each 一级 was printed
    notes: list[str] = field(default_factory=list)  # warnings about what was read (a missing value)


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
        if not texts or all(DASHES.match(cell.text) for _, cell in texts):
            continue  # blank, or a rule line: no cell of the form
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
    unplaced: list[Cell] = []
    for form in forms:
        unplaced.extend(c for c in form.cells if id(c) not in form.used)
        for item, cell in form.items:
            _note_missing(form, cell, item)
        _drop_empty_level1(form)
    return Recognized(forms, unplaced if forms else front + unplaced)


def _drop_empty_level1(form: Found) -> None:
    """A 一级 under which no 二级 was read cannot be loaded: it is left out, with a warning."""
    tree = form.data.get("绩效指标", {})
    for level1 in [k for k, groups in tree.items() if not groups]:
        del tree[level1]
        cell = form.label_cells.get(level1)
        form.notes.append(f"{cell.where if cell else form.start}：一级指标「{level1}」下没有读到二级指标，"
                          "未导入；请在导入的文件中补上它和它的二级指标")


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
    # the indicator table starts at its label or, when the tall label is printed lower down, its header
    indicators = first == "绩效指标" or _is_indicator_header(texts)
    if form.mode == "goals" and form.columns.get("next") and not indicators:
        _goals(form, texts)
    elif form.mode in ("tasks", "other_tasks") and not indicators \
            and not (first.startswith("其他需完成的任务") and form.mode == "tasks"):
        _tasks(form, row, texts)
    elif position <= 1 and "批复意见" in first:
        _approval(form, row, texts)
    elif form.mode == "indicators":
        _indicators(form, row, texts)
    elif _is_title(texts) and form.title is None and not form.data:
        form.title = first
        form.city = bool(CITY_TITLE.search(first))
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
    elif first == "年度重点工作任务" or first == "名称" and _is_task_header(texts):
        _tasks(form, row, texts)  # (a task header whose tall label is printed lower down)
    elif first.startswith("其他需完成的任务"):
        form.mode = None
        if any(c.text == "名称" for _, c in texts[1:2]):  # the city layout: a table of its own
            _tasks(form, row, texts)
        else:
            _put(form, "其他需完成的任务", row, position)
    elif indicators:
        _indicators(form, row, texts)
    elif form.mode == "goals":
        _goals(form, texts)


def _is_indicator_header(texts: list[tuple[int, Cell]]) -> bool:
    names = {"".join(c.text.split()) for _, c in texts}
    return "一级指标" in names and "三级指标" in names


def _is_task_header(texts: list[tuple[int, Cell]]) -> bool:
    return any(c.text.startswith(("主要实施内容", "目标内容")) for _, c in texts)


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
    """年度重点工作任务, or the city layout's 其他需完成的任务 table: a header row, then a row per task."""
    form.department = True
    first = texts[0][1].text
    if first == "年度重点工作任务" or first.startswith("其他需完成的任务"):
        _use(form, texts[0][1])
        other = first.startswith("其他需完成的任务")
        texts = texts[1:]
    else:  # a header whose label the extractor printed lower down
        other = form.mode == "other_tasks" or any(c.text.startswith("目标内容") for _, c in texts)
    texts = _ordinals(row, texts)
    if texts and texts[0][1].text == "名称":  # the header: where each column is
        form.city = form.city or other
        form.mode = "other_tasks" if other else "tasks"
        form.columns = {}
        for i, cell in texts:
            key = next((k for k in (OTHER_TASK_COLUMNS if other else TASK_COLUMNS) if cell.text.startswith(k)), None)
            if key:
                form.columns[key] = i
                unit = UNIT_LABEL.search(cell.text)
                if unit:
                    form.data["任务金额单位"] = unit.group(1)
                _use(form, cell)
        if other:
            form.data["其他需完成的任务"] = []
        return
    if not texts or form.mode not in ("tasks", "other_tasks") or not form.columns:
        return
    task = {}
    order = sorted(form.columns, key=form.columns.get)
    for i, cell in texts:
        key = next((k for k in reversed(order) if form.columns[k] <= i), order[0])
        if key in task:  # shifted text: the next free column
            key = next((k for k in order if k not in task), None)
            if key is None:
                continue  # more cells than columns: reported as not placed
        task[key] = _number(cell.text) if key == "拟投入的资金" and _is_number(cell.text) else cell.text
        _use(form, cell)
    target = "其他需完成的任务" if form.mode == "other_tasks" else "年度重点工作任务"
    form.data.setdefault(target, []).append(task)


def _ordinals(row: Row, texts: list[tuple[int, Cell]]) -> list[tuple[int, Cell]]:
    """A task row's cells numbered by their order among the row's cells, not by grid column.

    A PDF table split over pages may be read with other column boundaries on each page (a page with no
    indicator rows has no 三级 column line), so in a grid the n-th cell after the section label is what
    counts. Extracted text keeps its positions (its cells are all there, empty or not).
    """
    if not row.grid:
        return texts
    starts = [i for i, c in enumerate(row.cells) if c is not None and i > 0]
    return [(starts.index(i), c) for i, c in texts if i in starts]


def _indicators(form: Found, row: Row, texts: list[tuple[int, Cell]]) -> None:
    # the section label, also repeated at the top of a new page; a value that reads 绩效指标 stays a value
    limit = form.columns.get("l1", 1) if form.mode == "indicators" else 1 << 30
    labels = [(i, c) for k, (i, c) in enumerate(texts) if c.text == "绩效指标" and (k == 0 or i < limit)]
    _use(form, *(c for _, c in labels))
    texts = [pair for pair in texts if pair not in labels]
    if not texts:
        return
    names = ["".join(c.text.split()) for _, c in texts]  # a wrapped header cell may hold spaces
    if "一级指标" in names and "三级指标" in names:  # the header
        form.mode = "indicators"
        form.columns = {"width": len(row.cells)}
        for (i, cell), text in zip(texts, names, strict=True):
            key = {"一级指标": "l1", "二级指标": "l2", "三级指标": "l3", "实施周期指标值": "period"}.get(text)
            if text.endswith("年度指标值"):
                key, form.columns["annual_label"] = "annual", text
            if key:
                form.columns[key] = i
            _use(form, cell)
        cols = form.columns  # a table with one value column reads that column as the annual value
        cols.setdefault("l3", cols.get("l2", cols.get("l1", 0) + 1) + 1)
        cols.setdefault("l2", cols["l3"] - 1)
        cols.setdefault("l1", cols["l2"] - 1)
        cols["single"] = "period" not in cols
        cols.setdefault("period", cols.get("annual", cols["l3"] + 1))
        cols.setdefault("annual", cols["period"])
        return
    if form.mode != "indicators":
        return
    _indicator_row(form, row, texts)


def _indicator_row(form: Found, row: Row, texts: list[tuple[int, Cell]]) -> None:
    """One row of the indicator table.

    A grid (XLSX, DOCX, PDF) gives each cell its column. Extracted text may shift cells, drop an empty
    one or print a merged label rows away from where it belongs, so there the row is read by its words
    and its shape: standard 一级/二级 names from the left, values from the right, the 三级 name before
    them (printed twice in the city layout). Cells are marked used only when they are placed.
    """
    grid = row.grid
    level1, level2, name, values = _by_column(form, row, texts) if grid else _by_shape(form, texts)
    if level1 is not None and not grid and level2 is None and form.level2 is not None and (
            _owns(form, level1.text, form.level2) or not _owns(form, form.level1, form.level2)):
        _adopt_level1(form, _label(level1.text, grid))  # printed at the middle of its tall cell
    elif level1 is not None:
        _enter_level1(form, _label(level1.text, grid))
    if level1 is not None:
        _use(form, level1)
        form.label_cells.setdefault(form.level1, level1)
    if level2 is not None and _enter_level2(form, _label(level2.text, grid), grid):
        _use(form, level2)
    if not name and values and level2 is None and not grid:
        _fill_previous(form, values)  # the values of a 三级 whose name wrapped onto the line before
        return
    if not name or form.level1 is None or form.level2 is None:
        return  # nothing to hang the 三级 on: its cells are reported as not placed
    item = _item(form, name, values, grid)
    form.data["绩效指标"][form.level1][form.level2].append(item)
    _use(form, *name, *(cell for _, cell in values[-2:]))
    form.items.append((item, name[0]))


def _fill_previous(form: Found, values: list[tuple[int, Cell]]) -> None:
    """Values alone on a line go to the 三级 just read if it has none; else they are reported."""
    if not _waiting(form):
        return
    item, _ = form.items[-1]
    annual_key = "年度指标值" if form.department else "当年度指标值"
    if len(values) >= 2:
        item["实施周期指标值"], item[annual_key] = values[-2][1].text, values[-1][1].text
    else:
        only_annual = form.department and not form.city or form.columns["single"]
        item["实施周期指标值" if values[0][0] <= 0 and not only_annual else annual_key] = values[0][1].text
    _use(form, *(cell for _, cell in values[-2:]))


def _by_column(form: Found, row: Row, texts: list[tuple[int, Cell]]):
    """Cells by the header's columns. A PDF page may be read with a column more or less than the page of
    the header (the city layout's 三级 is split in two only on pages where a row fills both halves), so
    the values are counted from the row's right end."""
    cols = form.columns
    wider = len(row.cells) - cols["width"]
    period = cols["period"] + wider if abs(wider) <= 2 and cols["period"] + wider > cols["l3"] else cols["period"]
    level1 = level2 = None
    name: list[Cell] = []
    values: list[tuple[int, Cell]] = []
    for i, cell in texts:
        if i >= period:
            values.append((i - period, cell))
        elif i >= cols["l3"] and (not name or cell.text == name[0].text):
            name.append(cell)  # the city layout prints the name in two cells
        elif i == cols["l2"]:
            level2 = cell
        elif i == cols["l1"]:
            level1 = cell
    return level1, level2, name, values  # a cell left of the table is reported as not placed


def _by_shape(form: Found, texts: list[tuple[int, Cell]]):
    """Labels by their words from the left, values from the right, the 三级 name between."""
    rest = list(texts)
    peeled: list[tuple[int, Cell]] = []
    level1 = level2 = None
    if rest and _looks_level1(form, rest):
        peeled.append(rest.pop(0))
        level1 = peeled[-1][1]
    if rest and norm(rest[0][1].text) in LEVEL2_NAMES:
        peeled.append(rest.pop(0))
        level2 = peeled[-1][1]
    if peeled and rest and len(rest) <= 2 and all(VALUE_LIKE.match(c.text) for _, c in rest) \
            and not _waiting(form):
        # a 三级 named like a standard category ("服务对象满意度", "满意度"): values follow it directly
        rest.insert(0, peeled.pop())
        level1, level2 = (level1, None) if level2 is not None else (None, None)
    if not rest:
        return level1, level2, [], []
    # the 三级 name: printed twice in the city layout; cells before it are labels no framework names
    dup = next((k for k in range(len(rest) - 1) if rest[k][1].text == rest[k + 1][1].text
                and not VALUE_LIKE.match(rest[k][1].text)
                and (k + 2 < len(rest) or k == 0 and form.city)), None)  # not two equal values
    if dup is None and level2 is None and len(rest) <= 2 and all(VALUE_LIKE.match(c.text) for _, c in rest):
        return level1, None, [], [(pos - form.columns["period"], cell) for pos, cell in rest]  # no name
    start = dup if dup is not None else max(0, len(rest) - 3)
    end = start + 1 if dup is not None else start
    if dup is None and form.city and len(rest) == 4 and level1 is None and level2 is None:
        # the city layout's two 三级 cells holding different text: the first is the name, the second
        # cannot be placed and is reported
        return None, None, [rest[0][1]], [(pos - rest[1][0] - (form.columns["period"] - form.columns["l3"]), cell)
                                          for pos, cell in rest[2:]]
    extra = [cell for _, cell in rest[:start]]
    known = [cell for cell in extra if norm(cell.text) in LEVEL1_NAMES | LEVEL2_NAMES]
    if known:  # a standard name behind a stray cell: the name decides, the stray cell is reported
        for cell in known:
            if norm(cell.text) in LEVEL2_NAMES and level2 is None:
                level2 = cell
            elif norm(cell.text) in LEVEL1_NAMES and level1 is None:
                level1 = cell
    elif len(extra) >= 2 and level1 is None and level2 is None:
        level1, level2 = extra[-2], extra[-1]
    elif extra and level2 is None and (level1 is not None or form.level1 is not None
                                       or rest[start - 1][0] >= form.columns["l2"]):
        level2 = extra[-1]  # (a 二级 before any 一级 is reported if no framework names its 一级)
    elif extra and level1 is None:
        level1 = extra[-1]
    name = [cell for _, cell in rest[start:end + 1]]
    first_value = form.columns["period"] - form.columns["l3"]  # columns from the name to the first value
    values = [(pos - rest[end][0] - first_value, cell) for pos, cell in rest[end + 1:]]
    return level1, level2, name, values


def _waiting(form: Found) -> bool:
    """Whether the 三级 just read has no value yet (its values may follow on the next line)."""
    if not form.items or form.level1 is None or form.level2 is None:
        return False
    item, _ = form.items[-1]
    group = form.data["绩效指标"][form.level1][form.level2]
    return bool(group) and group[-1] is item and not any(v for k, v in item.items() if k != "三级指标")


def _looks_level1(form: Found, rest: list[tuple[int, Cell]]) -> bool:
    key = norm(rest[0][1].text)
    if key not in LEVEL1_NAMES:
        return False
    if key in LEVEL2_NAMES:  # 成本指标: a 一级 (2021) or a 二级 of 产出指标 (2015)
        following = norm(rest[1][1].text) if len(rest) > 1 else ""
        return following in COST_CHILDREN or not (form.level1 and norm(form.level1) == "产出")
    return True


def _label(text: str, grid: bool) -> str:
    """A 一级/二级 label: as printed in a grid; extracted text loses the spaces a wrapped cell held."""
    return text if grid else "".join(text.split())


def _enter_level1(form: Found, label: str) -> None:
    tree = form.data.setdefault("绩效指标", {})
    if form.level1 is not None and norm(form.level1) == norm(label):
        if form.inferred and form.level1 != label:  # the printed name replaces the standard one
            tree[label] = tree.pop(form.level1)
            form.level1 = label
        form.inferred = False
        return  # a tall cell's text printed at its middle: the same 一级 goes on
    form.level1, form.level2, form.inferred, form.opened = label, None, False, []
    tree.setdefault(label, {})


def _adopt_level1(form: Found, label: str) -> None:
    """A 一级 label on a row without a 二级 label: it is the 一级 of the 二级 being read (its text sits at
    the middle of its tall cell), so that 二级, and those opened since the last printed 一级 that the
    current 一级 does not own, move under it."""
    tree = form.data["绩效指标"]
    if norm(form.level1) == norm(label):
        _enter_level1(form, label)
        return
    old = form.level1
    moving = [g for g in form.opened if g in tree[old] and (g == form.level2 or not _owns(form, old, g))]
    target = next((k for k in tree if norm(k) == norm(label)), label)
    groups = tree.setdefault(target, {})
    for group in moving:
        groups[group] = groups.get(group, []) + tree[old].pop(group)
    if not tree[old]:
        del tree[old]
    form.level1, form.inferred, form.opened = target, False, []


def _enter_level2(form: Found, label: str, grid: bool) -> bool:
    """Open a 二级; in extracted text a standard 二级 whose 一级 is not (yet) printed goes under its own."""
    tree = form.data.setdefault("绩效指标", {})
    parent = _parent(form, label)
    current = norm(form.level1) if form.level1 else None
    if not grid and parent is not None and current != norm(parent) and (
            current is None or current in LEVEL1_NAMES and not _owns(form, form.level1, label)):
        existing = next((k for k in tree if norm(k) == norm(parent)), parent)
        form.level1, form.inferred = existing, True  # its 一级 is printed further down, or was cut off
        tree.setdefault(existing, {})
    if form.level1 is None:
        return False  # a 二级 before any 一级 that no framework knows: reported as not placed
    label = next((k for k in tree[form.level1] if norm(k) == norm(label)), label)  # printed again
    form.level2 = label
    tree[form.level1].setdefault(label, [])
    form.opened.append(label)
    return True


def _parent(form: Found, label: str) -> str | None:
    """The standard 一级 of a standard 二级, in this form's framework."""
    key = norm(label)
    if form.city:
        return PARENTS["city"].get(key)
    if any(norm(k) == "成本" for k in form.data.get("绩效指标", {})) and key in PARENTS["2021"]:
        return PARENTS["2021"][key]
    return PARENTS["2015"].get(key) or PARENTS["2021"].get(key)


def _owns(form: Found, level1: str, label: str) -> bool:
    """Whether the frameworks of this kind of form put this 二级 under this 一级."""
    families = ("city",) if form.city else ("2015", "2021")
    return any(norm(PARENTS[f].get(norm(label), "")) == norm(level1) for f in families)


def _item(form: Found, name: list[Cell], values: list[tuple[int, Cell]], grid: bool) -> dict:
    """The 三级 with its values: the last two are period and annual; one alone goes where it stands."""
    annual_key = "年度指标值" if form.department else "当年度指标值"
    item = {"三级指标": name[0].text, "实施周期指标值": "", annual_key: ""}
    if len(values) >= 2:
        item["实施周期指标值"], item[annual_key] = values[-2][1].text, values[-1][1].text
    elif values:
        # extracted text of a town department form: its one value is the annual one, wherever it landed
        only_annual = not grid and form.department and not form.city or form.columns["single"]
        item["实施周期指标值" if values[0][0] <= 0 and not only_annual else annual_key] = values[0][1].text
    return item


def _note_missing(form: Found, cell: Cell, item: dict) -> None:
    """A missing value stays empty, with a warning (jixiao check reports it as V001)."""
    annual_key = "年度指标值" if form.department else "当年度指标值"
    missing = [annual_key] if not item[annual_key] else []
    if not form.department and not item["实施周期指标值"]:
        missing.insert(0, "实施周期指标值")
    if missing:
        form.notes.append(f"{cell.where}：三级指标「{cell.text}」没有{'、'.join(missing)}"
                          "（原表为空或未能读出），已导入为空，请补填")


def _integer(text: str) -> int | str:
    try:
        return int(Decimal(text.strip()))
    except (InvalidOperation, ValueError):
        return text


def _is_number(text: str) -> bool:
    try:
        Decimal(str(parse_amount(text.strip())))
    except InvalidOperation:
        return False
    return True


def _number(text: str) -> Decimal | str:
    """An amount as a number ("998,550.00" too); any other text as it is, for the loader to refuse."""
    return Decimal(str(parse_amount(text.strip()))) if _is_number(text) else text


def layout_of(found: Found) -> str:
    """The 表样 of a found form."""
    if found.department and found.city and not found.approval:
        return CITY_LAYOUT
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
    standard_year = "({}年)" if layout == CITY_LAYOUT else "({}年度)"
    if data.get("年度行") and "预算年度" in data and data["年度行"] == standard_year.format(data["预算年度"]):
        del data["年度行"]
    if found.department and "金额单位" not in data:
        data["金额单位"] = ""
    if "任务金额单位" in data and data["任务金额单位"] == data.get("金额单位") and layout != CITY_LAYOUT:
        del data["任务金额单位"]
    others = data.get("其他需完成的任务")
    if layout == CITY_LAYOUT and isinstance(others, str):
        data["其他需完成的任务"] = [{"名称": others}] if others else []
    elif layout != CITY_LAYOUT and isinstance(others, list):  # a table, in a town form
        data["其他需完成的任务"] = "\n".join("；".join(str(v) for v in task.values()) for task in others)
    order = [f.alias for f in cls.model_fields.values()]
    first = ["表样", "标题"]
    return {k: data[k] for k in first + [k for k in order if k not in first] if k in data}

"""The two indicator frameworks and their standard 二级 categories.

Published forms print every standard 二级 row of a 一级 even when it holds no indicator. Two frameworks
occur: the older one (财预〔2015〕88号) with 成本指标 as a 二级 under 产出指标, and the newer one
(财预〔2021〕101号) with 成本指标 as a 一级 holding 经济/社会/生态环境成本指标. Dongguan's city departments
print a variant of the older one (``"2015市直"``): 服务对象满意度指标 is a 二级 of 效益指标 and there is no
满意度指标 一级.

Names are matched loosely (:func:`norm`): "社会效益" and "社会效益 指标" both match 社会效益指标, as the
published forms write them either way.
"""

from __future__ import annotations

from typing import Literal, TypeVar

Framework = Literal[2015, 2021, "2015市直"]
CITY: Framework = "2015市直"

STANDARD: dict[Framework, dict[str, tuple[str, ...]]] = {
    2015: {
        "产出指标": ("数量指标", "质量指标", "时效指标", "成本指标"),
        "效益指标": ("经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"),
        "满意度指标": ("服务对象满意度指标",),
    },
    2021: {
        "成本指标": ("经济成本指标", "社会成本指标", "生态环境成本指标"),
        "产出指标": ("数量指标", "质量指标", "时效指标"),
        "效益指标": ("经济效益指标", "社会效益指标", "生态效益指标"),
        "满意度指标": ("服务对象满意度指标",),
    },
    CITY: {
        "产出指标": ("数量指标", "质量指标", "时效指标", "成本指标"),
        "效益指标": ("经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标", "服务对象满意度指标"),
    },
}
DESCRIPTIONS: dict[Framework, str] = {
    2015: "2015年版指标体系",
    2021: "2021年版指标体系",
    CITY: "2015年版指标体系（东莞市直部门表样：服务对象满意度指标为效益指标的二级）",
}

T = TypeVar("T")


def norm(name: str) -> str:
    """Compare category names without spaces and without the optional trailing 指标."""
    compact = "".join(name.split())
    return compact[:-2] if compact.endswith("指标") and len(compact) > 2 else compact


def infer(tree: dict[str, dict[str, list[T]]], default: Framework = 2015) -> Framework:
    """The framework a tree follows: 2021 when 成本指标 is a 一级; 2015 when 满意度指标 is a 一级;
    else the layout's own ``default`` (the city layout's is :data:`CITY`)."""
    level1s = {norm(level1) for level1 in tree}
    if "成本" in level1s:
        return 2021
    return 2015 if "满意度" in level1s else default


def with_standard_rows(tree: dict[str, dict[str, list[T]]],
                       framework: Framework) -> dict[str, dict[str, list[T]]]:
    """Return the tree with each missing standard 二级 of a present 一级 added, empty, in its place.

    The user's order is kept; a missing category goes right after the standard category that precedes
    it in the framework (or first, when none does). 一级 that are not standard are left as written.
    """
    standards = {norm(k): v for k, v in STANDARD[framework].items()}
    completed: dict[str, dict[str, list[T]]] = {}
    for level1, groups in tree.items():
        standard = standards.get(norm(level1))
        completed[level1] = _insert_missing(groups, standard) if standard else dict(groups)
    return completed


def _insert_missing(groups: dict[str, list[T]], standard: tuple[str, ...]) -> dict[str, list[T]]:
    names = list(groups)
    present = {norm(n) for n in names}
    for position, category in enumerate(standard):
        if norm(category) in present:
            continue
        earlier = {norm(c) for c in standard[:position]}
        index = max((i + 1 for i, n in enumerate(names) if norm(n) in earlier), default=0)
        names.insert(index, category)
        present.add(norm(category))
    return {n: list(groups.get(n, [])) for n in names}

"""Fixtures: the samples, and every sample rendered once (in every format) for the tests to read."""

from __future__ import annotations

from pathlib import Path

import pytest

from jixiao.cli import run_render
from jixiao.loader import load
from jixiao.writers import FORMATS

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".yaml", ".json")
                      and not p.name.endswith(".schema.json"))
# Each sample and the reference text it reproduces (the JSON sample is the Houjie form without approval).
REFERENCE_OF = {
    "dongkeng-party-office-2024-project-targets.yaml": "dongkeng-party-office-2024-project-targets.txt",
    "wangniudun-union-2024-project-approval.yaml": "wangniudun-union-2024-project-approval.txt",
    "houjie-party-office-2026-department-approval.yaml": "houjie-party-office-2026-department-approval.txt",
}

# A complete project form that passes every review rule; tests derive bad inputs from it.
PROJECT = """\
表样: 项目绩效目标表
项目名称: 测试项目
项目类型: 其他运转类
项目等级: 二级项目
主管部门: 某办公室
用款单位: 某办公室
实施周期: {起始年度: 2024, 到期年度: 2026}
预算年度: 2025
预算金额: 100000
总体绩效目标: {实施周期总目标: 总目标, 年度目标: 年度目标}
绩效指标:
  产出指标:
    数量指标:
      - {三级指标: 补贴发放次数, 实施周期指标值: 12次, 当年度指标值: 4次}
    质量指标:
      - {三级指标: 发放准确率, 实施周期指标值: 100%, 当年度指标值: 100%}
    时效指标:
      - {三级指标: 发放及时率, 实施周期指标值: ≥90%, 当年度指标值: ≥90%}
    成本指标:
      - {三级指标: 预算执行率, 实施周期指标值: ≥90%, 当年度指标值: ≥90%}
  效益指标:
    社会效益指标:
      - {三级指标: 提高工作效率, 实施周期指标值: 有效提高, 当年度指标值: 有效提高}
  满意度指标:
    服务对象满意度指标:
      - {三级指标: 服务对象满意度, 实施周期指标值: ≥90%, 当年度指标值: ≥90%}
"""


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> Path:
    """Every sample rendered by the CLI's own function into one output folder."""
    out = tmp_path_factory.mktemp("output")
    outcome = run_render([SAMPLES], list(FORMATS), out, None, jobs=2)  # worker processes, as by default
    assert not outcome.errors, [str(e) for e in outcome.errors]
    return out


def sample_forms(path: Path):
    """The validated forms of a sample (raising if any is invalid)."""
    return load(path).all_forms()


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    """Write an input file for a test."""
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path

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


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> Path:
    """Every sample rendered by the CLI's own function into one output folder."""
    out = tmp_path_factory.mktemp("output")
    outcome = run_render([SAMPLES], list(FORMATS), out, None)
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

"""What the page shows of an input text: the HTML the PDF prints, and every problem with its line.

In: the editor's text (saved or not) and the file's name. Out: a :class:`Preview` with the document HTML
of the forms that load (:func:`jixiao.render.document`, the very HTML the PDF writer prints), the load
errors and the `jixiao check` findings, each with its line, and one summary row per form. Nothing here
writes a file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..checks import ERROR, WARNING, check_file
from ..errors import JixiaoError
from ..loader import FormFile, load_text
from ..render import document


@dataclass
class Problem:
    """One line of the problem list: a load error or a review finding."""

    severity: str          # "error" or "warning"
    message: str
    line: int | None = None
    field: str | None = None
    rule: str | None = None
    form: str | None = None


@dataclass
class Preview:
    """The preview of one input text."""

    html: str | None                       # None when no form loads
    loaded: bool                           # every form of the text loaded (else the page greys the preview)
    problems: list[Problem] = field(default_factory=list)
    forms: list[dict] = field(default_factory=list)   # {index, name, layout, line}

    def as_dict(self) -> dict:
        """The JSON the page reads."""
        return {"html": self.html, "loaded": self.loaded, "forms": self.forms,
                "problems": [asdict(p) for p in self.problems],
                "errors": sum(p.severity == ERROR for p in self.problems),
                "warnings": sum(p.severity == WARNING for p in self.problems)}


def preview(text: str, name: str, layout: bool = True) -> Preview:
    """Load, check and (unless ``layout`` is false) lay out ``text`` as the file ``name`` would be."""
    try:
        form_file = load_text(text, Path(name))
    except JixiaoError as error:
        return Preview(None, False, _errors(error))
    problems = [p for error in form_file.errors for p in _errors(error)]
    problems += [Problem(f.severity, f"[{f.rule}] {f.message}", f.line, f.field, f.rule, f.name)
                 for f in check_file(form_file)]
    problems.sort(key=lambda p: (p.severity != ERROR, p.line or 0))
    html = None
    if layout and form_file.forms:
        try:
            html = document([loaded.form for loaded in form_file.forms]).html
        except JixiaoError as error:  # a broken template: say so instead of a preview
            problems[:0] = _errors(error)
    return Preview(html, form_file.ok and (html is not None or not layout), problems, _forms(form_file))


def _forms(form_file: FormFile) -> list[dict]:
    return [{"index": loaded.index, "name": loaded.form.display_name, "layout": loaded.form.layout,
             "line": loaded.line} for loaded in form_file.forms]


def _errors(error: JixiaoError) -> list[Problem]:
    return [Problem(ERROR, p.message, p.line, p.field) for p in error.problems]

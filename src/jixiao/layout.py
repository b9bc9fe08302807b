"""The one Jinja environment: a form in, the HTML of its layout out.

Each layout is a template in ``templates/`` (``project.html.j2``, ``department.html.j2``) that renders
one ``<section class="form">`` holding an ``<h1>`` title, optional centred lines and one ``<table>``
with ``rowspan``/``colspan`` and a ``<colgroup>``. That HTML is the single definition of a layout: the
PDF is it printed, and the DOCX and XLSX writers read it back as a grid (:mod:`jixiao.grid`).

The environment is strict (undefined names are errors) and autoescapes: user text is data, never
markup. ``--templates DIR`` puts a folder in front of the built-in one, so a file there replaces the
built-in template of the same name.
"""

from __future__ import annotations

import traceback
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from .errors import TemplateError
from .model import AnyForm, format_amount, paragraphs, unit_suffix

DOCUMENT_TEMPLATE = "document.html.j2"


def builtin_templates() -> Path:
    """The built-in templates: inside the installed package, or ``templates/`` of a source checkout."""
    packaged = Path(__file__).parent / "templates"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "templates"


def template_name(form: AnyForm) -> str:
    """The template of a form's layout; the approval variants share their form's template."""
    return form.TEMPLATE


@lru_cache(maxsize=8)
def environment(override: Path | None = None) -> jinja2.Environment:
    """The strict, autoescaping environment; ``override`` is searched before the built-in templates."""
    folders = ([str(override)] if override else []) + [str(builtin_templates())]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(paragraphs=paragraphs, amount=format_amount, unit_suffix=unit_suffix)
    return env


def render_section(form: AnyForm, override: Path | None = None) -> Markup:
    """The HTML section of one form."""
    return Markup(_render(environment(override), template_name(form), form=form))


def render_document(sections: list[Markup], title: str, override: Path | None = None) -> str:
    """A whole HTML document (styles included) holding the given form sections, in order."""
    return _render(environment(override), DOCUMENT_TEMPLATE, sections=sections, title=title)


def render_template(name: str, override: Path | None = None, **context: object) -> str:
    """Any template of the environment (e.g. ``cover.html.j2``) rendered with ``context``."""
    return _render(environment(override), name, **context)


def _render(env: jinja2.Environment, name: str, **context: object) -> str:
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError.at(f"模板语法错误：{error.message}", error.filename or name,
                               error.lineno) from None
    except jinja2.TemplateNotFound as error:
        raise TemplateError.at(f"找不到模板文件「{error.name}」", name) from None
    except Exception as error:  # an error raised while a template runs: name its file and line
        where = _template_frame(error)
        if where is None:
            raise
        raise TemplateError.at(f"模板运行出错：{error}", where[0], where[1]) from None


def _template_frame(error: Exception) -> tuple[str, int] | None:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith(".j2")]
    return (frames[-1].filename, frames[-1].lineno or 0) if frames else None

"""jixiao（绩效）: performance-target forms from YAML/JSON to DOCX, XLSX, PDF and HTML.

The Python API beside the CLI::

    import jixiao

    forms = jixiao.load("samples/wangniudun-union-2024-project-approval.yaml").all_forms()
    pdf_bytes = jixiao.render(forms[0], "pdf")
    jixiao.render_to_path(forms, "output/all.docx")     # several forms: one document

Layers depend one way: model ← loader; model ← layout (Jinja) → grid → writers; render ties them;
cli is a thin shell over render and output.
"""

from .errors import FontError, InputError, JixiaoError, OutputError, Problem, TemplateError
from .loader import FormFile, LoadedForm, load
from .model import (
    DepartmentApprovalForm,
    DepartmentForm,
    ProjectApprovalForm,
    ProjectForm,
)
from .render import Rendered, document, render, render_to_path

__version__ = "0.1.0"

__all__ = [
    "DepartmentApprovalForm", "DepartmentForm", "FontError", "FormFile", "InputError", "JixiaoError",
    "LoadedForm", "OutputError", "Problem", "ProjectApprovalForm", "ProjectForm", "Rendered",
    "TemplateError", "document", "load", "render", "render_to_path", "__version__",
]

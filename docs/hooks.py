"""MkDocs hooks (``mkdocs.yml``: ``hooks``): the generated sections of the reference and troubleshooting pages.

Each page that holds a marker ``<!-- generated: … -->`` gets its section from :mod:`secret_chain.ops.site` while
the site is built, so those sections are made from the code on every build and are never committed.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import griffe

from secret_chain.ops import site

# The provider SDKs warn about their own deprecated resources when the examples are evaluated (pyproject.toml's pytest
# filterwarnings ignores the same): not a problem of these pages.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pulumi.*")


def on_page_markdown(markdown: str, *, page: Any, config: Any, files: Any) -> str:
    """Replace the page's generated markers by their sections (MkDocs' ``on_page_markdown`` event)."""
    return site.expand(markdown, page.file.src_uri)


_DOUBLE = re.compile(r"(?<!`)``(?!`)")
_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj|const):`~?(?:[\w.]+\.)?([^`]+)`")


class SphinxRoles(griffe.Extension):
    """A griffe extension (``mkdocs.yml``: mkdocstrings' ``extensions``): Sphinx roles in docstrings as code spans.

    The package's docstrings name other objects as ``:class:`~secret_chain.kube.X``` (reST, which the schema's
    descriptions turn into Markdown the same way: :func:`secret_chain.provider.markdown`); Markdown has no roles.
    """

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite the roles of every object's docstring (griffe's ``on_object`` event, once the package is loaded)."""
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(lambda m: f"`{m.group(1)}`", obj.docstring.value)
            obj.docstring.value = _DOUBLE.sub("`", obj.docstring.value)

"""Sphinx extension: the API reference pages, one directive per module.

A page of ``book/api/`` writes, under a heading of its own,

.. code-block:: rst

   .. gm-api:: gmtheory.geometry.curves

and gets an :mod:`~sphinx.ext.autosummary` table of the public objects that
module defines, followed by their ``autofunction``/``autoclass`` entries (and a
``py:data`` entry for each documented constant).  Nothing is generated on disk
and no list of names is kept by hand: the names come from the package itself.

Every object is documented once, at its *public* path, the shortest name a
chapter can write: ``gmtheory.geodesic`` (``gm.geodesic``), not
``gmtheory.geometry.geodesics.geodesic``; ``gmtheory.ot.sinkhorn``;
``gmtheory.models.train_critic`` where ``gmtheory`` does not re-export it.
A cross-reference to any other public path of the same object (for instance
``gmtheory.models.DigitsVAE`` for ``gmtheory.DigitsVAE``) is resolved to that
entry.

At the end of reading, an object that is public (reachable as
``gmtheory.<package>.<name>``) but that no page documents is reported as a
warning, so the strict build fails until a page lists its module.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode

logger = logging.getLogger(__name__)

#: the packages a reader imports from, most public first: an object is
#: documented at the first of them that exports it
PUBLIC_PACKAGES = ("gmtheory", "gmtheory.ot", "gmtheory.models", "gmtheory.geometry",
                   "gmtheory.book")


def _packages() -> list[ModuleType]:
    return [importlib.import_module(name) for name in PUBLIC_PACKAGES]


def public_path(name: str, obj: Any) -> str | None:
    """The dotted path at which ``obj`` is documented, or None if not exported.

    That is ``<package>.<name>`` for the first package of
    :data:`PUBLIC_PACKAGES` whose attribute ``name`` is ``obj`` itself.
    """
    for package in _packages():
        try:
            if getattr(package, name) is obj:
                return f"{package.__name__}.{name}"
        except AttributeError:
            continue
    return None


def _is_constant(name: str) -> bool:
    return name.isupper() and not name.startswith("_")


def module_objects(module_name: str) -> Iterator[tuple[str, str, Any, list[str]]]:
    """``(kind, public path, object, doc lines)`` of what a module defines and exports.

    ``kind`` is ``"class"``, ``"function"`` or ``"data"``.  Functions and
    classes are those whose ``__module__`` is this module; constants are the
    module's upper-case names carrying a ``#:`` doc comment (their doc lines
    are returned; for the others the docstring is autodoc's business).
    Objects in source order.
    """
    module = importlib.import_module(module_name)
    attr_docs = ModuleAnalyzer.for_module(module_name).find_attr_docs()
    found = []
    for name, obj in vars(module).items():
        if name.startswith("_"):
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            if obj.__module__ != module_name:
                continue
            kind, doc = ("class" if inspect.isclass(obj) else "function"), []
            line = inspect.getsourcelines(obj)[1]
        elif _is_constant(name) and ("", name) in attr_docs:
            kind, doc = "data", list(attr_docs[("", name)])
            line = _assignment_line(module, name)
        else:
            continue
        path = public_path(name, obj)
        if path is not None:
            found.append((line, kind, path, obj, doc))
    for _, kind, path, obj, doc in sorted(found, key=lambda item: item[0]):
        yield kind, path, obj, doc


def _assignment_line(module: ModuleType, name: str) -> int:
    """Line of the module-level assignment of ``name`` (0 if not found)."""
    pattern = re.compile(rf"^{re.escape(name)}\s*[:=]")
    for number, line in enumerate(inspect.getsource(module).splitlines(), start=1):
        if pattern.match(line):
            return number
    return 0


def public_objects() -> dict[str, str]:
    """Every public object of the package: public path -> defining module.

    Functions and classes defined in ``gmtheory``, and documented constants,
    reachable from one of :data:`PUBLIC_PACKAGES`.
    """
    found: dict[str, str] = {}
    for package in _packages():
        names = set(vars(package)) | set(getattr(package, "PLOTTING", ()))
        for name in sorted(names):
            if name.startswith("_"):
                continue
            obj = getattr(package, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                if not obj.__module__.startswith("gmtheory"):
                    continue
                module = obj.__module__
            elif _is_constant(name):
                module = _defining_module(package, name)
                if module is None:
                    continue
            else:
                continue
            path = public_path(name, obj)
            if path is not None:
                found.setdefault(path, module)
    return found


def _defining_module(package: ModuleType, name: str) -> str | None:
    """The module (``package`` or one of its submodules) whose source documents ``name``."""
    paths = getattr(package, "__path__", None) or []
    candidates = [package.__name__] + [
        f"{package.__name__}.{info.name}" for info in pkgutil.iter_modules(paths)]
    for module_name in candidates:
        if ("", name) in ModuleAnalyzer.for_module(module_name).find_attr_docs():
            return module_name
    return None


class GmApiDirective(SphinxDirective):
    """``.. gm-api:: <module>``: summary table and entries of a module's public objects."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        module_name = self.arguments[0]
        objects = list(module_objects(module_name))
        if not objects:
            logger.warning("gm-api: module %s defines no public object", module_name,
                           location=self.get_location(), type="gmtheory", subtype="api")
            return []
        # a target for :mod: references to the module (resolved in _resolve)
        anchor = f"module-{module_name}"
        _listed(self.env).setdefault(self.env.docname, {})[module_name] = anchor
        # the table lists functions and classes: autosummary would describe a
        # constant by its type's docstring ("Convert a string or number to a
        # floating point number"), not by its #: comment, shown just below
        summarised = [path for kind, path, _, _ in objects if kind != "data"]
        lines = [".. autosummary::", "   :nosignatures:", ""] if summarised else []
        lines += [f"   ~{path}" for path in summarised]
        lines.append("")
        for kind, path, obj, doc in objects:
            if kind == "data":
                lines += [f".. py:data:: {path}", f"   :value: {obj!r}", ""]
                lines += [f"   {line}" if line else "" for line in doc]
            else:
                lines.append(f".. auto{kind}:: {path}")
            lines.append("")
        node = nodes.container(ids=[anchor], classes=["gm-api"])
        self.state.nested_parse(StringList(lines, source=f"<gm-api {module_name}>"),
                                self.content_offset, node)
        return [node]


def _listed(env: Any) -> dict[str, dict[str, str]]:
    """``docname -> {module: anchor}`` of the ``gm-api`` directives read so far."""
    if not hasattr(env, "gm_api_modules"):
        env.gm_api_modules = {}
    return env.gm_api_modules


def _purge(app: Sphinx, env: Any, docname: str) -> None:
    _listed(env).pop(docname, None)


def _merge(app: Sphinx, env: Any, docnames: set[str], other: Any) -> None:
    _listed(env).update(_listed(other))


def _check_complete(app: Sphinx, env: Any) -> None:
    """Warn about every public object whose module no ``gm-api`` lists."""
    listed = {module for modules in _listed(env).values() for module in modules}
    if not listed:
        return  # a build without the API pages
    for path, module in sorted(public_objects().items()):
        if module not in listed:
            logger.warning("public object %s (defined in %s) is in no API page: add "
                           "`.. gm-api:: %s` to a page of book/api/", path, module, module,
                           type="gmtheory", subtype="api")


def _resolve(app: Sphinx, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve a Python reference that names a gmtheory object another way.

    * ``:mod:`` of a module a ``gm-api`` directive lists: its place on the page
      (the full name, or its tail, e.g. ``plotting``);
    * another public path of a documented object (``gmtheory.models.DigitsVAE``
      for ``gmtheory.DigitsVAE``);
    * a bare name (``mlp``) that exactly one public package exports.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip(".~")
    if node["reftype"] == "mod":
        for docname, modules in _listed(env).items():
            for module, anchor in modules.items():
                if module == target or module.endswith(f".{target}"):
                    return make_refnode(app.builder, node["refdoc"], docname, anchor,
                                        contnode, module)
        return None
    modname = node.get("py:module") or ""
    candidates = [target, f"{modname}.{target}"] if modname else [target]
    if "." not in target:
        candidates += [f"{package}.{target}" for package in PUBLIC_PACKAGES]
    for dotted in candidates:
        if not dotted.startswith("gmtheory."):
            continue
        obj = _import_dotted(dotted)
        if obj is None or inspect.ismodule(obj):
            continue
        path = public_path(dotted.rsplit(".", 1)[-1], obj)
        if path is None:
            continue
        return env.get_domain("py").resolve_xref(
            env, node["refdoc"], app.builder, node["reftype"], path, node, contnode)
    return None


def _import_dotted(dotted: str) -> Any:
    parts = dotted.split(".")
    try:
        obj: Any = importlib.import_module(parts[0])
        for part in parts[1:]:
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return obj


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx.ext.autodoc")
    app.setup_extension("sphinx.ext.autosummary")
    app.add_directive("gm-api", GmApiDirective)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-check-consistency", _check_complete)
    app.connect("missing-reference", _resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True,
            "env_version": 1}

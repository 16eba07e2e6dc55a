"""The package's house rules, checked: lint, light imports, one extension point.

- ``ruff`` (configured in ``pyproject.toml``) reports nothing on the package,
  the tests and the benchmarks;
- ``import gmtheory.ot`` loads neither matplotlib nor scikit-learn (a fresh
  interpreter, so earlier imports in this session cannot hide it);
- inside ``gmtheory`` no module imports another's underscore name (and
  ``gmtheory.ot`` and its users import no underscore module), and no
  code outside a metric class calls ``._metric(`` or switches on a metric's
  type: derived geometry goes through the public ``Metric.evaluate*``
  methods.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "gmtheory"


def _ruff() -> str:
    here = Path(sys.executable).with_name("ruff")
    found = str(here) if here.exists() else shutil.which("ruff")
    if found is None:
        pytest.fail("ruff is not installed: pip install -r requirements.txt")
    return found


def test_ruff_is_clean():
    out = subprocess.run(
        [_ruff(), "check", "--no-cache", "src", "tests", "benchmarks", "conftest.py", "_ext"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("module", ["gmtheory.ot", "gmtheory.geometry"])
def test_light_imports_do_not_load_matplotlib_or_sklearn(module):
    code = (
        f"import sys, {module}\n"
        "heavy = sorted(m for m in ('matplotlib', 'sklearn') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    assert out.stdout.strip() == "", f"import {module} loaded {out.stdout.strip()}"


def test_plotting_helpers_load_on_first_use():
    code = ("import sys, gmtheory as gm\n"
            "assert 'matplotlib' not in sys.modules\n"
            "gm.new_figure\n"
            "assert 'matplotlib' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_imports_another_modules_private_name():
    bad = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (
                    node.level or (node.module or "").startswith("gmtheory")):
                bad += [f"{path.relative_to(ROOT)}:{node.lineno} {a.name}"
                        for a in node.names if a.name.startswith("_")]
    assert not bad, "private names imported across modules: " + ", ".join(bad)


#: the optimal-transport package and the models that call it; they import
#: public modules only (``gmtheory.validation``, ``gmtheory.ot.inputs``, ...)
OT_AND_USERS = sorted((PACKAGE / "ot").glob("*.py")) + [
    PACKAGE / "models" / f"{name}.py"
    for name in ("compare", "critics", "semidiscrete_gan", "wae", "wgan")]


def test_ot_and_its_users_import_no_private_module():
    bad = []
    for path in OT_AND_USERS:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                parts = (node.module or "").split(".")
                if any(part.startswith("_") for part in parts):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}")
    assert not bad, "private modules imported: " + ", ".join(bad)


def test_metric_internals_are_not_reached_from_outside():
    bad = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        for k, line in enumerate(text.splitlines(), 1):
            if re.search(r"\._metric\(|type\(\s*metric\s*\)\s+is|isinstance\([^)]*PullbackMetric",
                         line):
                bad.append(f"{path.relative_to(ROOT)}:{k}: {line.strip()}")
    assert not bad, "\n".join(bad)

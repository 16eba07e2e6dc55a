"""The API reference pages list every public object, at the name a chapter writes.

The pages of ``book/api/`` hold one ``.. gm-api:: <module>`` directive per
module (``_ext/api_reference.py``); the strict build warns about a public
object whose module no page lists.  This checks the same without a build, and
that each object is documented at its shortest public path.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

import gmtheory as gm

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "book" / "api"
_spec = importlib.util.spec_from_file_location("api_reference", ROOT / "_ext" / "api_reference.py")
api_reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api_reference)

LISTED = [m for page in sorted(API.glob("*.rst"))
          for m in re.findall(r"^\.\. gm-api::\s*(\S+)\s*$", page.read_text("utf-8"),
                              re.MULTILINE)]


def test_api_pages_are_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text("utf-8")
    for page in API.glob("*.rst"):
        assert f"book/api/{page.stem}" in toc, f"{page.name} is not in _toc.yml"


def test_every_public_object_is_on_a_page():
    missing = {path: module for path, module in api_reference.public_objects().items()
               if module not in LISTED}
    assert not missing, f"public objects whose module no book/api page lists: {missing}"


def test_each_module_is_listed_once_and_defines_something():
    assert len(LISTED) == len(set(LISTED)), "a module is listed twice"
    for module in LISTED:
        assert list(api_reference.module_objects(module)), f"{module}: nothing public"


@pytest.mark.parametrize(("name", "obj", "path"), [
    ("geodesic", gm.geodesic, "gmtheory.geodesic"),            # re-exported at the top
    ("DigitsVAE", gm.models.DigitsVAE, "gmtheory.DigitsVAE"),
    ("sinkhorn", gm.ot.sinkhorn, "gmtheory.ot.sinkhorn"),
    ("train_wgan", gm.models.train_wgan, "gmtheory.models.train_wgan"),
    ("new_figure", gm.book.new_figure, "gmtheory.new_figure"),  # loaded lazily
    ("geodesic_acceleration", None, None),                     # not exported
])
def test_public_path_is_the_shortest_name(name, obj, path):
    if obj is None:
        from gmtheory.geometry.connection import geodesic_acceleration as obj
    assert api_reference.public_path(name, obj) == path


def test_constants_are_documented_with_their_comment():
    [(_, path, value, doc)] = [item for item in api_reference.module_objects(
        "gmtheory.ot.inputs") if item[0] == "data"]
    assert (path, value) == ("gmtheory.ot.WEIGHT_TOL", gm.ot.WEIGHT_TOL)
    assert "weight vector" in " ".join(doc)

"""tools/check-layers.py against small trees: it must reject upward and
same-layer includes and files outside the map, and accept the rest."""

import importlib.util
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = importlib.util.spec_from_file_location(
    "check_layers", os.path.join(HERE, "..", "..", "tools", "check-layers.py"))
check_layers = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(check_layers)

MAP = """# Architecture

## Module map

| layer | module | what | knows about |
|---|---|---|---|
| 1 | `hv/lib` | library | nothing |
| 2 | `hv/core`, `hv/mm` | infrastructure | lib |
| 3 | `hv` | main | everything |

## Next section

| 9 | `hv/ignored` | a table outside the map is not read | |
"""


def tree(tmp_path, files):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "architecture.md").write_text(MAP)
    for path, text in files.items():
        p = tmp_path / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return str(tmp_path)


def test_downward_includes_pass(tmp_path):
    root = tree(tmp_path, {
        "hv/lib/a.h": "",
        "hv/core/log.c": '#include "hv/lib/a.h"\n#include "hv/core/log.h"\n',
        "hv/core/log.h": "#include <stdint.h>\n",
        "hv/main.c": '#include "hv/core/log.h"\n#include "hv/mm/mm.h"\n',
        "hv/mm/mm.h": '#include "hv/lib/a.h"\n',
    })
    problems, modules, edges = check_layers.check(root)
    assert problems == []
    assert modules == 4 and edges == 4


@pytest.mark.parametrize("path,text,why", [
    ("hv/lib/b.c", '#include "hv/core/log.h"\n', "hv/lib (layer 1) may not use hv/core (layer 2)"),
    ("hv/core/c.c", '#include "hv/mm/mm.h"\n', "hv/core (layer 2) may not use hv/mm (layer 2)"),
    ("hv/mm/d.c", '  #  include "hv/x.h"\n', "hv/mm (layer 2) may not use hv (layer 3)"),
    ("net/e.c", "", "folder not in the module map"),
])
def test_violations_are_reported(tmp_path, path, text, why):
    root = tree(tmp_path, {"hv/core/log.h": "", "hv/mm/mm.h": "", "hv/x.h": "", path: text})
    problems, _, _ = check_layers.check(root)
    assert len(problems) == 1 and why in problems[0], problems

#!/usr/bin/env python3
"""Checks the include graph between modules against the layer table in
docs/architecture.md ("Module map"): a file may include headers of its own
module and of modules in lower layers only, so the graph has no cycles.

A module is a folder prefix from the table; a file belongs to the longest
prefix that matches its path. Exits 1 and lists every offending include, or
files in folders the table does not name."""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_DIRS = ("boot", "hv", "drivers", "net", "migrate")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# | layer | `module/` | ...
ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*((?:`[^`]+`(?:,\s*)?)+)\s*\|")


def read_layers(root):
    doc = os.path.join(root, "docs", "architecture.md")
    layers = {}
    in_map = False
    for line in open(doc, encoding="utf-8"):
        if line.startswith("## "):
            in_map = line.strip() == "## Module map"
            continue
        m = ROW.match(line) if in_map else None
        if m:
            for mod in re.findall(r"`([^`]+)`", m.group(2)):
                layers[mod.rstrip("/")] = int(m.group(1))
    if not layers:
        sys.exit(f"check-layers: no layer table under '## Module map' in {doc}")
    return layers


def module_of(path, layers):
    best = None
    for mod in layers:
        if (path == mod or path.startswith(mod + "/")) and (best is None or len(mod) > len(best)):
            best = mod
    return best


def sources(root):
    for top in SOURCE_DIRS:
        for d, dirs, files in os.walk(os.path.join(root, top)):
            dirs.sort()
            for f in sorted(files):
                if f.endswith((".c", ".h", ".S")):
                    yield os.path.relpath(os.path.join(d, f), root)


def check(root):
    """Returns (problems, number of modules, number of dependencies)."""
    layers = read_layers(root)
    problems = []
    edges = set()
    for path in sources(root):
        mod = module_of(path, layers)
        if mod is None:
            problems.append(f"{path}: folder not in the module map")
            continue
        text = open(os.path.join(root, path), encoding="utf-8").read()
        for inc in INCLUDE.findall(text):
            if not os.path.exists(os.path.join(root, inc)):
                continue  # a system or third-party header, or a sibling by bare name
            target = module_of(inc, layers)
            if target is None or target == mod:
                continue
            edges.add((mod, target))
            if layers[target] >= layers[mod]:
                problems.append(f"{path}: includes {inc}: {mod} (layer {layers[mod]}) may not "
                                f"use {target} (layer {layers[target]})")
    return problems, len(layers), len(edges)


def main():
    problems, modules, edges = check(sys.argv[1] if len(sys.argv) > 1 else ROOT)
    for p in problems:
        print(p)
    if problems:
        print(f"check-layers: {len(problems)} problem(s); see docs/architecture.md, Module map")
        return 1
    print(f"check-layers: {modules} modules, {edges} dependencies, all downward")
    return 0


if __name__ == "__main__":
    sys.exit(main())

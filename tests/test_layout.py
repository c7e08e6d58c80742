"""The layout's rules hold: the core imports no UI library, modules stay readable, folders stay small."""

from __future__ import annotations

import ast
from pathlib import Path

from mpg import config

PRODUCT = ["mpg", "api", "app_pages"]
UI = {"streamlit", "altair"}


def modules(folder: str) -> list[Path]:
    return sorted((config.PROJ_ROOT / folder).rglob("*.py"))


def imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_the_core_imports_no_ui_library_and_nothing_of_the_app():
    for path in modules("mpg"):
        assert not imported(path) & (UI | {"app_pages", "api"}), path


def product_lines() -> dict[str, int]:
    """Lines per module of the product code (what `wc -l` counts)."""
    paths = [p for folder in PRODUCT for p in modules(folder)]
    paths += [config.PROJ_ROOT / "streamlit_app.py", config.PROJ_ROOT / "gunicorn.conf.py"]
    return {str(p.relative_to(config.PROJ_ROOT)): p.read_text().count("\n") for p in paths}


def test_no_product_module_passes_300_lines():
    assert {path: n for path, n in product_lines().items() if n > 300} == {}


def test_the_product_code_is_shorter_than_when_the_layout_issue_was_filed():
    # 6,298 lines then (wc -l); library mechanisms were to replace hand-written plumbing, not add to it.
    assert sum(product_lines().values()) < 6_298


def test_no_folder_holds_more_than_12_modules():
    folders = {p.parent for folder in PRODUCT for p in modules(folder)}
    crowded = {str(f.relative_to(config.PROJ_ROOT)): n for f in folders if (n := len(list(f.glob("*.py")))) > 12}
    assert crowded == {}


def test_the_checks_see_a_violation():
    sample = config.PROJ_ROOT / "mpg" / "__init__.py"
    assert "importlib" in imported(sample)
    assert imported(config.PROJ_ROOT / "app_pages" / "shared.py") & UI == {"streamlit"}

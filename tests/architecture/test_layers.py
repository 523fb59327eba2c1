"""The package layout holds by test, not by convention: the layer contract and light imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "survey", "storage", "sources", "scoring", "reporting", "app", "views", "cli")
#: What each package's pure side must not pull in when imported.
HEAVY = ("sqlalchemy", "argon2", "pyreadstat", "openpyxl", "streamlit", "psycopg", "plotly")


def _loaded_after_import(module: str) -> set[str]:
    code = f"import sys; import {module}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


@pytest.mark.parametrize("package", ["core", "survey", "scoring"])
def test_the_pure_packages_load_no_database_file_format_or_page(package: str) -> None:
    assert _loaded_after_import(package) == set()


def test_the_layer_contract_is_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text("utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def test_no_package_reaches_into_another_packages_private_modules() -> None:
    """Across packages only the public ``__init__`` is imported (``from storage import Store``,
    never ``from storage._store import Store``)."""
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, module in _imports(path):
                parts = module.split(".")
                crosses = parts[0] in PACKAGES and parts[0] != package
                if crosses and len(parts) > 1 and parts[1].startswith("_"):
                    offenders.append(f"{path.relative_to(ROOT)}:{line}: {module}")
    assert offenders == []

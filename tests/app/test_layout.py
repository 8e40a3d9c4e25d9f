"""The package layout: feature packages depend one way, and the course core depends on none."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "training"
# Allowed imports between feature packages: everything else is a new dependency to justify.
ALLOWED = {
    "norm": set(),
    "auth": set(),
    "audit": {"auth"},
    "language": {"auth"},
    "assignments": {"auth"},
    "content": {"norm"},
    "course": set(),
    "jobs": {"audit", "auth"},
    "employees": {"assignments", "audit", "auth", "course", "jobs", "language", "notifications"},
    "lessons": {"assignments", "course"},
    "quizzes": {"audit", "auth", "content", "course", "norm"},
    "banks": {"audit", "auth", "content", "course", "norm", "quizzes"},
    "api": {"audit", "auth", "course", "reports"},
    "xapi": {"audit", "auth", "course", "notifications", "practice", "quizzes", "refresher"},
    "practice": {"auth", "course", "quizzes"},
    "phrasebook": {"content", "course", "norm"},
    "refresher": {"auth", "course", "quizzes"},
    "reports": {"assignments", "audit", "auth", "course", "jobs", "quizzes"},
    "notifications": {"assignments", "audit", "auth", "course", "jobs", "language", "reports"},
    "revisions": {
        "assignments",
        "audit",
        "auth",
        "banks",
        "content",
        "course",
        "employees",
        "jobs",
        "language",
        "lessons",
        "norm",
        "notifications",
        "quizzes",
        "reports",
    },
}


def _packages() -> set[str]:
    return {
        p.name
        for p in ROOT.iterdir()
        if p.is_dir() and (p / "__init__.py").exists() and p.name != "migrations"
    }


def _imports() -> dict[str, dict[str, set[str]]]:
    """Return, per package, the other feature packages it imports and from which files."""
    packages = _packages()
    found: dict[str, dict[str, set[str]]] = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if len(parts) < 2 or parts[0] not in packages:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                bits = name.split(".")
                if bits[0] == "training" and len(bits) > 1 and parts[0] != bits[1] in packages:
                    found.setdefault(parts[0], {}).setdefault(bits[1], set()).add(
                        str(path.relative_to(ROOT))
                    )
    return found


def test_every_feature_package_is_in_the_layout():
    assert _packages() == set(ALLOWED)


def test_feature_packages_import_only_what_the_layout_allows():
    extra = {
        f"{package} -> {target} ({', '.join(sorted(files))})"
        for package, targets in _imports().items()
        for target, files in targets.items()
        if target not in ALLOWED[package]
    }
    assert extra == set()


def test_the_allowed_imports_have_no_cycle():
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(package: str, path: tuple[str, ...]) -> None:
        assert package not in visiting, f"cycle: {' -> '.join((*path, package))}"
        if package in done:
            return
        visiting.add(package)
        for target in ALLOWED[package]:
            visit(target, (*path, package))
        visiting.discard(package)
        done.add(package)

    for package in ALLOWED:
        visit(package, ())

"""The apps depend on each other in one direction only:

    core ← accounts ← bookings ← fleet, billing ← notifications

An app may import the apps below it, never one beside or above it (fleet and billing do
not know each other; bookings knows neither). A lower app reaches a higher one only through
the lifecycle signals and the ride-page panel registry (see docs/architecture.md)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# app -> (its folder, the apps it may import)
LAYERS = {
    "core": ("core", set()),
    "accounts": ("project/accounts", {"core"}),
    "bookings": ("bookings", {"core", "accounts"}),
    "fleet": ("fleet", {"core", "accounts", "bookings"}),
    "billing": ("billing", {"core", "accounts", "bookings"}),
    "notifications": ("notifications", {"core", "accounts", "bookings", "fleet", "billing"}),
}
# Dotted module prefixes -> app; `project` alone is the root (settings, urls, API root).
MODULES = {
    "core": "core",
    "project.accounts": "accounts",
    "bookings": "bookings",
    "fleet": "fleet",
    "billing": "billing",
    "notifications": "notifications",
    "project": "project",
}
APP_LABELS = {"accounts", "bookings", "fleet", "billing", "notifications"}


def app_of(module: str) -> str | None:
    for prefix in sorted(MODULES, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return MODULES[prefix]
    return None


DYNAMIC_IMPORTS = {"import_module", "import_string", "__import__"}  # by a dotted path in a string


def _constant(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def imported_apps(source: str, package: str = "") -> list[tuple[int, str, str]]:
    """(line, what, app) for each import of a project app: `import`/`from` (relative ones
    resolved against `package`), `importlib.import_module`/`import_string`/`__import__` with a
    literal path, and `apps.get_model("label", …)` (label positional or as `app_label=`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                modules = [".".join([*base, node.module] if node.module else base)]
            elif node.module:
                modules = [node.module]
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in DYNAMIC_IMPORTS and node.args and (path := _constant(node.args[0])):
                modules = [path]
            elif name == "get_model":
                label = _constant(node.args[0]) if node.args else None
                label = label or next(
                    (_constant(k.value) for k in node.keywords if k.arg == "app_label"), None
                )
                if label and label.split(".")[0] in APP_LABELS:
                    label = label.split(".")[0]
                    found.append((node.lineno, f"get_model({label!r})", label))
        for module in modules:
            if app := app_of(module):
                found.append((node.lineno, module, app))
    return found


def violations(app: str, source: str, package: str = "") -> list[str]:
    allowed = LAYERS[app][1] | {app}
    return [
        f"line {line}: {what} ({target})"
        for line, what, target in imported_apps(source, package)
        if target not in allowed
    ]


def package_of(path: Path) -> str:
    """The dotted package a module file is in (for its relative imports)."""
    return ".".join(path.relative_to(ROOT).parent.parts)


@pytest.mark.parametrize("app", LAYERS)
def test_an_app_imports_only_the_apps_below_it(app):
    folder = ROOT / LAYERS[app][0]
    problems = [
        f"{path.relative_to(ROOT)} {problem}"
        for path in sorted(folder.rglob("*.py"))
        for problem in violations(app, path.read_text(), package_of(path))
    ]
    assert problems == [], f"{app} imports against the direction of dependencies"


@pytest.mark.parametrize(
    ("app", "source", "expected"),
    [
        ("bookings", "from billing.models import Payment", ["line 1: billing.models (billing)"]),
        ("fleet", "def f():\n    import billing.services", ["line 2: billing.services (billing)"]),
        ("billing", "from fleet import dispatch", ["line 1: fleet (fleet)"]),
        ("core", "from project.accounts.models import User", ["line 1: project.accounts.models (accounts)"]),
        ("accounts", "from project.urls import urlpatterns", ["line 1: project.urls (project)"]),
        ("notifications", "apps.get_model('billing', 'Payment')", []),
        (
            "bookings",
            "Model = apps.get_model('billing', 'Transaction')",
            ["line 1: get_model('billing') (billing)"],
        ),
        (
            "notifications",
            "from billing.signals import payment_changed\nfrom core.errors import DomainError",
            [],
        ),
        ("billing", "importlib.import_module('fleet.dispatch')", ["line 1: fleet.dispatch (fleet)"]),
        (
            "bookings",
            "import_string('billing.gateway.Gateway')",
            ["line 1: billing.gateway.Gateway (billing)"],
        ),
        ("core", "__import__('bookings')", ["line 1: bookings (bookings)"]),
        (
            "bookings",
            "apps.get_model(app_label='fleet', model_name='DriverProfile')",
            ["line 1: get_model('fleet') (fleet)"],
        ),
    ],
)
def test_the_check_catches_an_import_against_the_direction(app, source, expected):
    assert violations(app, source) == expected


def test_relative_imports_are_resolved_before_they_are_checked():
    assert violations("accounts", "from .. import urls", package="project.accounts") == [
        "line 1: project (project)"
    ]
    assert violations("accounts", "from . import tokens", package="project.accounts") == []
    assert violations("accounts", "from ..urls import urlpatterns", package="project.accounts") == [
        "line 1: project.urls (project)"
    ]

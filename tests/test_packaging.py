"""What an installed partnerbot carries: the wheel has the manifest and the
migrations, an installed copy prints the manifest and migrates a database, and
every third-party module our packages import is a declared dependency."""

from __future__ import annotations

import ast
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import yaml

from storage.models import Base

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["bot", "commands", "core", "jobs", "storage", "views"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """`pip wheel --no-deps .` of a copy of the checkout (the build leaves no build/ in the repo)."""
    source = tmp_path_factory.mktemp("source")
    for name in ["pyproject.toml", "README.md", "manifest.yml"]:
        shutil.copy2(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(source), "-w", str(out)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    (built,) = out.glob("partnerbot-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed into a directory of its own (a pure-Python wheel installs by unpacking)."""
    site = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def run_installed(site: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """`partnerbot ARGS` from the installed copy, in a directory that is not the checkout."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PARTNERBOT_", "DATABASE_URL"))}
    environment.update(PYTHONPATH=str(site), **env)
    return subprocess.run([sys.executable, "-c", "import sys; from bot.cli import main; sys.exit(main())", *args],
                          cwd=cwd, env=environment, capture_output=True, text=True, timeout=120)


def test_wheel_carries_manifest_and_migrations(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert archive.read("bot/manifest.yml") == (ROOT / "manifest.yml").read_bytes()
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "partnerbot = bot.cli:main" in archive.read(entry_points).decode()
    assert "storage/migrations/env.py" in names
    assert "storage/migrations/script.py.mako" in names
    revisions = {p.name for p in (ROOT / "storage/migrations/versions").glob("*.py")}
    assert revisions and {f"storage/migrations/versions/{r}" for r in revisions} <= names


def test_installed_copy_prints_the_manifest(installed, tmp_path):
    where = run_installed(installed, "--help", cwd=tmp_path)
    probe = subprocess.run([sys.executable, "-c", "import bot; print(bot.__file__)"], cwd=tmp_path,
                           env={**os.environ, "PYTHONPATH": str(installed)}, capture_output=True, text=True)
    assert Path(probe.stdout.strip()).is_relative_to(installed), "the test must run the installed copy"
    assert where.returncode == 0, where.stderr

    printed = run_installed(installed, "manifest", cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert yaml.safe_load(printed.stdout) == yaml.safe_load((ROOT / "manifest.yml").read_text())

    http = run_installed(installed, "manifest", "--http", "https://partners.example.com", cwd=tmp_path)
    assert http.returncode == 0, http.stderr
    assert yaml.safe_load(http.stdout)["settings"]["event_subscriptions"]["request_url"] == (
        "https://partners.example.com/slack/events")


def test_installed_copy_migrates_a_database(installed, tmp_path):
    database = tmp_path / "installed.db"
    upgraded = run_installed(installed, "db", "upgrade", cwd=tmp_path, DATABASE_URL=f"sqlite:///{database}")
    assert upgraded.returncode == 0, upgraded.stderr
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("select name from sqlite_master where type = 'table'")}
        (head,) = connection.execute("select version_num from alembic_version").fetchone()
    assert set(Base.metadata.tables) <= tables
    newest = max(p.name[:4] for p in (ROOT / "storage/migrations/versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    assert head == newest


def test_alembic_ini_migrates_the_settings_database(tmp_path):
    """The contributors' door (`alembic`, `make migration`): alembic.ini finds the
    migrations and env.py takes the database from DATABASE_URL."""
    database = tmp_path / "contributor.db"
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    alembic = [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini")]
    upgraded = subprocess.run([*alembic, "upgrade", "head"], cwd=tmp_path, env=environment,
                              capture_output=True, text=True, timeout=120)
    assert upgraded.returncode == 0, upgraded.stderr
    current = subprocess.run([*alembic, "current"], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)
    assert "(head)" in current.stdout, current.stdout + current.stderr


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    specs += [s for extra, group in project.get("optional-dependencies", {}).items() if extra != "test" for s in group]
    return {_normal(re.match(r"[A-Za-z0-9._-]+", spec).group()) for spec in specs}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _third_party_imports() -> dict[str, set[str]]:
    imports: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.partition(".")[0]
                    if top not in sys.stdlib_module_names and top not in PACKAGES and top != "__future__":
                        imports.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return imports


def test_every_imported_package_is_declared():
    """A module our packages import is provided by a distribution pyproject.toml
    names (runtime or the postgres extra), not one that happens to come along."""
    declared = _declared()
    providers = packages_distributions()
    imports = _third_party_imports()
    assert "slack_bolt" in imports and "sqlalchemy" in imports  # the walk sees imports at all
    undeclared = {module: sorted(files) for module, files in imports.items()
                  if not declared & {_normal(d) for d in providers.get(module, [])}}
    assert undeclared == {}

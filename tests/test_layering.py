"""The layers hold: import-linter's contracts (pyproject.toml) are kept, they cover every
core module, and importing the whole core really loads no Textual or Rich."""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import t502_tui

ROOT = Path(__file__).resolve().parent.parent


def core_contract() -> dict[str, object]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = data["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if "textual" in c["forbidden_modules"])


def core_modules() -> list[str]:
    """Every module of the package outside the UI (and the package's own entry files)."""
    return sorted(f"t502_tui.{m.name}" for m in pkgutil.iter_modules(t502_tui.__path__)
                  if m.name not in ("ui", "__main__"))


def test_the_contracts_are_kept() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint is not None, "import-linter is one of the test extras"
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_the_core_contract_names_every_core_module() -> None:
    assert sorted(core_contract()["source_modules"]) == core_modules()  # type: ignore[arg-type]


def test_importing_the_core_loads_no_textual() -> None:
    # Rich is not checked here: httpx loads it for its own command line when click is
    # installed (import-linter brings click); the contract above holds t502's own imports.
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in core_modules())
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual')\n"
        + "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""

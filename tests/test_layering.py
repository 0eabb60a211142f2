"""The core (config, paths, service layer, CLI start-up) never imports Textual."""

from __future__ import annotations

import subprocess
import sys

CORE = ["t502_tui.config", "t502_tui.paths", "t502_tui.service", "t502_tui.cli",
        "t502_tui.debug_log", "t502_tui.terminal_text", "t502_tui.conversation",
        "t502_tui.model_catalog"]


def test_core_does_not_import_textual() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in CORE)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        + "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""

"""The walkthrough notebook runs from top to bottom, so it cannot rot.

Its code cells are run in order in a fresh interpreter (no Jupyter needed). Without the
benchmark cache it uses the embedded demo set, as a reader without the cache would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "walkthrough.ipynb"


def test_walkthrough_notebook_runs(tmp_path) -> None:
    cells = [c for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
             if c["cell_type"] == "code"]
    assert cells, "the walkthrough has no code"
    script = tmp_path / "walkthrough.py"
    script.write_text("\n\n".join("".join(c["source"]) for c in cells) + "\n", encoding="utf-8")
    env = {**os.environ, "FEATRISK_CACHE": str(tmp_path / "no-cache"), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "embedded demo set" in done.stdout and "walkthrough-report.html" in done.stdout

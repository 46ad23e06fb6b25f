"""Write docs/keys.md from the code: every key of every screen (see ui/keys.py).

Run from the repository root: ``python scripts/gen_keys.py`` (``--check`` only compares). It builds
the real main window and dialogs offscreen, on a temporary local store.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("PACKDESK_HOME", tempfile.mkdtemp(prefix="packdesk-keys-"))
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from ui.keys import keys_markdown

    app = QApplication.instance() or QApplication(["gen_keys"])
    text = keys_markdown()
    target = ROOT / "docs" / "keys.md"
    if "--check" in argv:
        same = target.exists() and target.read_text(encoding="utf-8") == text
        print("docs/keys.md is up to date" if same else "docs/keys.md is out of date: run scripts/gen_keys.py")
        return 0 if same else 1
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

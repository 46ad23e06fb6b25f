#!/usr/bin/env bash
# Build the installable one-folder bundle dist/packdesk/ (run it there: dist/packdesk/packdesk).
#   scripts/build_bundle.sh          build (PyInstaller, packaging/packdesk.spec), print time and size
# Needs the build extra (scripts/bootstrap.sh --test installs it). build/ and dist/ are git-ignored.
# The Windows build: docs/build.md.
set -euo pipefail
cd "$(dirname "$0")/.."

py=${PYTHON:-.venv/bin/python}
if ! "$py" -c 'import PyInstaller' 2>/dev/null; then
  echo "build_bundle: PyInstaller is not installed in $py: run scripts/bootstrap.sh --test" >&2
  exit 2
fi
start=$(date +%s)
rm -rf dist/packdesk
# --noconfirm: replace the previous bundle without asking; no --clean: PyInstaller's cache of
# analysed binaries (in the user cache folder) makes a rebuild faster and changes nothing in it.
"$py" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
  packaging/packdesk.spec
end=$(date +%s)
echo "build_bundle: dist/packdesk built in $((end - start)) s, $(du -sh dist/packdesk | cut -f1)"

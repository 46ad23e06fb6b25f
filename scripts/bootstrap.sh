#!/usr/bin/env bash
# Set up PackDesk on a fresh Debian/Ubuntu machine: system packages, a virtualenv, the project.
#   scripts/bootstrap.sh          app only
#   scripts/bootstrap.sh --test   app + test tools (xvfb, zbar, poppler, chromium + chromedriver, pytest,
#                                 ruff, mypy, selenium) and the bundle's build tools (PyInstaller,
#                                 binutils), which CI uses too
# Both also install the phone dashboard's charts library (Apache ECharts, web/package-lock.json)
# with npm when npm is on the machine (docs/dashboard-web.md).
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# Qt's xcb/offscreen runtime, a CJK font (Chinese must not render as boxes), sound for scan tones.
pkgs=(fonts-wqy-microhei libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-randr0
      libxcb-render-util0 libxcb-shape0 libxcb-image0 libxkbcommon0 libxkbcommon-x11-0 libegl1 libgl1
      libfontconfig1 libdbus-1-3 libpulse0)
# Tests rasterise PDFs and decode their barcodes, and run the GUI under a virtual screen;
# PyInstaller reads the bundle's libraries with objdump (binutils); the phone dashboard is tested
# in a real headless browser (chromium, driven by selenium through chromium-driver).
[ $want_test = 1 ] && pkgs+=(xvfb xauth poppler-utils zbar-tools binutils chromium chromium-driver)

if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: installing system packages: ${missing[*]}"
    sudo=""; [ "$(id -u)" != 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
else
  echo "bootstrap: not a Debian-like system; install these yourself if missing: ${pkgs[*]}" >&2
fi

py=${PYTHON:-python3}
"$py" -c 'import sys; assert sys.version_info >= (3, 11), "PackDesk needs Python 3.11 or newer"'
[ -x .venv/bin/python ] || "$py" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ $want_test = 1 ]; then
  .venv/bin/python -m pip install -q -e '.[test,build]'
else
  .venv/bin/python -m pip install -q -e .
fi

# The hub's /dashboard page serves web/node_modules/echarts/dist/echarts.min.js (never a CDN): the
# exact version pinned in web/package-lock.json. Installed again only when the lock file changed.
if command -v npm >/dev/null 2>&1; then
  if [ ! -f web/node_modules/echarts/dist/echarts.min.js ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    echo "bootstrap: installing the dashboard's charts library (npm ci in web/)"
    (cd web && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
  fi
else
  echo "bootstrap: npm not found: the hub's phone dashboard (/dashboard) will say its charts library is not installed." \
       "Install Node.js 20+ with npm and run this script again." >&2
fi
echo "bootstrap: ready (.venv)"

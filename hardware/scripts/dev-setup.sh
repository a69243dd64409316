#!/usr/bin/env bash
# Idempotent set-up for a Debian 12 developer or CI machine:
#   1. the Debian packages the suite and the demo need (apt, as root or via sudo);
#   2. a .venv with the project and its Python dependencies.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.setup-stamp

# "package file" pairs, one per line (see the file's header).
PACKAGE_LIST=hardware/scripts/system-packages.txt
mapfile -t APT_PACKAGES < <(awk '!/^#/ && NF {print $1 ":" ($2 == "-" ? "" : $2)}' "$PACKAGE_LIST")

say() { printf 'setup: %s\n' "$*"; }

missing_apt() {
  local entry pkg
  for entry in "${APT_PACKAGES[@]}"; do
    pkg=${entry%%:*}
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || printf '%s ' "$pkg"
  done
}

install_apt() {
  local need; need=$(missing_apt)
  [ -z "$need" ] && { say "Debian packages present"; return; }
  say "installing Debian packages: $need"
  local SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && { [ -t 0 ] || sudo -n true 2>/dev/null; }; then SUDO="sudo"
    else say "error: need root (or sudo) to install: $need"; exit 1; fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Keep the image's main PostgreSQL cluster from being created/started: tests start their own.
  $SUDO mkdir -p /etc/postgresql-common/createcluster.d
  echo 'create_main_cluster = false' | $SUDO tee /etc/postgresql-common/createcluster.d/estation.conf >/dev/null
  $SUDO apt-get update -q
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=120 $need
}

verify_apt() {
  local entry pkg file bad=0
  for entry in "${APT_PACKAGES[@]}"; do
    pkg=${entry%%:*}; file=${entry#*:}
    if [ -n "$file" ] && ! compgen -G "$file" >/dev/null; then
      say "error: $file is missing (Debian package $pkg)"; bad=1
    fi
  done
  [ $bad = 0 ] || exit 1
}

install_venv() {
  if [ -f "$STAMP" ] && [ "$STAMP" -nt pyproject.toml ] && [ "$STAMP" -nt .ci/constraints.txt ] \
     && [ -x $VENV/bin/python ]; then
    say "Python environment up to date"; return
  fi
  [ -x $VENV/bin/python ] || "$PYTHON" -m venv $VENV
  say "installing Python dependencies into $VENV"
  $VENV/bin/python -m pip install -q --upgrade pip
  $VENV/bin/python -m pip install -q -c .ci/constraints.txt -e '.[dev]'
  touch "$STAMP"
}

# MicroPython stubs for type-checking the IO-board firmware: kept out of the venv
# (they shadow the stdlib there), in a folder of their own (ENVIRONMENT.md §6).
STUBS_DIR=hardware/ioboard/typings
STUBS="micropython-rp2-rpi_pico-stubs==1.29.0.post1"
STDLIB_STUBS="micropython-stdlib-stubs==1.29.0.post2"

install_stubs() {
  if [ -f "$STUBS_DIR/.installed" ] && grep -qx "$STUBS $STDLIB_STUBS" "$STUBS_DIR/.installed"; then
    say "MicroPython stubs present"; return
  fi
  say "installing $STUBS into $STUBS_DIR"
  rm -rf "$STUBS_DIR"
  $VENV/bin/python -m pip install -q --no-deps --target "$STUBS_DIR" "$STUBS" "$STDLIB_STUBS"
  echo "$STUBS $STDLIB_STUBS" > "$STUBS_DIR/.installed"
}

install_apt
verify_apt
install_venv
install_stubs
say "ready"

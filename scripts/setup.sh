#!/usr/bin/env bash
# Set up a Debian/Ubuntu machine for tinyc; safe to run again (it installs only what is missing).
# Usage: scripts/setup.sh [--test]   (--test: also Chromium, for the report.html test)
#   1. Debian packages: the Arm cross compiler and its C library, QEMU for Cortex-M, and host C
#      compilers (gcc for cffi's host build of the generated C, clang for the warnings check);
#      python3-pip / python3-dev when this python3 lacks pip / Python.h.
#      Installed with apt-get --no-install-recommends, only when missing (root, or sudo).
#   2. tinyc itself, editable, with the test extras: python3 -m pip install -e '.[test]'.
# Needs no network but the Debian and PyPI package registries.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DEB_PACKAGES=(gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm clang gcc libc6-dev)
# --test: also what only the tests need (headless Chromium renders report.html in a test)
if [ "${1:-}" = "--test" ]; then
    DEB_PACKAGES+=(chromium)
fi

export PIP_ROOT_USER_ACTION=ignore  # root in containers and CI is normal here

say() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        say "need root or sudo to run: $*"
        exit 1
    fi
}

deb_missing() {  # prints the packages of "$@" that dpkg does not have installed
    local p
    for p in "$@"; do
        [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || echo "$p"
    done
}

apt_install() {  # apt_install PKG...: update the lists once, then install without recommends
    if [ -z "${APT_UPDATED:-}" ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install --no-install-recommends -y -q "$@"
}

# -- 1. system packages -----------------------------------------------------------------------
if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    mapfile -t missing < <(deb_missing "${DEB_PACKAGES[@]}")
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing ${missing[*]}"
        apt_install "${missing[@]}"
    else
        say "Debian packages present: ${DEB_PACKAGES[*]}"
    fi
else
    say "not a Debian/Ubuntu system: install ${DEB_PACKAGES[*]} (or equivalents) yourself"
fi
for tool in arm-none-eabi-gcc qemu-system-arm cc; do
    command -v "$tool" >/dev/null 2>&1 || { say "$tool not found after setup"; exit 1; }
done

# -- 2. python package ------------------------------------------------------------------------
command -v python3 >/dev/null 2>&1 || apt_install python3
if ! python3 -m pip --version >/dev/null 2>&1; then
    say "python3 has no pip: installing python3-pip"
    apt_install python3-pip
fi
# cffi compiles the generated C into an extension module: that needs this python's headers.
if ! python3 -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
    say "python3 has no Python.h: installing python3-dev"
    apt_install python3-dev
fi
# Outside a virtualenv, a distribution's python3 refuses pip installs (PEP 668,
# "externally-managed-environment"); this machine is set up for tinyc, so allow it.
# Pips older than the option ignore the variable.
pip=(python3 -m pip install -q -e '.[test]')
if python3 -c 'import sys; sys.exit(sys.prefix != sys.base_prefix)'; then   # not in a venv
    export PIP_BREAK_SYSTEM_PACKAGES=1
    user_bin="$(python3 -m site --user-base)/bin"
    if [ "$(id -u)" -ne 0 ] && [ ! -w "$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" ] \
       && [[ ":$PATH:" != *":$user_bin:"* ]] && command -v sudo >/dev/null 2>&1; then
        # pip would install for this user only, into $user_bin, which is not on PATH: install
        # system-wide instead, so that the `tinyc` command works right after this script.
        pip=(sudo -H env PIP_BREAK_SYSTEM_PACKAGES=1 PIP_ROOT_USER_ACTION=ignore
             "$(python3 -c 'import sys; print(sys.executable)')" "${pip[@]:1}")
    fi
fi
say "${pip[*]}"
"${pip[@]}"
if command -v pyenv >/dev/null 2>&1; then
    pyenv rehash || true   # a pyenv python needs a shim for the new `tinyc` command
fi

if ! command -v tinyc >/dev/null 2>&1; then
    say "the tinyc command is not on PATH; add pip's script folder, e.g." \
        "export PATH=\"$(python3 -m site --user-base)/bin:\$PATH\""
fi
say "done"

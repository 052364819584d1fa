#!/usr/bin/env bash
# Builds (once) a Debian root holding a windowed Blender, Xvfb and xdotool, and prints its path.
#   tools/blender_root.sh trixie   -> Blender 4.3.2 on Python 3.13
#   tools/blender_root.sh sid      -> Blender 5.2.2 LTS on Python 3.14
# Roots are cached outside the clone ($BLENDER_ROOTS, default /var/cache/scenario-blender-roots),
# so a machine pays for each one once. Mounts happen only inside `unshare -m`, so they vanish with
# the process and a root is never deleted while /dev is bound into it.
# Every tool in a root (apt, pip, Python's ssl, Blender) trusts exactly the certificate
# authorities this host trusts: the host's bundle replaces the root's own list, and is synced
# again whenever the host's bundle changes.
set -euo pipefail
suite=${1:?usage: blender_root.sh trixie|sid}
cache=${BLENDER_ROOTS:-/var/cache/scenario-blender-roots}
root=$cache/$suite
host_ca=/etc/ssl/certs/ca-certificates.crt
# Bump when the package list or the build steps change: an older root is then rebuilt.
recipe=4
packages="blender xvfb xdotool imagemagick libgl1-mesa-dri mesa-utils python3-numpy python3-requests
python3-venv python3-pip ca-certificates"
[ "$suite" = sid ] && packages="$packages python3-cattr"

# The copy of the host's bundle the root's store was last made from.
trust_mark=etc/ssl/host-ca-bundle.crt

trust_is_current() { cmp -s "$host_ca" "$1/$trust_mark"; }

# Makes the root's system store (the one apt, pip's truststore, Python and Blender read) hold
# the host's authorities and nothing else. Verification stays on everywhere.
sync_trust() {
  local dir=$1 local_cas=$1/usr/local/share/ca-certificates/host
  [ -s "$host_ca" ] || { echo "no CA bundle at $host_ca on this host" >&2; exit 1; }
  rm -rf "$local_cas" && mkdir -p "$local_cas"
  awk -v out="$local_cas" '
    /-----BEGIN CERTIFICATE-----/ { n++; file = sprintf("%s/host-%03d.crt", out, n) }
    file { print > file }
    /-----END CERTIFICATE-----/ { close(file); file = "" }' "$host_ca"
  # Deselect the root's own Mozilla list: the host's bundle already says what is trusted here.
  sed -i -e 's/^\([^#!]\)/!\1/' "$dir/etc/ca-certificates.conf"
  chroot "$dir" update-ca-certificates --fresh >/dev/null 2>&1
  cp "$host_ca" "$dir/$trust_mark"
}

ready() { [ "$(cat "$root/.ready" 2>/dev/null)" = "$recipe" ]; }

if ready && trust_is_current "$root"; then echo "$root"; exit 0; fi

mkdir -p "$cache"
exec 9>"$cache/.$suite.lock"
flock 9
if ready; then
  trust_is_current "$root" || sync_trust "$root"
  echo "$root"; exit 0
fi

if ! command -v debootstrap >/dev/null; then
  echo "installing debootstrap" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2
fi

build=$cache/.$suite.build
# A half-built root from an interrupted run: its mounts died with their namespace, so it is safe.
rm -rf --one-file-system "$build"
mkdir -p "$build"
echo "building the $suite root in $build (a few minutes, about 2 GB)" >&2
unshare -m bash -euo pipefail -c '
  suite=$1; build=$2; packages=$3
  debootstrap --variant=minbase "$suite" "$build" http://deb.debian.org/debian >&2
  if [ "$suite" = sid ]; then
    echo "Acquire::Check-Valid-Until \"false\";" > "$build/etc/apt/apt.conf.d/99no-valid-until"
  fi
  cp /etc/resolv.conf "$build/etc/resolv.conf"
  for d in proc sys dev; do mount --rbind "/$d" "$build/$d"; done
  chroot "$build" apt-get update -qq >&2
  chroot "$build" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends $packages >&2
  chroot "$build" apt-get clean
' _ "$suite" "$build" "$packages"
sync_trust "$build"
rm -rf --one-file-system "$root"
mv "$build" "$root"
echo "$recipe" > "$root/.ready"
echo "$root"

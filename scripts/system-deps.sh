#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages gridwatch needs when they are missing (as root), or prints the
# exact apt-get line to run (as anyone else). Idempotent: a second run installs nothing.
set -euo pipefail

pg_version() {
  # The distribution's default PostgreSQL major version (15 on Debian 12, 16 on Ubuntu 24.04).
  if ls /usr/lib/postgresql/ >/dev/null 2>&1 && [ -n "$(ls /usr/lib/postgresql/)" ]; then
    ls /usr/lib/postgresql/ | sort -n | tail -n 1
  else
    apt-cache depends postgresql 2>/dev/null | sed -n 's/.*Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -n 1
  fi
}

PGV=$(pg_version)
PGV=${PGV:-15}
packages=(
  postgresql "postgresql-${PGV}-postgis-3" redis-server
  ffmpeg fonts-noto-cjk chromium chromium-driver
  python3-venv python3-dev build-essential
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "gridwatch needs these system packages; run as root:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's postgresql package starts a system cluster; gridwatch runs its own and does not need it,
# but leaves it alone since other software on the machine may.

#!/usr/bin/env bash
# One-time set-up for a fresh Debian 12 machine: Debian packages and Unicorn >= 2.1.
# Idempotent: a second run checks and does nothing. Never edits the system's apt sources.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
third_party="$root/build/third_party"

packages=(
  build-essential cmake nasm pkg-config
  libzydis-dev libzycore-dev doctest-dev
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libfmt-dev
  libimgui-dev libglfw3-dev libgl-dev mesa-utils xvfb xauth fonts-dejavu-core
  libzstd-dev libssl-dev libstb-dev libbenchmark-dev cpio
)

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Unicorn: a system package >= 2.1 wins; Debian 12 has 2.0.1, which cannot run a paged guest
# (see docs/architecture.md), so fetch Debian 13's two packages into the build tree.
system_unicorn_ok() {
  local v
  v=$(dpkg-query -W -f='${Version}' libunicorn-dev 2>/dev/null) || return 1
  dpkg --compare-versions "$v" ge 2.1
}
if system_unicorn_ok; then
  exit 0
fi
if [ -f "$third_party/unicorn/usr/lib/x86_64-linux-gnu/libunicorn.a" ]; then
  exit 0
fi

echo "setup: fetching Unicorn 2.1 (Debian 13 packages) into $third_party/unicorn"
work="$third_party/unicorn-apt"
rm -rf "$work"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
cat > "$work/trixie.sources" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
apt_private=(
  -o Dir::Etc::SourceList="$work/trixie.sources"
  -o Dir::Etc::SourceParts=/nonexistent
  -o Dir::State::Lists="$work/lists"
  -o Dir::Cache="$work/cache"
  -o Debug::NoLocking=1
  -o APT::Sandbox::User=root
)
apt-get "${apt_private[@]}" update -qq
(cd "$work/debs" && apt-get "${apt_private[@]}" download libunicorn-dev libunicorn2t64)
rm -rf "$third_party/unicorn"
mkdir -p "$third_party/unicorn"
for deb in "$work/debs"/*.deb; do dpkg -x "$deb" "$third_party/unicorn"; done
test -f "$third_party/unicorn/usr/lib/x86_64-linux-gnu/libunicorn.a" || {
  echo "setup: error: libunicorn.a not found in the downloaded packages" >&2; exit 1; }
rm -rf "$work"
echo "setup: Unicorn $(ls "$third_party/unicorn/usr/share/doc" | head -1) ready"

#!/usr/bin/env bash
# Installs what the service, the camera lab and the tests need on a fresh Debian machine,
# then the npm dependencies. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  ffmpeg fonts-dejavu-core                       # stream probing, recording, picture checks
  python3-gi gir1.2-gst-rtsp-server-1.0          # the camera lab's RTSP server
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-x gstreamer1.0-tools gstreamer1.0-libav
  iproute2 util-linux                            # network namespaces for multicast discovery tests
  redis-server                                   # embedded-defaults start when no Redis is running
  chromium fonts-noto-cjk                        # browser tests of the web app; Chinese in its screenshots
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

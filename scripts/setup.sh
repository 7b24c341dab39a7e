#!/usr/bin/env bash
# Idempotent set-up for `make demo` and `make test`: Debian packages (when root), the venv,
# and the project installed into it. Safe to run again; does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  victoria-metrics          # history (design §4)
  prometheus-blackbox-exporter
  prometheus docker-compose  # promtool + the compose/ stack on real binaries; compose 1.29 parse
  srt-tools                 # srt-live-transmit, libsrt1.5
  ffmpeg                    # MPEG-TS test streams
  snmpd snmp                # real SNMP agent and client tools
  fping nmap                # discovery bench baselines (make bench)
  openssh-server            # a real SSH target for the playbook tests (own config, own port)
  qemu-system-x86 qemu-utils debootstrap iputils-ping  # provisioning tier: fresh Bookworm VM (tests/provision)
  xvfb xauth                # real-window screenshots of the desktop
  curl                      # the README's API tour and the commands the demo prints
  libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 fonts-dejavu-core
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0
  libxcb-image0 libxcb-render-util0 libxcb-randr0
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (run as root to install them): ${missing[*]}" >&2
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.flypack-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing flypack and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[agent,desktop,dev]'
  touch "$stamp"
fi

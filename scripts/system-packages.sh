#!/usr/bin/env bash
# Installs the Debian or Ubuntu packages a group of make targets needs, only those
# whose command is missing:
#   run    the demo (make run): Python's venv module, for the pinned Envoy's venv
#   tls    the TLS demo (make run-tls): the above and openssl, for its certificate
#   test   make test: the above, Chromium and chromedriver, Firefox ESR and NSS's
#          certutil, WebKitGTK's WebKitWebDriver (with its MiniBrowser) and Xvfb
#          (browser suite), Buildah,
#          Podman and runc (image and compose suites), wrk (soak), a C++ compiler
#          (cargo fuzz builds libFuzzer), openssl (the TLS suites' certificate), curl
#          (the HTTP/2 client)
#   bench  make bench: wrk and valgrind
#   release  make release: Buildah (the Docker-format image), binutils' objdump
#          (the dynamic module's glibc floor)
# As root it runs apt-get; otherwise through sudo when sudo works without a
# password; otherwise it prints the exact packages and command, and fails.
set -euo pipefail

group=${1:?usage: scripts/system-packages.sh run|tls|test|bench|release}
missing=()
# need PACKAGE CHECK...: PACKAGE when CHECK fails.
need() {
  local package=$1
  shift
  "$@" >/dev/null 2>&1 || missing+=("$package")
}
has() { command -v "$1"; }

ubuntu=0
grep -qs '^ID=ubuntu' /etc/os-release && ubuntu=1

case "$group" in
  run)
    need python3-venv python3 -c 'import ensurepip, venv'
    ;;
  tls)
    need python3-venv python3 -c 'import ensurepip, venv'
    need openssl has openssl
    ;;
  test)
    need python3-venv python3 -c 'import ensurepip, venv'
    if ((ubuntu)); then
      need chromium-browser has "${CHROMIUM:-chromium}"
      need chromium-chromedriver has "${CHROMEDRIVER:-chromedriver}"
    else
      need chromium has "${CHROMIUM:-chromium}"
      need chromium-driver has "${CHROMEDRIVER:-chromedriver}"
    fi
    # Debian's Firefox ESR; Ubuntu has no ESR package, its firefox runs the suite too.
    if ((ubuntu)); then
      need firefox has "${FIREFOX:-firefox}"
    else
      need firefox-esr has "${FIREFOX:-firefox-esr}"
    fi
    need libnss3-tools has certutil # Firefox's profile trusts the run's certificate
    need webkit2gtk-driver has "${WEBKIT_WEBDRIVER:-WebKitWebDriver}"
    need xvfb has Xvfb # MiniBrowser is a GTK program: it needs a display
    need buildah has buildah
    need podman has podman
    need runc has runc # podman's runtime here: crun fails on some kernels
    need wrk has wrk
    need g++ has c++
    need openssl has openssl
    need curl has curl
    # The release suite: the images pushed with skopeo to a registry on loopback
    # and pulled from it as Istio and Envoy Gateway do.
    need skopeo has skopeo
    need docker-registry has docker-registry
    ;;
  release)
    need buildah has buildah
    need binutils has objdump
    ;;
  bench)
    need wrk has wrk
    need valgrind has valgrind
    ;;
  *)
    echo "scripts/system-packages.sh: unknown group '$group' (run, tls, test, bench or release)" >&2
    exit 2
    ;;
esac

((${#missing[@]})) || exit 0

install=(apt-get install -y -qq --no-install-recommends "${missing[@]}")
if ! command -v apt-get >/dev/null; then
  echo "make $group needs these programs, from these Debian package names: ${missing[*]}" >&2
  echo "This machine has no apt-get: install them with its package manager, then run make again." >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo)
else
  echo "make $group needs these system packages: ${missing[*]}" >&2
  echo "Install them as root, then run make again:" >&2
  echo "    apt-get update && ${install[*]}" >&2
  exit 1
fi
echo "installing system packages for make $group: ${missing[*]}"
started=$SECONDS
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive "${install[@]}" >/dev/null
echo "installed ${missing[*]} in $((SECONDS - started)) s"

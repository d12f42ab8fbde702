#!/usr/bin/env bash
# Installs the Debian packages berth needs on a fresh machine (as root, with
# apt), only those missing. One argument says for what:
#   build  what `cargo build` needs: libclang (bindgen, for the nftables
#          bindings of the `rustables` crate) and libseccomp (the seccomp
#          filter compiler the `libseccomp` crate links)
#   demo   build, plus busybox-static and python3 (the demo's test images)
#   test   demo, plus what the tests use: docker-registry and skopeo (pull
#          tests), apache2-utils (htpasswd), crun (the container benchmark's
#          comparison), iproute2 and util-linux (nsenter, setsid), tmux
# Without root or apt it only says what is missing.
set -euo pipefail
build=(libclang-dev libseccomp-dev pkg-config)
demo=("${build[@]}" busybox-static python3)
test=("${demo[@]}" docker-registry skopeo apache2-utils crun iproute2 util-linux tmux)
case "${1:-}" in
  build) wanted=("${build[@]}") ;;
  demo) wanted=("${demo[@]}") ;;
  test) wanted=("${test[@]}") ;;
  *) echo "usage: $0 build|demo|test" >&2; exit 2 ;;
esac
need=()
for pkg in "${wanted[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing: ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "berth needs these Debian packages: ${need[*]} (run this script as root with apt)" >&2
  exit 1
fi

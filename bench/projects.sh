#!/usr/bin/env bash
# Project benchmark: generated projects of 1, 10 and 30 services (one
# network, one named volume per service; a "flat" variant and a "chain" of
# depends_on), each timed for a cold `up -d`, a no-op `up -d` and a
# `down -v`. The services exit at once on SIGTERM, so `down` measures the
# tool and not a grace period. Prints the median of RUNS runs (default 5).
#
# When `docker compose` (with a running dockerd) or `podman-compose` is on
# the PATH, the same files run through them too and the ratios are printed.
#
# Needs root; runs berth in its own network and mount namespace with a
# private state root. Usage: bench/projects.sh [RUNS]
set -euo pipefail
runs="${1:-5}"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"

if [ "${BERTH_BENCH_ISOLATED:-}" != 1 ]; then
  cargo build --release --manifest-path "$repo/Cargo.toml" --quiet
  exec unshare --net --mount --propagation private \
    env BERTH_BENCH_ISOLATED=1 "$0" "$@"
fi
ip link set lo up

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export BERTH_ROOT="$work/root" BERTH_RUN="$work/run"
berth="$repo/target/release/berth"
python3 "$repo/fixtures/images/build.py" "$work/images" >/dev/null
"$berth" image load -q -i "$work/images/busybox-oci.tar" >/dev/null

# generate N VARIANT DIR
generate() {
  local n="$1" variant="$2" dir="$3"
  mkdir -p "$dir"
  {
    echo "name: bench${n}${variant}"
    echo "services:"
    for i in $(seq 1 "$n"); do
      echo "  s$i:"
      echo "    image: berth.test/busybox:latest"
      echo "    command: [sh, -c, 'trap \"exit 0\" TERM; sleep 3600 & wait']"
      echo "    networks: [net]"
      echo "    volumes: ['v$i:/data']"
      if [ "$variant" = chain ] && [ "$i" -gt 1 ]; then
        echo "    depends_on: [s$((i - 1))]"
      fi
    done
    echo "networks:"
    echo "  net: {}"
    echo "volumes:"
    for i in $(seq 1 "$n"); do echo "  v$i: {}"; done
  } >"$dir/compose.yaml"
}

now_ms() { date +%s%N | awk '{printf "%.1f", $1 / 1e6}'; }

# time_ms COMMAND... -> milliseconds on stdout; the command's output is dropped
time_ms() {
  local start end
  start="$(now_ms)"
  "$@" >/dev/null 2>&1
  end="$(now_ms)"
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# measure TOOL DIR -> "cold noop down" medians in ms
measure() {
  local tool="$1" dir="$2" cold=() noop=() down=()
  for _ in $(seq 1 "$runs"); do
    cold+=("$(cd "$dir" && time_ms $tool up -d)")
    noop+=("$(cd "$dir" && time_ms $tool up -d)")
    down+=("$(cd "$dir" && time_ms $tool down -v -t 10)")
  done
  printf '%s %s %s\n' \
    "$(printf '%s\n' "${cold[@]}" | median)" \
    "$(printf '%s\n' "${noop[@]}" | median)" \
    "$(printf '%s\n' "${down[@]}" | median)"
}

others=()
if command -v docker >/dev/null && docker compose version >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  docker load -q -i "$work/images/busybox-docker.tar" >/dev/null && others+=("docker compose")
fi
if command -v podman-compose >/dev/null; then
  podman load -q -i "$work/images/busybox-docker.tar" >/dev/null && others+=("podman-compose")
fi

printf '%-14s %-16s %10s %10s %10s\n' project tool "cold up" "no-op up" down
for n in 1 10 30; do
  for variant in flat chain; do
    [ "$n" = 1 ] && [ "$variant" = chain ] && continue
    dir="$work/p$n$variant"
    generate "$n" "$variant" "$dir"
    read -r cold noop down < <(measure "$berth" "$dir")
    printf '%-14s %-16s %8s ms %8s ms %8s ms\n' "$n $variant" berth "$cold" "$noop" "$down"
    for other in "${others[@]}"; do
      read -r ocold onoop odown < <(measure "$other" "$dir")
      printf '%-14s %-16s %8s ms %8s ms %8s ms   (berth is %sx, %sx, %sx faster)\n' \
        "$n $variant" "$other" "$ocold" "$onoop" "$odown" \
        "$(awk -v a="$ocold" -v b="$cold" 'BEGIN { printf "%.1f", a / b }')" \
        "$(awk -v a="$onoop" -v b="$noop" 'BEGIN { printf "%.1f", a / b }')" \
        "$(awk -v a="$odown" -v b="$down" 'BEGIN { printf "%.1f", a / b }')"
    done
  done
done

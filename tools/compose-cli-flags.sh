#!/usr/bin/env bash
# Writes src/compat/compose_cli.txt: docker compose's commands and the long
# flags each takes, read from its --help output. Run it where the docker
# compose plugin is installed (an oracle while developing; never in CI).
set -euo pipefail
D=${DOCKER_COMPOSE:-$HOME/.docker/cli-plugins/docker-compose}
out=$(dirname "$0")/../src/compat/compose_cli.txt
version=$("$D" version --short 2>/dev/null || echo unknown)
{
  echo "# docker compose v$version: each command and the long flags it takes, one line per"
  echo "# command (\"-\" holds the global options). Made from its --help output by"
  echo "# tools/compose-cli-flags.sh; the compatibility table lists berth's answer to each."
  for c in - $("$D" compose --help 2>&1 | sed -n '/Commands:/,/^$/p' | awk 'NR>1 && NF {print $1}'); do
    # --dry-run is global; every command repeats it.
    if [ "$c" = - ]; then skip_dry_run=x; else skip_dry_run=; fi
    if [ "$c" = - ]; then h=$("$D" compose --help 2>&1 || true); else h=$("$D" "$c" --help 2>&1 || true); fi
    flags=$(echo "$h" | sed -n '/^Options:/,/^$/p' | grep -oP '^\s+(-\w, )?\K--[a-zA-Z0-9-]+' |
      grep -v -e '^--help$' -e "^--dry-run$skip_dry_run" | sort -u | tr '\n' ' ' || true)
    echo "$c ${flags% }"
  done
} >"$out"

#!/bin/sh
# Builds the images of berth's real-stack test (tests/cli_real_stack.rs) from
# Debian bookworm packages, since no registry is reachable here:
#
#   tests/real-stack/build-images.sh [CACHE_DIR]
#
# CACHE_DIR defaults to $BERTH_REAL_STACK_IMAGES, else
# ${XDG_CACHE_HOME:-$HOME/.cache}/berth/real-stack. It ends up holding, per
# image NAME (postgres, redis, nginx, app):
#
#   NAME.tar       the root filesystem (for `berth image import`)
#   NAME.changes   the Dockerfile-style config, one `--change` per line
#   NAME.ref       the reference to import it as (postgres:15, redis:7, ...)
#
# and `base/`, a debootstrap'ed minbase bookworm reused by later runs. Images
# already built are kept; delete their .tar to rebuild one. Needs root,
# debootstrap and network access to the Debian mirror apt uses.
#
# tests/cli_real_stack.rs imports each as
#   berth image import --change "LINE" ... NAME.tar "$(cat NAME.ref)"
#
# The entrypoints are written here for these tests (not copied from the
# official images): they do what a compose user relies on, nothing more.

set -eu

CACHE=${1:-${BERTH_REAL_STACK_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/berth/real-stack}}
MIRROR=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

log() { printf 'build-images: %s\n' "$*" >&2; }

# Runs a command inside the rootfs DIR, with /proc mounted in a private mount
# namespace (nothing leaks into the host's mount table) and the host's DNS.
in_root() {
    dir=$1
    shift
    cp /etc/resolv.conf "$dir/etc/resolv.conf"
    unshare --mount --propagation private -- sh -c '
        dir=$1; shift
        mount -t proc proc "$dir/proc"
        exec chroot "$dir" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"
    ' in_root "$dir" "$@"
}

base() {
    if [ -e "$CACHE/base/.complete" ]; then
        return
    fi
    rm -rf "$CACHE/base"
    log "debootstrap $SUITE from $MIRROR into $CACHE/base"
    debootstrap --variant=minbase "$SUITE" "$CACHE/base" "$MIRROR" >&2
    # No daemon starts while packages are installed.
    printf '#!/bin/sh\nexit 101\n' > "$CACHE/base/usr/sbin/policy-rc.d"
    chmod 755 "$CACHE/base/usr/sbin/policy-rc.d"
    # Keep images small: no docs, man pages or translations.
    cat > "$CACHE/base/etc/dpkg/dpkg.cfg.d/01-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
    # The postgres image makes its cluster at first start, not at install.
    mkdir -p "$CACHE/base/etc/postgresql-common"
    echo 'create_main_cluster = false' > "$CACHE/base/etc/postgresql-common/createcluster.conf"
    in_root "$CACHE/base" apt-get update >&2
    touch "$CACHE/base/.complete"
}

# image NAME REF PACKAGES... : copies the base, installs PACKAGES, runs the
# function setup_NAME in the copy, and writes NAME.tar/.changes/.ref.
image() {
    name=$1
    ref=$2
    shift 2
    if [ -e "$CACHE/$name.tar" ]; then
        log "$name: kept ($CACHE/$name.tar)"
        return
    fi
    dir=$CACHE/work-$name
    rm -rf "$dir"
    cp -a "$CACHE/base" "$dir"
    rm -f "$dir/.complete"
    log "$name: apt-get install $*"
    in_root "$dir" apt-get install -y --no-install-recommends "$@" >&2
    "setup_$name" "$dir" > "$CACHE/$name.changes"
    in_root "$dir" apt-get clean
    rm -rf "$dir/var/lib/apt/lists/"* "$dir/usr/sbin/policy-rc.d"
    : > "$dir/etc/resolv.conf"
    printf '%s\n' "$ref" > "$CACHE/$name.ref"
    tar -C "$dir" --numeric-owner -cf "$CACHE/$name.tar.part" .
    mv "$CACHE/$name.tar.part" "$CACHE/$name.tar"
    rm -rf "$dir"
    log "$name: $CACHE/$name.tar ($ref)"
}

setup_postgres() {
    dir=$1
    mkdir -p "$dir/docker-entrypoint-initdb.d" "$dir/var/run/postgresql"
    in_root "$dir" chown postgres:postgres "/var/run/postgresql"
    chmod 3777 "$dir/var/run/postgresql"
    # The data directory is a volume; its owner and mode are what a new
    # volume starts with.
    mkdir -p "$dir/var/lib/postgresql/data"
    in_root "$dir" chown postgres:postgres "/var/lib/postgresql/data"
    chmod 1777 "$dir/var/lib/postgresql/data"
    cat > "$dir/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# Starts postgres; on an empty $PGDATA first makes a cluster with the
# superuser $POSTGRES_USER (password $POSTGRES_PASSWORD) and the database
# $POSTGRES_DB. As root it first hands $PGDATA to postgres and drops to it.
set -eu
case "${1:-}" in -*) set -- postgres "$@" ;; esac
if [ "${1:-}" != postgres ]; then
    exec "$@"
fi
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 0700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "docker-entrypoint: POSTGRES_PASSWORD must be set to initialise $PGDATA" >&2
        exit 1
    fi
    mkdir -p "$PGDATA"
    chmod 0700 "$PGDATA"
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 -D "$PGDATA"
    rm -f "$pwfile"
    printf "listen_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
    printf 'host all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
    if [ "$POSTGRES_DB" != postgres ]; then
        echo "CREATE DATABASE \"$POSTGRES_DB\";" |
            postgres --single -j -D "$PGDATA" postgres >/dev/null
    fi
    echo "docker-entrypoint: initialised $PGDATA"
fi
exec "$@"
EOF
    chmod 755 "$dir/usr/local/bin/docker-entrypoint.sh"
    cat <<'EOF'
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/lib/postgresql/15/bin:/usr/sbin:/usr/bin:/sbin:/bin
ENV PGDATA=/var/lib/postgresql/data
ENV LANG=C.UTF-8
VOLUME /var/lib/postgresql/data
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
EOF
}

setup_redis() {
    dir=$1
    mkdir -p "$dir/data"
    in_root "$dir" chown redis:redis "/data"
    cat > "$dir/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# Runs redis-server in /data as user redis; without a config file it listens
# on every address with protected mode off, as containers need.
set -eu
case "${1:-}" in -*) set -- redis-server "$@" ;; esac
if [ "${1:-}" = redis-server ] && [ "$(id -u)" = 0 ]; then
    chown -R redis:redis /data
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
if [ "${1:-}" = redis-server ]; then
    case "${2:-}" in
        *.conf) ;;
        *) shift; set -- redis-server --bind '* -::*' --protected-mode no "$@" ;;
    esac
fi
exec "$@"
EOF
    chmod 755 "$dir/usr/local/bin/docker-entrypoint.sh"
    cat <<'EOF'
ENV LANG=C.UTF-8
VOLUME /data
WORKDIR /data
ENTRYPOINT ["docker-entrypoint.sh"]
EXPOSE 6379
CMD ["redis-server"]
EOF
}

setup_nginx() {
    dir=$1
    rm -f "$dir/etc/nginx/sites-enabled/default"
    mkdir -p "$dir/etc/nginx/conf.d"
    cat > "$dir/etc/nginx/conf.d/default.conf" <<'EOF'
server {
    listen 80;
    location / {
        root /var/www/html;
    }
}
EOF
    ln -sf /dev/stdout "$dir/var/log/nginx/access.log"
    ln -sf /dev/stderr "$dir/var/log/nginx/error.log"
    cat <<'EOF'
ENV LANG=C.UTF-8
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
EOF
}

setup_app() {
    dir=$1
    mkdir -p "$dir/app"
    cat <<'EOF'
ENV LANG=C.UTF-8
ENV PYTHONUNBUFFERED=1
WORKDIR /app
EXPOSE 8000
CMD ["python3"]
EOF
}

base
image postgres postgres:15 postgresql-15
image redis redis:7 redis-server redis-tools
image nginx nginx:latest nginx-light
image app berth.test/python-app:latest python3 python3-psycopg2 python3-redis
log "done: $CACHE"

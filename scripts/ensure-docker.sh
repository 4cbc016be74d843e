#!/usr/bin/env bash
# Make sure a Docker engine answers. If none does and we are root on Debian/Ubuntu,
# install Debian's docker.io and start dockerd in the background; otherwise say how to
# get Docker and stop. With REGLAB_OFFLINE=1 also install what the stand-in images are
# built from (docker-registry, busybox-static, a C compiler).
# A dockerd started here writes its pid to $REGLAB_DOCKERD_PIDFILE so .ci/run can stop it.
set -euo pipefail

PIDFILE="${REGLAB_DOCKERD_PIDFILE:-/tmp/reglab-dockerd.pid}"
LOG="${REGLAB_DOCKERD_LOG:-/tmp/reglab-dockerd.log}"

say() { echo "ensure-docker: $*"; }

is_debian() { [ -r /etc/os-release ] && grep -qiE '^(ID|ID_LIKE)=.*(debian|ubuntu)' /etc/os-release; }

apt_install() {
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    if [ -z "${REGLAB_APT_UPDATED:-}" ]; then apt-get update -qq; export REGLAB_APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ "${REGLAB_OFFLINE:-}" = "1" ] && [ "$(id -u)" = 0 ] && is_debian; then
    apt_install docker-registry busybox-static gcc libc6-dev
fi

if docker info >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" != 0 ] || ! is_debian; then
    cat >&2 <<'MSG'
No Docker engine answers. Install Docker and start it, then run this again:
  - Linux: https://docs.docker.com/engine/install/ (or your distribution's docker package),
    then `sudo systemctl start docker` and add yourself to the docker group;
  - macOS / Windows: install and start Docker Desktop.
MSG
    exit 1
fi

command -v dockerd >/dev/null 2>&1 || apt_install docker.io
say "starting dockerd in the background (log: $LOG)"
nohup dockerd >"$LOG" 2>&1 &
echo $! >"$PIDFILE"
for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then
        say "Docker engine is up"
        exit 0
    fi
    sleep 1
done
say "dockerd did not answer within 60 s; its log says:" >&2
tail -n 20 "$LOG" >&2
exit 1

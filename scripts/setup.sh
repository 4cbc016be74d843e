#!/usr/bin/env bash
# Registry Lab set-up: the system tools `make lab` and `make test` use (the Makefile runs this).
#
#   scripts/setup.sh lab [--dry-run]    what the notebooks need
#   scripts/setup.sh test [--dry-run]   that, plus every program the tests run
#
# On Debian/Ubuntu as root, what is missing is installed (apt-get; configurable-http-proxy with
# npm) and, when no Docker engine answers, Debian's docker.io is installed and dockerd started in
# the background; its pid goes to $REGLAB_DOCKERD_PIDFILE (.ci/run stops it). Elsewhere this
# prints exactly what to install and stops (exit 1). --dry-run says what it would do, changes
# nothing. REGLAB_SETUP_OS_RELEASE names another os-release file (to test the "elsewhere" path).
#
# Every external program a test or a notebook runs is listed below: a test must never skip on a
# fresh machine because the set-up forgot a tool. The Go-built ones (registry v3, crane, weed) are
# not Debian packages: scripts/go-tools.sh builds them (the Makefile runs it right after this).
set -eo pipefail  # not -u: macOS's bash 3.2 calls an empty array "unbound"

MODE=${1:-lab}
DRY_RUN=
[ "${2:-}" = "--dry-run" ] && DRY_RUN=1
case "$MODE" in lab|test) ;; *) echo "usage: $0 lab|test [--dry-run]" >&2; exit 2 ;; esac

PIDFILE="${REGLAB_DOCKERD_PIDFILE:-/tmp/reglab-dockerd.pid}"
LOG="${REGLAB_DOCKERD_LOG:-/tmp/reglab-dockerd.log}"
OS_RELEASE="${REGLAB_SETUP_OS_RELEASE:-/etc/os-release}"
CHROMIUM="${REGLAB_CHROMIUM:-/usr/bin/chromium}"

say() { echo "setup: $*"; }

# ------------------------------------------------------------------------------- the tools
# One line per tool: mode | Debian package | how to tell it is here (no "|" in it) | what uses it.
# "lab" tools are needed by `make lab` and `make test`, "test" tools by `make test` only; "npm"
# lines are installed with npm, not apt-get. docker.io (the engine) is handled on its own below.
TOOLS=$(cat <<'EOF'
lab|python3-venv|python3 -c 'import ensurepip, venv'|the project's virtual environment (.venv)
lab|make|command -v make|make lab, make test
lab|docker-registry|command -v docker-registry|the daemonless engine, and the registry:2 stand-in
lab|busybox-static|b=$(command -v busybox) && ! ldd "$b" >/dev/null 2>&1|sh, du and find in the registry:2 stand-in
lab|curl|command -v curl|the HTTP twins a learner types (and the tests' independent checks); notebook 07's S3 listing (curl --aws-sigv4)
lab|nginx|PATH="$PATH:/usr/sbin" command -v nginx|notebook 07 and lab 13: the load balancer (a process without Docker; the nginx stand-in image offline)
lab|redis-server|command -v redis-server && command -v redis-cli|notebook 07 and lab 13: the shared cache (a process without Docker; the redis stand-in image offline)
test|qemu-user|command -v qemu-x86_64 && command -v qemu-aarch64|tests/test_images.py runs the hello-world stand-in for amd64 and arm64
test|skopeo|command -v skopeo|interop tests: skopeo reads what reglab writes and serves
test|chromium|[ -x "$CHROMIUM" ]|tests/test_browser.py (driven by Playwright, no browser download)
test|fonts-dejavu-core|[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]|readable text in the browser test's screenshots
test|iproute2|command -v ip|tests/test_learners.py: a bridge for a second Docker daemon (ip link, ip addr)
test|iptables|command -v iptables|tests/second_dockerd.py: an ACCEPT rule so a second Docker daemon's containers reach each other
test|procps|command -v pgrep|tests: no registry process is left behind (pgrep)
test|passwd|command -v useradd && command -v userdel|tests/test_binder.py: a non-root learner (useradd, userdel)
test|util-linux|command -v runuser|tests/test_binder.py: runs the suite as that learner
test|coreutils findutils tar libc-bin|command -v sha256sum && command -v du && command -v find && command -v tar && command -v ldd|tests compare with sha256sum, du, find, tar; stand-ins use ldd
npm|configurable-http-proxy|command -v configurable-http-proxy|the JupyterHub test (JupyterHub's proxy, from npm)
EOF
)

is_debian() { [ -r "$OS_RELEASE" ] && grep -qiE '^(ID|ID_LIKE)=.*(debian|ubuntu)' "$OS_RELEASE"; }
is_root() { [ "$(id -u)" = 0 ]; }
engine_answers() {  # macOS has no timeout(1)
    command -v docker >/dev/null 2>&1 || return 1
    if command -v timeout >/dev/null 2>&1; then timeout 20 docker info >/dev/null 2>&1; else docker info >/dev/null 2>&1; fi
}
wanted() { [ "$1" = lab ] || [ "$MODE" = test ]; }  # is a tool of this mode needed now?

missing_apt=() missing_npm=() missing_why=()
while IFS='|' read -r mode package probe why; do
    [ -n "$mode" ] || continue
    wanted "${mode/npm/test}" || continue
    if ! (eval "$probe") >/dev/null 2>&1; then
        if [ "$mode" = npm ]; then missing_npm+=("$package"); else missing_apt+=("$package"); fi
        missing_why+=("  - $package: $why")
    fi
done <<<"$TOOLS"

docker_needed=
engine_answers || docker_needed=1

# ------------------------------------------------------------------------------- not Debian root: say what to install
if ! is_root || ! is_debian; then
    fatal=
    report=("${missing_why[@]}")
    if [ -n "$docker_needed" ]; then
        # the daemonless engine runs registry:3 as the v3 binary scripts/go-tools.sh builds (with Go, next
        # step) and appendix A's registry:2 as Debian's docker-registry: both must be possible
        if [ "$MODE" = lab ] && command -v docker-registry >/dev/null 2>&1 &&
            { command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || [ -n "${REGLAB_REGISTRY_BIN:-}" ]; }; then
            say "no Docker engine answers: the labs will use the daemonless engine (the registry binaries as processes)."
        else
            report+=("  - a Docker engine: Docker Desktop (macOS, Windows) or Docker Engine (Linux), started")
            fatal=1
        fi
    fi
    if [ ${#report[@]} -eq 0 ]; then
        say "every tool \`make $MODE\` uses is here."
        exit 0
    fi
    if [ "$MODE" = lab ] && [ -z "$fatal" ] && ! printf '%s\n' "${missing_apt[@]}" | grep -qxE 'python3-venv|make'; then
        # the stand-ins' packages: needed only when Docker Hub cannot be reached
        say "without Docker Hub the course builds stand-in images from Debian packages, which are missing here:"
        printf '%s\n' "${report[@]}"
        say "with Docker Hub reachable nothing more is needed; carrying on."
        exit 0
    fi
    echo "setup: \`make $MODE\` needs these, and they are missing:" >&2
    printf '%s\n' "${report[@]}" >&2
    if is_debian; then
        apt=("${missing_apt[@]}"); [ -n "$docker_needed" ] && apt+=(docker.io)
        echo "Install them as root: sudo $0 $MODE   (or: sudo apt-get install ${apt[*]}${missing_npm:+; sudo npm install -g ${missing_npm[*]}})" >&2
    else
        echo "Install them with your system's package manager (Debian/Ubuntu package names above${missing_npm:+; npm: npm install -g ${missing_npm[*]}}), then run this again." >&2
    fi
    exit 1
fi

# ------------------------------------------------------------------------------- Debian/Ubuntu as root: install
run() {
    if [ -n "$DRY_RUN" ]; then echo "setup: would run: $*"; else "$@"; fi
}

apt_install() {
    [ $# -eq 0 ] && return 0
    say "installing $*"
    if [ -z "${REGLAB_APT_UPDATED:-}" ]; then run apt-get update -qq; export REGLAB_APT_UPDATED=1; fi
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

apt=()
for package in "${missing_apt[@]}"; do
    read -r -a words <<<"$package"
    apt+=("${words[@]}")
done
[ -n "$docker_needed" ] && ! command -v dockerd >/dev/null 2>&1 && apt+=(docker.io)
apt_install "${apt[@]}"

if [ ${#missing_npm[@]} -gt 0 ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "setup: ${missing_npm[*]} comes from npm, which is missing: install Node.js 20 and npm (https://nodejs.org), then run this again." >&2
        exit 1
    fi
    say "installing ${missing_npm[*]} (npm)"
    run npm install -g --no-fund --no-audit "${missing_npm[@]}"
fi

if [ -n "$docker_needed" ]; then
    say "starting dockerd in the background (log: $LOG; pid in $PIDFILE)"
    if [ -n "$DRY_RUN" ]; then
        echo "setup: would run: nohup dockerd >$LOG 2>&1 &"
    else
        nohup dockerd >"$LOG" 2>&1 &
        echo $! >"$PIDFILE"
        for _ in $(seq 1 60); do
            if engine_answers; then say "Docker engine is up"; break; fi
            sleep 1
        done
        if ! engine_answers; then
            say "dockerd did not answer within 60 s; its log says:" >&2
            tail -n 20 "$LOG" >&2
            exit 1
        fi
    fi
fi

if [ ${#apt[@]} -eq 0 ] && [ ${#missing_npm[@]} -eq 0 ] && [ -z "$docker_needed" ]; then
    say "every tool \`make $MODE\` uses is here; a Docker engine answers."
fi

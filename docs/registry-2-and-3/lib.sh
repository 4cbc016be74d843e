# Helpers for the registry 2.8 / 3 comparison (docs/registry-2-and-3.md): each script starts
# registries as processes on 127.0.0.1 (ports 57xx-58xx), configs and data in $W, and stops them.
# Needs Debian's docker-registry and, built by scripts/go-tools.sh, registry v3.1.2 and crane.
TOOLS=${REGLAB_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/reglab/tools}
R2=/usr/bin/docker-registry
R3=$TOOLS/registry-v3.1.2/registry
CRANE=$TOOLS/crane-v0.22.1/crane
W=${W:-/tmp/gt-research}
mkdir -p "$W"
export NO_PROXY='*' no_proxy='*'
declare -A PIDS
run() { echo "\$ $*"; "$@" 2>&1; echo "[exit $?]"; }
# minimal NAME PORT [extra yaml under top level...] -> writes $W/NAME.yml (data in $W/NAME-data)
minimal() {
  local name=$1 port=$2; shift 2
  rm -rf "$W/$name-data"
  { printf 'version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$W/$name-data" "$port"; printf '%s\n' "$@"; } > "$W/$name.yml"
}
# start NAME BIN [VAR=value ...]: serve $W/NAME.yml, log to $W/NAME.log, wait for "listening on"
start() {
  local name=$1 bin=$2; shift 2
  env -i PATH=/usr/bin:/bin "$@" "$bin" serve "$W/$name.yml" > "$W/$name.log" 2>&1 &
  PIDS[$name]=$!
  for _ in $(seq 100); do grep -q "listening on" "$W/$name.log" && return 0; kill -0 ${PIDS[$name]} 2>/dev/null || break; sleep 0.1; done
  echo "!! $name did not start:"; tail -5 "$W/$name.log"; return 1
}
stop() { kill ${PIDS[$1]} 2>/dev/null; wait ${PIDS[$1]} 2>/dev/null; unset "PIDS[$1]"; }
stopall() { for n in "${!PIDS[@]}"; do stop "$n"; done; }
trap stopall EXIT
# a 1 MiB random layer tar
layer() { local f=$W/$1.tar; mkdir -p "$W/l-$1"; head -c ${2:-1048576} /dev/urandom > "$W/l-$1/$1.bin"; tar -C "$W/l-$1" -cf "$f" "$1.bin"; echo "$f"; }

#!/usr/bin/env bash
# The Go-built tools the course runs, built once and cached outside the repository.
#
#   scripts/go-tools.sh [lab|test] [--dry-run]
#
# lab:  registry (distribution v3: the registry:3 stand-in and the daemonless engine), crane, and weed
#       (SeaweedFS: notebook 07's and lab 13's S3 object store, a process or its stand-in image);
# test: the same tools (every one of them is run by some test).
# Versions and module checksums are pinned in src/reglab/tools.txt (reglab.tools reads it too).
# Each tool goes to ${REGLAB_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/reglab/tools}/<name>-<version>/<name>;
# one that is there already is left alone. Before building, the module's checksum from the Go module
# proxy must equal the pinned one. Static binaries (CGO_ENABLED=0): they go into FROM-scratch images.
# --dry-run says what it would build and changes nothing.
set -eo pipefail

MODE=lab DRY_RUN=
for arg in "$@"; do
    case "$arg" in
        lab|test) MODE=$arg ;;
        --dry-run) DRY_RUN=1 ;;
        *) echo "usage: $0 [lab|test] [--dry-run]" >&2; exit 2 ;;
    esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PINS="${REGLAB_TOOLS_PINS:-$ROOT/src/reglab/tools.txt}"
TOOLS_DIR="${REGLAB_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/reglab/tools}"
LAB_TOOLS="registry crane weed"

say() { echo "go-tools: $*"; }
wanted() { [ "$MODE" = test ] || [[ " $LAB_TOOLS " == *" $1 "* ]]; }

# Go: $REGLAB_GO if set, else on PATH, else where the Go project's archive installs it
if [ -n "${REGLAB_GO+set}" ]; then
    GO=$REGLAB_GO; [ -x "$GO" ] || GO=
else
    GO=$(command -v go || true)
    [ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
fi
GO_MIN=$(awk '$1 == "go" && NF == 2 {print $2}' "$PINS")

no_go() {  # $1: why; lab carries on (Docker Hub may give the real images), test stops
    echo "go-tools: $1: install Go $GO_MIN or newer (https://go.dev/dl/, or sudo apt-get install golang where Debian's is that new) and run \`make $MODE\` again, or make Docker Hub reachable so the real registry:3 image is pulled instead." >&2
    [ "$MODE" = lab ] && exit 0
    exit 1
}

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }  # $1 >= $2

todo=()
while read -r name module package version sum; do
    wanted "$name" || continue
    dest="$TOOLS_DIR/$name-$version/$name"
    if [ -x "$dest" ]; then
        say "$name $version is built ($dest)"
    else
        todo+=("$name $module $package $version $sum")
    fi
done < <(awk '!/^[[:space:]]*#/ && NF == 5 && $5 ~ /^h1:/' "$PINS")

[ ${#todo[@]} -eq 0 ] && exit 0

if [ -n "$DRY_RUN" ]; then
    for line in "${todo[@]}"; do
        read -r name module package version sum <<<"$line"
        say "would build $name $version: go install ${module}/${package#./}@$version → $TOOLS_DIR/$name-$version/$name"
    done
    [ -n "$GO" ] || say "(Go is not installed here: a real run would stop and say what to install)"
    exit 0
fi

[ -n "$GO" ] || no_go "${todo[*]%% *} not built and Go is not installed"
have=$("$GO" env GOVERSION); have=${have#go}
version_ge "$have" "$GO_MIN" || no_go "Go $have here is older than the $GO_MIN the pinned tools need"

export CGO_ENABLED=0
for line in "${todo[@]}"; do
    read -r name module package version sum <<<"$line"
    dir="$TOOLS_DIR/$name-$version"
    mkdir -p "$dir"
    (
        # one build at a time per tool: a second run waits for the first, then finds the binary
        exec 9>"$dir/.lock"
        command -v flock >/dev/null 2>&1 && flock 9
        if [ -x "$dir/$name" ]; then say "$name $version was built meanwhile ($dir/$name)"; exit 0; fi

        json=$("$GO" mod download -json "$module@$version") || {
            echo "go-tools: the Go module proxy did not give $module@$version ($("$GO" env GOPROXY)): check the network or GOPROXY, then run this again." >&2; exit 1; }
        field() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1" <<<"$json"; }
        got=$(field Sum)
        if [ "$got" != "$sum" ]; then
            echo "go-tools: refusing to build $name: the module $module@$version has checksum ${got:-none}, not the $sum pinned in src/reglab/tools.txt — check the pin (go mod download -json $module@$version) and your GOPROXY." >&2
            exit 1
        fi
        tmp=$(mktemp -d "$dir/.build.XXXXXX")
        trap 'rm -rf "$tmp"' EXIT
        start=$(date +%s)
        if grep -qE '^[[:space:]]*replace([[:space:]]|\()' "$(field GoMod)"; then
            # go install MODULE@VERSION refuses a go.mod with replace directives: build in the module
            # as the proxy delivered it (read-only, checked above), where they apply
            say "building $name $version in its module (its go.mod has replace directives) …"
            (cd "$(field Dir)" && "$GO" build -o "$tmp/$name" "$package")
        else
            say "building $name $version: go install ${module}/${package#./}@$version …"
            GOBIN="$tmp" "$GO" install "${module}/${package#./}@$version"
        fi
        mv "$tmp/$name" "$dir/$name"
        size=$(du -m "$dir/$name" | cut -f1)
        say "built $name $version in $(( $(date +%s) - start )) s, $size MB: $dir/$name"
    )
done

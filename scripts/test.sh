#!/bin/bash
# `make test`: four pytest sessions side by side on one machine (2 cores: the work is mostly waiting
# on daemons, registries and kernels), each with its own state and work folders (conftest.py); labs
# share 127.0.0.1's ports through their port locks (outputs mask the port a lab chose).
#  - Docker: the tests that may reach the machine's Docker daemon, with notebooks 05 and 06 and lab
#    sheets 11 and 12 (they change that daemon's daemon.json, certs.d, mirrors) and the browser test
#    (on a second daemon, JupyterLab's page failed to fetch a notebook now and then; never here),
#    one at a time: a daemon's images are shared by every lab on it, and notebooks remove and count them;
#  - Docker, a second daemon (tests/second_dockerd.py, as root only; elsewhere the first session
#    runs these too): notebooks 01–04, lab sheets 01–10 and tests/test_labs.py;
#  - daemonless: the tests marked `daemonless` (the hub, learners, Binder, the engine itself), then
#    on a third Docker daemon (as root) the Docker tests that need no particular daemon, notebook 07
#    and lab sheet 13 among them;
#  - daemonless, no Docker daemon at all, as on Binder: every notebook (tests/test_notebooks.py,
#    with port 5000 held), then every lab sheet's solution under nbval.
# Each session runs its tests in a new order (pytest-randomly; a notebook's cells keep theirs).
# The first session reports as it goes, the others' reports follow; 0 only if all four passed.
set -u
BIN=${BIN:-.venv/bin}
OWN_DAEMON=(notebooks/0[1-4]-*.ipynb labs/solutions/0[1-9]-*.ipynb labs/solutions/10-*.ipynb tests/test_labs.py
            tests/test_content_a.py tests/test_content_b.py)

logs=$(mktemp -d)
second=$(mktemp -d /tmp/reglab-dockerd2-XXXX)  # the second daemon's files (its log stays there while it runs)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait; rm -rf "$logs" "$second" "$third"' EXIT

lane() {  # lane NAME TITLE COMMAND…: run COMMAND in the background, its report in $logs/NAME
    local name=$1 title=$2
    shift 2
    ( echo "== $title"; "$@" ) >"$logs/$name" 2>&1 &
    pids+=($!)
    echo "$name $!" >>"$logs/lanes"
}

# Docker tests that need no particular daemon, on a third one (after the daemonless tests, in
# their session's spare time): the learners side by side, notebook 01 with port 5000 held, a kernel
# killed half-way through 02, the image tests again beside a learner's own objects; notebook 07,
# lab sheet 13 and tests/test_scale.py (their containers talk to each other on a lab network: the
# daemon's ACCEPT rule, tests/second_dockerd.py). (Notebook 05's killed-kernel test changes the
# machine's daemon.json.)
THIRD_DAEMON=("tests/test_notebooks.py::test_notebook_passes_with_port_5000_taken_and_leaves_nothing[01-run-your-own-registry-docker]"
              "tests/test_notebooks.py::test_kernel_killed_half_way_then_rerun_leaves_nothing[docker]"
              "tests/test_learners.py" "tests/test_beside_a_learner.py"
              notebooks/07-*.ipynb labs/solutions/13-*.ipynb "tests/test_scale.py")
third=$(mktemp -d /tmp/reglab-dockerd3-XXXX)

on_a_daemon_of_its_own() {  # DIR POOL PYTEST-ARGS…: the Docker tests named, on a new dockerd with the course images
    "$BIN/python" tests/second_dockerd.py --pool "$2" "$1" -- bash -c \
        '"$0" -m reglab images >/dev/null && "$1" -m "not daemonless" "${@:2}"' "$BIN/python" "$BIN/pytest" "${@:3}"
}
daemonless() {
    "$BIN/pytest" -m daemonless tests --ignore=tests/test_notebooks.py; local tests=$?
    [ -z "$why" ] || return $tests
    echo "== then, on a third Docker daemon: the learners side by side, notebook 01 with port 5000 held, 02 killed half-way, beside a learner's objects, notebook 07, lab 13"
    on_a_daemon_of_its_own "$third" 10.215.0.0/16 "${THIRD_DAEMON[@]}" && return $tests
}

ignore=()
if why=$("$BIN/python" tests/second_dockerd.py --check); then
    why=""
    for path in "${OWN_DAEMON[@]}"; do ignore+=("--ignore=$path"); done
    for path in "${THIRD_DAEMON[@]}"; do
        case $path in *::*) ignore+=("--deselect=$path") ;; *) ignore+=("--ignore=$path") ;; esac
    done
    lane own "notebooks 01–04, lab sheets 01–10, tests/test_labs.py and the sheets' checks against wrong work (01–10), on a second Docker daemon" \
        on_a_daemon_of_its_own "$second" 10.213.0.0/16 "${OWN_DAEMON[@]}"
else
    echo "== ($why: the machine's daemon runs every Docker test)"
fi
lane daemonless "the daemonless tests but the notebooks'" daemonless
binder() {
    "$BIN/pytest" -m daemonless tests/test_notebooks.py; local notebooks=$?
    echo "== every lab sheet again with the daemonless engine and no Docker daemon, as on Binder"
    REGLAB_ENGINE=local DOCKER_HOST=unix:///nonexistent/docker.sock "$BIN/pytest" labs/solutions && return $notebooks
}
lane binder "every notebook with the daemonless engine and no Docker daemon (tests/test_notebooks.py), as on Binder" binder

echo "== the tests that may reach the machine's Docker daemon (the other sessions' reports follow)"
"$BIN/pytest" -m "not daemonless" "${ignore[@]}"
status=$?
while read -r name pid; do
    wait "$pid" || status=1
    cat "$logs/$name"
done <"$logs/lanes"
if [ "$status" != 0 ]; then  # the extra daemons' logs, for what they saw
    mkdir -p test-artifacts
    for dir in "$second" "$third"; do
        [ -f "$dir/dockerd.log" ] && cp "$dir/dockerd.log" "test-artifacts/$(basename "$dir").log"
    done
fi
exit $status

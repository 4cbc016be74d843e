#!/bin/bash
# `make test`: pytest sessions side by side on one machine (2 cores: much of the work is waiting on
# daemons, registries and kernels), each with its own state and work folders (conftest.py); labs
# share 127.0.0.1's ports through their port locks (outputs mask the port a lab chose). A Docker
# daemon's images are one namespace for all its users, and notebooks remove and count them, so the
# Docker tests are split over daemons, one session each (tests/second_dockerd.py, as root):
#  - the machine's daemon (the set-up's): what changes that daemon's daemon.json, certs.d or
#    mirrors — notebooks 05 and 06, lab sheets 11 and 12 and their tests — and the browser test (on a
#    second daemon, JupyterLab's page failed to fetch a notebook now and then; never here);
#  - a second daemon: notebooks 01–04, lab sheets 01–10 and their tests;
#  - a third: the learners side by side, notebook 01 with port 5000 held, a kernel killed half-way
#    through 02, the tests beside a learner's own objects, notebook 07, lab sheet 13 and their tests
#    (their containers talk to each other on a lab network: the daemon's ACCEPT rule,
#    tests/second_dockerd.py), and the twins replayed (on a fresh daemon of their own);
#  - a fourth: every other Docker test (they need a daemon, no particular one), then the class's
#    tests (daemonless: the hub, the learners' accounts, the instructor's progress);
# and two sessions with no daemon: the tests marked `daemonless` (the hub, learners, Binder, the
# engine itself); every notebook with the daemonless engine and no Docker daemon (tests/test_notebooks.py,
# with port 5000 held), then every lab sheet's solution under nbval, as on Binder.
# Where no second daemon can start (not root), the machine's daemon runs every Docker test.
# Each session runs its tests in a new order (pytest-randomly; a notebook's cells keep theirs).
# The machine's session reports as it goes, the others' reports follow; 0 only if all passed.
set -u
BIN=${BIN:-.venv/bin}
MACHINE=(notebooks/05-*.ipynb notebooks/06-*.ipynb notebooks/A-*.ipynb labs/solutions/11-*.ipynb
         labs/solutions/12-*.ipynb tests/test_secure.py tests/test_mirror.py tests/test_content_c.py
         tests/test_notebooks.py tests/test_browser.py tests/test_digests.py tests/test_interop.py
         tests/test_twins_print.py)
OWN_DAEMON=(notebooks/0[1-4]-*.ipynb labs/solutions/0[1-9]-*.ipynb labs/solutions/10-*.ipynb tests/test_labs.py
            tests/test_content_a.py tests/test_content_b.py)
THIRD_DAEMON=("tests/test_notebooks.py::test_notebook_passes_with_port_5000_taken_and_leaves_nothing[01-run-your-own-registry-docker]"
              "tests/test_notebooks.py::test_kernel_killed_half_way_then_rerun_leaves_nothing[docker]"
              "tests/test_learners.py" "tests/test_beside_a_learner.py"
              notebooks/07-*.ipynb labs/solutions/13-*.ipynb "tests/test_scale.py" "tests/test_twin_replay.py")

logs=$(mktemp -d)
folders=()  # the extra daemons' files (each one's log stays there while it runs)
for n in 2 3 4; do folders+=("$(mktemp -d "/tmp/reglab-dockerd$n-XXXX")"); done
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait; rm -rf "$logs" "${folders[@]}"' EXIT

lane() {  # lane NAME TITLE COMMAND…: run COMMAND in the background, its report in $logs/NAME
    local name=$1 title=$2
    shift 2
    ( echo "== $title"; "$@"; status=$?; times >"$logs/$name.cpu"
      echo "== ($name: its processes' CPU, user and system: $(tail -1 "$logs/$name.cpu"))"; exit $status
    ) >"$logs/$name" 2>&1 &
    pids+=($!)
    echo "$name $!" >>"$logs/lanes"
}
on_a_daemon_of_its_own() {  # DIR POOL PYTEST-ARGS…: the Docker tests named, on a new dockerd with the course images
    "$BIN/python" tests/second_dockerd.py --pool "$2" "$1" -- bash -c \
        '"$0" -m reglab images >/dev/null && "$1" -m "not daemonless" "${@:2}"' "$BIN/python" "$BIN/pytest" "${@:3}"
}
rest() {
    on_a_daemon_of_its_own "${folders[2]}" 10.217.0.0/16 "${rest[@]}"; local docker=$?
    echo "== the class: the hub, the learners' accounts, the instructor's progress (daemonless)"
    "$BIN/pytest" -m daemonless tests/test_classroom.py tests/test_journal.py && return $docker
}
binder() {
    "$BIN/pytest" -m daemonless tests/test_notebooks.py; local notebooks=$?
    echo "== every lab sheet again with the daemonless engine and no Docker daemon, as on Binder"
    REGLAB_ENGINE=local DOCKER_HOST=unix:///nonexistent/docker.sock "$BIN/pytest" labs/solutions && return $notebooks
}

if why=$("$BIN/python" tests/second_dockerd.py --check); then
    machine=("${MACHINE[@]}")
    rest=(tests --ignore=tests/test_twin_replay.py)  # the fourth daemon's: every Docker test not named above
    for path in "${MACHINE[@]}" "${OWN_DAEMON[@]}" "${THIRD_DAEMON[@]}"; do
        case $path in
        *::*) machine+=("--deselect=$path") ;;
        tests/*) rest+=("--ignore=$path") ;;
        esac
    done
    lane own "notebooks 01–04, lab sheets 01–10 and their tests, on a second Docker daemon" \
        on_a_daemon_of_its_own "${folders[0]}" 10.213.0.0/16 "${OWN_DAEMON[@]}"
    lane third "the learners side by side, notebook 01 with port 5000 held, 02 killed half-way, beside a learner's objects, notebook 07, lab 13, the twins replayed, on a third Docker daemon" \
        on_a_daemon_of_its_own "${folders[1]}" 10.215.0.0/16 "${THIRD_DAEMON[@]}"
    lane rest "the other Docker tests, on a fourth Docker daemon, then the class's (daemonless: hub, learners' accounts, progress)" \
        rest
    class=(--ignore=tests/test_classroom.py --ignore=tests/test_journal.py)  # (in the fourth's spare time)
else
    echo "== ($why: the machine's daemon runs every Docker test)"
    machine=()
    class=()
fi
lane daemonless "the daemonless tests but the notebooks'" "$BIN/pytest" -m daemonless tests --ignore=tests/test_notebooks.py \
    "${class[@]}"
lane binder "every notebook with the daemonless engine and no Docker daemon (tests/test_notebooks.py), as on Binder" binder

echo "== the tests that change the machine's Docker daemon, and the browser's (the other sessions' reports follow)"
"$BIN/pytest" -m "not daemonless" "${machine[@]}"
status=$?
times >"$logs/machine.cpu"
echo "== (the machine's daemon: its processes' CPU, user and system: $(tail -1 "$logs/machine.cpu"))"
while read -r name pid; do
    wait "$pid" || status=1
    cat "$logs/$name"
done <"$logs/lanes"
if [ "$status" != 0 ]; then  # the extra daemons' logs, for what they saw
    mkdir -p test-artifacts
    for dir in "${folders[@]}"; do
        [ -f "$dir/dockerd.log" ] && cp "$dir/dockerd.log" "test-artifacts/$(basename "$dir").log"
    done
fi
exit $status

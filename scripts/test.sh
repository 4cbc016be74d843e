#!/bin/bash
# `make test`: two pytest sessions side by side on one machine.
#  - the tests that may reach the Docker daemon, and every notebook under nbval: one session, one
#    test at a time (a daemon's images are shared by every lab on it: notebooks remove and count
#    them), in a new order each run (pytest-randomly; a notebook's cells keep theirs: conftest.py);
#  - beside it, the tests marked `daemonless` (the hub, the learners on the daemonless engine, the
#    notebooks re-run under it, Binder), then every notebook again with the daemonless engine and
#    no Docker daemon, as on Binder.
# Each session has its own state and work folders (conftest.py); labs share 127.0.0.1's
# ports through their port locks. The second session's report follows the first's.
set -u
BIN=${BIN:-.venv/bin}
side_log=$(mktemp)
(
    "$BIN/pytest" -m daemonless tests &&
    echo "== every notebook and lab solution again with the daemonless engine and no Docker daemon (as on Binder)" &&
    REGLAB_ENGINE=local DOCKER_HOST=unix:///nonexistent/docker.sock "$BIN/pytest" notebooks labs/solutions
) >"$side_log" 2>&1 &
side=$!
trap 'kill "$side" 2>/dev/null; rm -f "$side_log"' EXIT
echo "== the tests that may reach the Docker daemon, and every notebook (the daemonless ones run alongside)"
"$BIN/pytest" -m "not daemonless"
main=$?
wait "$side"
other=$?
echo "== alongside: the daemonless tests, then every notebook with the daemonless engine"
cat "$side_log"
[ "$main" = 0 ] && [ "$other" = 0 ]

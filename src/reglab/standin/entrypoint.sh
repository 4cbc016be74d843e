#!/bin/sh
# The upstream registry:2 entrypoint, word for word in behaviour:
# a config path means "serve it"; a registry subcommand gets the binary's name.
set -e

case "$1" in
    *.yaml|*.yml) set -- registry serve "$@" ;;
    serve|garbage-collect|help|-*) set -- registry "$@" ;;
esac

exec "$@"

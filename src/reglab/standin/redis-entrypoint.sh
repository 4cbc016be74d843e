#!/bin/sh
# The redis image's entrypoint, in reglab's words: options or a .conf file alone mean
# redis-server with them. The real image's redis is built with protected mode off; Debian's is
# built with it on, so without a config file the stand-in says --protected-mode no.
set -e
case "$1" in
    -*|*.conf) set -- redis-server "$@" ;;
esac
if [ "$1" = redis-server ]; then
    case "$2" in
        *.conf) ;;
        *) shift; set -- redis-server --protected-mode no "$@" ;;
    esac
fi
exec "$@"

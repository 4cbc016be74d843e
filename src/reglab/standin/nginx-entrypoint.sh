#!/bin/sh
# The nginx image's entrypoint, as far as reglab's stand-in needs it: when the command is nginx,
# run the scripts in /docker-entrypoint.d/ first (none are shipped), then the command.
set -e
if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
    for script in /docker-entrypoint.d/*.sh; do
        [ -x "$script" ] && "$script"
    done
fi
exec "$@"

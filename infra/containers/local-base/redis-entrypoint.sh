#!/usr/bin/env bash
# The official redis image's contract: flags alone mean redis-server; as root, own /data
# and drop to the redis user; protected mode off unless the command sets it.
set -Eeuo pipefail

if [ "${1#-}" != "${1:-}" ]; then set -- redis-server "$@"; fi

if [ "${1:-}" = redis-server ] && [ "$(id -u)" = 0 ]; then
  chown -R redis:redis /data
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

if [ "${1:-}" = redis-server ] && [[ " $* " != *" --protected-mode "* ]]; then
  set -- "$@" --protected-mode no
fi

exec "$@"

#!/usr/bin/env bash
# Restores the stanza's cluster as it was at a moment, into an empty data directory,
# and leaves it ready to start: PostgreSQL replays the archived WAL up to that moment,
# then promotes (opens for writes on a new timeline).
#
#   restore-to-time.sh '2026-12-01 14:03:00+00' /var/lib/postgresql/15/restored
#
# Run it as the user PostgreSQL runs as (postgres). Extra arguments go to pgbackrest
# (e.g. --config=..., --set=<backup> to start from an older backup). Then start the
# server on that directory (pg_ctl -D DIR start, or point the service at it) and check
# the data before sending traffic to it. See docs/runbooks/backup-and-restore.md.
set -euo pipefail

if [ "$#" -lt 2 ]; then
  echo "usage: $0 '<time with zone, e.g. 2026-12-01 14:03:00+00>' <empty data directory> [pgbackrest options...]" >&2
  exit 64
fi
target=$1
data_dir=$2
shift 2
stanza=${PGBACKREST_STANZA:-groundwork}

if [ -e "$data_dir" ] && [ -n "$(ls -A "$data_dir")" ]; then
  echo "$data_dir is not empty: restore into an empty directory (never over the running cluster's)" >&2
  exit 73
fi
mkdir -p "$data_dir"
chmod 700 "$data_dir"

pgbackrest --stanza="$stanza" "$@" \
  --pg1-path="$data_dir" \
  --type=time --target="$target" --target-action=promote \
  restore

echo "restored to $target in $data_dir: start PostgreSQL on it and check the data before use"

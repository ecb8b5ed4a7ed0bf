#!/bin/sh
# The InfluxDB 1.x image reads its credentials from plain variables only. This
# wrapper gives it the `*_FILE` convention: for every VAR_FILE, VAR is read from
# that file (a Docker secret), then the image's own entrypoint runs.
set -eu
for pair in $(env | grep -E '^INFLUXDB_[A-Z_]+_FILE=' | cut -d= -f1); do
  name=${pair%_FILE}
  eval "file=\${$pair}"
  export "$name=$(cat "$file")"
  unset "$pair"
done
exec /entrypoint.sh "$@"

#!/bin/sh
# The container's entrypoint: start each process with an empty Prometheus multi-process directory
# (files left by an earlier run of the container would be added to the scrape), then run it.
set -eu
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    rm -rf "$PROMETHEUS_MULTIPROC_DIR"
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi
exec "$@"

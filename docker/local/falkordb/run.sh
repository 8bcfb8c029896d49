#!/bin/sh
# Same interface as the official image's run.sh (without the browser and TLS options).
# shellcheck disable=SC2086  # REDIS_ARGS and FALKORDB_ARGS are word lists, as upstream
exec redis-server ${REDIS_ARGS:-} --protected-mode no --dir /data \
    --loadmodule /FalkorDB/bin/src/falkordb.so ${FALKORDB_ARGS:-}

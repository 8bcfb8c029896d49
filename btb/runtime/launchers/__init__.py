"""One module per engine: how the local runtime starts its server (see btb.runtime.local)."""

"""Runtimes start and stop engine servers: `local` (child processes) and, later, `docker`."""

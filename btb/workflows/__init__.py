"""High-level steps the CLI (and later Ansible) call: validate input, then drive the layers."""

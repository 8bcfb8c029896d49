"""Engines: one module per engine implementing `base.Engine`; `registry` lists them once."""

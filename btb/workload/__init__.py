"""Workload: query catalogue (queries/), parameter binding, reference answers, canonical form."""

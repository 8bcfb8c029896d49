"""btb — BaseType Benchmark: graph vs relational vs RDF engines for building data.

RAM is the experimental variable."""

__version__ = "0.1.0"

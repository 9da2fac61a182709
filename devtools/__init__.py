"""Developer tooling: demo data, benchmarks and their commands (layer 7: may import any app; no app imports it)."""

"""Vitrine's side-by-side benchmarks (``make bench``): every figure is a ratio of variants measured
in the same run, on the same machine, against the same Hypercorn settings."""

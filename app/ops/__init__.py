"""Operations: health and readiness probes (:mod:`.routes`), Prometheus metrics (:mod:`.metrics`
counts, :mod:`.exposition` serves ``/metrics``, :mod:`.server` runs Hypercorn with a shared
metrics directory), and JSON logs with the request id (:mod:`.logging`)."""

"""Operations: health and readiness probes (:mod:`.routes`), Prometheus metrics (:mod:`.metrics`
counts, :mod:`.exposition` serves ``/metrics``, :mod:`.server` runs Hypercorn with a shared
metrics directory), JSON logs with the request id (:mod:`.logging`), the ``make run``
supervisor (:mod:`.supervisor`) and what the process table says about a pid (:mod:`.processes`)."""

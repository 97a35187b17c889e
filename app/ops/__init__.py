"""Operations: health and readiness probes, structured logging."""

"""Operations: load rows, call the domain, flush, append events to the outbox. Never commit."""

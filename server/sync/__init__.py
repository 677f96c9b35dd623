"""A centre box delivers its hall's changes to the province hub (docs/sync.md).

`capture` (which tables, the link row, the link state), `push` (the centre's side: read the
outbox after the hub's mark, send a batch, advance the mark on the hub's acknowledgement),
`ingest` (the hub's side: store a box's batch exactly once, in order), `cli` (`tthcc sync`).
"""

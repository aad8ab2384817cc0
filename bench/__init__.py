"""Benchmarks that print figures. Run one with `python -m bench <name>` (module bench/<name>.py with a
`main()`), or all of them with `python -m bench`."""

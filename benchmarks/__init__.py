"""Benchmarks for htx_cancel against the fake exchange: ``python -m benchmarks``.

Not part of the installed package; see ``benchmarks/README.md``.
"""

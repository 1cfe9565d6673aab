"""The aio-mq guardrails policy pack (`pulumi preview --policy-pack policy`); see docs/policy.md.

This file only makes the pack importable as `policy` for the tests and mypy; the engine runs the
directory itself (`python policy/ ...`), which executes `__main__.py`.
"""

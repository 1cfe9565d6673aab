"""aio-mq's own tools, grouped by job (docs/architecture.md, "tools/"): the commands users type
stay at tools/<command>; the code behind them lives in one package per job, with the helpers
they share in tools/project.py."""

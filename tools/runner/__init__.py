"""Running Pulumi on this project: the supervisor under tools/pulumi, tools/stacks (what each
stack is and how `make` runs it) and tools/recover (after a crash)."""

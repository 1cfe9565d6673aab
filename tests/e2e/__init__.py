"""End-to-end tests: the real Pulumi engine (tools/ensure-engine), marked e2e."""

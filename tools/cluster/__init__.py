"""The local Kubernetes API server (tools/local-cluster; its binaries are built from the Go
module in this directory) and the broker operator's test double for it (tools/operator-double)."""

"""The Kubernetes target: a checked stack as custom resources on a cluster, or rendered YAML."""

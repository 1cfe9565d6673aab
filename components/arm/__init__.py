"""The Azure Resource Manager target of GA stacks (`aio-mq:azure`): the same checked listeners,
authentications and authorizations as `Microsoft.IoTOperations` resources.

Beside the Kubernetes target, not a branch inside it: `config` reads the key and holds ARM's own
rules, `resources` turns a checked GA plan (components/v1/plan.py) into ARM resource
descriptions, `target` registers them with `pulumi-azure-native` and `template` writes them as an
ARM deployment template. Both outputs come from the same descriptions, so they cannot disagree.
"""

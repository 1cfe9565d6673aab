"""aio-mq: the BrokerListeners and cert-manager issuers of one environment, from its stack file.

The same directory is also a Pulumi component package (PulumiPlugin.yaml): run by a language
host as a plugin, no program is running here, and this serves the package instead.
"""

from pulumi.runtime.settings import get_monitor

if get_monitor() is None:
    from components.package import serve

    serve()
else:
    import pulumi

    from components.stack import deploy, load_config

    config = load_config()
    pulumi.export("production", config.production)
    pulumi.export("listeners", deploy(config))

"""aio-mq: the BrokerListeners and cert-manager issuers of one environment, from its stack file."""

import pulumi

from components.stack import deploy, load_config

config = load_config()
pulumi.export("production", config.production)
pulumi.export("listeners", deploy(config))

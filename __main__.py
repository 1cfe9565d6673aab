"""aio-mq: the BrokerListeners and cert-manager issuers of one environment, from its stack file."""

import pulumi

from components.stack import deploy, load_config

pulumi.export("listeners", deploy(load_config()))

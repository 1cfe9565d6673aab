"""Entry point of the policy pack: the engine runs this directory (`python <pack dir> ...`).

The pack then serves the policies over gRPC and prints its port, as pulumi_policy does.
"""

from typing import TYPE_CHECKING

from pulumi_policy import PolicyPack

if TYPE_CHECKING:  # mypy and the tests see the pack as the package `policy`
    from policy import guardrails
else:  # run as a directory, this directory is sys.path[0]
    import guardrails

guardrails.listen_for_stack_config()
PolicyPack(name=guardrails.PACK_NAME, policies=guardrails.policies())

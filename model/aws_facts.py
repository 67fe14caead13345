"""AWS facts the stack (model/) and the policy pack (policies/) both rely on: standard library only.

The pack runs in a virtualenv of its own with only pulumi and pulumi-policy, and is published
alone (`pulumi policy publish` ships the policies/ directory and nothing else), so it cannot
import model/. policies/aws_facts.py is therefore a byte-for-byte copy of this file, and
tests/test_aws_facts.py fails, naming both, when they differ: edit this file, then
`cp model/aws_facts.py policies/aws_facts.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

# --- ports ----------------------------------------------------------------------------------------

# CreateCluster "Port" (botocore's redshift service model): "Default: 5439"; "For clusters with RG
# or RA3 nodes - Select a port within the ranges 5431-5455 or 8191-8215"; other node types (dc2)
# 1150-65535. CreateWorkgroup "port" (redshift-serverless): "5431-5455 and 8191-8215".
DEFAULT_REDSHIFT_PORT: Final = 5439
MANAGED_STORAGE_PORT_RANGES: Final = ((5431, 5455), (8191, 8215))
OTHER_PORT_RANGE: Final = (1150, 65535)
MANAGED_STORAGE_FAMILIES: Final = ("ra3.", "rg.")  # Redshift managed storage node types
NODE_TYPE_PORTS: Final = {
    "ra3.": MANAGED_STORAGE_PORT_RANGES,
    "rg.": MANAGED_STORAGE_PORT_RANGES,
    "dc2.": (OTHER_PORT_RANGE,),
}
SERVERLESS_PORT_RANGES: Final = MANAGED_STORAGE_PORT_RANGES


def ranges_text(ranges: Sequence[tuple[int, int]]) -> str:
    """`5431-5455 or 8191-8215`."""
    return " or ".join(f"{low}-{high}" for low, high in ranges)


# --- the Redshift Data API (Service Authorization Reference, Amazon Redshift Data API) -----------

# Calls that accept the cluster (or workgroup) ARN as resource.
DATA_API_CLUSTER_ACTIONS: Final = (
    "redshift-data:BatchExecuteStatement",
    "redshift-data:DescribeTable",
    "redshift-data:ExecuteStatement",
    "redshift-data:ListDatabases",
    "redshift-data:ListSchemas",
    "redshift-data:ListTables",
)
# Calls on statement ids: AWS defines no resource type for them, only "*". The Data API itself
# limits them to statements the same IAM identity ran.
DATA_API_STATEMENT_ACTIONS: Final = (
    "redshift-data:CancelStatement",
    "redshift-data:DescribeStatement",
    "redshift-data:GetStatementResult",
    "redshift-data:ListStatements",
)

# --- what stands in for a value a reader cannot see -----------------------------------------------

COMPUTED: Final = "<computed>"  # known only after deploy (the offline plan, like `pulumi preview`)
SECRET: Final = "[secret]"  # noqa: S105 - a secret, as `pulumi stack output` prints it

"""The AWS facts the stack and the policy pack share (issue 20): one text, checked against AWS.

The pack cannot import model/ (its own virtualenv, published alone), so policies/aws_facts.py is
a verbatim copy of model/aws_facts.py: the copies must be equal byte for byte, and both sides
must read the facts from them. The facts themselves are checked against botocore's service
models (the port ranges in CreateCluster's and CreateWorkgroup's documentation, the Data API's
operation names), which share no code with either.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import botocore.session

from model import aws_facts, iam_documents, outputs, validators
from policies import aws_facts as pack_facts
from policies import iam_rules, networks, values

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "model" / "aws_facts.py"
PACK = ROOT / "policies" / "aws_facts.py"


def test_the_packs_copy_is_the_models_file_byte_for_byte() -> None:
    assert PACK.read_bytes() == MODEL.read_bytes(), (
        "policies/aws_facts.py differs from model/aws_facts.py: edit model/aws_facts.py, then "
        "cp model/aws_facts.py policies/aws_facts.py"
    )


def test_the_copy_needs_nothing_beyond_the_standard_library() -> None:
    tree = ast.parse(MODEL.read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imported <= {"__future__", "collections.abc", "typing"}


def test_both_sides_read_the_shared_facts() -> None:
    assert validators.RA3_PORT_RANGES is aws_facts.MANAGED_STORAGE_PORT_RANGES
    assert (outputs.COMPUTED, outputs.SECRET) == (aws_facts.COMPUTED, aws_facts.SECRET)
    assert (values.COMPUTED, values.HIDDEN) == (pack_facts.COMPUTED, pack_facts.SECRET)
    assert networks.NODE_TYPE_PORTS is pack_facts.NODE_TYPE_PORTS
    assert iam_rules.CONNECTOR_STATEMENT_ACTIONS is pack_facts.DATA_API_STATEMENT_ACTIONS
    assert set(pack_facts.DATA_API_CLUSTER_ACTIONS) <= set(iam_rules.CONNECTOR_CLUSTER_ACTIONS)
    assert iam_documents.DATA_API_CLUSTER_ACTIONS is aws_facts.DATA_API_CLUSTER_ACTIONS
    assert validators.port_problem(5460, ["ra3.large"]) == (
        "RA3 and RG node types accept only ports 5431-5455 or 8191-8215 "
        "(botocore redshift CreateCluster Port)"
    )


def _ranges(documentation: str) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in re.findall(r"(\d{4})-(\d{4,5})", documentation)}


def test_the_port_ranges_are_what_botocore_documents() -> None:
    session = botocore.session.get_session()
    cluster = session.get_service_model("redshift").operation_model("CreateCluster")
    cluster_doc = cluster.input_shape.members["Port"].documentation
    assert set(aws_facts.MANAGED_STORAGE_PORT_RANGES) <= _ranges(cluster_doc)
    assert "RG or RA3" in cluster_doc and "Default: <code>5439</code>" in cluster_doc
    workgroup = session.get_service_model("redshift-serverless").operation_model("CreateWorkgroup")
    workgroup_doc = workgroup.input_shape.members["port"].documentation
    assert _ranges(workgroup_doc) == set(aws_facts.SERVERLESS_PORT_RANGES)
    assert f"The default is {aws_facts.DEFAULT_REDSHIFT_PORT}" in workgroup_doc


def test_the_data_api_actions_are_operations_of_the_data_api() -> None:
    operations = set(
        botocore.session.get_session().get_service_model("redshift-data").operation_names
    )
    for action in aws_facts.DATA_API_CLUSTER_ACTIONS + aws_facts.DATA_API_STATEMENT_ACTIONS:
        service, name = action.split(":")
        assert service == "redshift-data" and name in operations, action

"""The kubernetes-job provisioner's objects, planned for connectors at the settings' limits (32-
character names, a hyphen wherever a cut could fall, a 63-character namespace), keep Kubernetes'
own rules on names and labels: the limits are Kubernetes' (apimachinery's validation: a DNS-1123
label is at most 63 characters of [a-z0-9-], alphanumeric at both ends; a label value at most 63 of
[A-Za-z0-9_.-], alphanumeric at both ends; a Job's name becomes its pods' job-name label).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tools.plan import build_plan

DNS_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
LABEL_VALUE = re.compile(r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
NAMES = ["c" * 32, "c" * 30 + "-d", "c-" * 15 + "cd", "c" * 24 + "-" + "d" * 7]


def test_every_object_name_and_label_is_valid_for_connectors_at_the_limits(tmp_path: Path) -> None:
    connectors: list[dict[str, Any]] = [
        {"name": name, "roleName": f"role-{i}", "serviceAccount": f"sa-{i}", "namespace": "n" * 63}
        for i, name in enumerate(NAMES)
    ]
    config = {
        "aws:region": "us-west-2",
        "xpander-redshift:organizationId": "org-4f1c9a2e7b",
        "xpander-redshift:eksClusterName": "xpander-dev",
        "xpander-redshift:privateSubnetIds": ["subnet-0a3f5c7e9b1d24680"],
        "xpander-redshift:userProvisioner": "kubernetes-job",
        "xpander-redshift:connectors": connectors,
    }
    path = tmp_path / "Pulumi.limits.yaml"
    path.write_text(yaml.safe_dump({"config": config}), encoding="utf-8")

    plan = build_plan(path, stack="limits")
    objects = [r["inputs"] for r in plan["resources"] if r["type"].startswith("kubernetes:")]
    objects = [o for o in objects if "metadata" in o]  # not the providers
    assert len(objects) == 4 * len(NAMES)  # Secret, ConfigMap, NetworkPolicy and Job each
    for obj in objects:
        metadata = obj["metadata"]
        name = metadata["name"]
        assert len(name) <= 63 and DNS_LABEL.fullmatch(name), name
        assert metadata["namespace"] == "n" * 63
        for key, value in metadata["labels"].items():
            assert len(value) <= 63 and LABEL_VALUE.fullmatch(value), (key, value)
    jobs = [o for o in objects if o["kind"] == "Job"]
    pod_labels = [j["spec"]["template"]["metadata"]["labels"] for j in jobs]
    assert len({labels["app.kubernetes.io/instance"] for labels in pod_labels}) == len(NAMES)

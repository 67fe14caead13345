"""Settings kept as secrets (`pulumi config set --secret`) stay secrets all the way through.

Two callers see them differently: `pulumi up` hands the program the decrypted value and the list of
secret keys; the offline plan sees only the ciphertext of a `secure:` entry. Either way no output,
registered input or plan line may show the value in plain text.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from model.config_values import ENCRYPTED
from model.outputs import SECRET as SECRET_SHOWN
from model.settings import SettingsError, settings_from_config
from tests.stack_helpers import DEV_CONFIG, ROOT, one
from tools import plan as plan_tool
from tools.engine import run_program

ORGANIZATION = "org-top-secret-41"
CIPHERTEXT = "v1:AAAAsecretciphertext=="
PROJECT = "xpander-redshift"


def test_a_secret_organization_id_is_a_secret_output_and_a_secret_trust_policy():
    config = {**DEV_CONFIG, f"{PROJECT}:organizationId": ORGANIZATION}
    run = run_program(config, secret_keys=[f"{PROJECT}:organizationId"])
    assert run.outputs["organizationId"] == SECRET_SHOWN
    role = one(run, "aws:iam/role:Role")
    assert role.inputs["assumeRolePolicy"] == SECRET_SHOWN
    assert ORGANIZATION not in json.dumps(run.outputs)
    assert all(ORGANIZATION not in json.dumps(r.inputs) for r in run.resources)


def test_a_plain_organization_id_stays_plain():
    config = {**DEV_CONFIG, f"{PROJECT}:organizationId": ORGANIZATION}
    run = run_program(config)
    assert run.outputs["organizationId"] == ORGANIZATION


@pytest.fixture(scope="module")
def secret_stack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dev stack with organizationId as `pulumi config set --secret` writes it."""
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    document["config"][f"{PROJECT}:organizationId"] = {"secure": CIPHERTEXT}
    stack = tmp_path_factory.mktemp("secret") / "Pulumi.secret.yaml"
    stack.write_text(yaml.safe_dump(document))
    return stack


@pytest.fixture(scope="module")
def secret_run(secret_stack: Path) -> tuple[int, str, str]:
    """`python -m tools.plan --config-file <it> --json`, run once in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = plan_tool.main(["--config-file", str(secret_stack), "--json"])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def secret_plan(secret_run: tuple[int, str, str]) -> dict[str, Any]:
    code, out, err = secret_run
    assert code == 0, err
    plan: dict[str, Any] = json.loads(out)
    return plan


def test_the_offline_plan_renders_a_stack_with_secure_values_and_never_prints_them(
    secret_run, secret_plan
):
    _, out, err = secret_run
    # The --json view as main() printed it, and the text and --markdown views main() renders
    # from the same plan (tools/plan.py), so one plan stands for the three.
    for shown in (out, plan_tool.render_text(secret_plan), plan_tool.render_markdown(secret_plan)):
        assert CIPHERTEXT not in shown
        assert SECRET_SHOWN in shown
    assert CIPHERTEXT not in err


def test_an_unreadable_secure_value_is_marked_not_validated():
    config = {**DEV_CONFIG, f"{PROJECT}:organizationId": ENCRYPTED}
    run = run_program(config)
    assert run.outputs["organizationId"] == SECRET_SHOWN


def test_a_secret_admin_secret_arn_is_a_secret_output_and_a_secret_provisioner_input():
    arn = "arn:aws:secretsmanager:us-west-2:111122223333:secret:redshift!analytics-admin-AbC123"
    config = {
        **{k: v for k, v in DEV_CONFIG.items() if k != f"{PROJECT}:privateSubnetIds"},
        f"{PROJECT}:existingClusterIdentifier": "analytics",
        f"{PROJECT}:existingAdminSecretArn": arn,
    }
    run = run_program(config, secret_keys=[f"{PROJECT}:existingAdminSecretArn"])
    assert run.outputs["masterPasswordSecretArn"] == SECRET_SHOWN
    user = one(run, "pulumi-python:dynamic/xpander:IamrUser")
    assert user.inputs["secretArn"] == SECRET_SHOWN
    assert all(arn not in json.dumps(r.inputs) for r in run.resources)


@pytest.mark.parametrize("key", ["vpcId", "userProvisioner", "rolePath", "masterUsername", "tags"])
def test_a_secret_on_a_setting_that_is_not_secret_material_is_refused(key):
    """The stack would put such a value in plain text in resource inputs (state), and the offline
    plan cannot read it to render the stack it shapes: refused, naming the key, either way."""
    with pytest.raises(SettingsError, match=f"{PROJECT}:{key}: is stored as a secret"):
        settings_from_config({**DEV_CONFIG, f"{PROJECT}:{key}": ENCRYPTED})
    with pytest.raises(SettingsError, match=f"{PROJECT}:{key}: is stored as a secret"):
        settings_from_config(DEV_CONFIG, secret_keys=[f"{PROJECT}:{key}"])


def test_a_connectors_organization_id_may_be_a_nested_secret():
    """What `pulumi config set --secret --path 'xpander-redshift:connectors[0].organizationId'`
    writes: the offline plan shows it as [secret], and the stack keeps it secret."""
    connectors = [{"name": "sales", "roleName": "xpander-sales", "organizationId": ENCRYPTED}]
    settings = settings_from_config({**DEV_CONFIG, f"{PROJECT}:connectors": connectors})
    assert settings.all_connectors[0].organization_id == SECRET_SHOWN
    assert settings.all_connectors[0].organization_id_is_secret
    nested_role = [{"name": "sales", "roleName": ENCRYPTED}]
    with pytest.raises(SettingsError, match=r"connectors\[0\].roleName: is stored as a secret"):
        settings_from_config({**DEV_CONFIG, f"{PROJECT}:connectors": nested_role})


def test_the_pack_judges_a_secret_trust_policy_as_the_analyzer_sees_it(secret_plan):
    """CrossGuard's analyzer receives secret properties unwrapped, so `pulumi preview` judges a
    trust policy built from a secret organizationId; the offline plan must too, not fall back
    to "could not judge" (its placeholder reveals nothing: the plan cannot read the secret)."""
    assert secret_plan["policyViolations"] == []
    role = next(r for r in secret_plan["resources"] if r["type"] == "aws:iam/role:Role")
    # The plan shows the policy a reviewer needs, with the secret ExternalId alone masked.
    trust = json.loads(role["inputs"]["assumeRolePolicy"])
    (cross,) = [s for s in trust["Statement"] if s["Sid"] == "CrossAccountWithExternalId"]
    assert cross["Condition"] == {"StringEquals": {"sts:ExternalId": SECRET_SHOWN}}

"""Settings kept as secrets (`pulumi config set --secret`) stay secrets all the way through.

Two callers see them differently: `pulumi up` hands the program the decrypted value and the list of
secret keys; the offline plan sees only the ciphertext of a `secure:` entry. Either way no output,
registered input or plan line may show the value in plain text.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from model.config_values import ENCRYPTED
from model.settings import SettingsError, settings_from_config
from tests.stack_helpers import DEV_CONFIG, ROOT, one
from tools.engine import SECRET as SECRET_SHOWN
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


def test_the_offline_plan_renders_a_stack_with_secure_values_and_never_prints_them(tmp_path):
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    document["config"][f"{PROJECT}:organizationId"] = {"secure": CIPHERTEXT}
    stack = tmp_path / "Pulumi.secret.yaml"
    stack.write_text(yaml.safe_dump(document))
    for view in ([], ["--json"], ["--markdown"]):
        done = subprocess.run(
            [sys.executable, "-m", "tools.plan", "--config-file", str(stack), *view],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert CIPHERTEXT not in done.stdout + done.stderr
        assert SECRET_SHOWN in done.stdout


def test_an_unreadable_secure_value_is_marked_not_validated():
    config = {**DEV_CONFIG, f"{PROJECT}:organizationId": ENCRYPTED}
    run = run_program(config)
    assert run.outputs["organizationId"] == SECRET_SHOWN


def test_a_secret_admin_secret_arn_is_a_secret_output_and_a_secret_provisioner_input():
    arn = "arn:aws:secretsmanager:us-west-2:111122223333:secret:redshift!analytics-admin-AbC123"
    config = {
        **DEV_CONFIG,
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


def test_the_pack_judges_a_secret_trust_policy_as_the_analyzer_sees_it(tmp_path):
    """CrossGuard's analyzer receives secret properties unwrapped, so `pulumi preview` judges a
    trust policy built from a secret organizationId; the offline plan must too, not fall back
    to "could not judge" (its placeholder reveals nothing: the plan cannot read the secret)."""
    from tools.plan import build_plan  # noqa: PLC0415 - the plan tool, as the other tests use it

    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    document["config"][f"{PROJECT}:organizationId"] = {"secure": CIPHERTEXT}
    stack = tmp_path / "Pulumi.secret.yaml"
    stack.write_text(yaml.safe_dump(document))
    plan = build_plan(stack, stack="secret")
    assert plan["policyViolations"] == []
    role = next(r for r in plan["resources"] if r["type"] == "aws:iam/role:Role")
    assert role["inputs"]["assumeRolePolicy"] == SECRET_SHOWN  # the plan itself still hides it

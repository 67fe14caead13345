"""Every setting declared once: the table is read off the typed `Settings` at import, and a field
the table cannot be read from fails the import naming the field, not a stack's run."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import typing
from collections.abc import Mapping
from pathlib import Path

import botocore.session
import pytest

from model import config_keys
from model.config_keys import (
    CONFIG_KEYS,
    CONNECTOR_KEYS,
    KEYS_BY_NAME,
    DeclarationError,
    Settings,
    declared_keys,
    key_name,
)
from model.settings import SettingsError, parse_settings

REQUIRED = {
    "organizationId": "org-4f1c9a2e7b",
    "eksClusterName": "xpander-dev",
    "privateSubnetIds": ["subnet-0a3f5c7e9b1d24680"],
}


def _import(tmp_path: Path, source: str) -> None:
    """Import `source` as a fresh module, the way Python imports model/config_keys.py."""
    path = tmp_path / "declaration_under_test.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("declaration_under_test", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and get_type_hints look the module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]


HEAD = """
from __future__ import annotations
from model.config_keys import declaration, declared_keys, derived, setting

@declaration
class Settings:
    region: str = derived("aws:region")
    role_name: str = setting("Name of the role.", "xpander")
"""


def test_a_field_that_declares_no_key_fails_the_import_naming_field_and_key(tmp_path):
    source = HEAD + "    new_thing: int\n\nKEYS = declared_keys(Settings)\n"
    with pytest.raises(DeclarationError) as caught:
        _import(tmp_path, source)
    assert str(caught.value) == (
        "Settings.new_thing: declares no key: make it `setting(...)` (the key "
        "xpander-redshift:newThing) or `derived(...)` (computed by the gate)"
    )


def test_the_same_declaration_with_the_field_made_a_setting_imports(tmp_path):
    field = '    new_thing: int = setting("A number.", 3)\n'
    source = HEAD + field + "\nKEYS = declared_keys(Settings)\n"
    _import(tmp_path, source)  # no error: one edit made it a key


@pytest.mark.parametrize(
    ("annotation", "declared", "message"),
    [
        ("float", 'setting("x", 1.5)', "is not a setting's type"),
        ("list[str]", 'setting("x", ["a"])', "is not a setting's type"),
        ("str", 'setting("x", required=True, default_doc="y")', ""),
        ("str", 'setting("x", "a", required=True)', "a required setting has no default"),
        ("str | None", 'setting("x", "a")', "`| None` means unset by default"),
        ("str", 'setting("x")', "without a default, say what it is"),
        ('Literal["a", "b"]', 'setting("x", "c")', "the default 'c' must be one of a, b"),
        ("int", 'setting("x", 0, rule=v.between(1, 9))', "the default 0 must be between 1 and 9"),
        ("str", 'setting("x", "a", secret=True)', "each key with secret=True has a flag"),
        ("bool", 'derived("a flag without a key")', "each key with secret=True has a flag"),
    ],
    ids=lambda value: str(value)[:30],
)
def test_a_declaration_the_table_cannot_be_read_from_is_refused(annotation, declared, message):
    namespace: dict[str, object] = {}
    name = "x_is_secret" if "flag" in declared else "x"
    exec(  # noqa: S102 - a class body written by this test
        f"@declaration\nclass Broken:\n    {name}: {annotation} = {declared}\n",
        {**vars(config_keys), "Literal": typing.Literal, "v": config_keys.v},
        namespace,
    )
    broken = namespace["Broken"]
    if not message:
        assert [key.name for key in declared_keys(broken)] == ["x"]
        return
    with pytest.raises(DeclarationError, match=message.replace("|", r"\|")):
        declared_keys(broken)


def test_each_key_type_comes_from_the_field_annotation():
    hints = typing.get_type_hints(Settings)
    expected = {
        str: "string",
        int: "integer",
        bool: "boolean",
        tuple[str, ...]: "array",
        Mapping[str, str]: "object",
    }
    for key in CONFIG_KEYS:
        bare = hints[key.field]
        if type(None) in typing.get_args(bare):  # `X | None`
            bare = next(a for a in typing.get_args(bare) if a is not type(None))
        if typing.get_origin(bare) is typing.Literal:
            assert key.type == "string", key.name
        elif key.name == "connectors":
            assert key.type == "connectors"
        else:
            assert key.type == expected[bare], key.name


def test_key_names_are_the_fields_in_camel_case():
    assert key_name("audit_log_s3_key_prefix") == "auditLogS3KeyPrefix"
    assert key_name("organization_id") == "organizationId"
    assert key_name("port") == "port"
    assert all(KEYS_BY_NAME[key.name].field == key.field for key in CONFIG_KEYS)


def test_choices_are_literal_types_and_the_gate_refuses_others():
    hints = typing.get_type_hints(Settings)
    assert typing.get_args(hints["user_provisioner"]) == ("data-api", "kubernetes-job")
    assert typing.get_args(hints["audit_logging"]) == ("cloudwatch", "s3", "none")
    # Redshift's EnableLogging LogDestinationType (botocore's model) takes the two destinations
    # the stack offers; "none" is the stack's own word for not calling it.
    redshift = botocore.session.get_session().get_service_model("redshift")
    assert {"cloudwatch", "s3"} <= set(redshift.shape_for("LogDestinationType").enum)
    with pytest.raises(SettingsError) as caught:
        parse_settings({**REQUIRED, "userProvisioner": "lambda"}, region="us-west-2")
    assert caught.value.problems == [
        "xpander-redshift:userProvisioner = 'lambda': must be one of data-api, kubernetes-job"
    ]


def test_connector_fields_are_the_settings_a_connector_may_set():
    assert [key.name for key in CONNECTOR_KEYS] == [
        "roleName",
        "organizationId",
        "namespace",
        "serviceAccount",
        "grantSchemas",
    ]
    described = KEYS_BY_NAME["connectors"].description
    fields = "{name, roleName, organizationId, namespace, serviceAccount, grantSchemas, formerName}"
    assert fields in described


def test_a_connector_field_must_be_a_setting_of_the_same_type():
    @config_keys.declaration
    class Connector:
        name: str = config_keys.derived("its name")
        namespace: int

    with pytest.raises(DeclarationError, match=r"Connector.namespace: a connector field is a"):
        config_keys.connector_keys(Connector, CONFIG_KEYS, Settings)


def test_secrecy_is_an_attribute_of_the_key():
    assert [key.name for key in CONFIG_KEYS if key.secret] == [
        "organizationId",
        "existingAdminSecretArn",
    ]
    flags = [f.name for f in dataclasses.fields(Settings) if f.name.endswith("_is_secret")]
    assert flags == ["organization_id_is_secret", "existing_admin_secret_arn_is_secret"]
    secret = parse_settings(REQUIRED, region="us-west-2", secret_keys=["organizationId"])
    assert secret.organization_id_is_secret
    assert secret.single_connector.organization_id_is_secret
    assert not secret.existing_admin_secret_arn_is_secret
    plain = parse_settings(REQUIRED, region="us-west-2")
    assert not plain.organization_id_is_secret

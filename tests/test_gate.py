"""One gate: every value a setting can take is refused by the gate, or accepted all the way through.

The walk takes each key of the settings table and tries a corpus of odd values of its type (empty,
reserved words, Unicode look-alikes, the AWS limits and one past them, quotes, wrong types). A value
the gate refuses must be refused naming that key, before the program registers anything. A value it
accepts is run through the whole program under the mock engine, which must then finish with no
component or provider refusing it.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from model.config_keys import CONFIG_KEYS, PROJECT, ConfigKey
from model.settings import Settings, SettingsError, settings_from_config
from tests.stack_helpers import DEV_CONFIG
from tools.engine import run_program

STRINGS = [
    "",
    " ",
    "a",
    "A",
    "ab",
    "x" * 63,
    "x" * 64,
    "x" * 128,
    "pg_admin",
    "none",
    "public",
    "select",
    "user",
    "IAMR:x",
    "a--b",
    "a-",
    "-a",
    "1a",
    "a b",
    'a"b',
    "a'b",
    "a\\b",
    "a/b",
    "a:b",
    "\u00e9t\u00e9",
    "\u0661\u0662",
    "a\x00b",
    "\ud800",
    "sg-0123456789abcdef0",
    "subnet-0123456789abcdef0",
    "vpc-0123456789abcdef0",
    "123456789012",
    "arn:aws:secretsmanager:us-west-2:123456789012:secret:redshift!c-admin-AbC123",
    "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "postgres@sha256:" + "a" * 64,
    "pg_catalog.svv_all_columns",
    "/a/",
    "s3",
    "none",
    "kubernetes-job",
]
INTEGERS = ["0", "1", "-1", "2", "7", "17", "35", "36", "100", "101", "365", "5439", "5455",
            "8191", "65535", "65536", "\u0665", "1e3", "1.0", " 7 ",
            "99999999999999999999"]  # fmt: skip
BOOLEANS = ["true", "false", "TRUE", "yes", "1", "", "on"]
ARRAYS = ["[]", '[""]', "[1]", '["a", "a"]', '["a"]', "a", '{"a": "b"}', "[[]]",
          '["sg-0123456789abcdef0"]', '["subnet-0123456789abcdef0"]', '["ra3.xlplus"]',
          '["rg.xlarge"]', '["public", "sales"]', '["*"]', '["IAMR:x"]', '["Sales"]']  # fmt: skip
OBJECTS = ["{}", '{"a": "b"}', '{"aws:x": "b"}', '{"a": 1}', "[]", "a=b", '{"": "b"}',
           '{"a": "' + "v" * 257 + '"}']  # fmt: skip
CONNECTORS = ["[]", "{}", "[{}]", '[{"name": "a"}]', '[{"name": "a", "roleName": "Sales"}]',
              '[{"name": "a", "grantSchemas": "public"}]', '["a"]',
              '[{"name": "a", "namespace": "n1"}, {"name": "b", "roleName": "r2"}]']  # fmt: skip
CORPUS: dict[str, list[str]] = {
    "string": STRINGS,
    "integer": INTEGERS,
    "boolean": BOOLEANS,
    "array": ARRAYS,
    "object": OBJECTS,
    "connectors": CONNECTORS,
}


def _config(key: ConfigKey, value: str) -> dict[str, Any]:
    return {**DEV_CONFIG, key.full_name: value}


def _verdicts(key: ConfigKey) -> tuple[list[tuple[str, Settings]], list[tuple[str, list[str]]]]:
    accepted, refused = [], []
    for value in CORPUS[key.type]:
        try:
            settings = settings_from_config(_config(key, value))
        except SettingsError as err:
            refused.append((value, err.problems))
        else:
            accepted.append((value, settings))
    return accepted, refused


# The Settings already run through the program in this session. The program reads its settings
# only as one Settings (components/config.py reads pulumi.Config, the gate makes the Settings), so
# two values the gate turns into equal Settings (a default written out, "true" and "TRUE", ...)
# make the same run: the second is not run again.
_RUN: set[str] = set()


def _key(settings: Settings) -> str:
    return repr(dataclasses.astuple(settings))  # every field, whatever its repr or compare flag


@pytest.mark.parametrize("key", CONFIG_KEYS, ids=[k.name for k in CONFIG_KEYS])
def test_every_value_is_refused_by_the_gate_naming_the_key_or_runs_through_the_program(key):
    accepted, refused = _verdicts(key)
    for value, problems in refused:
        assert problems, value
        # Each refusal names the key it is about (or a key its value depends on).
        assert any(p.startswith((key.full_name, f"{PROJECT}:")) for p in problems), problems
        assert all(len(p) < 600 for p in problems), problems
    for value, settings in accepted:
        if _key(settings) in _RUN:
            continue
        run = run_program(_config(key, value))
        assert run.resources, f"{key.name}={value!r} accepted but the program registered nothing"
        assert all("Error" not in str(v) for v in run.outputs.values())
        _RUN.add(_key(settings))


def test_the_gate_refuses_before_any_resource_is_registered():
    """The component and the provider do not check again: a refused value never reaches them."""
    config = {**DEV_CONFIG, f"{PROJECT}:masterUsername": "pg_admin"}
    with pytest.raises(SettingsError, match="masterUsername"):
        settings_from_config(config)
    with pytest.raises(Exception, match="masterUsername") as caught:
        run_program(config)
    assert "Traceback" not in str(caught.value)


def test_structured_values_come_as_yaml_or_as_json_text_alike():
    base = {k: v for k, v in DEV_CONFIG.items()}
    as_yaml = settings_from_config(
        {
            **base,
            f"{PROJECT}:tags": {"team": "data"},
            f"{PROJECT}:connectors": [{"name": "sales", "roleName": "xpander-sales"}],
            f"{PROJECT}:numberOfNodes": 2,
            f"{PROJECT}:protect": False,
        }
    )
    as_json = settings_from_config(
        {
            **base,
            f"{PROJECT}:tags": json.dumps({"team": "data"}),
            f"{PROJECT}:connectors": json.dumps([{"name": "sales", "roleName": "xpander-sales"}]),
            f"{PROJECT}:numberOfNodes": "2",
            f"{PROJECT}:protect": "false",
        }
    )
    assert as_yaml == as_json
    assert as_yaml.tags == {"team": "data"}
    assert [c.role_name for c in as_yaml.all_connectors] == ["xpander-sales"]


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("xpander_redshift:port", "did you mean `xpander-redshift:port`"),
        ("xpanderredshift:port", "did you mean `xpander-redshift:port`"),
        ("Xpander-Redshift:port", "did you mean `xpander-redshift:port`"),
        ("xpander-redshif:databaseName", "did you mean `xpander-redshift:databaseName`"),
        ("port", "did you mean `xpander-redshift:port`"),
        ("xpander-redshift:prot", "did you mean `xpander-redshift:port`"),
        ("xpander-redshift:aws:region", "did you mean `aws:region`"),
        ("aws:regin", "did you mean `aws:region`"),
        ("xpander:eksClusterName", "did you mean `xpander-redshift:eksClusterName`"),
        ("redshift:port", "did you mean `xpander-redshift:port`"),
    ],
)
def test_a_key_with_the_wrong_prefix_is_named_with_the_key_it_likely_meant(key, hint):
    with pytest.raises(SettingsError) as caught:
        settings_from_config({**DEV_CONFIG, key: "5439"})
    assert any(hint in p for p in caught.value.problems), caught.value.problems


def test_keys_of_other_providers_are_left_alone():
    settings = settings_from_config(
        {
            **DEV_CONFIG,
            "aws:profile": "prod",
            "kubernetes:context": "eks",
            "kubernetes:namespace": "default",
            "pulumi:tags": "{}",
        }
    )
    assert settings.region == "us-west-2"

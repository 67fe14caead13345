"""Stack settings: defaults, AWS's own naming rules, and every problem reported at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from model.config_keys import CONFIG_KEYS, KEYS_BY_NAME, PROJECT
from model.settings import SettingsError, parse_settings
from tools.engine import stack_config_strings
from tools.project_file import render, settings_table

ROOT = Path(__file__).resolve().parent.parent

KMS = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

REQUIRED = {
    "organizationId": "org-4f1c9a2e7b",
    "eksClusterName": "xpander-dev",
    "privateSubnetIds": '["subnet-0a3f5c7e9b1d24680", "subnet-0b4e6d8f0a2c35791"]',
}


def settings_with(**overrides: str):
    required = dict(REQUIRED)
    if "existingClusterIdentifier" in overrides:  # no subnets for a cluster it does not create
        required.pop("privateSubnetIds", None)
    return parse_settings({**required, **overrides}, region="us-west-2")


def problems_for(key: str, value: str, region: str = "us-west-2") -> list[str]:
    raw = {**REQUIRED, key: value} if key != "aws:region" else dict(REQUIRED)
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw, region=value if key == "aws:region" else region)
    return caught.value.problems


def test_defaults_follow_the_guide_where_it_is_right():
    s = settings_with()
    assert s.cluster_identifier == "xpander-redshift"
    assert s.database_name == "xpander_demo"
    assert s.master_username == "xpander_admin"
    assert s.node_types == ("ra3.large", "ra3.xlplus")
    assert (s.number_of_nodes, s.cluster_type, s.port) == (1, "single-node", 5439)
    assert (s.role_name, s.role_path) == ("xpander-redshift-access", "/")
    assert (s.namespace, s.service_account) == ("xpander", "xpander")
    assert s.catalog_name_path == "pg_catalog.svv_all_columns"
    assert s.grant_schemas == ("public",)
    assert (s.vpc_id, s.kms_key_id, s.platform_account_id) == (None, None, None)
    assert (s.skip_final_snapshot, s.protect, s.install_pod_identity_agent) == (False, True, False)
    assert s.tags == {}


def test_computed_defaults_derive_from_other_settings():
    s = settings_with(roleName="agents-ro", masterUsername="admin_user")
    assert s.credentials_db_users == ()  # no GetClusterCredentials unless users are named
    assert s.database_user == "IAMR:agents-ro"
    assert s.default_privileges_for == "admin_user"
    assert s.source_security_group_ids == ()  # the EKS cluster security group


def test_empty_values_of_computed_keys_mean_unset_as_pulumi_yaml_declares_them():
    s = settings_with(vpcId="", kmsKeyId="", platformAccountId="", credentialsDbUsers="[]")
    assert (s.vpc_id, s.kms_key_id, s.platform_account_id) == (None, None, None)
    assert s.credentials_db_users == ()


def test_the_baseline_defaults_meet_aws_controls():
    """Security Hub Redshift.2 (require_ssl), .3 (7-day snapshots), .4 (audit logging),
    .6 (major version upgrades), .7 (enhanced VPC routing): on unless a team opts out."""
    s = settings_with()
    assert (s.require_ssl, s.enhanced_vpc_routing, s.allow_version_upgrade) == (True, True, True)
    assert (s.audit_logging, s.audit_log_retention_days) == ("cloudwatch", 365)
    assert s.automated_snapshot_retention_days == 7
    assert s.multi_az is False


def test_values_are_parsed_by_type():
    s = settings_with(
        numberOfNodes="2",
        port="8192",
        protect="false",
        skipFinalSnapshot="true",
        grantSchemas='["public", "sales"]',
        credentialsDbUsers='["*"]',
        tags='{"team": "data", "cost-center": "42"}',
        kmsKeyId="arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    assert (s.number_of_nodes, s.cluster_type, s.port) == (2, "multi-node", 8192)
    assert (s.protect, s.skip_final_snapshot) == (False, True)
    assert s.grant_schemas == ("public", "sales")
    assert s.credentials_db_users == ("*",)
    assert s.tags == {"team": "data", "cost-center": "42"}


BAD_INPUTS = [
    ("clusterIdentifier", "Xpander", "lowercase"),
    ("clusterIdentifier", "1xpander", "start with a letter"),
    ("clusterIdentifier", "xpander--redshift", "no '--'"),
    ("clusterIdentifier", "xpander-", "no trailing hyphen"),
    ("clusterIdentifier", "x" * 64, "1-63"),
    ("clusterIdentifier", "xpander_redshift", "hyphens"),
    ("port", "5439x", "whole number"),
    ("port", "5460", "RA3 and RG node types accept only ports 5431-5455 or 8191-8215"),
    ("port", "8216", "RA3 and RG node types accept only ports"),
    ("port", "\u0665\u0664\u0663\u0669", "digits 0-9"),  # Arabic-Indic 5439
    ("port", "5439.0", "whole number"),
    # The Pulumi CLI takes only "true"/"false" for a declared boolean (project.go,
    # ValidateConfigValue) and only what strconv.Atoi parses for an integer.
    ("skipFinalSnapshot", "TRUE", "true or false (lower case)"),
    ("protect", "True", "true or false (lower case)"),
    ("port", " 5439", "whole number"),
    ("port", "\x1c5439", "whole number"),
    ("port", "5_439", "whole number"),
    ("numberOfNodes", "0", "between 1 and 100"),
    ("numberOfNodes", "101", "between 1 and 100"),
    ("numberOfNodes", "17", "ra3.large clusters are created with at most 16 nodes"),
    ("numberOfNodes", "\uff12", "digits 0-9"),  # fullwidth 2
    ("privateSubnetIds", '["subnet-123"]', "subnet id"),
    ("privateSubnetIds", "[]", "is required unless existingClusterIdentifier is set"),
    ("privateSubnetIds", "subnet-0a3f5c7e9b1d24680", "list of strings"),
    (
        "privateSubnetIds",
        '["subnet-0a3f5c7e9b1d24680", "subnet-0a3f5c7e9b1d24680"]',
        "must not repeat",
    ),
    ("vpcId", "vpc-xyz", "VPC id"),
    ("platformAccountId", "12345678901", "12-digit"),
    ("platformAccountId", "12345678901a", "12-digit"),
    ("organizationId", "x", "2-1224"),
    ("organizationId", "org id with spaces", "sts:ExternalId"),
    ("organizationId", "org-\u00e9t\u00e9", "ASCII"),
    ("organizationId", "org-\u0661\u0662", "ASCII"),
    ("namespace", "Xpander", "DNS label"),
    ("namespace", "-xpander", "DNS label"),
    ("namespace", "a" * 64, "DNS label"),
    ("serviceAccount", "xpander_sa", "DNS subdomain"),
    ("serviceAccount", "xpander.", "DNS subdomain"),
    ("roleName", "r" * 65, "1-64"),
    ("roleName", "role/with/slash", "IAM role name"),
    ("rolePath", "xpander/", "start and end with '/'"),
    ("rolePath", "/xpander", "start and end with '/'"),
    ("rolePath", "//", "start and end with '/'"),
    ("databaseName", "Xpander", "lowercase"),
    ("databaseName", "1db", "not starting with a digit"),
    ("databaseName", "d" * 65, "1-64"),
    ("databaseName", "select", "reserved word"),
    ("databaseName", "user", "reserved word"),
    ("masterUsername", "Admin", "lowercase"),
    ("masterUsername", "public", "PUBLIC"),
    ("masterUsername", "null", "reserved word"),
    ("masterUsername", "select", "reserved word"),
    ("masterUsername", "pg_admin", "database user name"),
    ("masterUsername", "none", "database user name"),
    ("masterUsername", "a" * 128, "127 bytes"),
    ("nodeTypes", '["ra3 large"]', "node type"),
    ("nodeTypes", "[]", "must not be empty"),
    ("catalogNamePath", "svv_all_columns", "<schema>.<view>"),
    ("grantSchemas", '["Sales"]', "lower case"),
    ("grantSchemas", '["sa\\"les"]', "schema name"),
    ("kmsKeyId", "alias/redshift", "ARN of a KMS key"),
    ("credentialsDbUsers", '["user/with/slash"]', "GetClusterCredentials DbUser"),
    ("credentialsDbUsers", '["IAMR:xpander-redshift-access"]', "no ':'"),
    ("credentialsDbUsers", '["' + "u" * 65 + '"]', "1-64"),
    ("credentialsDbUsers", '["select"]', "reserved word"),
    ("tags", "team=data", "mapping of strings"),
    ("tags", '{"aws:owner": "me"}', "must not start with 'aws:'"),
    ("tags", '{"team": [1]}', "mapping of strings to strings"),
    ("tags", '{"team": "a<b>"}', "tag values"),
    ("tags", '{"te*am": "x"}', "tag keys"),
    ("multiAz", "true", "numberOfNodes of 2 or more"),
    ("auditLogging", "syslog", "cloudwatch, s3, none"),
    ("auditLogBucket", "my-logs", "applies only with auditLogging = s3"),
    ("auditLogRetentionDays", "10", "must be one of 1, 3, 5, 7, 14"),
    ("automatedSnapshotRetentionDays", "0", "between 1 and 35"),
    ("automatedSnapshotRetentionDays", "36", "between 1 and 35"),
    ("sourceSecurityGroupIds", '["sg-1"]', "security group id"),
    ("requireSsl", "no", "true or false"),
    ("protect", "yes", "true or false"),
    ("userProvisioner", "lambda", "data-api, kubernetes-job"),
    ("provisionerTimeoutSeconds", "5", "between 10 and 3600"),
    ("defaultPrivilegesFor", "bad\\user", "database user name"),
    ("psqlImage", "Postgres 15", "container image"),
    ("eksClusterName", "-eks", "EKS cluster name"),
    ("clusterIdentifer", "xpander", "did you mean `xpander-redshift:clusterIdentifier`"),
    ("aws:region", "us-west", "did you mean us-west-2"),
    ("aws:region", "us-west-9", "is not a region any AWS partition lists"),
    ("aws:region", "US-WEST-2", "did you mean us-west-2? region names are lower case"),
]


@pytest.mark.parametrize(
    ("key", "value", "rule"), BAD_INPUTS, ids=[f"{k}={v[:20]}" for k, v, _ in BAD_INPUTS]
)
def test_bad_input_is_refused_naming_the_key_the_value_and_the_rule(key, value, rule):
    problems = problems_for(key, value)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.startswith(key if ":" in key else f"{PROJECT}:{key}"), problem
    assert rule in problem, problem
    structured = ("privateSubnetIds", "nodeTypes", "grantSchemas", "credentialsDbUsers", "tags")
    shown = key in KEYS_BY_NAME and key not in (*structured, "sourceSecurityGroupIds", "multiAz")
    if shown and len(value) < 60:
        assert repr(value) in problem, problem


def test_missing_required_settings_are_all_reported_with_the_command_that_sets_them():
    with pytest.raises(SettingsError) as caught:
        parse_settings({}, region=None)
    problems = caught.value.problems
    for key in ("organizationId", "eksClusterName", "privateSubnetIds"):
        assert any(p.startswith(f"{PROJECT}:{key}: is required") for p in problems), problems
    for key in ("organizationId", "eksClusterName"):
        assert any(f"pulumi config set {PROJECT}:{key}" in p for p in problems)
    assert any(f"pulumi config set --path '{PROJECT}:privateSubnetIds[0]'" in p for p in problems)
    assert any(p.startswith("aws:region: is required") for p in problems)


def test_every_problem_is_reported_at_once():
    with pytest.raises(SettingsError) as caught:
        parse_settings(
            {**REQUIRED, "clusterIdentifier": "Bad", "port": "1", "namespace": "_", "protect": "?"},
            region="us-west-2",
        )
    keys = [p.split(" ")[0] for p in caught.value.problems]
    assert keys == [
        f"{PROJECT}:clusterIdentifier",
        f"{PROJECT}:namespace",
        f"{PROJECT}:protect",
        f"{PROJECT}:port",
    ]


def test_rg_node_types_share_the_ra3_port_ranges():
    """CreateCluster "Port" (botocore redshift model): RG or RA3 nodes, 5431-5455 or 8191-8215."""
    with pytest.raises(SettingsError, match="RA3 and RG node types accept only ports"):
        settings_with(nodeTypes='["rg.xlarge"]', port="5439x"[:4] + "0")
    assert settings_with(nodeTypes='["rg.xlarge"]', port="8191").port == 8191


@pytest.mark.parametrize(
    "image",
    [
        "postgres:15-alpine",
        "registry.example.com:5000/psql:15",
        "123456789012.dkr.ecr.us-west-2.amazonaws.com/psql:15@sha256:" + "0" * 64,
        "postgres@sha256:" + "f" * 64,
    ],
)
def test_image_references_with_registry_ports_and_digests_are_accepted(image):
    assert settings_with(psqlImage=image).psql_image == image


@pytest.mark.parametrize("region", ["us-gov-west-1", "cn-north-1", "eu-central-2", "us-west-2"])
def test_regions_botocore_lists_are_accepted_in_every_partition(region):
    assert settings_with_region(region).region == region


def settings_with_region(region: str):
    return parse_settings(dict(REQUIRED), region=region)


def test_s3_audit_logging_needs_a_bucket():
    with pytest.raises(SettingsError, match="auditLogBucket: is required with auditLogging = s3"):
        settings_with(auditLogging="s3")
    s = settings_with(auditLogging="s3", auditLogBucket="my-audit-logs")
    assert (s.audit_logging, s.audit_log_bucket) == ("s3", "my-audit-logs")


def test_multi_az_takes_ra3_only_and_two_nodes():
    assert settings_with(multiAz="true", numberOfNodes="2").multi_az is True
    with pytest.raises(SettingsError, match="Multi-AZ needs RA3 node types only"):
        settings_with(multiAz="true", numberOfNodes="2", nodeTypes='["dc2.large"]', port="5439")


def test_role_names_of_connectors_differing_only_in_case_are_one_iam_role():
    """IAM role names are unique case-insensitively (IAM User Guide, IAM identifiers)."""
    with pytest.raises(SettingsError, match="each connector needs its own roleName"):
        settings_with(
            connectors=connectors(
                {"name": "a", "roleName": "Sales"},
                {"name": "b", "roleName": "sales", "namespace": "other"},
            )
        )


def test_a_redshift_managed_admin_secret_arn_is_accepted():
    """Redshift names the secrets it manages `redshift!<cluster>-<user>` (Cluster Management
    Guide, managing admin passwords with Secrets Manager); the ARN adds a 6-character suffix."""
    arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:redshift!analytics-admin-AbC123"
    s = settings_with(existingClusterIdentifier="analytics", existingAdminSecretArn=arn)
    assert s.existing_admin_secret_arn == arn


def test_cluster_only_settings_are_refused_with_an_existing_cluster():
    with pytest.raises(SettingsError, match="applies only to a cluster this stack creates"):
        settings_with(existingClusterIdentifier="analytics", enhancedVpcRouting="false")


def test_non_ra3_node_types_take_the_general_port_range():
    assert settings_with(nodeTypes='["dc2.large"]', port="1200").port == 1200
    with pytest.raises(SettingsError, match="between 1150 and 65535"):
        settings_with(nodeTypes='["dc2.large"]', port="80")


def test_pulumi_yaml_declares_every_key_with_its_type_description_and_default():
    text = (ROOT / "Pulumi.yaml").read_text()
    assert text == render(), "regenerate it: python -m tools.project_file > Pulumi.yaml"
    project = yaml.safe_load(text)
    assert project["name"] == PROJECT
    declared = project["config"]
    # Pulumi's project config types arrays of primitives only: structured keys stay undeclared.
    assert list(declared) == [k.name for k in CONFIG_KEYS if k.type not in ("object", "connectors")]
    assert "tags" not in declared and "connectors" not in declared
    for key in (k for k in CONFIG_KEYS if k.name in declared):
        entry = declared[key.name]
        assert (entry["type"], entry["description"]) == (key.type, key.description)
        if key.required:
            assert "default" not in entry
        elif key.default is not None:
            expected = list(key.default) if isinstance(key.default, tuple) else key.default
            assert entry["default"] == expected
        else:  # computed from other settings: declared empty, read as unset
            assert entry["default"] in ("", [])


def test_the_dev_stack_file_is_valid():
    config = stack_config_strings(yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text()))
    prefix = f"{PROJECT}:"
    raw = {k[len(prefix) :]: v for k, v in config.items() if k.startswith(prefix)}
    settings = parse_settings(raw, region=config["aws:region"])
    assert settings.eks_cluster_name == "xpander-dev"
    assert len(settings.private_subnet_ids) == 2


def test_readme_settings_table_is_the_settings_table():
    readme = (ROOT / "README.md").read_text()
    start, end = "<!-- settings-table:start -->\n", "<!-- settings-table:end -->"
    table = readme[readme.index(start) + len(start) : readme.index(end)]
    assert table == settings_table(), "regenerate: python -m tools.readme_tables"


def connectors(*entries: dict) -> str:
    return json.dumps(list(entries))


def test_without_connectors_the_top_level_settings_describe_one_connector():
    s = settings_with(roleName="agents", grantSchemas='["sales"]')
    assert s.connectors == ()
    (only,) = s.all_connectors
    assert (only.name, only.role_name, only.database_user) == ("default", "agents", "IAMR:agents")
    assert (only.namespace, only.service_account, only.grant_schemas) == (
        "xpander",
        "xpander",
        ("sales",),
    )
    assert only.organization_id == "org-4f1c9a2e7b"


def test_connector_fields_default_to_the_top_level_settings():
    s = settings_with(
        grantSchemas='["public"]',
        connectors=connectors(
            {"name": "sales", "roleName": "xpander-sales", "grantSchemas": ["sales"]},
            {
                "name": "ops",
                "roleName": "xpander-ops",
                "organizationId": "org-ops-1",
                "namespace": "ops",
                "serviceAccount": "gateway",
            },
        ),
    )
    sales, ops = s.all_connectors
    assert (sales.organization_id, sales.namespace, sales.service_account) == (
        "org-4f1c9a2e7b",
        "xpander",
        "xpander",
    )
    assert sales.grant_schemas == ("sales",)
    assert sales.database_user == "IAMR:xpander-sales"
    assert (ops.organization_id, ops.namespace, ops.service_account) == (
        "org-ops-1",
        "ops",
        "gateway",
    )
    assert ops.grant_schemas == ("public",)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [{"name": "a", "roleName": "r1"}, {"name": "a", "roleName": "r2", "namespace": "n"}],
            "connectors = 'a': each connector needs its own name",
        ),
        (
            [{"name": "a", "roleName": "r1"}, {"name": "b", "roleName": "r1", "namespace": "n"}],
            "connectors = 'r1': each connector needs its own roleName",
        ),
        (
            [{"name": "a", "roleName": "r1"}, {"name": "b", "roleName": "r2"}],
            "connectors = 'xpander/xpander': each connector needs its own namespace/serviceAccount",
        ),
        ([{"roleName": "r1"}], "connectors[0].name: is required"),
        ([{"name": "Sales"}], "connectors[0].name = 'Sales': must be 1-32 lowercase"),
        ([{"name": "a", "role": "r1"}], "connectors[0].role = 'r1': is not a connector field"),
        ([{"name": "a", "namespace": "Bad_NS"}], "connectors[0].namespace = 'Bad_NS': must be a"),
        ([{"name": "a", "grantSchemas": ["Sales"]}], "connectors[0].grantSchemas = 'Sales'"),
        (
            [{"name": "a", "organizationId": "x"}],
            "connectors[0].organizationId = 'x': must be 2-1224",
        ),
        (["sales"], "connectors[0] = 'sales': must be a mapping"),
        ({"name": "a"}, 'connectors = \'{"name": "a"}\': must be a list of connector mappings'),
    ],
)
def test_bad_connectors_are_refused_naming_the_entry_and_field(entries, message):
    with pytest.raises(SettingsError) as caught:
        settings_with(connectors=json.dumps(entries))
    assert any(p.startswith(f"{PROJECT}:{message}") for p in caught.value.problems), (
        caught.value.problems
    )


def test_existing_cluster_needs_no_subnets_and_names_the_connector_cluster():
    s = parse_settings(
        {
            "organizationId": "org-1x",
            "eksClusterName": "eks",
            "existingClusterIdentifier": "analytics-prod",
            "existingSecurityGroupId": "sg-0123456789abcdef0",
        },
        region="eu-west-1",
    )
    assert s.existing_cluster_identifier == s.cluster_identifier == "analytics-prod"
    assert s.private_subnet_ids == ()
    assert s.existing_security_group_id == "sg-0123456789abcdef0"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"existingSecurityGroupId": "sg-0123456789abcdef0"}, "existingSecurityGroupId = "),
        (
            {"existingAdminSecretArn": "arn:aws:secretsmanager:us-west-2:123456789012:secret:a-1"},
            "existingAdminSecretArn = ",
        ),
    ],
)
def test_existing_cluster_options_apply_only_with_an_existing_cluster(overrides, message):
    with pytest.raises(SettingsError, match="applies only with existingClusterIdentifier"):
        settings_with(**overrides)


def test_kubernetes_job_on_an_existing_cluster_needs_the_admin_secret():
    with pytest.raises(SettingsError, match="set existingAdminSecretArn"):
        settings_with(existingClusterIdentifier="analytics", userProvisioner="kubernetes-job")


@pytest.mark.parametrize(
    ("key", "value"),
    [("port", "5460"), ("nodeTypes", '["ra3.4xlarge"]'), ("kmsKeyId", KMS), ("protect", "false")],
)
def test_settings_of_a_new_cluster_are_refused_with_an_existing_one(key, value):
    """An existing cluster keeps its own port, nodes, key and protection: a value other than the
    default would be ignored, so it is refused. The default itself is not refused: Pulumi hands
    Pulumi.yaml's defaults to the program as if they were set."""
    with pytest.raises(SettingsError, match=f"{key} = .*applies only to a cluster this stack"):
        settings_with(existingClusterIdentifier="analytics", **{key: value})
    assert settings_with(existingClusterIdentifier="analytics", port="5439", protect="true")


def test_log_retention_applies_only_to_the_stacks_cloudwatch_log_groups():
    with pytest.raises(SettingsError, match="auditLogRetentionDays = '30': applies only with"):
        settings_with(auditLogging="none", auditLogRetentionDays="30")


@pytest.mark.parametrize("path", ["/*/", "/team?/", "/a/*/"])
def test_a_role_path_with_iam_wildcards_is_refused(path):
    """'*' and '?' are wildcards in ArnEquals/ArnLike and Resource (IAM JSON policy reference):
    in the self-assume condition they would admit other roles."""
    with pytest.raises(SettingsError, match="wildcards"):
        settings_with(rolePath=path)


def test_tags_leave_room_for_the_stacks_name_tag():
    """AWS takes 50 tags per resource; the stack adds Name, so 49 of the user's own fit."""
    forty_nine = json.dumps({f"k{i}": "v" for i in range(49)})
    assert len(settings_with(tags=forty_nine).tags) == 49
    fifty = json.dumps({f"k{i}": "v" for i in range(50)})
    with pytest.raises(SettingsError, match="at most 49 besides Name"):
        settings_with(tags=fifty)
    with_name = json.dumps({"Name": "mine", **{f"k{i}": "v" for i in range(49)}})
    assert len(settings_with(tags=with_name).tags) == 50


@pytest.mark.parametrize(
    "tags", [{"a\tb": "x"}, {"a": "line\nbreak"}, {"a": "x\u0000"}, {"k": "a;b"}]
)
def test_tags_outside_aws_character_set_are_refused(tags):
    with pytest.raises(SettingsError, match="tags"):
        settings_with(tags=json.dumps(tags))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("privateSubnetIds", '["subnet-0a3f5c7e9b1d24680"]'),
        ("clusterIdentifier", "my-cluster"),
    ],
)
def test_with_an_existing_cluster_a_setting_without_effect_is_refused_naming_it(key, value):
    """The existing cluster keeps its subnet group and its identifier (existingClusterIdentifier
    names it): a value set here would be silently ignored, so it is refused."""
    with pytest.raises(SettingsError) as caught:
        settings_with(existingClusterIdentifier="analytics", **{key: value})
    assert caught.value.problems == [
        f"{PROJECT}:{key} = {value!r}: applies only to a cluster this stack creates, "
        "not with existingClusterIdentifier"
    ]


def test_the_opt_in_reboot_is_refused_for_an_existing_cluster():
    """The stack never reboots a cluster it did not create: with existingClusterIdentifier it
    manages no parameter group of that cluster, and rebootForStaticParameters is refused."""
    with pytest.raises(SettingsError) as caught:
        settings_with(existingClusterIdentifier="analytics", rebootForStaticParameters="true")
    assert caught.value.problems == [
        f"{PROJECT}:rebootForStaticParameters = 'true': "
        "applies only to a cluster this stack creates, not with existingClusterIdentifier"
    ]
    assert settings_with(rebootForStaticParameters="true").reboot_for_static_parameters is True
    assert settings_with().reboot_for_static_parameters is False


def test_tag_values_set_as_numbers_or_booleans_are_their_text():
    """`pulumi config set --path 'xpander-redshift:tags.cost-center' 4711` stores a number."""
    tags = settings_with(tags={"cost-center": 4711, "billable": True, "ratio": 0.5}).tags
    assert tags == {"cost-center": "4711", "billable": "true", "ratio": "0.5"}


def test_source_groups_with_an_existing_cluster_need_the_group_they_open():
    with pytest.raises(SettingsError, match="ingress rules go only into existingSecurityGroupId"):
        settings_with(
            existingClusterIdentifier="analytics",
            sourceSecurityGroupIds='["sg-0123456789abcdef0"]',
        )


def test_tags_in_any_script_are_accepted():
    assert settings_with(tags=json.dumps({"équipe": "données 42", "チーム": "データ"})).tags


@pytest.mark.parametrize(
    ("bucket", "rule"),
    [
        ("my.bucket..x", "adjacent periods"),
        ("192.168.1.1", "IP address"),
        ("xn--bucket", "reserves"),
        ("bucket-s3alias", "reserves"),
        ("Bucket", "S3 bucket name"),
    ],
)
def test_audit_log_buckets_follow_s3_naming_rules(bucket, rule):
    with pytest.raises(SettingsError, match=rule):
        settings_with(auditLogging="s3", auditLogBucket=bucket)


def test_grant_schemas_are_bounded_by_the_data_api_statement_size():
    hundred = json.dumps([f"s{i}" for i in range(100)])
    assert len(settings_with(grantSchemas=hundred).grant_schemas) == 100
    with pytest.raises(SettingsError, match="at most 100: one statement names them all"):
        settings_with(grantSchemas=json.dumps([f"s{i}" for i in range(101)]))

"""The kubernetes-job provisioner's Kubernetes objects: strict schemas, hardening, real psql.

- The Secret, ConfigMap, Job and NetworkPolicy validate strictly against the Kubernetes versions
  EKS supports; the password is only in the Secret, never in the pod spec.
- The Job's container command, args and environment, run as the kubelet would run them (volumes
  laid out with the kubelet's owners and modes, the pod's uid, gid and fsGroup), authenticate with
  the Secret's password file against a PostgreSQL that requires TLS and a SCRAM password.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from kubernetes_validate.utils import all_versions
from psycopg import sql

from model import sql as redshift_sql
from model.job_manifests import (
    JOB_BACKOFF_LIMIT,
    PsqlConnection,
    config_map_manifest,
    dns_label,
    job_manifest,
    kubeconfig,
    master_password,
    network_policy_manifest,
    pgpass_line,
    secret_manifest,
    sql_hash,
    vpc_peers,
)
from model.psql_script import cleanup_sql, psql_script
from tests.pg_server import PostgresServer, find_bindir, running_postgres

REGION = "us-west-2"
USER = "IAMR:xpander-redshift-access"
OWNER = "xpander_admin"
PASSWORD_SENTINEL = "Sentinel-Pa55word-7f3c"  # must never leave the Secret
REDSHIFT = PsqlConnection(
    host="xpander-redshift.abc123.us-west-2.redshift.amazonaws.com",
    port="5439",
    database="xpander_demo",
    user=OWNER,
)

SCRIPT = psql_script(USER, ["public", "sales"], OWNER)
# Every Kubernetes minor version EKS supports today (1.33 on) up to the newest schemas installed.
K8S_VERSIONS = sorted(
    {v.rsplit(".", 1)[0] for v in all_versions() if tuple(map(int, v.split(".")[:2])) >= (1, 33)}
)


def manifests(
    connection: PsqlConnection = REDSHIFT, password: str = PASSWORD_SENTINEL, script: str = SCRIPT
) -> dict[str, dict[str, Any]]:
    digest = sql_hash(script)
    return {
        "secret": secret_manifest("iamr-user-pgpass", "xpander", pgpass_line(connection, password)),
        "config_map": config_map_manifest(f"iamr-user-sql-{digest}", "xpander", script),
        "job": job_manifest(
            name=dns_label("iamr-user", digest),
            namespace="xpander",
            image="postgres:15-alpine",
            instance="iamr-user",
            connection=connection,
            secret_name="iamr-user-pgpass",
            config_map_name=f"iamr-user-sql-{digest}",
            timeout_seconds=300,
        ),
        "network_policy": network_policy_manifest(
            name="iamr-user-egress",
            namespace="xpander",
            instance="iamr-user",
            vpc=vpc_peers(["10.0.0.0/16", "100.64.0.0/16", "10.0.0.0/16"]),
            port=5439,
        ),
    }


def pod_spec(docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = docs["job"]["spec"]["template"]["spec"]
    return spec


# --- strict schemas -------------------------------------------------------------------------------


def test_k8s_versions_cover_current_eks() -> None:
    assert "1.33" in K8S_VERSIONS
    assert len(K8S_VERSIONS) >= 2


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("kind", ["secret", "config_map", "job", "network_policy"])
def test_manifests_pass_strict_kubernetes_validation(version: str, kind: str) -> None:
    kubernetes_validate.validate(manifests()[kind], version, strict=True)


def test_strict_validation_would_catch_a_misspelt_field() -> None:
    job = manifests()["job"]
    job["spec"]["template"]["spec"]["containers"][0]["securityContex"] = {}

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, K8S_VERSIONS[-1], strict=True)


# --- the password: only in the Secret, as a password file ----------------------------------------


def test_the_password_appears_only_in_the_secrets_data() -> None:
    docs = manifests()
    secret = docs["secret"]

    assert secret["stringData"] == {
        "pgpass": "xpander-redshift.abc123.us-west-2.redshift.amazonaws.com:5439:xpander_demo:"
        f"xpander_admin:{PASSWORD_SENTINEL}\n"
    }
    without_data = {k: v for k, v in secret.items() if k != "stringData"}
    for doc in (without_data, docs["config_map"], docs["job"], docs["network_policy"]):
        assert PASSWORD_SENTINEL not in json.dumps(doc)


def test_no_environment_variable_carries_the_password() -> None:
    (container,) = pod_spec(manifests())["containers"]
    names = {e["name"] for e in container["env"]}

    assert "PGPASSWORD" not in names
    assert not any("valueFrom" in e for e in container["env"])  # no secretKeyRef at all
    assert {e["name"]: e["value"] for e in container["env"]}["PGPASSFILE"] == "/tmp/pgpass"


def test_libpq_escapes_colons_and_backslashes_in_the_password_file() -> None:
    line = pgpass_line(PsqlConnection("h", "5439", "db", "u"), "a:b\\c")

    assert line == "h:5439:db:u:a\\:b\\\\c\n"
    with pytest.raises(ValueError, match="line break"):
        pgpass_line(PsqlConnection("h", "5439", "db", "u"), "a\nb")


def test_the_secret_is_mounted_read_only_and_the_copy_lives_in_memory() -> None:
    pod = pod_spec(manifests())
    (container,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}

    assert volumes["pgpass"]["secret"]["secretName"] == "iamr-user-pgpass"
    assert volumes["pgpass"]["secret"]["items"] == [{"key": "pgpass", "path": "pgpass"}]
    assert volumes["tmp"]["emptyDir"]["medium"] == "Memory"
    assert {"name": "pgpass", "mountPath": "/secrets", "readOnly": True} in container[
        "volumeMounts"
    ]
    assert container["command"][:2] == ["/bin/sh", "-c"]
    assert "umask 077" in container["command"][2]


# --- the Job ------------------------------------------------------------------------------------


def test_the_job_runs_the_configmaps_script_with_psql_stopping_on_errors() -> None:
    docs = manifests()
    pod = pod_spec(docs)
    container = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}

    assert container["image"] == "postgres:15-alpine"
    assert container["command"][2].endswith('exec psql "$@"')
    assert container["args"] == ["--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-f", "/sql/provision.sql"]
    assert docs["config_map"]["data"] == {"provision.sql": SCRIPT}
    assert {
        "name": "sql",
        "configMap": {"name": docs["config_map"]["metadata"]["name"], "defaultMode": 0o444},
    } in pod["volumes"]
    assert env["PGSSLMODE"] == "require"
    assert (env["PGHOST"], env["PGPORT"], env["PGDATABASE"], env["PGUSER"]) == (
        "xpander-redshift.abc123.us-west-2.redshift.amazonaws.com",
        "5439",
        "xpander_demo",
        OWNER,
    )


def test_the_pod_is_hardened_and_runs_as_a_high_uid_and_gid() -> None:
    pod = pod_spec(manifests())
    container = pod["containers"][0]
    security = container["securityContext"]
    pod_security = pod["securityContext"]

    assert pod_security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] >= 10000 and pod_security["runAsGroup"] >= 10000
    assert pod_security["fsGroup"] == pod_security["runAsGroup"]
    assert (security["runAsUser"], security["runAsGroup"]) == (
        pod_security["runAsUser"],
        pod_security["runAsGroup"],
    )
    assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert pod["restartPolicy"] == "Never"
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]


def test_the_job_is_bounded_cleaned_up_and_awaited() -> None:
    job = manifests()["job"]

    assert job["spec"]["activeDeadlineSeconds"] == 300
    assert job["spec"]["backoffLimit"] == JOB_BACKOFF_LIMIT
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    annotations = job["metadata"]["annotations"]
    assert "pulumi.com/skipAwait" not in annotations  # the await is what fails `pulumi up`
    assert annotations["pulumi.com/replaceUnready"] == "true"  # a failed Job re-runs next time


def test_the_job_name_carries_the_sql_hash_so_changed_sql_reruns() -> None:
    other = psql_script(USER, ["public"], OWNER)

    assert sql_hash(SCRIPT) in manifests()["job"]["metadata"]["name"]
    assert sql_hash(SCRIPT) != sql_hash(other)
    assert sql_hash(SCRIPT) == sql_hash(psql_script(USER, ["public", "sales"], OWNER))


@pytest.mark.parametrize("base", ["xpander-user", "A_Very.Long Name" * 8, "---", "x" * 63])
def test_names_are_dns_labels_of_at_most_63_characters(base: str) -> None:
    name = dns_label(base, sql_hash(SCRIPT))

    assert len(name) <= 63
    assert name.endswith(sql_hash(SCRIPT))
    kubernetes_validate.validate(
        config_map_manifest(name, "xpander", "x"), K8S_VERSIONS[-1], strict=True
    )
    assert name[0].isalnum() and name == name.lower()


# --- the NetworkPolicy ----------------------------------------------------------------------------


def test_the_network_policy_selects_only_this_jobs_pods_and_admits_no_ingress() -> None:
    docs = manifests()
    policy = docs["network_policy"]["spec"]
    pod_labels = docs["job"]["spec"]["template"]["metadata"]["labels"]

    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["ingress"] == []
    selector = policy["podSelector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    assert selector["app.kubernetes.io/instance"] == "iamr-user"  # not another connector's Job


def test_the_network_policy_allows_only_dns_and_the_cluster_port_in_the_vpc() -> None:
    (dns, cluster) = manifests()["network_policy"]["spec"]["egress"]

    assert dns["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ]
    assert dns["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    assert cluster == {
        "to": [{"ipBlock": {"cidr": "10.0.0.0/16"}}, {"ipBlock": {"cidr": "100.64.0.0/16"}}],
        "ports": [{"protocol": "TCP", "port": 5439}],
    }


# --- kubeconfig and the master secret -------------------------------------------------------------


def test_kubeconfig_authenticates_with_aws_eks_get_token() -> None:
    config = kubeconfig(
        "xpander-eks", "https://ABC.gr7.us-west-2.eks.amazonaws.com", "Q0E=", REGION
    )

    (cluster,) = config["clusters"]
    assert cluster["cluster"] == {
        "server": "https://ABC.gr7.us-west-2.eks.amazonaws.com",
        "certificate-authority-data": "Q0E=",
    }
    (user,) = config["users"]
    exec_ = user["user"]["exec"]
    assert exec_["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert exec_["command"] == "aws"
    assert exec_["args"][:2] == ["eks", "get-token"]
    assert exec_["args"][2:6] == ["--cluster-name", "xpander-eks", "--region", REGION]
    assert config["current-context"] == config["contexts"][0]["name"]


def test_the_master_password_is_read_from_the_managed_secrets_json() -> None:
    assert master_password(json.dumps({"username": OWNER, "password": "pw"})) == "pw"
    with pytest.raises(ValueError, match="managed master secret"):
        master_password("not json")
    with pytest.raises(ValueError, match="managed master secret"):
        master_password(json.dumps({"username": OWNER}))


# --- the Job's command, run as the kubelet runs it, against a server that wants a password --------

AUTH_USER = "job_admin"
AUTH_PASSWORD = "Pa:ss\\w0rd-9f2c"  # a ':' and a '\' for libpq's password-file escapes


@pytest.fixture(scope="module")
def password_server() -> Iterator[PostgresServer]:
    """A PostgreSQL where AUTH_USER gets in only over TLS with its SCRAM password (as Redshift)."""
    hba = [
        f"hostssl all {AUTH_USER} 127.0.0.1/32 scram-sha-256",
        f"host all {AUTH_USER} 127.0.0.1/32 reject",  # before the default `trust` lines
    ]
    with running_postgres(find_bindir(), hba=hba, ssl=True) as server:
        with server.connect() as admin:
            admin.execute(
                sql.SQL("CREATE USER {} SUPERUSER PASSWORD {}").format(
                    sql.Identifier(AUTH_USER), sql.Literal(AUTH_PASSWORD)
                )
            )
            admin.execute(sql.SQL("CREATE SCHEMA sales"))
        yield server


@contextlib.contextmanager
def pod_root() -> Iterator[Path]:
    """A directory the pod's uid can traverse (pytest's tmp_path is private to root)."""
    root = Path(tempfile.mkdtemp(prefix="xpander-pod-"))
    root.chmod(0o711)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def lay_out_volumes(docs: dict[str, dict[str, Any]], root: Path) -> dict[str, Path]:
    """The pod's volumes as the kubelet lays them out; returns mountPath -> directory.

    With fsGroup set, the kubelet gives a Secret's or ConfigMap's files group fsGroup and adds
    group read to their mode (kubernetes pkg/volume/volume_linux.go: read-only volumes get 0440
    OR'd in); the files stay owned by root. Without root we cannot chown, so the files are ours,
    with the same mode: libpq checks the mode, which is what the test is about.
    """
    pod = pod_spec(docs)
    fs_group = pod["securityContext"].get("fsGroup")
    as_root = os.geteuid() == 0
    directories: dict[str, Path] = {}
    for volume in pod["volumes"]:
        directory = root / volume["name"]
        directory.mkdir()
        files: dict[str, str] = {}
        mode = 0
        if "configMap" in volume:
            files, mode = dict(docs["config_map"]["data"]), volume["configMap"]["defaultMode"]
        elif "secret" in volume:
            data = docs["secret"]["stringData"]
            files = {item["path"]: data[item["key"]] for item in volume["secret"]["items"]}
            mode = volume["secret"]["defaultMode"]
        else:  # emptyDir: writable by everyone, as the kubelet makes it
            directory.chmod(0o777)
        if files:
            directory.chmod(0o755)
        for relative, text in files.items():
            path = directory / relative
            path.write_text(text)
            if fs_group is not None:
                mode |= 0o440
                if as_root:
                    os.chown(path, 0, fs_group)
            path.chmod(mode)
        directories[volume["name"]] = directory
    (container,) = pod["containers"]
    return {m["mountPath"]: directories[m["name"]] for m in container["volumeMounts"]}


def run_container(
    docs: dict[str, dict[str, Any]],
    root: Path,
    *,
    override_env: dict[str, str] | None = None,
    argv: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The container's command + args with its env (mount paths mapped into `root`), as its uid."""
    mounts = lay_out_volumes(docs, root)
    pod = pod_spec(docs)
    (container,) = pod["containers"]
    pattern = re.compile("|".join(re.escape(m) for m in sorted(mounts, key=len, reverse=True)))

    def mapped(text: str) -> str:
        return pattern.sub(lambda m: str(mounts[m.group(0)]), text)

    # The image's PATH stands in for the container's; everything else is the manifest's own.
    env = {e["name"]: mapped(e["value"]) for e in container["env"]} | {"PATH": os.environ["PATH"]}
    env |= override_env or {}
    command = argv or [mapped(part) for part in [*container["command"], *container["args"]]]
    identity: dict[str, Any] = {}
    if os.geteuid() == 0:
        security = pod["securityContext"]
        identity = {
            "user": security["runAsUser"],
            "group": security["runAsGroup"],
            "extra_groups": [security["fsGroup"]],
        }
    return subprocess.run(
        command,
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **identity,
    )


def job_docs_for(server: PostgresServer, password: str) -> dict[str, dict[str, Any]]:
    connection = PsqlConnection(
        host=server.host, port=str(server.port), database=server.dbname, user=AUTH_USER
    )
    with pytest.MonkeyPatch.context() as patch:  # PostgreSQL spells PASSWORD DISABLE so
        patch.setattr(redshift_sql, "PASSWORD_CLAUSE", "PASSWORD NULL")
        script = psql_script(USER, ["sales"], AUTH_USER)
    return manifests(connection, password, script)


@pytest.mark.postgres
def test_the_jobs_command_authenticates_with_the_secrets_password_file(
    password_server: PostgresServer,
) -> None:
    docs = job_docs_for(password_server, AUTH_PASSWORD)
    with pod_root() as root:
        result = run_container(docs, root)
        copy = root / "tmp" / "pgpass"
        copy_mode, copy_uid = copy.stat().st_mode & 0o777, copy.stat().st_uid
    with password_server.connect() as admin:
        created = admin.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", [USER])
        exists = created.fetchone()
        admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(USER)))
        admin.execute(sql.SQL("DROP USER {}").format(sql.Identifier(USER)))

    assert result.returncode == 0, result.stderr
    assert f'xpander-redshift: created user: "{USER}"' in result.stdout
    assert exists == (1,)
    assert copy_mode == 0o600  # what libpq accepts: its owner only
    assert copy_uid == (
        pod_spec(docs)["securityContext"]["runAsUser"] if os.geteuid() == 0 else os.geteuid()
    )


@pytest.mark.postgres
def test_libpq_would_ignore_the_secret_file_as_mounted(password_server: PostgresServer) -> None:
    # The control for the test above: the kubelet's file, group-readable, is not a password file
    # libpq uses, so the copy is what authenticates.
    docs = job_docs_for(password_server, AUTH_PASSWORD)
    with pod_root() as root:
        mounted = root / "pgpass" / "pgpass"
        result = run_container(
            docs,
            root,
            override_env={"PGPASSFILE": str(mounted)},
            argv=["psql", "--no-psqlrc", "-c", "SELECT 1"],
        )

    assert result.returncode == 2
    assert "has group or world access" in result.stderr
    assert "no password supplied" in result.stderr


@pytest.mark.postgres
def test_a_wrong_password_in_the_secret_fails_the_job(password_server: PostgresServer) -> None:
    docs = job_docs_for(password_server, "not-the-password")
    with pod_root() as root:
        result = run_container(docs, root)

    assert result.returncode == 2
    assert "password authentication failed" in result.stderr


def test_the_docs_show_the_cleanup_sql_for_the_default_names() -> None:
    readme = (Path(__file__).resolve().parent.parent / "docs" / "database-user.md").read_text()
    statements = [
        line
        for line in cleanup_sql(USER, ["public"], OWNER).splitlines()
        if not line.startswith("-- pulumi destroy") and not line.startswith("-- Run as")
    ]

    assert "\n    ".join(statements) in readme  # docs/database-user.md's copy has not drifted

"""The kubernetes-job provisioner's Kubernetes objects as plain dicts: pure functions, no pulumi.

Values that are Pulumi Outputs at run time (the cluster's endpoint, the password) pass through
these functions untouched; the component hands the dicts to pulumi-kubernetes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SQL_FILE = "provision.sql"
PASSWORD_KEY = "password"  # noqa: S105 - the field of the cluster's managed master secret
PGPASS_KEY = "pgpass"  # the key inside the Job's Secret: one libpq password-file line
# The pod's user and group: high, so they match no user of the node or of the image (the official
# postgres images run psql as any uid). fsGroup makes the Secret's file readable by that group.
POD_UID = 10001
POD_GID = 10001
SQL_DIR = "/sql"
SECRET_DIR = "/secrets"  # noqa: S105 - a mount path
TMP_DIR = "/tmp"  # noqa: S108 - a private, memory-backed emptyDir
PGPASSFILE = f"{TMP_DIR}/pgpass"
# The kubelet makes a Secret volume's files root-owned, group fsGroup, and adds group read to
# them (0440); libpq ignores a password file that group or world can read ("WARNING: password file
# ... has group or world access"). So the pod copies it, readable by its own user only (umask 077
# gives 0600), into memory, and psql reads the copy. The password never is an environment variable.
PSQL_COMMAND = [
    "/bin/sh",
    "-c",
    f'umask 077 && cat {SECRET_DIR}/{PGPASS_KEY} > "$PGPASSFILE" && exec psql "$@"',
    "psql",  # $0 of the shell; the container's args become psql's arguments
]
PSQL_ARGS = ["--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-f", f"{SQL_DIR}/{SQL_FILE}"]
DNS_PORT = 53
JOB_TTL_SECONDS = 86_400  # keep a finished Job (and its pod's log) a day for troubleshooting
JOB_BACKOFF_LIMIT = 1  # SQL that failed once will fail again; one retry covers a flaky network
AWAIT_MARGIN_SECONDS = 120  # Pulumi's await outlives the Job's own deadline, so the Job says why
_DNS_LABEL_MAX = 63  # Job names become pod label values: at most 63 characters
_HASH_LENGTH = 10
BASE_NAME_MAX = _DNS_LABEL_MAX - len("-sql-") - _HASH_LENGTH  # room for "<base>-sql-<hash>"


def sql_hash(sql: str) -> str:
    """A short, stable fingerprint of the SQL; part of the Job's name so changed SQL re-runs."""
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()[:_HASH_LENGTH]


def dns_label(base: str, suffix: str = "") -> str:
    """`base` made a valid DNS label (lower case, [a-z0-9-]), with `suffix`, at most 63 chars."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-") or "iamr-user"
    tail = f"-{suffix}" if suffix else ""
    return cleaned[: _DNS_LABEL_MAX - len(tail)].rstrip("-") + tail


# --- kubernetes-job: manifests as plain dicts (pure) ----------------------------------------------


def labels(component: str, instance: str | None = None) -> dict[str, str]:
    """Recommended labels; `instance` (a DNS label) tells one connector's Job pods from others."""
    found = {
        "app.kubernetes.io/name": "xpander-redshift",
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "pulumi",
    }
    return found | ({"app.kubernetes.io/instance": instance} if instance else {})


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> dict[str, Any]:
    """A kubeconfig for the EKS cluster whose user gets tokens from `aws eks get-token`."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {"server": endpoint, "certificate-authority-data": ca_data},
            }
        ],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": "aws"}}],
        "current-context": cluster_name,
        "preferences": {},
        "users": [
            {
                "name": "aws",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": [
                            "eks",
                            "get-token",
                            "--cluster-name",
                            cluster_name,
                            "--region",
                            region,
                            "--output",
                            "json",
                        ],
                    }
                },
            }
        ],
    }


def secret_manifest(name: str, namespace: str, pgpass: Any) -> dict[str, Any]:
    """The Secret psql's password file comes from (pass the pgpass_line as a secret Output)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": labels("iamr-user-psql")},
        "type": "Opaque",
        "stringData": {PGPASS_KEY: pgpass},
    }


def config_map_manifest(name: str, namespace: str, script: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels("iamr-user-psql")},
        "data": {SQL_FILE: script},
    }


@dataclass(frozen=True)
class PsqlConnection:
    """Where psql connects; values may be Pulumi Inputs (the cluster's outputs)."""

    host: Any
    port: Any  # env values are strings
    database: Any
    user: str


def _pgpass_field(value: str) -> str:
    # libpq: "If an entry needs to contain : or \, escape this character with \."
    return value.replace("\\", "\\\\").replace(":", "\\:")


def pgpass_line(connection: PsqlConnection, password: str) -> str:
    """The password-file line that matches exactly the Job's connection (plain values only)."""
    fields = [connection.host, connection.port, connection.database, connection.user, password]
    if not all(isinstance(field, str) for field in fields):
        raise TypeError("pgpass_line takes the resolved values, not Pulumi Outputs")
    if any("\n" in field or "\r" in field for field in fields):
        raise ValueError("a password-file field cannot hold a line break")
    return ":".join(_pgpass_field(field) for field in fields) + "\n"


def job_manifest(
    *,
    name: str,
    namespace: str,
    image: str,
    instance: str,
    connection: PsqlConnection,
    secret_name: Any,
    config_map_name: Any,
    timeout_seconds: int,
) -> dict[str, Any]:
    """The psql Job: hardened pod, password only in a file from the Secret, awaited by Pulumi."""
    job_labels = labels("iamr-user-psql", instance)
    env: list[dict[str, Any]] = [
        {"name": "PGHOST", "value": connection.host},
        {"name": "PGPORT", "value": connection.port},
        {"name": "PGDATABASE", "value": connection.database},
        {"name": "PGUSER", "value": connection.user},
        {"name": "PGPASSFILE", "value": PGPASSFILE},
        {"name": "PGSSLMODE", "value": "require"},
        {"name": "PGCONNECT_TIMEOUT", "value": "15"},
        {"name": "PGAPPNAME", "value": "xpander-redshift-iamr-user"},
    ]
    container = {
        "name": "psql",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": list(PSQL_COMMAND),
        "args": list(PSQL_ARGS),
        "env": env,
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi", "ephemeral-storage": "16Mi"},
            "limits": {"cpu": "500m", "memory": "128Mi", "ephemeral-storage": "64Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": POD_UID,
            "runAsGroup": POD_GID,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": "sql", "mountPath": SQL_DIR, "readOnly": True},
            {"name": "pgpass", "mountPath": SECRET_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": TMP_DIR},
        ],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": job_labels,
            # A Job that failed in an earlier `pulumi up` is replaced (re-run) by the next one
            # instead of awaited again. Never set pulumi.com/skipAwait: the await is the point.
            "annotations": {"pulumi.com/replaceUnready": "true"},
        },
        "spec": {
            "backoffLimit": JOB_BACKOFF_LIMIT,
            "activeDeadlineSeconds": timeout_seconds,
            "ttlSecondsAfterFinished": JOB_TTL_SECONDS,
            "template": {
                "metadata": {"labels": job_labels},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": POD_UID,
                        "runAsGroup": POD_GID,
                        "fsGroup": POD_GID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [
                        {
                            "name": "sql",
                            "configMap": {"name": config_map_name, "defaultMode": 0o444},
                        },
                        {
                            "name": "pgpass",
                            "secret": {
                                "secretName": secret_name,
                                "items": [{"key": PGPASS_KEY, "path": PGPASS_KEY}],
                                # What the kubelet makes of any mode with fsGroup set: 0440.
                                "defaultMode": 0o440,
                            },
                        },
                        # In memory: the password's copy never reaches the node's disk.
                        {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
                    ],
                },
            },
        },
    }


def vpc_peers(cidrs: Sequence[str]) -> list[dict[str, Any]]:
    """NetworkPolicy peers for the VPC's IPv4 blocks, where the private cluster's address lies."""
    return [{"ipBlock": {"cidr": cidr}} for cidr in sorted(set(cidrs))]


def network_policy_manifest(
    *, name: str, namespace: str, instance: str, vpc: Any, port: Any
) -> dict[str, Any]:
    """Only DNS and the cluster's port inside the VPC, for this Job's pods only; no ingress.

    `vpc` is vpc_peers() of the VPC's CIDR blocks; DNS goes to the cluster's own resolver
    (kube-dns in kube-system), nowhere else.
    """
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels("iamr-user-psql", instance),
        },
        "spec": {
            "podSelector": {"matchLabels": labels("iamr-user-psql", instance)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                            },
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": [
                        {"protocol": "UDP", "port": DNS_PORT},
                        {"protocol": "TCP", "port": DNS_PORT},
                    ],
                },
                {
                    "to": vpc,
                    "ports": [{"protocol": "TCP", "port": port}],
                },
            ],
        },
    }


def master_password(secret_string: str) -> str:
    """The password field of the cluster's managed master secret (JSON: username, password)."""
    try:
        value = json.loads(secret_string)[PASSWORD_KEY]
    except (ValueError, TypeError, KeyError):
        raise ValueError(
            "the cluster's master secret is not JSON with a 'password' field; is secret_arn "
            "the cluster's managed master secret (master_password_secret_arn)?"
        ) from None
    if not isinstance(value, str):
        raise ValueError("the 'password' field of the cluster's master secret is not a string")
    return value

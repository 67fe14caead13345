"""The kubernetes-job provisioner's Kubernetes objects as plain dicts: pure functions, no pulumi.

Values that are Pulumi Outputs at run time (the cluster's endpoint, the password) pass through
these functions untouched; the component hands the dicts to pulumi-kubernetes.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

SQL_FILE = "provision.sql"
PASSWORD_KEY = "password"  # noqa: S105 - the key inside the Secret, not a password
POSTGRES_UID = 70  # the `postgres` user of the official alpine images
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


def labels(component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "xpander-redshift",
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "pulumi",
    }


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


def secret_manifest(name: str, namespace: str, password: Any) -> dict[str, Any]:
    """The Secret psql reads its password from (pass the password as a Pulumi secret Output)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": labels("iamr-user-psql")},
        "type": "Opaque",
        "stringData": {PASSWORD_KEY: password},
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


def job_manifest(
    *,
    name: str,
    namespace: str,
    image: str,
    connection: PsqlConnection,
    secret_name: Any,
    config_map_name: Any,
    timeout_seconds: int,
) -> dict[str, Any]:
    """The psql Job: hardened pod, password only through secretKeyRef, awaited by Pulumi."""
    job_labels = labels("iamr-user-psql")
    env: list[dict[str, Any]] = [
        {"name": "PGHOST", "value": connection.host},
        {"name": "PGPORT", "value": connection.port},
        {"name": "PGDATABASE", "value": connection.database},
        {"name": "PGUSER", "value": connection.user},
        {"name": "PGSSLMODE", "value": "require"},
        {"name": "PGCONNECT_TIMEOUT", "value": "15"},
        {"name": "PGAPPNAME", "value": "xpander-redshift-iamr-user"},
        {
            "name": "PGPASSWORD",
            "valueFrom": {"secretKeyRef": {"name": secret_name, "key": PASSWORD_KEY}},
        },
    ]
    container = {
        "name": "psql",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["psql"],
        "args": ["--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-f", f"/sql/{SQL_FILE}"],
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
            "runAsUser": POSTGRES_UID,
            "runAsGroup": POSTGRES_UID,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": "sql", "mountPath": "/sql", "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - a private emptyDir
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
                        "runAsUser": POSTGRES_UID,
                        "runAsGroup": POSTGRES_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [
                        {
                            "name": "sql",
                            "configMap": {"name": config_map_name, "defaultMode": 0o444},
                        },
                        {"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}},
                    ],
                },
            },
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

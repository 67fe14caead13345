"""One IamrDatabaseUser on a stand-in cluster: the component alone, run by tools.engine in tests.

Config `test:provisioner` picks the provisioner; the component's outputs are exported so the
tests read them from the run.
"""

import pulumi

from components.database_user import (
    DataApiProvisioner,
    IamrDatabaseUser,
    IamrDatabaseUserArgs,
    KubernetesJobProvisioner,
)

CLUSTER_ENDPOINT = "xpander-redshift.abc123.us-west-2.redshift.amazonaws.com"
CLUSTER_ARN = "arn:aws:redshift:us-west-2:111122223333:cluster:xpander-redshift"
SECRET_ARN = "arn:aws:secretsmanager:us-west-2:111122223333:secret:redshift!xpander-redshift-admin"


class StandInCluster(pulumi.CustomResource):
    """Stands in for aws.redshift.Cluster: the outputs the database user consumes.

    No class annotations: runpy clears this module's globals before Pulumi would read them.
    """

    def __init__(self, name: str) -> None:
        super().__init__(
            "test:redshift:Cluster",
            name,
            {
                "cluster_identifier": "xpander-redshift",
                "master_password_secret_arn": SECRET_ARN,
                "arn": CLUSTER_ARN,
                "dns_name": CLUSTER_ENDPOINT,
                "port": 5439,
            },
        )


cluster = StandInCluster("cluster")
kind = pulumi.Config("test").require("provisioner")
user = IamrDatabaseUser(
    "xpander-user",
    IamrDatabaseUserArgs(
        provisioner=(
            KubernetesJobProvisioner(
                eks_cluster_name="xpander-eks",
                cluster_endpoint=cluster.dns_name,
                cluster_port=cluster.port,
                master_username="xpander_admin",
                vpc_id="vpc-0123456789abcdef0",
                secret_arn=cluster.master_password_secret_arn,
                namespace="xpander",
                psql_image="postgres:15-alpine",
            )
            if kind == KubernetesJobProvisioner.KIND
            else DataApiProvisioner(secret_arn=cluster.master_password_secret_arn)
        ),
        region="us-west-2",
        cluster_identifier=cluster.cluster_identifier,
        cluster_arn=cluster.arn,
        database="xpander_demo",
        user="IAMR:xpander-redshift-access",
        schemas=["public", "sales"],
        owner="xpander_admin",
        timeout_seconds=300,
    ),
)
pulumi.export("userName", user.user_name)
pulumi.export("sql", user.sql)
pulumi.export("provisioner", user.provisioner)
pulumi.export("cleanupSql", user.cleanup_sql)

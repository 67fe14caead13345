"""Type tokens of the resources the program registers that the tools look for in a plan."""

# The data-api provisioner's dynamic resource: `pulumi-python:dynamic/<module>:<name>`.
IAMR_USER_MODULE = "xpander"
IAMR_USER_NAME = "IamrUser"
IAMR_USER_TYPE = f"pulumi-python:dynamic/{IAMR_USER_MODULE}:{IAMR_USER_NAME}"
# The static parameters of the cluster's parameter group, whose change waits for a reboot.
STATIC_PARAMETERS_NAME = "StaticParameters"
STATIC_PARAMETERS_TYPE = f"pulumi-python:dynamic/{IAMR_USER_MODULE}:{STATIC_PARAMETERS_NAME}"
CONFIG_MAP_TYPE = "kubernetes:core/v1:ConfigMap"

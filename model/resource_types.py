"""Type tokens of the resources the program registers that the tools look for in a plan."""

# The data-api provisioner's dynamic resource: `pulumi-python:dynamic/<module>:<name>`.
IAMR_USER_MODULE = "xpander"
IAMR_USER_NAME = "IamrUser"
IAMR_USER_TYPE = f"pulumi-python:dynamic/{IAMR_USER_MODULE}:{IAMR_USER_NAME}"
CONFIG_MAP_TYPE = "kubernetes:core/v1:ConfigMap"

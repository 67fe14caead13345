"""Clients of AWS APIs shared by the components (the dynamic provider) and the tools (verify).

No pulumi import: a client runs inside Pulumi's provider process and inside the tools alike.
"""

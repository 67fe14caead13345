"""The xpander-redshift program: settings -> XpanderRedshift -> stack outputs."""

import pulumi

from components.config import read_settings
from components.stack import XpanderRedshift, XpanderRedshiftArgs

stack = XpanderRedshift("xpander", XpanderRedshiftArgs(settings=read_settings()))

for output_name, value in stack.stack_outputs.items():
    pulumi.export(output_name, value)

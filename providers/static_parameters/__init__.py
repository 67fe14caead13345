"""The cluster's static parameters as a dynamic resource: its update says a reboot is needed.

- `provider`: the handlers (`StaticParametersProvider`), run in Pulumi's dynamic-provider process;
  the rules they follow are `model.cluster_reboot`'s.
- `resource`: the `StaticParameters` dynamic resource the cluster component registers.
Nothing here imports `components`.
"""

"""The database user's dynamic provider (the data-api provisioner), in a package of its own.

- `props`: the typed contract (`IamrUserProps`) shared by the component, the provider and the plan.
- `provider`: the handlers (`IamrUserProvider`), run in Pulumi's dynamic-provider process.
- `catalog`: the read-only catalog questions the handlers ask over the Data API.
- `resource`: the `IamrUser` dynamic resource the component registers.
- `writes`: the writes, each confirmed by its ClientToken; `grants`: the adoption record and the
  revokes; `messages`: the errors, in our words.
Older stack state names `components.iamr_user_provider` and `components.database_user`; both keep
working as thin re-exports. Nothing here imports `components`.
"""

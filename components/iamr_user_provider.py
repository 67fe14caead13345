"""Shim: stack state written by earlier versions loads the provider from this module path.

Their pickled loader imports `components.iamr_user_provider` and calls `IamrUserProvider(root)`;
the provider now lives in `providers.iamr_user` (tests/test_database_user.py loads such a state).
"""

from providers.iamr_user.provider import IamrUserProvider

__all__ = ["IamrUserProvider"]

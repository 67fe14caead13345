"""The IAM policy to paste for the identity that deploys a stack, or previews it (GitOps).

    python -m tools.deployer_policy [--stack NAME | --config-file FILE] [--role deploy|preview]
                                    [--account-id ID] [--part N]
    make deployer-policy ARGS="--stack prod --account-id 111122223333"

Prints the JSON policy for that stack, scoped to the ARNs its settings determine
(`model.deployer_policy`, derived from what the provider calls: `model.provider_calls`). When the
statements pass IAM's managed-policy size quota (6,144 characters without white space) the policy
is several documents: printed as a JSON list, one managed policy each (`--part N` prints the Nth
alone). Exit status: 0, or 2 for bad flags or invalid settings (one line per problem on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from model import deployer_policy
from model.config_keys import Settings
from model.config_values import holds_secret
from model.outputs import PLACEHOLDER_ACCOUNT_ID
from model.settings import SettingsError, settings_from_config
from tools.plan import (
    account_id,
    add_stack_source,
    stack_file_problem,
    stack_source,
)
from tools.stack_file import load_config

EXIT_OK = 0


def _settings(path: Path) -> Settings:
    config = load_config(path)
    secret_keys = [key for key, value in config.items() if holds_secret(value)]
    return settings_from_config(config, secret_keys=secret_keys)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.deployer_policy", description=__doc__.split("\n")[0]
    )
    add_stack_source(parser, "the policy for")
    parser.add_argument(
        "--role",
        choices=deployer_policy.ROLES,
        default=deployer_policy.DEPLOY,
        help="deploy: everything `pulumi up` and destroy call; preview: the read-only lookups "
        "and reads of `pulumi preview` (a refresh of the data-api database user runs SQL as "
        "the admin: refresh with the deploy role) (default: deploy)",
    )
    parser.add_argument(
        "--account-id",
        type=account_id,
        default=PLACEHOLDER_ACCOUNT_ID,
        help="the 12-digit account the stack deploys to (default: a placeholder, said on stderr)",
    )
    parser.add_argument(
        "--part", type=int, metavar="N", help="print only the Nth document (from 1)"
    )
    args = parser.parse_args(argv)

    _, path = stack_source(parser, args)
    try:
        settings = _settings(path)
    except (SettingsError, FileNotFoundError) as err:
        return stack_file_problem(err)

    documents = deployer_policy.documents(settings, args.account_id, args.role)
    if args.part is not None and not 1 <= args.part <= len(documents):
        parser.error(f"--part {args.part}: this policy has {len(documents)} document(s)")
    if args.account_id == PLACEHOLDER_ACCOUNT_ID:
        print(
            f"note: account {PLACEHOLDER_ACCOUNT_ID} is a placeholder (AWS's documentation "
            "account): pass your own account's id with --account-id",
            file=sys.stderr,
        )
    if args.part is not None:
        sys.stdout.write(json.dumps(documents[args.part - 1], indent=2) + "\n")
    elif len(documents) == 1:
        sys.stdout.write(json.dumps(documents[0], indent=2) + "\n")
    else:
        print(
            f"note: {len(documents)} documents (IAM's managed-policy quota is "
            f"{deployer_policy.MANAGED_POLICY_MAX_CHARS} characters each): attach each as its "
            "own managed policy; --part N prints one",
            file=sys.stderr,
        )
        sys.stdout.write(json.dumps(documents, indent=2) + "\n")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

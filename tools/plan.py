"""Offline plan: what `pulumi up` would create for a stack, with no cloud account and no Pulumi CLI.

    python -m tools.plan [--stack NAME | --config-file FILE] [--json | --markdown] [--account-id ID]

Runs the real program under Pulumi's mock engine. Exit status: 0 clean, 1 a mandatory policy is
violated, 2 invalid settings (one line per problem on stderr), or settings that would replace the
`--base` plan's cluster without `--allow-cluster-replacement`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi

from model.config_keys import PROJECT
from model.config_values import holds_secret
from model.outputs import (
    PLACEHOLDER_ACCOUNT_ID,
    PLAN_ACCOUNT_ID,
    PLAN_ACCOUNT_IS_PLACEHOLDER,
)
from model.settings import SettingsError, settings_from_config
from model.validators import ACCOUNT_ID
from tools import engine
from tools.input_files import InputFileError, read_json
from tools.plan_diff import cluster_replacement_problems, plan_diff
from tools.plan_markdown import render_markdown
from tools.plan_views import mandatory_violations, render_text
from tools.policy_check import PolicyConfigError, evaluate
from tools.policy_check import load_config as load_policy_config
from tools.stack_file import load_config, printable

EXIT_OK, EXIT_POLICY, EXIT_SETTINGS = 0, 1, 2
# Pulumi's stack names: letters, digits, `-`, `_`, `.`; `--stack` may qualify one with its
# organization (`org/name`) or organization and project (`org/project/name`).
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
# Pulumi's project file (Pulumi.yaml or Pulumi.yml), whose `config:` declares keys: never a stack's.
PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")
MAX_PROBLEMS = 50  # lines of problems printed; the rest are counted
MAX_LINE = 1000  # characters of one problem line


def check_settings(config: dict[str, Any]) -> None:
    """Raise SettingsError before anything runs, exactly as the program would."""
    secret_keys = [key for key, value in config.items() if holds_secret(value)]
    settings_from_config(config, secret_keys=secret_keys)


def build_plan(
    config_file: Path | None = None,
    stack: str = "dev",
    account_id: str = PLACEHOLDER_ACCOUNT_ID,
    policy_config: Mapping[str, Any] | None = None,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """The plan as the `--json` document. Raises SettingsError on invalid settings.

    `policy_config`: a `--policy-pack-config` document, as `pulumi preview` takes it. `notes`
    collects what the reader has to say about a file it still accepts.
    """
    path = config_file or engine.ROOT_DIR / f"Pulumi.{stack}.yaml"
    config = load_config(path, notes)
    check_settings(config)
    run = engine.run_program(config, stack=stack, account_id=account_id)
    resources = [r.as_json() for r in run.resources]
    # The analyzer sees secret inputs unwrapped: judge what `pulumi preview` would judge.
    analyzed = [{**r.as_json(), "inputs": r.analyzer_inputs} for r in run.resources]
    return {
        "project": PROJECT,
        "stack": stack,
        PLAN_ACCOUNT_ID: account_id,
        PLAN_ACCOUNT_IS_PLACEHOLDER: account_id == PLACEHOLDER_ACCOUNT_ID,
        "resources": resources,
        "outputs": run.outputs,
        "policyViolations": evaluate(analyzed, project=PROJECT, stack=stack, config=policy_config),
    }


def stack_name(text: str) -> str:
    """The stack's own name from `--stack` (`name`, `org/name` or `org/project/name`)."""
    parts = text.split("/")
    if len(parts) == 3 and parts[1] != PROJECT:
        raise argparse.ArgumentTypeError(
            f"{text!r} names project {parts[1]!r}; this project is {PROJECT!r}"
        )
    if len(parts) > 3 or not all(STACK_NAME.fullmatch(part) for part in parts):
        raise argparse.ArgumentTypeError(
            f"{printable(text)!r} is not a stack name: NAME, ORG/NAME or ORG/PROJECT/NAME, "
            "each of letters, digits, '-', '_' and '.'"
        )
    return parts[-1]


def add_stack_source(parser: argparse.ArgumentParser, verb: str) -> None:
    """The flags every tool names its stack file with: `--stack NAME | --config-file FILE`."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--stack",
        type=stack_name,
        # No default here: argparse's mutual exclusion ignores an argument whose value *is* its
        # default, so `--stack dev --config-file FILE` would pass; stack_source supplies "dev".
        help=f"{verb} Pulumi.<name>.yaml; NAME, ORG/NAME or ORG/PROJECT/NAME (default: dev)",
    )
    source.add_argument("--config-file", type=Path, help=f"{verb} any stack file")


def stack_source(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[str, Path]:
    """The stack's name and its file from `add_stack_source`'s flags (a usage error, exit 2,
    when `--config-file` names no stack: Pulumi.<stack>.yaml)."""
    if args.config_file is None:
        stack = str(args.stack or "dev")
    else:
        stack = args.config_file.stem.split(".")[-1]
        if args.config_file.name in PROJECT_FILES:
            parser.error(
                f"--config-file {printable(str(args.config_file))}: the project file, not a stack "
                "file; give Pulumi.<stack>.yaml"
            )
    if not STACK_NAME.fullmatch(stack):
        parser.error(
            f"--config-file {printable(str(args.config_file))}: the stack's name comes from the "
            "file's (Pulumi.<stack>.yaml): letters, digits, '-', '_' and '.'"
        )
    return stack, args.config_file or engine.ROOT_DIR / f"Pulumi.{stack}.yaml"


def stack_file_problem(err: SettingsError | FileNotFoundError) -> int:
    """Say on stderr why the stack file gave no settings (its problems, or that there is no such
    file), and return the exit code for it (2)."""
    if isinstance(err, SettingsError):
        print_problems(err.problems)
    else:
        print(f"no such stack file: {printable(str(err.filename))}", file=sys.stderr)
    return EXIT_SETTINGS


def account_id(text: str) -> str:
    if not ACCOUNT_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{printable(text)!r} is not an AWS account id: an account id is 12 ASCII digits"
        )
    return text


def load_base(path: Path) -> dict[str, Any]:
    """An earlier `--json` plan for `--base`. Raises SettingsError naming the flag and file."""
    where = f"--base {printable(str(path))}"
    hint = "write it with `python -m tools.plan --json`"
    try:
        document = read_json(path, where, hint)
    except InputFileError as err:
        raise SettingsError([str(err)]) from None
    problem = plan_shape_problem(document)
    if problem:
        raise SettingsError([f"{where}: not a plan from `python -m tools.plan --json`: {problem}"])
    plan: dict[str, Any] = document
    return plan


def plan_shape_problem(document: Any) -> str | None:
    """What keeps a JSON document from being diffed as a plan (None when it can be)."""
    if not isinstance(document, dict):
        return "expected a JSON object"
    resources = document.get("resources")
    if not isinstance(resources, list):
        return "no `resources` list"
    if not isinstance(document.get("outputs", {}), dict):
        return "`outputs` is not an object"
    if not isinstance(document.get("policyViolations", []), list) or not all(
        isinstance(v, dict)
        and all(isinstance(v.get(k, ""), str) for k in ("policy", "message", "enforcementLevel"))
        and isinstance(v.get("urn", ""), str | None)
        for v in document.get("policyViolations", [])
    ):
        return "`policyViolations` is not a list of violations (policy, urn, message: text)"
    for index, resource in enumerate(resources):
        if not (
            isinstance(resource, dict)
            and all(isinstance(resource.get(k), str) for k in ("urn", "type", "name"))
            and isinstance(resource.get("inputs", {}), dict)
            and isinstance(resource.get("dependencies", []), list)
        ):
            return f"resources[{index}] is not a resource (urn, type, name, inputs)"
    return None


def print_problems(problems: Sequence[str]) -> None:
    """One line per problem, each bounded and printable; past MAX_PROBLEMS, a count."""
    for problem in problems[:MAX_PROBLEMS]:
        print(printable(problem, limit=MAX_LINE), file=sys.stderr)
    if len(problems) > MAX_PROBLEMS:
        print(f"... and {len(problems) - MAX_PROBLEMS} more problem(s)", file=sys.stderr)


def print_notes(notes: Sequence[str], base: Mapping[str, Any] | None, stack: str) -> None:
    """What the plan says about inputs it accepted (on stderr, before the plan)."""
    for note in notes:
        print(f"note: {printable(note, limit=MAX_LINE)}", file=sys.stderr)
    if base is not None and (base.get("project"), base.get("stack")) != (PROJECT, stack):
        print(
            f"note: --base is a plan of stack {printable(str(base.get('stack')))!r}, this one of "
            f"{stack!r}: every resource shows as removed and added",
            file=sys.stderr,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan", description=__doc__.split("\n")[0]
    )
    add_stack_source(parser, "render")
    view = parser.add_mutually_exclusive_group()
    view.add_argument("--json", action="store_true", help="machine-readable plan")
    view.add_argument("--markdown", action="store_true", help="pull-request comment view")
    parser.add_argument(
        "--base",
        type=Path,
        metavar="FILE",
        help="with --markdown: also show what changed since this earlier --json plan",
    )
    parser.add_argument(
        "--allow-cluster-replacement",
        action="store_true",
        help="with --base: plan settings that replace the base plan's cluster (refused otherwise)",
    )
    parser.add_argument(
        "--account-id",
        type=account_id,
        default=PLACEHOLDER_ACCOUNT_ID,
        help="the 12-digit account id to build ARNs with (default: a placeholder)",
    )
    parser.add_argument(
        "--policy-pack-config",
        type=Path,
        metavar="FILE",
        help="policy enforcement levels, as `pulumi preview --policy-pack-config FILE` reads them",
    )
    args = parser.parse_args(argv)
    if args.base and not args.markdown:
        parser.error("--base needs --markdown")
    if args.allow_cluster_replacement and not args.base:
        parser.error("--allow-cluster-replacement needs --base")

    stack, _ = stack_source(parser, args)
    notes: list[str] = []
    try:
        base = load_base(args.base) if args.base else None
        levels = load_policy_config(args.policy_pack_config) if args.policy_pack_config else None
        plan = build_plan(
            args.config_file,
            stack=stack,
            account_id=args.account_id,
            policy_config=levels,
            notes=notes,
        )
    except PolicyConfigError as err:
        print_problems([str(err)])
        return EXIT_SETTINGS
    except (SettingsError, FileNotFoundError) as err:
        return stack_file_problem(err)
    except (pulumi.RunError, ValueError) as err:
        # A value the program refuses once it sees the looked-up facts (say, a security group
        # the existing cluster does not use): its last line is the message that names the key.
        last = (str(err).strip().splitlines() or [type(err).__name__])[-1]
        print_problems([last.removeprefix("ValueError has risen: ")])
        return EXIT_SETTINGS

    print_notes(notes, base, stack)
    # The view is still written (a pull request's summary shows the REPLACED cluster), the
    # refusal goes to stderr and sets the exit status.
    refused = []
    if base is not None and not args.allow_cluster_replacement:
        refused = cluster_replacement_problems(plan_diff(base, plan), PROJECT)
    if args.json:
        sys.stdout.write(json.dumps(plan, indent=2) + "\n")
    elif args.markdown:
        sys.stdout.write(render_markdown(plan, base=base))
    else:
        sys.stdout.write(render_text(plan))
    if refused:
        print_problems(refused)
        return EXIT_SETTINGS
    return EXIT_POLICY if mandatory_violations(plan) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

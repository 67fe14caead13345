"""`make verify`: the guide's step-9 connection checks against a deployed stack, each with its fix.

The seven checks run in the guide's order (path config, database, target, AWS credentials,
Data API client, auth method, query execution). The first failure stops the run: every later
check is reported as skipped, because it would only fail for the same reason.

Identity: `database` and `target` describe the cluster with the credentials verify runs with (an
operator's). The last four checks run as the identity under test: the current credentials, or,
with `--as-platform`, the role assumed the way the xpander platform does (ExternalId) and then
re-assumed with a session tag the way the AI gateway does (self-assume + TagSession).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import textwrap
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from model.outputs import ConnectorNotFoundError, connector_outputs
from tools.outputs import add_source_arguments
from tools.stack_file import printable
from tools.verify_aws import (
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    CheckError,
    ClientFactory,
    aws_config,
    aws_failure,
    boto3_client_factory,
)
from tools.verify_checks import (
    CHECK_NAMES,
    CHECKS,
    DEFAULT_QUERY_TIMEOUT,
    DEFAULT_TIMEOUT,
    CheckResult,
    Deadline,
    Options,
    Run,
)
from tools.verify_inputs import (
    CATALOG_FIELD,
    CLUSTER_FIELD,
    DATABASE_FIELD,
    REGION_FIELD,
    ROLE_FIELD,
    UsageError,
    apply_flags,
    inputs_from_outputs,
    load_outputs,
)

# Grace for the worker thread after the run's deadline, before the run is cut off.
DEADLINE_GRACE = 1.0


# --- running -----------------------------------------------------------------------------------


def skipped(name: str, waits_on: str) -> CheckResult:
    return CheckResult(name, "skip", f"not run: waits on {waits_on!r}, which failed")


def out_of_time(name: str, seconds: float) -> CheckResult:
    return CheckResult(
        name,
        "fail",
        f"the run's total time bound ({seconds:g} s) was reached",
        "Raise --timeout, or find the slow call with the checks before it.",
    )


def run_check(run: Run, name: str, check: Callable[[Run], str]) -> CheckResult:
    try:
        return CheckResult(name, "pass", check(run))
    except CheckError as failed:
        return CheckResult(name, "fail", failed.detail, failed.fix)
    except (ClientError, BotoCoreError) as exc:
        failure = aws_failure(exc, "AWS", "call", "AWS's message above names the permission.")
        return CheckResult(name, "fail", failure.detail, failure.fix)
    except Exception as exc:  # a bug must still end in a report
        return CheckResult(
            name,
            "fail",
            f"unexpected error: {type(exc).__name__}: {exc}",
            "This is a bug in tools/verify.py: report it with the --json output.",
        )


def run_checks(
    run: Run,
    on_start: Callable[[int, str], None],
    on_result: Callable[[CheckResult], None],
) -> list[CheckResult]:
    """The checks in order; after the first failure, the rest are skipped."""
    results: list[CheckResult] = []
    failed: str | None = None
    for index, (name, check) in enumerate(CHECKS):
        on_start(index, name)
        if failed is not None:
            result = skipped(name, failed)
        elif run.deadline.expired():
            result = out_of_time(name, run.deadline.seconds)
        else:
            result = run_check(run, name, check)
        if result.status == "fail":
            failed = name
        results.append(result)
        on_result(result)
    return results


class Progress:
    """The live progress line per check, on stderr."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._closed = False

    def start(self, index: int, name: str) -> None:
        with self._lock:
            if not self._closed:
                self._stream.write(f"[{index + 1}/{len(CHECK_NAMES)}] {name} ... ")
                self._stream.flush()

    def done(self, result: CheckResult) -> None:
        with self._lock:
            if not self._closed:
                self._stream.write(f"{result.status}\n")
                self._stream.flush()

    def close(self) -> None:
        with self._lock:
            self._closed = True


def run_bounded(run: Run, progress: Progress) -> list[CheckResult]:
    """run_checks in a worker thread, cut off when the run's deadline (plus a grace) passes.

    botocore's timeouts bound each call, but a run of many calls with retries could still exceed
    the total; a cut-off keeps `make verify` bounded whatever an endpoint does.
    """
    results: list[CheckResult] = []
    lock = threading.Lock()

    def record(result: CheckResult) -> None:
        with lock:
            results.append(result)
        progress.done(result)

    worker = threading.Thread(
        target=run_checks, args=(run, progress.start, record), name="verify", daemon=True
    )
    worker.start()
    worker.join(timeout=run.deadline.remaining() + DEADLINE_GRACE)
    progress.close()
    with lock:
        finished = list(results)
        results.clear()  # a late result from the abandoned worker is not reported
    if len(finished) < len(CHECK_NAMES):
        stuck = CHECK_NAMES[len(finished)]
        finished.append(out_of_time(stuck, run.deadline.seconds))
        finished += [skipped(name, stuck) for name in CHECK_NAMES[len(finished) :]]
    return finished


# --- output ------------------------------------------------------------------------------------


def render_json(results: Sequence[CheckResult]) -> str:
    ok = all(r.status == "pass" for r in results)
    return json.dumps({"ok": ok, "checks": [r.as_dict() for r in results]}, indent=2)


def _wrap(text: str, width: int) -> list[str]:
    # ARNs and host names stay whole, even when a line overflows: people copy them from here.
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def render_table(
    results: Sequence[CheckResult], detail_width: int = 52, fix_width: int = 60
) -> str:
    """A plain-text table: check, status, detail, fix (long cells wrap within their column)."""
    name_width = max(len("check"), *(len(r.name) for r in results))
    widths = (name_width, len("status"), detail_width, fix_width)

    def row(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    lines = [row(("check", "status", "detail", "fix")), row(tuple("-" * w for w in widths))]
    for r in results:
        detail = _wrap(r.detail, detail_width)
        fix = _wrap(r.fix, fix_width)
        for i, (d, f) in enumerate(itertools.zip_longest(detail, fix, fillvalue="")):
            lines.append(row((r.name, r.status, d, f) if i == 0 else ("", "", d, f)))
    return "\n".join(lines)


def summary(results: Sequence[CheckResult]) -> str:
    passed = sum(r.status == "pass" for r in results)
    failed = [r.name for r in results if r.status == "fail"]
    if not failed:
        return f"all {passed} checks passed: the xpander connector can use this configuration."
    skipped_count = sum(r.status == "skip" for r in results)
    return (
        f"{passed} passed, {len(failed)} failed ({', '.join(failed)}), {skipped_count} skipped: "
        "apply the fix above and run again."
    )


# --- command line ------------------------------------------------------------------------------


MAX_SECONDS = 86_400.0  # a day: longer than any run, short enough for every timer to take


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds above 0 and at most {MAX_SECONDS:g}, not "
            f"{printable(text, limit=40)!r}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.verify",
        description=(
            "Run the guide's step-9 connection checks (path config, database, target, AWS "
            "credentials, Data API client, auth method, query execution) against a deployed "
            "stack, and print the fix for the first failure. Reads `pulumi stack output --json "
            "--show-secrets` when the pulumi CLI is on PATH; flags override its values. Honours "
            "the standard AWS environment (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...)."
        ),
        epilog="Exit status: 0 every check passed; 1 a check failed; 2 unusable inputs.",
    )
    add_source_arguments(parser, purpose="check")
    fields = parser.add_argument_group("connector fields (override the stack outputs)")
    fields.add_argument("--cluster", metavar="ID", help=f"{CLUSTER_FIELD}: cluster identifier")
    fields.add_argument("--database", metavar="NAME", help=f"{DATABASE_FIELD}: database name")
    fields.add_argument(
        "--catalog", metavar="PATH", help=f"{CATALOG_FIELD}, e.g. pg_catalog.svv_all_columns"
    )
    fields.add_argument("--role-arn", metavar="ARN", help=f"{ROLE_FIELD}: the xpander role")
    fields.add_argument(
        "--region", metavar="REGION", help=f"{REGION_FIELD} (default: AWS_REGION / the profile's)"
    )
    identity = parser.add_argument_group("identity")
    identity.add_argument(
        "--profile", metavar="NAME", help="AWS profile for the base credentials (or AWS_PROFILE)"
    )
    identity.add_argument(
        "--as-platform",
        action="store_true",
        help="assume the role as the xpander platform does (ExternalId = organizationId), then "
        "re-assume it with a session tag as the AI gateway does (SelfAssume + TagSession), and "
        "run the last four checks as that session",
    )
    identity.add_argument(
        "--external-id",
        metavar="ID",
        help="ExternalId for --as-platform (default: the stack output organizationId)",
    )
    behaviour = parser.add_argument_group("behaviour")
    behaviour.add_argument(
        "--network",
        action="store_true",
        help="also open a TCP connection to the cluster endpoint (run inside the VPC)",
    )
    behaviour.add_argument(
        "--json", action="store_true", help='print {"ok", "checks": [...]} instead of a table'
    )
    behaviour.add_argument(
        "--timeout",
        type=_positive,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"bound on the whole run (default {DEFAULT_TIMEOUT:g})",
    )
    behaviour.add_argument(
        "--query-timeout",
        type=_positive,
        default=DEFAULT_QUERY_TIMEOUT,
        metavar="SECONDS",
        help=f"bound on the query-execution statement (default {DEFAULT_QUERY_TIMEOUT:g})",
    )
    behaviour.add_argument(
        "--call-timeout",
        type=_positive,
        default=DEFAULT_CALL_TIMEOUT,
        metavar="SECONDS",
        help=f"read timeout of each AWS call (default {DEFAULT_CALL_TIMEOUT:g}); AWS connects "
        f"and the --network TCP connect wait min({DEFAULT_CONNECT_TIMEOUT:g}, this)",
    )
    return parser


def main(
    argv: list[str] | None = None,
    *,
    client_factory: ClientFactory | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """`python -m tools.verify`; `client_factory` replaces the boto3 clients (tests)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        outputs, notes = load_outputs(args)
        outputs = connector_outputs(outputs, args.connector)
        inputs = apply_flags(inputs_from_outputs(outputs), args)
        # botocore reads AWS_DEFAULT_REGION and the profile, not AWS_REGION (the AWS CLI and the
        # other SDKs do, first): honour it the CLI's way.
        region = inputs.region or os.environ.get("AWS_REGION") or None
        session = boto3.session.Session(profile_name=args.profile, region_name=region)
    except (UsageError, ProfileNotFound, ConnectorNotFoundError) as exc:
        print(f"verify: {exc}", file=err)
        return 2
    for note in notes:
        print(f"verify: note: {note}", file=err)
    inputs = replace(inputs, region=session.region_name)
    options = Options(
        as_platform=args.as_platform,
        network=args.network,
        query_timeout=args.query_timeout,
        connect_timeout=min(DEFAULT_CONNECT_TIMEOUT, args.call_timeout),
        timeout=args.timeout,
    )
    factory = client_factory or boto3_client_factory(session, aws_config(args.call_timeout))
    run = Run(inputs, options, factory, Deadline(args.timeout))
    results = run_bounded(run, Progress(err))
    print(
        render_json(results) if args.json else f"{render_table(results)}\n\n{summary(results)}",
        file=out,
    )
    return 0 if all(r.status == "pass" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

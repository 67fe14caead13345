"""Networks and ports as what they reach: security group rules, CIDR unions, Redshift ports.

A CIDR is parsed with `ipaddress`, however it is written (`0000::/0`, `0:0:0:0:0:0:0:0/0`, host
bits set, IPv4 octets with leading zeros, an IPv4-mapped IPv6 block), and the question asked is
whether the union of a group's rules reaches the whole IPv4 or IPv6 space on some port, however
the space is split between rules (`0.0.0.0/1` + `128.0.0.0/1`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .aws_facts import DEFAULT_REDSHIFT_PORT, NODE_TYPE_PORTS, SERVERLESS_PORT_RANGES
from .values import as_int, is_unknown

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

WHOLE_IPV4: Final = ipaddress.IPv4Network("0.0.0.0/0")
WHOLE_IPV6: Final = ipaddress.IPv6Network("::/0")
IPV4_MAPPED: Final = ipaddress.IPv6Network("::ffff:0:0/96")
ALL_PORTS: Final = (0, 65535)

# Ports a new cluster or workgroup accepts: aws_facts.py (a copy of model/aws_facts.py).
__all__ = ["DEFAULT_REDSHIFT_PORT", "NODE_TYPE_PORTS", "SERVERLESS_PORT_RANGES"]


def node_type_ports(node_type: str) -> tuple[tuple[int, int], ...] | None:
    for prefix, ranges in NODE_TYPE_PORTS.items():
        if node_type.lower().startswith(prefix):
            return ranges
    return None


def _plain_ipv4(text: str) -> str:
    """`010.0.0.0` -> `10.0.0.0`: Python refuses leading zeros, so judge the octets' values."""
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)\.(\d+)((?:/\d+)?)", text)
    if not match:
        return text
    octets = [str(int(o)) for o in match.groups()[:4]]
    return ".".join(octets) + match.group(5)


def parse_networks(text: str) -> list[Network] | None:
    """The networks a CIDR covers: one, plus the IPv4 space of an IPv4-mapped IPv6 block.

    None when the text is not a network at all (AWS refuses it at deploy).
    """
    cleaned = _plain_ipv4(text.strip())
    try:
        network = ipaddress.ip_network(cleaned, strict=False)
    except ValueError:
        return None
    found: list[Network] = [network]
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(IPV4_MAPPED):
        mapped = ipaddress.IPv4Network(
            (int(network.network_address) & 0xFFFFFFFF, network.prefixlen - 96)
        )
        found.append(mapped)
    return found


def whole_spaces(cidrs: Iterable[str]) -> list[str]:
    """ "IPv4"/"IPv6" for each address space the union of these CIDRs covers entirely."""
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for text in cidrs:
        for network in parse_networks(text) or []:
            if isinstance(network, ipaddress.IPv4Network):
                v4.append(network)
            else:
                v6.append(network)
    spaces = []
    if list(ipaddress.collapse_addresses(v4)) == [WHOLE_IPV4]:
        spaces.append("IPv4")
    if list(ipaddress.collapse_addresses(v6)) == [WHOLE_IPV6]:
        spaces.append("IPv6")
    return spaces


# --- security group rules -------------------------------------------------------------------------

_PROTOCOL_NAMES: Final = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}


def protocol_of(value: Any) -> str | None:
    """`tcp`, `udp`, `icmp`, `icmpv6`, `-1` (all) or another number; None when unknown."""
    if is_unknown(value) or value is None:
        return None
    text = str(value).strip().lower()
    return _PROTOCOL_NAMES.get(text, text)


@dataclass(frozen=True)
class SecurityGroupRule:
    """One rule of a security group, whichever way it is written (inline or as a resource)."""

    urn: str
    label: str
    ingress: bool
    protocol: Any
    from_port: Any
    to_port: Any
    cidrs: tuple[str, ...]
    prefix_lists: tuple[str, ...]
    unknown_sources: bool = False  # a CIDR or prefix list not known at preview

    @property
    def known_protocol(self) -> str | None:
        return protocol_of(self.protocol)

    def ports(self) -> tuple[int, int] | None:
        """The port range the rule opens (all ports for protocol -1); None when unknown."""
        protocol = self.known_protocol
        if protocol == "-1":
            return ALL_PORTS
        if protocol is None:
            return None
        low, high = as_int(self.from_port), as_int(self.to_port)
        if protocol not in ("tcp", "udp"):
            return ALL_PORTS
        if low is None or high is None:
            return None
        if low == -1 and high == -1:
            return ALL_PORTS
        return (max(low, 0), min(high, 65535))

    def covers_port(self, port: int) -> bool | None:
        """Whether the rule opens TCP `port`; None when not known at preview."""
        protocol = self.known_protocol
        if protocol not in (None, "tcp", "-1"):
            return False
        ports = self.ports()
        return None if ports is None else ports[0] <= port <= ports[1]


HTTPS_PORT: Final = 443
# ICMP "destination unreachable" (type 3; code 4 is "fragmentation needed") and ICMPv6 "packet too
# big" (type 2): path-MTU discovery, which AWS recommends allowing (Amazon VPC User Guide,
# "Path MTU Discovery"). For ICMP, a rule's from_port is the type and to_port the code.
PATH_MTU_ICMP_TYPES: Final = {"icmp": 3, "icmpv6": 2}


def opens_nothing_to_reach(rule: SecurityGroupRule) -> bool:
    """A world-wide rule that gives no way in to the database port and no way out but HTTPS.

    Egress TCP 443 alone (COPY/UNLOAD and AWS endpoints through a NAT with enhanced VPC
    routing), and path-MTU ICMP from anywhere.
    """
    protocol = rule.known_protocol
    if not rule.ingress:
        return protocol == "tcp" and rule.ports() == (HTTPS_PORT, HTTPS_PORT)
    wanted = PATH_MTU_ICMP_TYPES.get(protocol or "")
    return wanted is not None and as_int(rule.from_port) == wanted


@dataclass(frozen=True)
class WorldOpening:
    """A slot of traffic (direction, protocol, ports) the union of some rules opens to everyone."""

    ingress: bool
    protocol: str
    ports: tuple[int, int]
    spaces: list[str]
    rules: list[SecurityGroupRule]

    def describe(self) -> str:
        direction = "ingress" if self.ingress else "egress"
        if self.protocol == "-1":
            traffic = "all traffic"
        elif self.ports == ALL_PORTS:
            traffic = f"all {self.protocol} traffic"
        elif self.ports[0] == self.ports[1]:
            traffic = f"{self.protocol} port {self.ports[0]}"
        else:
            traffic = f"{self.protocol} ports {self.ports[0]}-{self.ports[1]}"
        return f"{direction} {traffic} from/to the whole {' and '.join(self.spaces)} internet"


def world_openings(rules: Sequence[SecurityGroupRule]) -> list[WorldOpening]:
    """Every slot where the union of the rules' CIDRs reaches the whole address space.

    Rules are swept per direction and protocol over port boundaries, so two rules that only
    together cover the internet count, but only on the ports they share.
    """
    openings: list[WorldOpening] = []
    for ingress in (True, False):
        mine = [r for r in rules if r.ingress == ingress and r.cidrs and r.ports() is not None]
        protocols = sorted({r.known_protocol or "" for r in mine} | {"-1"})
        for protocol in protocols:
            members = [r for r in mine if r.known_protocol in (protocol, "-1")]
            if protocol != "-1" and all(r.known_protocol == "-1" for r in members):
                continue  # judged once as "-1"
            if protocol == "-1":
                members = [r for r in mine if r.known_protocol == "-1"]
            if not members:
                continue
            bounds = sorted(
                {p for r in members for p in (r.ports() or ALL_PORTS)}
                | {p + 1 for r in members for p in (r.ports() or ALL_PORTS)[1:]}
            )
            for low, high_next in zip(bounds, [*bounds[1:], 65536], strict=True):
                high = high_next - 1
                if low > 65535 or high < low:
                    continue
                covering = [r for r in members if _spans(r.ports() or ALL_PORTS, low, high)]
                spaces = whole_spaces(c for r in covering for c in r.cidrs)
                if spaces:
                    slot = ALL_PORTS if protocol == "-1" else (low, high)
                    openings.append(WorldOpening(ingress, protocol, slot, spaces, covering))
    return _merged(openings)


def _spans(ports: tuple[int, int], low: int, high: int) -> bool:
    return ports[0] <= low and high <= ports[1]


def _merged(openings: list[WorldOpening]) -> list[WorldOpening]:
    """Adjacent slots opened by the same rules, reported once."""
    merged: list[WorldOpening] = []
    for opening in openings:
        last = merged[-1] if merged else None
        if (
            last
            and (last.ingress, last.protocol, last.spaces)
            == (opening.ingress, opening.protocol, opening.spaces)
            and [r.label for r in last.rules] == [r.label for r in opening.rules]
            and last.ports[1] + 1 == opening.ports[0]
        ):
            merged[-1] = WorldOpening(
                last.ingress,
                last.protocol,
                (last.ports[0], opening.ports[1]),
                last.spaces,
                last.rules,
            )
        else:
            merged.append(opening)
    return merged

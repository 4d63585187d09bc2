"""Shared hypothesis strategies for netpol-dsl models (import them from other tests).

Every strategy here generates values that kube-apiserver accepts on create; ``valid_policies``
builds whole ``NetworkPolicy`` objects from the pieces. Sizes are kept small so that property
tests stay fast on a shared machine.

    from tests.strategies import label_maps, selectors, valid_policies
"""

from __future__ import annotations

import ipaddress

from hypothesis import settings
from hypothesis import strategies as st

from netpol_dsl.model import (
    IPBlock,
    LabelSelector,
    LabelSelectorRequirement,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NetworkPolicySpec,
    ObjectMeta,
)

__all__ = [
    "budget",
    "cidrs",
    "dns_labels",
    "dns_subdomains",
    "egress_rules",
    "ingress_rules",
    "ip_blocks",
    "label_keys",
    "label_maps",
    "label_values",
    "peers",
    "port_names",
    "ports",
    "requirements",
    "selectors",
    "subnet",
    "valid_policies",
]

_LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_ALNUM = _LOWER_ALNUM + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def budget(examples: int, *, ci: int | None = None) -> int:
    """A test's own example count, scaled by the active hypothesis profile.

    The default ``ci`` profile runs exactly ``examples`` (or ``ci``, for a test too slow to run
    that many on every push: the examples are derandomized, so CI always checks the same ones);
    the ``long`` exploration profile (ten times hypothesis' default of 100 examples) runs ten
    times ``examples``. Use it as ``@settings(max_examples=budget(300))``, so that a test which
    needs more than the default still grows under ``HYPOTHESIS_PROFILE=long``.

    Example:
        >>> factor = max(1, settings.default.max_examples // 100)
        >>> budget(300) == 300 * factor, budget(300, ci=100) == (100 if factor == 1 else 300 * factor)
        (True, True)
    """
    factor = max(1, settings.default.max_examples // 100)
    if factor == 1 and ci is not None:
        return ci
    return examples * factor


def _edged(inner: str, edge: str, max_size: int) -> st.SearchStrategy[str]:
    """Strings of ``edge`` characters at both ends and ``inner`` ones between."""
    one = st.text(edge, min_size=1, max_size=1)
    middle = st.text(inner, max_size=max(0, max_size - 2))
    return st.one_of(one, st.tuples(one, middle, one).map("".join))


def dns_labels(max_size: int = 12) -> st.SearchStrategy[str]:
    """DNS-1123 labels (namespaces): lowercase alphanumerics and '-', alphanumeric ends."""
    return _edged(_LOWER_ALNUM + "-", _LOWER_ALNUM, max_size)


def dns_subdomains(max_labels: int = 3) -> st.SearchStrategy[str]:
    """DNS-1123 subdomains (object names, label-key prefixes): dot-joined labels."""
    return st.lists(dns_labels(8), min_size=1, max_size=max_labels).map(".".join)


def _qualified_name_part(max_size: int = 16) -> st.SearchStrategy[str]:
    return _edged(_ALNUM + "-_.", _ALNUM, max_size)


def label_keys() -> st.SearchStrategy[str]:
    """Label keys: an optional DNS-subdomain prefix and '/', then a qualified name."""
    name = _qualified_name_part()
    prefixed = st.tuples(dns_subdomains(2), name).map("/".join)
    return st.one_of(name, prefixed, st.sampled_from(["app", "kubernetes.io/metadata.name"]))


def label_values() -> st.SearchStrategy[str]:
    """Label values: empty, or a qualified-name-like string of at most 63 characters."""
    return st.one_of(st.just(""), _qualified_name_part())


def label_maps(max_size: int = 3) -> st.SearchStrategy[dict[str, str]]:
    """Label maps (``metadata.labels``, ``matchLabels``)."""
    return st.dictionaries(label_keys(), label_values(), max_size=max_size)


def requirements() -> st.SearchStrategy[LabelSelectorRequirement]:
    """``matchExpressions`` entries whose operator and values agree."""
    with_values = st.builds(
        LabelSelectorRequirement,
        key=label_keys(),
        operator=st.sampled_from(["In", "NotIn"]),
        values=st.lists(label_values(), min_size=1, max_size=3, unique=True).map(tuple),
    )
    without = st.builds(
        LabelSelectorRequirement,
        key=label_keys(),
        operator=st.sampled_from(["Exists", "DoesNotExist"]),
    )
    return st.one_of(with_values, without)


def selectors() -> st.SearchStrategy[LabelSelector]:
    """Label selectors, including the empty one (which selects everything)."""
    return st.builds(
        LabelSelector,
        match_labels=st.none() | label_maps(),
        match_expressions=st.none() | st.lists(requirements(), max_size=2).map(tuple),
    )


def port_names() -> st.SearchStrategy[str]:
    """IANA service names: <= 15 characters, a letter, no '--', no '-' at either end."""
    return st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,6})?", fullmatch=True)


def ports() -> st.SearchStrategy[NetworkPolicyPort]:
    """Ports: no port, a number (optionally a range with endPort), or a name."""
    protocol = st.none() | st.sampled_from(["TCP", "UDP", "SCTP"])
    number = st.integers(1, 65535)
    ranged = number.flatmap(lambda p: st.tuples(st.just(p), st.integers(p, 65535)))
    return st.one_of(
        st.builds(NetworkPolicyPort, protocol=protocol),
        st.builds(NetworkPolicyPort, protocol=protocol, port=number),
        st.builds(NetworkPolicyPort, protocol=protocol, port=port_names()),
        ranged.flatmap(
            lambda pe: st.builds(NetworkPolicyPort, protocol=protocol, port=st.just(pe[0]),
                                 end_port=st.just(pe[1]))
        ),
    )


def cidrs(version: int | None = None) -> st.SearchStrategy[str]:
    """Canonical CIDRs (no host bits, no leading zeros) of IPv4 or IPv6."""
    def v4() -> st.SearchStrategy[str]:
        return st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 32)).map(
            lambda t: str(ipaddress.IPv4Network((t[0], t[1]), strict=False))
        )

    def v6() -> st.SearchStrategy[str]:
        # Keep clear of ::ffff:0:0/96 (IPv4-mapped), which strict validation refuses.
        return st.tuples(st.integers(1, 2**16 - 1), st.integers(0, 2**112 - 1),
                         st.integers(1, 128)).map(
            lambda t: str(ipaddress.IPv6Network(((t[0] << 112) | t[1], t[2]), strict=False))
        ).filter(lambda c: ipaddress.ip_network(c).network_address.ipv4_mapped is None)

    if version == 4:
        return v4()
    if version == 6:
        return v6()
    return st.one_of(v4(), v6())


def subnet(
    net: ipaddress.IPv4Network | ipaddress.IPv6Network, prefixlen: int, index: int
) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The ``index``-th sub-network of ``net`` with ``prefixlen``, in ``net``'s address family.

    ``ipaddress.ip_network((int, prefix))`` guesses the family from the integer, so the first
    sub-networks of ``::/1`` would come back as IPv4 (``0.0.0.0/2``); build from the class.

    Example:
        >>> str(subnet(ipaddress.IPv6Network("::/1"), 2, 0))
        '::/2'
        >>> str(subnet(ipaddress.IPv4Network("10.0.0.0/8"), 16, 3))
        '10.3.0.0/16'
    """
    offset = index << (net.max_prefixlen - prefixlen)
    return type(net)((int(net.network_address) + offset, prefixlen))


@st.composite
def ip_blocks(draw: st.DrawFn, bases: st.SearchStrategy[str] | None = None) -> IPBlock:
    """IPBlocks whose ``except`` entries are strict subsets of ``cidr``, same family.

    Args:
        draw: supplied by hypothesis.
        bases: CIDRs for ``cidr`` (default: ``cidrs()``, both families).
    """
    net = ipaddress.ip_network(draw(bases if bases is not None else cidrs()))
    excepts: list[str] = []
    if net.prefixlen < net.max_prefixlen:
        for _ in range(draw(st.integers(0, 2))):
            longer = draw(st.integers(net.prefixlen + 1, net.max_prefixlen))
            index = draw(st.integers(0, min(2 ** (longer - net.prefixlen) - 1, 2**64)))
            excepts.append(str(subnet(net, longer, index)))
    return IPBlock(cidr=str(net), except_=tuple(excepts) or None)


def peers() -> st.SearchStrategy[NetworkPolicyPeer]:
    """Peers: selectors (one or both, ANDed), or an ipBlock on its own."""
    return st.one_of(
        st.builds(NetworkPolicyPeer, pod_selector=selectors()),
        st.builds(NetworkPolicyPeer, namespace_selector=selectors()),
        st.builds(NetworkPolicyPeer, pod_selector=selectors(), namespace_selector=selectors()),
        st.builds(NetworkPolicyPeer, ip_block=ip_blocks()),
    )


def _maybe_tuple(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.none() | st.lists(strategy, max_size=2).map(tuple)


def ingress_rules() -> st.SearchStrategy[NetworkPolicyIngressRule]:
    """Ingress rules; absent or empty ``from``/``ports`` mean all."""
    return st.builds(NetworkPolicyIngressRule, ports=_maybe_tuple(ports()),
                     from_=_maybe_tuple(peers()))


def egress_rules() -> st.SearchStrategy[NetworkPolicyEgressRule]:
    """Egress rules; absent or empty ``to``/``ports`` mean all."""
    return st.builds(NetworkPolicyEgressRule, ports=_maybe_tuple(ports()),
                     to=_maybe_tuple(peers()))


def valid_policies() -> st.SearchStrategy[NetworkPolicy]:
    """Whole NetworkPolicies that kube-apiserver accepts on create (always namespaced)."""
    meta = st.builds(
        ObjectMeta,
        name=dns_subdomains(),
        namespace=dns_labels(),
        labels=st.none() | label_maps(),
        annotations=st.none() | st.dictionaries(label_keys(), st.text(max_size=10), max_size=2),
    )
    policy_types = st.none() | st.sampled_from(
        [("Ingress",), ("Egress",), ("Ingress", "Egress"), ("Egress", "Ingress")]
    )
    spec = st.builds(
        NetworkPolicySpec,
        pod_selector=selectors(),
        policy_types=policy_types,
        ingress=_maybe_tuple(ingress_rules()),
        egress=_maybe_tuple(egress_rules()),
    )
    return st.builds(NetworkPolicy, metadata=meta, spec=spec)

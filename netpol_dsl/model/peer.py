"""NetworkPolicyPeer and IPBlock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field, StrictStr
from pydantic.alias_generators import to_camel as _camel

from netpol_dsl import _rules
from netpol_dsl.errors import Issue
from netpol_dsl.model._base import Context, K8sModel
from netpol_dsl.model.selector import LabelSelector

__all__ = ["IPBlock", "NetworkPolicyPeer"]


class IPBlock(K8sModel):
    """A CIDR and the CIDRs cut out of it.

    Every ``except`` entry must be a strict subset of ``cidr``, in the same family.

    Example:
        >>> b = IPBlock(cidr="10.0.0.0/8", except_=["10.1.0.0/16"])
        >>> b.contains("10.2.3.4"), b.contains("10.1.2.3"), b.contains("192.168.0.1")
        (True, False, False)
    """

    cidr: StrictStr
    except_: Annotated[tuple[StrictStr, ...] | None, Field(alias="except")] = None

    _ZERO: ClassVar[Mapping[str, Callable[[], Any]]] = {"cidr": str}
    _NULL_ITEMS: ClassVar[Mapping[str, Callable[[], Any]]] = {"except": str}

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        # pkg/apis/networking/validation ValidateIPBlock, with apimachinery
        # IsValidCIDRForLegacyField(strictValidation = StrictIPCIDRValidation). An empty or
        # unparsable cidr ends the checks: upstream returns before looking at `except`.
        out: list[Issue] = []
        if "cidr" in broken:
            return out
        if not self.cidr:
            return [Issue("cidr", self.cidr, "a CIDR such as '10.0.0.0/8'", missing=True)]
        base = self._cidr_issue("cidr", self.cidr, ctx, out)
        if base is None or "except_" in broken:
            return out
        for i, text in enumerate(self.except_ or ()):
            path = f"except[{i}]"
            sub = self._cidr_issue(path, text, ctx, out)
            if sub is None:
                continue
            # Go: !cidrIPNet.Contains(exceptCIDR.IP) || cidrMaskLen >= exceptMaskLen, where the
            # mask lengths are as written (an IPv4-mapped "::ffff:a.b.c.d/120" has 120).
            net, sub_net = base.network, sub.network
            assert net is not None and sub_net is not None
            inside = sub_net.version == net.version and sub_net.network_address in net
            if not inside or base.bits >= sub.bits:
                out.append(Issue(path, text, f"a strict subset of `cidr` ({self.cidr})"))
        return out

    @staticmethod
    def _cidr_issue(
        path: str, text: str, ctx: Context, out: list[Issue]
    ) -> _rules.ParsedCIDR | None:
        parsed = _rules.parse_cidr(text)
        if parsed.network is None:
            hint = None
            if _rules.parse_ip(text) is not None and "/" not in text:
                bits = 32 if "." in text else 128
                hint = f"Did you mean '{text}/{bits}'?"
            out.append(Issue(path, text, "a CIDR such as '10.0.0.0/8' or '2001:db8::/64'",
                             hint=hint))
            return None
        # Lenient loading accepts it; load.py reports it as a warning with its full path.
        if parsed.strict_errors and not ctx.lenient_cidr:
            out.append(Issue(path, text, f"a CIDR that {parsed.strict_errors[0]}",
                             hint=f"Write '{parsed.network}'"))
        return parsed

    def cidr_warnings(self) -> list[Issue]:
        """Values that only older API servers accept (``StrictIPCIDRValidation`` off).

        Example:
            >>> from netpol_dsl.model._base import Context
            >>> b = IPBlock.model_validate({"cidr": "10.0.1.1/4"},
            ...                            context={"netpol": Context(lenient_cidr=True)})
            >>> [(w.path, w.value) for w in b.cidr_warnings()]
            [('cidr', '10.0.1.1/4')]
        """
        out: list[Issue] = []
        for path, text in [("cidr", self.cidr)] + [
            (f"except[{i}]", t) for i, t in enumerate(self.except_ or ())
        ]:
            parsed = _rules.parse_cidr(text)
            if parsed.strict_errors:
                out.append(Issue(path, text, f"a CIDR that {parsed.strict_errors[0]}; older API "
                                 f"servers stored it, and it means {parsed.network}",
                                 hint=f"Write '{parsed.network}'"))
        return out

    @property
    def network(self) -> _rules.IPNetwork:
        """The network ``cidr`` denotes (host bits cleared, as Go's parser does).

        Example:
            >>> IPBlock(cidr="10.0.0.0/8").network
            IPv4Network('10.0.0.0/8')
        """
        net = _rules.parse_cidr(self.cidr).network
        assert net is not None  # validated on construction
        return net

    @property
    def except_networks(self) -> tuple[_rules.IPNetwork, ...]:
        """The networks of ``except``.

        Example:
            >>> IPBlock(cidr="10.0.0.0/8", except_=["10.1.0.0/16"]).except_networks
            (IPv4Network('10.1.0.0/16'),)
        """
        nets = []
        for text in self.except_ or ():
            net = _rules.parse_cidr(text).network
            assert net is not None
            nets.append(net)
        return tuple(nets)

    def contains(self, ip: str) -> bool:
        """Whether an IP address is in ``cidr`` and in no ``except``.

        Example:
            >>> IPBlock(cidr="0.0.0.0/0").contains("2001:db8::1")
            False
        """
        addr = _rules.parse_ip(ip)
        if addr is None:
            return False
        net = self.network
        if addr.version != net.version or addr not in net:
            return False
        return not any(addr in ex for ex in self.except_networks if ex.version == addr.version)


class NetworkPolicyPeer(K8sModel):
    """One ``from``/``to`` entry. Selectors in *one* peer are ANDed; separate peers are ORed.

    ``podSelector`` alone means pods in the policy's namespace; ``namespaceSelector`` alone means
    every pod in the matching namespaces; both together means matching pods in matching namespaces.
    ``ipBlock`` stands alone.

    Example:
        >>> p = NetworkPolicyPeer(namespace_selector=LabelSelector(
        ...     match_labels={"kubernetes.io/metadata.name": "monitoring"}),
        ...     pod_selector=LabelSelector(match_labels={"app": "prometheus"}))
        >>> sorted(p.to_dict())
        ['namespaceSelector', 'podSelector']
    """

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None

    def _check(self, ctx: Context, broken: frozenset[str]) -> list[Issue]:
        # pkg/apis/networking/validation ValidateNetworkPolicyPeer. A field that failed its own
        # validation (``broken``) is still *present*, so both kinds of problem are reported.
        present = {name for name in ("pod_selector", "namespace_selector", "ip_block")
                   if getattr(self, name) is not None or name in broken}
        count = len(present)
        if count == 0:
            return [Issue("", {}, "a peer: podSelector, namespaceSelector or ipBlock",
                          hint="An empty peer is invalid; omit `from`/`to` to allow all")]
        if count > 1 and "ip_block" in present:
            return [Issue("", sorted(_camel(n) for n in present), "ipBlock alone, or selectors without ipBlock",
                          hint="Put the ipBlock in its own list item (OR)")]
        return []

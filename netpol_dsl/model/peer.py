"""NetworkPolicyPeer and IPBlock."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictStr

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

    def _check(self, ctx: Context) -> list[Issue]:
        # pkg/apis/networking/validation ValidateIPBlock, with apimachinery
        # IsValidCIDRForLegacyField(strictValidation = StrictIPCIDRValidation).
        out: list[Issue] = []
        if not self.cidr:
            return [Issue("cidr", self.cidr, "a CIDR such as '10.0.0.0/8'", missing=True)]
        base = self._cidr_issue("cidr", self.cidr, ctx, out)
        if base is None:
            return out
        for i, text in enumerate(self.except_ or ()):
            path = f"except[{i}]"
            sub = self._cidr_issue(path, text, ctx, out)
            if sub is None:
                continue
            # Go: !cidr.Contains(except.IP) || cidrMaskLen >= exceptMaskLen
            inside = sub.version == base.version and sub.network_address in base
            if not inside or sub.prefixlen <= base.prefixlen:
                out.append(Issue(path, text, f"a strict subset of `cidr` ({self.cidr})"))
        return out

    @staticmethod
    def _cidr_issue(
        path: str, text: str, ctx: Context, out: list[Issue]
    ) -> _rules.IPNetwork | None:
        parsed = _rules.parse_cidr(text)
        if parsed.network is None:
            hint = None
            if _rules.parse_ip(text) is not None and "/" not in text:
                bits = 32 if "." in text else 128
                hint = f"Did you mean '{text}/{bits}'?"
            out.append(Issue(path, text, "a CIDR such as '10.0.0.0/8' or '2001:db8::/64'",
                             hint=hint))
            return None
        if parsed.strict_errors:
            issue = Issue(path, text, f"a CIDR that {parsed.strict_errors[0].removeprefix('must ')}"
                          .replace("not have", "has no"), hint=f"Write '{parsed.network}'")
            if ctx.lenient_cidr:
                ctx.warnings.append(
                    Issue(path, text, f"a canonical CIDR; older API servers stored it, "
                          f"and it means {parsed.network}", hint=f"Write '{parsed.network}'")
                )
            else:
                out.append(issue)
        return parsed.network

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

    def _check(self, ctx: Context) -> list[Issue]:
        # pkg/apis/networking/validation ValidateNetworkPolicyPeer
        count = sum(x is not None for x in (self.pod_selector, self.namespace_selector,
                                            self.ip_block))
        if count == 0:
            return [Issue("", {}, "a peer: podSelector, namespaceSelector or ipBlock",
                          hint="An empty peer is invalid; omit `from`/`to` to allow all")]
        if count > 1 and self.ip_block is not None:
            return [Issue("", self.to_dict(), "ipBlock alone, or selectors without ipBlock",
                          hint="Put the ipBlock in its own list item (OR)")]
        return []

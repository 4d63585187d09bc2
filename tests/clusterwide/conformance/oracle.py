"""A deliberately plain evaluator of the conformance cluster, to check the transcription itself.

It reads the API-shaped dicts of :mod:`runner` directly and shares no code with netpol_dsl. It
knows only what the conformance manifests use, straight from the API documentation
(``kubernetes-sigs/network-policy-api`` ``site-src/api-overview.md``, ``apis/*/..._types.go``):

- each side (the client's egress, the server's ingress) is decided alone; both must allow;
- admin tier: policies selecting the pod, by ascending priority then name, rules in order, the
  first whose peer and port match decides; Allow/Accept and Deny are final, Pass leaves the tier;
- then NetworkPolicies selecting the pod for that direction decide, if there are any;
- then the baseline tier, as the admin tier (Pass: go on);
- then allowed.

Host-network pods are never subjects and only ``nodes``/``networks`` peers match them; ``networks``
match every IP, pod IPs included; ``nodes`` match the InternalIPs of the selected nodes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from tests.clusterwide.conformance.runner import State

Obj = dict[str, Any]


def _labels_match(sel: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    sel = sel or {}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or ():
        key, op, values = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


class Oracle:
    def __init__(self, state: State) -> None:
        self.pods = {f"{o['metadata']['namespace']}/{o['metadata']['name']}": o
                     for o in state.objects if o["kind"] == "Pod"}
        self.ns = {o["metadata"]["name"]: o["metadata"].get("labels", {})
                   for o in state.objects if o["kind"] == "Namespace"}
        self.nodes = [o for o in state.objects if o["kind"] == "Node"]
        self.policies = state.policies

    # -- pods -------------------------------------------------------------------------

    def _host(self, pod: Obj) -> bool:
        return bool(pod["spec"].get("hostNetwork"))

    def _ip(self, pod: Obj) -> str:
        return str(pod["status"]["podIP"])

    def _ns_labels(self, pod: Obj) -> Mapping[str, str]:
        return self.ns[pod["metadata"]["namespace"]]

    def _pod_labels(self, pod: Obj) -> Mapping[str, str]:
        return pod["metadata"].get("labels", {})

    def _container_port(self, pod: Obj, name: str) -> list[tuple[str, int]]:
        out = []
        for c in pod["spec"]["containers"]:
            for p in c.get("ports") or ():
                if p.get("name") == name:
                    out.append((p.get("protocol", "TCP"), p["containerPort"]))
        return out

    # -- cluster-wide -----------------------------------------------------------------

    def _subject(self, policy: Obj, pod: Obj) -> bool:
        if self._host(pod):
            return False
        subj = policy["spec"]["subject"]
        if "namespaces" in subj:
            return _labels_match(subj["namespaces"], self._ns_labels(pod))
        return (_labels_match(subj["pods"].get("namespaceSelector"), self._ns_labels(pod))
                and _labels_match(subj["pods"]["podSelector"], self._pod_labels(pod)))

    def _peer(self, peer: Obj, other: Obj) -> bool:
        if "namespaces" in peer:
            return not self._host(other) and _labels_match(peer["namespaces"], self._ns_labels(other))
        if "pods" in peer:
            return (not self._host(other)
                    and _labels_match(peer["pods"].get("namespaceSelector"), self._ns_labels(other))
                    and _labels_match(peer["pods"]["podSelector"], self._pod_labels(other)))
        ip = ipaddress.ip_address(self._ip(other))
        if "networks" in peer:
            return any(ip in ipaddress.ip_network(c, strict=False) for c in peer["networks"])
        if "nodes" in peer:
            return any(_labels_match(peer["nodes"], n["metadata"].get("labels", {}))
                       and any(a["address"] == str(ip) for a in n["status"]["addresses"]
                               if a["type"] == "InternalIP")
                       for n in self.nodes)
        raise AssertionError(f"peer not used by the conformance suites: {peer}")

    def _port(self, rule: Obj, dst: Obj, proto: str, port: int) -> bool:
        if "ports" in rule:
            for p in rule["ports"]:
                if "portNumber" in p:
                    n = p["portNumber"]
                    if n.get("protocol", "TCP") == proto and n["port"] == port:
                        return True
                elif "portRange" in p:
                    r = p["portRange"]
                    if r.get("protocol", "TCP") == proto and r["start"] <= port <= r["end"]:
                        return True
                elif (proto, port) in self._container_port(dst, p["namedPort"]):
                    return True
            return False
        if "protocols" in rule:
            for p in rule["protocols"]:
                if "destinationNamedPort" in p:
                    if (proto, port) in self._container_port(dst, p["destinationNamedPort"]):
                        return True
                    continue
                (name, spec), = p.items()
                d = spec["destinationPort"]
                if name.upper() == proto and (d.get("number") == port or (
                        "range" in d and d["range"]["start"] <= port <= d["range"]["end"])):
                    return True
            return False
        return True

    def _tier(self, tier: str, pod: Obj, direction: str, other: Obj, dst: Obj, proto: str,
              port: int) -> bool | None:
        """True/False when the tier decides, None when it passes or nothing matches."""
        mine = []
        for p in self.policies:
            kind = p["kind"]
            if kind == "NetworkPolicy":
                continue
            t = {"AdminNetworkPolicy": "admin", "BaselineAdminNetworkPolicy": "baseline"}.get(
                kind) or p["spec"]["tier"].lower()
            if t == tier and self._subject(p, pod):
                mine.append((p["spec"].get("priority", 0), p["metadata"]["name"], p))
        for _, _, p in sorted(mine, key=lambda x: (x[0], x[1])):
            side = "from" if direction == "ingress" else "to"
            for rule in p["spec"].get(direction) or ():
                if any(self._peer(peer, other) for peer in rule[side]) and self._port(
                        rule, dst, proto, port):
                    action = rule["action"]
                    if action == "Pass":
                        return None
                    return action in ("Allow", "Accept")
        return None

    # -- NetworkPolicy ----------------------------------------------------------------

    def _np(self, pod: Obj, direction: str, other: Obj, dst: Obj, proto: str, port: int) -> bool | None:
        if self._host(pod):
            return None
        ns = pod["metadata"]["namespace"]
        selecting = []
        for p in self.policies:
            if p["kind"] != "NetworkPolicy" or p["metadata"]["namespace"] != ns:
                continue
            spec = p["spec"]
            types = spec.get("policyTypes") or (["Ingress", "Egress"] if spec.get("egress") else ["Ingress"])
            if direction.capitalize() in types and _labels_match(spec.get("podSelector"), self._pod_labels(pod)):
                selecting.append(p)
        if not selecting:
            return None
        side = "from" if direction == "ingress" else "to"
        for p in selecting:
            for rule in p["spec"].get(direction) or ():
                peers = rule.get(side)
                if peers and not any(self._np_peer(peer, ns, other) for peer in peers):
                    continue
                ports = rule.get("ports")
                if not ports or any(self._np_port(pp, dst, proto, port) for pp in ports):
                    return True
        return False

    def _np_peer(self, peer: Obj, ns: str, other: Obj) -> bool:
        if "ipBlock" in peer:
            raise AssertionError("ipBlock is not used by the conformance suites")
        if self._host(other):
            return False
        if "namespaceSelector" in peer:
            ok = _labels_match(peer["namespaceSelector"], self._ns_labels(other))
        else:
            ok = other["metadata"]["namespace"] == ns
        return ok and _labels_match(peer.get("podSelector"), self._pod_labels(other))

    def _np_port(self, pp: Obj, dst: Obj, proto: str, port: int) -> bool:
        if pp.get("protocol", "TCP") != proto:
            return False
        p = pp.get("port")
        if p is None:
            return True
        if isinstance(p, str):
            return (proto, port) in self._container_port(dst, p)
        return p <= port <= pp.get("endPort", p)

    # -- a connection -----------------------------------------------------------------

    def _side(self, pod: Obj, direction: str, other: Obj, dst: Obj, proto: str, port: int) -> bool:
        for decide in (lambda: self._tier("admin", pod, direction, other, dst, proto, port),
                       lambda: self._np(pod, direction, other, dst, proto, port),
                       lambda: self._tier("baseline", pod, direction, other, dst, proto, port)):
            verdict = decide()
            if verdict is not None:
                return verdict
        return True

    def allows(self, src: str, dst: str, protocol: str, port: int) -> bool:
        s, d = self.pods[src], self.pods[dst]
        return (self._side(s, "egress", d, d, protocol, port)
                and self._side(d, "ingress", s, d, protocol, port))

"""Everything about one pod: the policies that select it, its isolation, who reaches it, whom it reaches.

This is ``netpol explain``: the lesson's debugging steps 1 and 4 (dump the policies, check the
pod's labels against their selectors) done offline, for one pod or workload.

Example:
    >>> from netpol_dsl.evaluate import Cluster
    >>> c = Cluster.from_manifests('''
    ... {"apiVersion": "v1", "kind": "List", "items": [
    ...   {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "a",
    ...    "labels": {"app": "web"}}},
    ...   {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db", "namespace": "a",
    ...    "labels": {"app": "db"}}},
    ...   {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
    ...    "metadata": {"name": "db-from-web", "namespace": "a"},
    ...    "spec": {"podSelector": {"matchLabels": {"app": "db"}},
    ...             "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
    ...                          "ports": [{"port": 5432}]}]}}]}
    ... ''')
    >>> print(explain_pod(c, "a/db").to_text())
    pod a/db (Pod)
      labels: app=db
      selected by: a/db-from-web (Ingress)
      ingress: isolated (only what these policies allow)
      egress: not isolated (everything allowed)
      can be reached from:
        a/web: TCP 5432
      can reach:
        a/web: all
      external sources: none
      external destinations:
        0.0.0.0/0, ::/0: all
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from netpol_dsl.evaluate._connections import ConnectionSet

if TYPE_CHECKING:
    from netpol_dsl.evaluate import Cluster

__all__ = ["PodReport", "explain_pod"]


@dataclass(frozen=True)
class PodReport:
    """What ``explain_pod`` found about one pod.

    Example:
        >>> r = PodReport("a/x", "Pod", {}, (), False, False, (), ())
        >>> r.to_dict()["isolated"]
        {'ingress': False, 'egress': False}
    """

    pod: str
    kind: str
    labels: dict[str, str]
    selected_by: tuple[tuple[str, tuple[str, ...]], ...]
    isolated_ingress: bool
    isolated_egress: bool
    inbound: tuple[tuple[str, str], ...]
    outbound: tuple[tuple[str, str], ...]
    external_in: tuple[tuple[str, str], ...] = ()
    external_out: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (``--format json``).

        Example:
            >>> PodReport("a/x", "Pod", {}, (("a/p", ("Ingress",)),), True, False, (), ()
            ...           ).to_dict()["selected_by"]
            [{'policy': 'a/p', 'policyTypes': ['Ingress']}]
        """
        return {
            "pod": self.pod,
            "kind": self.kind,
            "labels": self.labels,
            "selected_by": [{"policy": k, "policyTypes": list(t)} for k, t in self.selected_by],
            "isolated": {"ingress": self.isolated_ingress, "egress": self.isolated_egress},
            "reachable_from": {k: v for k, v in self.inbound},
            "can_reach": {k: v for k, v in self.outbound},
            "external_ingress": {k: v for k, v in self.external_in},
            "external_egress": {k: v for k, v in self.external_out},
        }

    def to_json(self) -> str:
        """The report as JSON.

        Example:
            >>> json.loads(PodReport("a/x", "Pod", {}, (), False, False, (), ()).to_json())["pod"]
            'a/x'
        """
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_text(self) -> str:
        """The report for people.

        Example:
            >>> print(PodReport("a/x", "Pod", {}, (), False, False, (), ()).to_text())
            pod a/x (Pod)
              labels: (none)
              selected by: no NetworkPolicy
              ingress: not isolated (everything allowed)
              egress: not isolated (everything allowed)
              can be reached from: nothing in the manifests
              can reach: nothing in the manifests
              external sources: none
              external destinations: none
        """
        labels = ", ".join(f"{k}={v}" for k, v in sorted(self.labels.items())) or "(none)"
        lines = [f"pod {self.pod} ({self.kind})", f"  labels: {labels}"]
        if self.selected_by:
            lines.append("  selected by: " + "; ".join(
                f"{k} ({', '.join(t)})" for k, t in self.selected_by))
        else:
            lines.append("  selected by: no NetworkPolicy")
        for name, iso in (("ingress", self.isolated_ingress), ("egress", self.isolated_egress)):
            lines.append(f"  {name}: " + ("isolated (only what these policies allow)" if iso
                                          else "not isolated (everything allowed)"))
        for title, items in (("can be reached from", self.inbound), ("can reach", self.outbound),
                             ("external sources", self.external_in),
                             ("external destinations", self.external_out)):
            if not items and title.startswith("external"):
                lines.append(f"  {title}: none")
                continue
            if not items:
                lines.append(f"  {title}: nothing in the manifests")
                continue
            lines.append(f"  {title}:")
            lines.extend(f"    {k}: {v}" for k, v in items)
        return "\n".join(lines)


def explain_pod(cluster: Cluster, ref: str) -> PodReport:
    """Explain one pod (``ns/pod``) or workload (``ns/workload``, its first pod) in a ``Cluster``.

    Raises:
        UnknownEndpointError: no such pod or workload (with a did-you-mean).

    Example:
        >>> from netpol_dsl.evaluate import Cluster
        >>> c = Cluster.from_manifests("kind: Pod\\napiVersion: v1\\nmetadata: {name: w, namespace: a}\\n")
        >>> explain_pod(c, "a/w").isolated_ingress
        False
    """
    from netpol_dsl.errors import DslUsageError

    ep = cluster.resolve(ref)
    if not ep.pods:
        msg = f"explain: got {ref!r}; expected a pod or workload of the cluster"
        raise DslUsageError(msg)
    key = ep.pods[0]
    pod = cluster.pod(key)
    workload = cluster.workload(key)
    selecting = cluster.selecting(key)
    ingress, egress = cluster.isolated(key)
    exposure = cluster.exposure(key)
    conn = cluster.connectivity()
    inbound: list[tuple[str, str]] = []
    outbound: list[tuple[str, str]] = []
    # Every other workload, read off the all-pairs connections (what any of its pods may do).
    for other in cluster.workloads():
        peers = [p for p in other.pods if p != key]
        if not peers:
            continue
        into = ConnectionSet.none().union(*(conn.between(p, key) for p in peers))
        out = ConnectionSet.none().union(*(conn.between(key, p) for p in peers))
        if not into.is_empty:
            inbound.append((other.key, str(into)))
        if not out.is_empty:
            outbound.append((other.key, str(out)))
    return PodReport(
        pod=workload.key,
        kind=workload.kind,
        labels=dict(pod.labels),
        selected_by=tuple((_policy_key(p), _policy_types(p, dirs)) for p, dirs in selecting),
        isolated_ingress=ingress,
        isolated_egress=egress,
        inbound=tuple(inbound),
        outbound=tuple(outbound),
        external_in=tuple((", ".join(e.cidrs), str(e.connections)) for e in exposure.external_ingress),
        external_out=tuple((", ".join(e.cidrs), str(e.connections))
                           for e in exposure.external_egress),
    )


def _policy_key(policy: Any) -> str:
    key: str = getattr(policy, "key", None) or str(getattr(policy, "name", policy))
    return key


def _policy_types(policy: Any, directions: tuple[str, ...]) -> tuple[str, ...]:
    """A NetworkPolicy's effective policyTypes; the directions a cluster-wide policy applies to."""
    spec = getattr(policy, "spec", None)
    types = getattr(spec, "effective_policy_types", None)
    if types is not None:
        return tuple(types)
    return tuple(d.capitalize() for d in directions)

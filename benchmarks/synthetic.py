"""A seeded generator of synthetic clusters shaped like real ones.

Pods come from workloads (ten replicas each, sharing their template's labels), workloads live in
namespaces owned by teams, and policies follow the patterns seen in practice, drawn with fixed
weights into random namespaces: default deny (both directions, or ingress only), same-namespace tier rules (numbers, named ports, ranges), cross-namespace rules
with namespace and pod selectors, DNS egress to kube-system, internet egress through an ipBlock
with an ``except``, ipBlocks that cover pod IPs, and matchExpressions. Labels that no selector
mentions (``pod-template-hash``, the pod name) are there too, as in real clusters.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass

from netpol_dsl.evaluate import ContainerPort, Namespace, Pod
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

APPS = [f"app-{i}" for i in range(60)]
TIERS = ["web", "api", "db", "cache", "worker"]
TEAMS = [f"team-{i}" for i in range(20)]
ENVS = ["prod", "staging", "dev"]
PORTS = (
    ContainerPort(8080, "TCP", "http"),
    ContainerPort(9090, "TCP", "metrics"),
)
DNS_PORTS = (ContainerPort(53, "UDP", "dns"), ContainerPort(53, "TCP", "dns-tcp"))


@dataclass(frozen=True)
class Synthetic:
    """A generated inventory and policy set."""

    namespaces: tuple[Namespace, ...]
    pods: tuple[Pod, ...]
    policies: tuple[NetworkPolicy, ...]


def _sel(**labels: str) -> LabelSelector:
    return LabelSelector(match_labels=labels)


def _policy(ns: str, name: str, spec: NetworkPolicySpec) -> NetworkPolicy:
    return NetworkPolicy(metadata=ObjectMeta(name=name, namespace=ns), spec=spec)


def generate(n_pods: int, n_policies: int, seed: int = 1, replicas: int = 10) -> Synthetic:
    """Generate about ``n_pods`` pods and exactly ``n_policies`` policies.

    Example:
        >>> s = generate(200, 20, seed=3)
        >>> len(s.pods), len(s.policies)
        (200, 20)
    """
    rnd = random.Random(seed)
    n_ns = max(2, n_pods // (replicas * 10))
    namespaces = [Namespace("kube-system", {"team": "platform", "env": "prod"})]
    for i in range(n_ns - 1):
        namespaces.append(Namespace(f"ns-{i}", {"team": rnd.choice(TEAMS), "env": rnd.choice(ENVS)}))
    pods: list[Pod] = []
    base = int(ipaddress.IPv4Address("10.0.0.0"))
    n_workloads = max(1, n_pods // replicas)
    # kube-dns first, so DNS rules have something to select.
    workloads: list[tuple[str, str, dict[str, str], tuple[ContainerPort, ...]]] = [
        ("kube-system", "coredns", {"k8s-app": "kube-dns"}, DNS_PORTS)]
    for w in range(1, n_workloads):
        ns = namespaces[1 + w % (n_ns - 1)].name
        labels = {"app": rnd.choice(APPS), "tier": rnd.choice(TIERS),
                  "version": rnd.choice(("v1", "v2"))}
        workloads.append((ns, f"wl-{w}", labels, PORTS))
    for ns, wname, labels, ports in workloads:
        for r in range(replicas):
            if len(pods) >= n_pods:
                break
            ip = str(ipaddress.IPv4Address(base + len(pods) + 1))
            pod_labels = {**labels, "pod-template-hash": f"h{wname}",
                          "statefulset.kubernetes.io/pod-name": f"{wname}-{r}"}
            pods.append(Pod(ns, f"{wname}-{r}", pod_labels, ips=(ip,), ports=ports,
                            owner_kind="Deployment", owner_name=wname))
    policies: list[NetworkPolicy] = []
    app_ns = [n.name for n in namespaces[1:]]
    kinds = ["deny", "deny-ingress", "tier", "named", "range", "cross", "dns", "internet",
             "podcidr", "expr"]
    # How often each kind appears: a third of the namespaces get a default deny of both
    # directions, another sixth an ingress-only one; the rest are allow rules.
    weights = [4, 2, 20, 10, 8, 15, 8, 8, 10, 15]
    i = 0
    while len(policies) < n_policies:
        ns = rnd.choice(app_ns)
        kind = rnd.choices(kinds, weights)[0]
        name = f"{kind}-{i}"
        tier = rnd.choice(TIERS)
        other = rnd.choice(TIERS)
        if kind == "deny":
            spec = NetworkPolicySpec(pod_selector=LabelSelector(), policy_types=["Ingress", "Egress"])
        elif kind == "deny-ingress":
            spec = NetworkPolicySpec(pod_selector=LabelSelector(), policy_types=["Ingress"])
        elif kind == "tier":
            spec = NetworkPolicySpec(
                pod_selector=_sel(tier=tier),
                ingress=[NetworkPolicyIngressRule(
                    from_=[NetworkPolicyPeer(pod_selector=_sel(tier=other))],
                    ports=[NetworkPolicyPort(port=8080)])])
        elif kind == "named":
            spec = NetworkPolicySpec(
                pod_selector=_sel(app=rnd.choice(APPS)),
                ingress=[NetworkPolicyIngressRule(
                    from_=[NetworkPolicyPeer(pod_selector=_sel(app=rnd.choice(APPS)))],
                    ports=[NetworkPolicyPort(port="http"), NetworkPolicyPort(port="metrics")])],
                egress=[NetworkPolicyEgressRule(
                    to=[NetworkPolicyPeer(pod_selector=_sel(tier=other))],
                    ports=[NetworkPolicyPort(port="http")])])
        elif kind == "range":
            spec = NetworkPolicySpec(
                pod_selector=_sel(tier=tier),
                ingress=[NetworkPolicyIngressRule(
                    ports=[NetworkPolicyPort(port=8000, end_port=8100),
                           NetworkPolicyPort(protocol="UDP", port=5000, end_port=5100)])])
        elif kind == "cross":
            spec = NetworkPolicySpec(
                pod_selector=_sel(app=rnd.choice(APPS)),
                ingress=[NetworkPolicyIngressRule(
                    from_=[NetworkPolicyPeer(namespace_selector=_sel(team=rnd.choice(TEAMS)),
                                             pod_selector=_sel(tier=other)),
                           NetworkPolicyPeer(namespace_selector=_sel(env="prod"))],
                    ports=[NetworkPolicyPort(port=8080), NetworkPolicyPort(port=9090)])])
        elif kind == "dns":
            spec = NetworkPolicySpec(
                pod_selector=LabelSelector(), policy_types=["Egress"],
                egress=[NetworkPolicyEgressRule(
                    to=[NetworkPolicyPeer(
                        namespace_selector=_sel(**{"kubernetes.io/metadata.name": "kube-system"}),
                        pod_selector=_sel(**{"k8s-app": "kube-dns"}))],
                    ports=[NetworkPolicyPort(protocol="UDP", port=53),
                           NetworkPolicyPort(protocol="TCP", port=53)])])
        elif kind == "internet":
            spec = NetworkPolicySpec(
                pod_selector=_sel(tier=tier), policy_types=["Egress"],
                egress=[NetworkPolicyEgressRule(
                    to=[NetworkPolicyPeer(ip_block=IPBlock(cidr="0.0.0.0/0",
                                                           except_=["10.0.0.0/8"]))],
                    ports=[NetworkPolicyPort(port=443)])])
        elif kind == "podcidr":
            third = rnd.randrange(0, 4)
            spec = NetworkPolicySpec(
                pod_selector=_sel(tier=tier),
                ingress=[NetworkPolicyIngressRule(
                    from_=[NetworkPolicyPeer(ip_block=IPBlock(
                        cidr=f"10.{third}.0.0/16", except_=[f"10.{third}.128.0/17"]))],
                    ports=[NetworkPolicyPort(port=8080)])])
        else:
            spec = NetworkPolicySpec(
                pod_selector=LabelSelector(match_expressions=[
                    LabelSelectorRequirement(key="tier", operator="In", values=[tier, other]),
                    LabelSelectorRequirement(key="version", operator="NotIn", values=["v1"])]),
                ingress=[NetworkPolicyIngressRule(from_=[NetworkPolicyPeer(
                    pod_selector=LabelSelector(match_expressions=[
                        LabelSelectorRequirement(key="app", operator="Exists")]),
                    namespace_selector=LabelSelector(match_expressions=[
                        LabelSelectorRequirement(key="env", operator="NotIn",
                                                 values=["dev"])]))])])
        policies.append(_policy(ns, name, spec))
        i += 1
    return Synthetic(tuple(namespaces), tuple(pods), tuple(policies))

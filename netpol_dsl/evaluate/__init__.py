"""The evaluator: is this traffic allowed, and why? Exact upstream NetworkPolicy semantics.

``Cluster`` holds namespaces, pods and policies and answers ``allows``, ``connections``,
``matrix`` and ``exposure``; see ``netpol_dsl.evaluate.cluster`` for the rules it follows.

Example:
    >>> from netpol_dsl.evaluate import Cluster, Pod
    >>> bool(Cluster(pods=[Pod("a", "x"), Pod("a", "y")]).allows("a/x", "a/y", 80))
    True
"""

from netpol_dsl.evaluate._connections import ConnectionSet
from netpol_dsl.evaluate._connectivity import Connectivity, PairConnections, WorkloadPairArrays
from netpol_dsl.evaluate._endpoints import Endpoint, Workload, hypothetical
from netpol_dsl.evaluate._expect import expect_reachability
from netpol_dsl.evaluate._exposure import Exposure, ExternalExposure
from netpol_dsl.evaluate._inventory import ContainerPort, EndpointSpec, Namespace, Pod
from netpol_dsl.evaluate._matrix import Matrix
from netpol_dsl.evaluate._tiers import DecidingTiers
from netpol_dsl.evaluate.cluster import Cluster
from netpol_dsl.evaluate.verdict import (
    Decision,
    DirectionVerdict,
    PairVerdict,
    PolicyMiss,
    RuleMatch,
    RuleMiss,
    Verdict,
)

__all__ = [
    "Cluster",
    "ConnectionSet",
    "Connectivity",
    "ContainerPort",
    "DecidingTiers",
    "Decision",
    "DirectionVerdict",
    "Endpoint",
    "EndpointSpec",
    "Exposure",
    "ExternalExposure",
    "Matrix",
    "Namespace",
    "PairConnections",
    "PairVerdict",
    "Pod",
    "PolicyMiss",
    "RuleMatch",
    "RuleMiss",
    "Verdict",
    "Workload",
    "WorkloadPairArrays",
    "expect_reachability",
    "hypothetical",
]

"""Type-checker checks for the DSL, run under ``mypy --strict`` by test_typing.py.

Each ``# type: ignore[code]`` line is a misuse that mypy must reject: with
``warn_unused_ignores`` (part of ``--strict``) an ignore that is not needed is itself an error.
The function is never called; this module only has to type-check.
"""

from __future__ import annotations

from typing_extensions import assert_type

from netpol_dsl import (
    AllowFrom,
    Flow,
    NetworkPolicy,
    PolicySet,
    Port,
    Selector,
    all_pods,
    allow,
    allow_dns,
    deny_all,
    ip_block,
    namespace,
    pods,
    tcp,
    udp,
)
from netpol_dsl.baselines import DenyAll
from netpol_dsl.selectors import Addresses, Namespaces, Pods


def checks() -> None:
    # Constructors and operators.
    assert_type(pods(app="web"), Pods)
    assert_type(namespace("monitoring"), Namespaces)
    assert_type(ip_block("10.0.0.0/8"), Addresses)
    assert_type(namespace("monitoring") & pods(app="prometheus"), Selector)
    assert_type(pods(app="a") | pods(app="b"), Selector)
    assert_type(~pods(app="a"), Selector)
    assert_type(pods(app="a").in_namespace("x"), Selector)

    # The stages of a flow are types.
    assert_type(allow(pods(app="a")), AllowFrom)
    flow = allow(pods(app="a")).to(pods(app="b"))
    assert_type(flow, Flow)
    assert_type(flow.on(8080, "http", udp(53)), Flow)
    assert_type(flow.on(8080).ingress_only().named("x"), Flow)
    assert_type(tcp(80), Port)
    assert_type(deny_all("payments"), DenyAll)

    ps = PolicySet(namespace="payments").add(deny_all(), allow_dns(), flow)
    assert_type(ps, PolicySet)
    assert_type(ps.compile(), list[NetworkPolicy])
    assert_type(ps.to_yaml(), str)

    # Misuse the type checker rejects.
    allow(pods(app="a")).on(8080)  # type: ignore[attr-defined]
    allow(pods(app="a")).ingress_only()  # type: ignore[attr-defined]
    flow.on(8080.0)  # type: ignore[arg-type]
    flow.on([80, 443])  # type: ignore[arg-type]
    allow("app=web")  # type: ignore[arg-type]
    tcp(True)  # bool is an int to mypy; the DSL rejects it at runtime instead
    pods(app=3)  # type: ignore[arg-type]
    pods(app="a") & "tier=db"  # type: ignore[operator]
    ip_block(["10.0.0.0/8"])  # type: ignore[arg-type]
    PolicySet(namespace="a").add(allow(pods(app="a")))  # type: ignore[arg-type]
    PolicySet(halves="sideways")  # type: ignore[arg-type]
    deny_all("a", direction="up")  # type: ignore[arg-type]
    ps.namespace = "b"  # type: ignore[misc]
    all_pods().requirements = ()  # type: ignore[misc]

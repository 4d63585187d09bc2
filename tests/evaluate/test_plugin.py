"""The pytest plugin, run through pytester in a fresh pytest session."""

from __future__ import annotations

import subprocess
import sys

pytest_plugins = ["pytester"]

CLUSTER = '''
from netpol_dsl import load_policy
from netpol_dsl.evaluate import Cluster, Pod

DENY = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": {"name": "deny-api", "namespace": "pay"},
                    "spec": {"podSelector": {"matchLabels": {"app": "api"}}}})
CLUSTER = Cluster(pods=[Pod("pay", "web", {"app": "web"}), Pod("pay", "api", {"app": "api"})],
                  policies=[DENY])
'''


def test_failed_verdict_assert_prints_the_explanation(pytester):
    pytester.makepyfile(CLUSTER + '''
def test_web_reaches_api():
    assert CLUSTER.allows("pay/web", "pay/api", 8080)
''')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*DENIED: pay/web -> pay/api on TCP 8080*",
        "*ingress to pay/api: DENIED: isolated by 1 policy (pay/deny-api); no rule allows it:*",
        "*- pay/deny-api:*",
        "*it has no ingress rules*",
    ])


def test_failed_negative_assert_explains_the_allow(pytester):
    pytester.makepyfile(CLUSTER + '''
def test_api_cannot_reach_web():
    assert not CLUSTER.allows("pay/api", "pay/web", 8080)
''')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*ALLOWED: pay/api -> pay/web on TCP 8080*",
        "*ingress to pay/web: allowed: not isolated*",
    ])


def test_passing_asserts_and_unrelated_failures_are_left_alone(pytester):
    pytester.makepyfile(CLUSTER + '''
def test_ok():
    assert not CLUSTER.allows("pay/web", "pay/api", 8080)
    assert CLUSTER.allows("pay/api", "pay/web", 8080)

def test_other_failure():
    assert not CLUSTER.allows("pay/web", "pay/api", 8080)
    assert 1 == 2
''')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    assert "isolated by" not in result.stdout.str()


def test_expect_reachability_fixture_reports_every_mismatch(pytester):
    pytester.makepyfile(CLUSTER + '''
def test_intent(expect_reachability):
    expect_reachability(CLUSTER, {
        ("pay/web", "pay/api", 8080): True,
        ("pay/api", "pay/web", 80): True,
        ("pay/api", "pay/web", 53, "UDP"): False,
    })
''')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*2 of 3 reachability expectations failed:*",
        "*1. expected ALLOWED, got DENIED: pay/web -> pay/api on TCP 8080*",
        "*2. expected DENIED, got ALLOWED: pay/api -> pay/web on UDP 53*",
    ])


def test_connection_set_comparison_shows_missing_and_extra(pytester):
    pytester.makepyfile(CLUSTER + '''
from netpol_dsl.evaluate import ConnectionSet

def test_conns():
    got = ConnectionSet.of("TCP", 80, 90) | ConnectionSet.of("UDP", 53)
    assert got == ConnectionSet.of("TCP", 80, 85) | ConnectionSet.of("SCTP", 9)
''')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*TCP 80-90; UDP 53 == TCP 80-85; SCTP 9*",
        "*only on the left: TCP 86-90; UDP 53*",
        "*only on the right: SCTP 9*",
    ])


def test_expect_reachability_fixture_passes_when_intent_holds(pytester):
    pytester.makepyfile(CLUSTER + '''
def test_intent(expect_reachability):
    expect_reachability(CLUSTER, {("pay/web", "pay/api", 8080): False,
                                  ("pay/api", "pay/web", 8080): True})
''')
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_plugin_is_registered_and_imports_nothing_of_the_library_itself():
    # Python imports the package (netpol_dsl/__init__) before the plugin module; what the
    # plugin controls is that it adds nothing on top until a test uses it.
    code = (
        "import sys, importlib.metadata as md\n"
        "eps = [e for e in md.entry_points(group='pytest11') if e.name == 'netpol_dsl']\n"
        "assert eps and eps[0].value == 'netpol_dsl.pytest_plugin', eps\n"
        "import pytest, netpol_dsl\n"
        "before = set(sys.modules)\n"
        "import netpol_dsl.pytest_plugin\n"
        "print(sorted(set(sys.modules) - before - {'netpol_dsl.pytest_plugin'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

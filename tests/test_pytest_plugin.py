"""What a failing intent test prints: the user's line and the message, not library source."""

from __future__ import annotations

import pytest

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

#: Lines of netpol_dsl/evaluate/_expect.py that a hidden frame would otherwise show.
LIBRARY_SOURCE = ("items = list(expectations", "failures.append(", "raise AssertionError(head")


@pytest.mark.parametrize("tb", ["auto", "long", "short"])
def test_expect_reachability_failure_shows_no_library_source(pytester, tb):
    pytester.makepyfile(CLUSTER + '''
def test_intent(expect_reachability):
    expect_reachability(CLUSTER, {("pay/web", "pay/api", 8080): True})
''')
    result = pytester.runpytest("-p", "no:cacheprovider", f"--tb={tb}")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert not [s for s in LIBRARY_SOURCE if s in out], out
    assert "_expect.py" not in out, out
    result.stdout.fnmatch_lines([
        "*expect_reachability(CLUSTER, {(*pay/web*",
        "*1 of 1 reachability expectations failed:*",
        "*1. expected ALLOWED, got DENIED: pay/web -> pay/api on TCP 8080*",
    ])


def test_expect_reachability_failure_report_is_short(pytester):
    pytester.makepyfile(CLUSTER + '''
def test_intent(expect_reachability):
    expect_reachability(CLUSTER, {("pay/web", "pay/api", 8080): True})
''')
    result = pytester.runpytest("-p", "no:cacheprovider")
    lines = result.stdout.lines
    start = next(i for i, ln in enumerate(lines) if "_ test_intent _" in ln)
    end = next(i for i, ln in enumerate(lines) if "short test summary" in ln)
    # the test's own source, the call, and the message with its explanation
    assert end - start < 25, "\n".join(lines[start:end])

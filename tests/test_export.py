"""export: netassert v2 tests from intent, and the intent file format itself."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from netpol_dsl.errors import LoadError, RenderError, UnknownEndpointError
from netpol_dsl.evaluate import Cluster
from netpol_dsl.export import netassert_tests, to_netassert
from netpol_dsl.intent import check_intents, load_intents, parse_intents, parse_port

LESSON = Path(__file__).parent / "fixtures" / "cli" / "lesson"


@pytest.fixture(scope="module")
def cluster():
    return Cluster.from_manifests([LESSON])


def test_lesson_intent_holds_offline(cluster):
    results = check_intents(cluster, load_intents(LESSON / "intent.yaml"))
    assert [r.ok for r in results] == [True] * 6


def test_netassert_shape_matches_v2_schema(cluster):
    tests = yaml.safe_load(to_netassert(cluster, load_intents(LESSON / "intent.yaml")))
    for t in tests:
        assert set(t) == {"name", "type", "protocol", "targetPort", "timeoutSeconds", "attempts",
                          "exitCode", "src", "dst"}
        assert t["type"] == "k8s" and t["protocol"] in ("tcp", "udp")
        assert 1 <= t["targetPort"] <= 65535 and t["exitCode"] in (0, 1)
        assert t["src"]["k8sResource"]["kind"] in ("deployment", "statefulset", "daemonset", "pod")
    assert len({t["name"] for t in tests}) == len(tests)


def test_named_port_resolved_on_destination(cluster):
    (t,) = netassert_tests(cluster, parse_intents(
        "- {from: monitoring/prometheus, to: payments/api-server, port: metrics}"))
    assert t["targetPort"] == 9090


def test_host_destination_and_duplicate_names(cluster):
    tests = netassert_tests(cluster, parse_intents(
        "- {from: payments/frontend, to: 1.1.1.1, port: 443, expect: deny}\n"
        "- {from: payments/frontend, to: 1.1.1.1, port: 443, expect: deny}"))
    assert tests[0]["dst"] == {"host": {"name": "1.1.1.1"}} and tests[0]["exitCode"] == 1
    assert tests[1]["name"] == tests[0]["name"] + "-2"


def test_unexpressible_intents_are_all_listed(cluster):
    with pytest.raises(RenderError) as err:
        netassert_tests(cluster, parse_intents(
            "- {from: payments/frontend, to: payments/api-server, port: 80/SCTP}\n"
            "- {from: payments/frontend, to: 1.1.1.1, port: 53/UDP}\n"
            "- {from: payments/frontend, to: payments/api-server, port: nope}"))
    text = str(err.value)
    assert "intents[0].protocol" in text and "intents[1].to" in text and "intents[2].port" in text


def test_unknown_pod(cluster):
    with pytest.raises(UnknownEndpointError, match="Did you mean 'payments/frontend'"):
        netassert_tests(cluster, parse_intents("- {from: payments/frontnd, to: a/b, port: 1}"))


@pytest.mark.parametrize(("text", "match"), [
    ("- {to: a/b, port: 1}", r"intents\[0\].from: got nothing"),
    ("- {from: a/x, to: a/b, port: 1, expect: maybe}", r"intents\[0\].expect: got 'maybe'"),
    ("- {from: a/x, to: a/b, port: 1, colour: red}", r"intents\[0\].colour"),
    ("- {from: a/x, to: a/b}", r"intents\[0\].port: got nothing"),
    ("just text", "expected a list of intents"),
    ("[]", "got no intents"),
    ("- {from: a/x, to: a/b, port: 1}\n- {from: a/x, from: a/y}", "duplicate key 'from'"),
])
def test_bad_intent_files(text, match):
    with pytest.raises(LoadError, match=match):
        parse_intents(text)


def test_parse_port():
    assert parse_port(53, "udp") == (53, "UDP")
    assert parse_port(" 8080 / sctp ") == (8080, "SCTP")
    with pytest.raises(LoadError, match="got True"):
        parse_port(True)
    with pytest.raises(LoadError, match="expected PORT"):
        parse_port("1/2/3")


def test_load_intents_not_utf8(tmp_path):
    f = tmp_path / "i.yaml"
    f.write_bytes(b"- {from: caf\xe9}")
    with pytest.raises(LoadError, match="not UTF-8"):
        load_intents(f)

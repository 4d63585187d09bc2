"""Reading flow records (Hubble JSON lines, CSV) and matching their ends against an inventory."""

from __future__ import annotations

import gzip
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netpol_dsl.errors import LoadError
from netpol_dsl.evaluate import Cluster, Pod
from netpol_dsl.flows import (
    SKIP_ICMP,
    SKIP_NO_ENDS,
    SKIP_NO_PORT,
    SKIP_OTHER,
    SKIP_REPLY,
    FlowEnd,
    flows_from_records,
    read_flows,
)
from tests.strategies import budget


def hubble(src=("a", "web-0", "10.0.0.5"), dst=("a", "api-0", "10.0.0.9"), proto="TCP", port=8080,
           *, wrap=True, camel=False, **extra):
    """One line of ``hubble observe -o json`` (the fields flow.proto defines, and some noise)."""

    def ep(end):
        ns, pod, _ = end
        if pod is None:
            return {"identity": 2, "labels": ["reserved:world"]}
        return {"ID": 12, "identity": 4242, "namespace": ns, "labels": [f"k8s:app={pod}"],
                ("podName" if camel else "pod_name"): pod,
                "workloads": [{"name": pod.rsplit("-", 1)[0], "kind": "Deployment"}]}

    port_key = "destinationPort" if camel else "destination_port"
    flow = {"time": "2024-06-01T10:00:00Z", "uuid": "u", "verdict": "FORWARDED",
            "IP": {"source": src[2], "destination": dst[2], "ipVersion": "IPv4"},
            "l4": {proto: {("sourcePort" if camel else "source_port"): 40000, port_key: port}},
            "source": ep(src), "destination": ep(dst), "Type": "L3_L4", "node_name": "n1",
            "event_type": {"type": 4}, ("trafficDirection" if camel else "traffic_direction"):
            "EGRESS", ("isReply" if camel else "is_reply"): False, "Summary": "TCP Flags: SYN"}
    flow.update(extra)
    return json.dumps({"flow": flow, "node_name": "n1", "time": flow["time"]} if wrap else flow)


def read(text, **kw):
    return read_flows(io.StringIO(text), name="f", **kw)


# ------------------------------------------------------------------ Hubble


def test_hubble_lines_wrapped_bare_and_camel_case_read_alike():
    lines = [hubble(), hubble(wrap=False), hubble(camel=True), hubble(camel=True, wrap=False)]
    log = read("\n".join(lines) + "\n")
    assert log.records == 4
    [f] = log.flows
    assert (str(f.src), str(f.dst), f.protocol, f.port, f.count) == ("a/web-0", "a/api-0", "TCP",
                                                                      8080, 4)
    assert f.src == FlowEnd("a/web-0", "10.0.0.5", "a/web[Deployment]")
    assert f.where == "f:1"


def test_hubble_protocols_and_external_ends():
    text = "\n".join([
        hubble(dst=("", None, "8.8.8.8"), proto="UDP", port=53),
        hubble(proto="SCTP", port=3868),
        hubble(src=("", None, "203.0.113.7"), port=443),
    ])
    log = read(text)
    assert [(str(f.src), str(f.dst), f.protocol, f.port) for f in log.flows] == [
        ("a/web-0", "8.8.8.8", "UDP", 53), ("a/web-0", "a/api-0", "SCTP", 3868),
        ("203.0.113.7", "a/api-0", "TCP", 443)]
    assert log.flows[0].dst == FlowEnd(None, "8.8.8.8")


def test_hubble_enum_numbers_are_read():
    # protobuf JSON may print enums as numbers: verdict 2 is DROPPED (flow.proto enum Verdict)
    log = read("\n".join([hubble(verdict=2), hubble(verdict=1), hubble(verdict="DROPPED"),
                          hubble(verdict="ERROR"), hubble(verdict="AUDIT")]))
    [f] = log.flows
    assert (f.count, f.dropped) == (2, 3)


def test_replies_are_skipped_by_is_reply_by_tcp_flags_and_by_l7_type():
    syn_ack = json.loads(hubble())
    del syn_ack["flow"]["is_reply"]
    syn_ack["flow"]["l4"]["TCP"]["flags"] = {"SYN": True, "ACK": True}
    syn = json.loads(hubble())
    del syn["flow"]["is_reply"]
    syn["flow"]["l4"]["TCP"]["flags"] = {"SYN": True}
    legacy = json.loads(hubble())
    del legacy["flow"]["is_reply"]
    legacy["flow"]["reply"] = True
    l7 = json.loads(hubble(proto="UDP", port=53))
    del l7["flow"]["is_reply"]
    l7["flow"]["l7"] = {"type": "RESPONSE", "dns": {"query": "x."}}
    log = read("\n".join([hubble(is_reply=True), json.dumps(syn_ack), json.dumps(syn),
                          json.dumps(legacy), json.dumps(l7)]))
    assert log.skipped == {SKIP_REPLY: 4}
    assert log.records == 5
    assert [f.count for f in log.flows] == [1]


def test_what_networkpolicy_does_not_decide_is_counted_not_read():
    icmp = json.loads(hubble())
    icmp["flow"]["l4"] = {"ICMPv4": {"type": 8}}
    no_l4 = json.loads(hubble())
    del no_l4["flow"]["l4"]
    no_ends = json.loads(hubble())
    del no_ends["flow"]["IP"], no_ends["flow"]["source"]
    lines = [json.dumps(icmp), json.dumps(no_l4), json.dumps(no_ends), '{"node_status": {}}',
             '{"lost_events": {"num_events_lost": 3}}', "", hubble()]
    log = read("\n".join(lines))
    assert log.skipped == {SKIP_ICMP: 1, SKIP_NO_PORT: 1, SKIP_NO_ENDS: 1, SKIP_OTHER: 2}
    assert log.records == 4  # flows only; node status and lost events are not flow records
    assert len(log.flows) == 1


def test_unknown_fields_are_ignored():
    line = json.loads(hubble())
    line["flow"]["future_field"] = {"deep": [1, 2, {"x": None}]}
    line["flow"]["source"]["new"] = "x"
    line["extra"] = 1
    assert len(read(json.dumps(line)).flows) == 1


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "f:2: record: got '{not json'; expected one JSON object per line (invalid JSON:"),
    ('{"flow": {"l4": {"TCP": {"destination_port": "x"}}}}',
     "f:2: flow.l4.TCP.destination_port: got 'x'; expected int"),
    ('{"flow": {"l4": {"TCP": {"destination_port": 70000}}, "IP": {"source": "1.1.1.1"}}}',
     "f:2: flow.l4.TCP.destination_port: got 70000; expected 1..65535"),
    ('{"flow": {"source": {"workloads": [{"name": 3}]}}}',
     "f:2: flow.source.workloads[0].name: got 3; expected str"),
    ('{"hello": 1}', "f:2: record: got '{\"hello\": 1}'; expected a Hubble flow"),
    ('[1, 2]', "f:2: record: got [1, 2]; expected a JSON object (a Hubble flow)"),
    (json.dumps(json.loads(hubble(src=("a", "web-0", "10.0.0.500")))),
     "f:2: source: got '10.0.0.500'; expected an IP address"),
])
def test_bad_hubble_lines_name_file_line_and_field(line, message):
    with pytest.raises(LoadError) as err:
        read(hubble() + "\n" + line + "\n")
    assert str(err.value).startswith(message)
    [issue] = err.value.issues
    assert issue.source == "f:2"


def test_every_bad_line_is_reported():
    text = "\n".join(["{bad"] * 3 + [hubble()] + ['{"flow": {"l4": {"UDP": {"destination_port": -1}}}}'])
    with pytest.raises(LoadError) as err:
        read(text)
    assert [i.source for i in err.value.issues] == ["f:1", "f:2", "f:3", "f:5"]
    assert str(err.value).startswith("4 bad flow records:\nf:1: record:")


def test_many_bad_lines_are_cut_short():
    with pytest.raises(LoadError) as err:
        read("{bad\n" * 60)
    assert len(err.value.issues) == 50
    assert str(err.value).startswith("60 bad flow records (the first 50 shown):")


# ------------------------------------------------------------------ CSV


def test_csv_positional_header_comments_and_counts():
    text = """# recorded with calico flow logs
a/web,a/api,8080,TCP,3

a/web,a/api,8080/tcp
a/web,8.8.8.8,53/UDP,,2
10.1.2.3,a/api[Deployment],9090,tcp
"""
    log = read(text)
    assert [(str(f.src), str(f.dst), f.protocol, f.port, f.count) for f in log.flows] == [
        ("a/web", "a/api", "TCP", 8080, 4), ("a/web", "8.8.8.8", "UDP", 53, 2),
        ("10.1.2.3", "a/api[Deployment]", "TCP", 9090, 1)]
    assert log.records == 4


def test_csv_header_takes_columns_by_name_and_ignores_others():
    with pytest.raises(LoadError, match=r"f:1: header: got 'source,destination,protocol'; "
                       r"expected columns src, dst and port .*; missing: port"):
        read("source,destination,protocol\na/x,a/y,TCP\n")
    text = "count,note,dst,src,port,proto,dropped\n5,hello,a/api,a/web,80,UDP,2\n"
    [f] = read(text).flows
    assert (str(f.src), str(f.dst), f.protocol, f.port, f.count, f.dropped) == (
        "a/web", "a/api", "UDP", 80, 5, 2)


def test_csv_errors_name_line_and_column():
    text = "a/x,a/y\nfoo,a/y,80,TCP\na/x,a/y,http,TCP\na/x,a/y,80,ICMP\na/x,a/y,80,TCP,0\n" \
           "a/x,a/y,70000,TCP\na/x,a/y,80-90,TCP\na/x,a/y,80,TCP,many\n"
    with pytest.raises(LoadError) as err:
        read(text)
    got = [(i.source, i.path, i.value) for i in err.value.issues]
    assert got == [("f:1", "record", "a/x,a/y"), ("f:2", "src", "foo"), ("f:3", "port", "http"),
                   ("f:4", "protocol", "ICMP"), ("f:5", "count", "0"), ("f:6", "port", "70000"),
                   ("f:7", "port", "80-90"), ("f:8", "count", "many")]
    assert "f:2: src: got 'foo'; expected 'namespace/pod', 'namespace/workload' or an IP address" \
        in str(err.value)


def test_formats_are_detected_by_suffix_then_content(tmp_path):
    (tmp_path / "flows.csv").write_text("a/x,a/y,80,TCP\n")
    (tmp_path / "flows.json").write_text(hubble() + "\n")
    (tmp_path / "noext").write_text("\n" + hubble() + "\n")
    with gzip.open(tmp_path / "flows.json.gz", "wt") as fh:
        fh.write(hubble() + "\n")
    log = read_flows([tmp_path / "flows.csv", str(tmp_path / "flows.json"), tmp_path / "noext",
                      str(tmp_path / "flows.json.gz")])
    assert [f.count for f in log.flows] == [1, 3]
    assert len(log.sources) == 4
    with pytest.raises(LoadError, match="expected a readable flow file"):
        read_flows(tmp_path / "missing.json")
    with pytest.raises(LoadError, match=r"noext:2: record: got '\{\"flow"):
        read_flows(tmp_path / "noext", format="csv")


def test_streams_binary_text_and_stdin(monkeypatch):
    assert len(read_flows(io.BytesIO(b"a/x,a/y,80,TCP\n"))) == 1
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO((hubble() + "\n").encode())))
    log = read_flows("-")
    assert log.sources == ("<stdin>",) and len(log) == 1


endpoints = st.one_of(
    st.sampled_from(["a/web-0", "a/api-0", "b/db-0", "b/db[StatefulSet]"]),
    st.sampled_from(["10.0.0.5", "8.8.8.8", "2001:db8::1"]))
records = st.lists(st.tuples(endpoints, endpoints, st.sampled_from([53, 80, 8080]),
                             st.sampled_from(["TCP", "UDP", "SCTP"])), max_size=30)


@settings(max_examples=budget(100), deadline=None)
@given(recs=records)
def test_csv_round_trip_and_counts(recs):
    log = flows_from_records(recs)
    assert sum(f.count for f in log.flows) == len(recs) == log.records
    again = read(log.to_csv())
    assert [(str(f.src), str(f.dst), f.protocol, f.port, f.count) for f in again.flows] == [
        (str(f.src), str(f.dst), f.protocol, f.port, f.count) for f in log.flows]


@settings(max_examples=budget(100), deadline=None)
@given(recs=records.filter(lambda rs: all("[" not in s and "[" not in d for s, d, _, _ in rs)))
def test_hubble_and_csv_of_the_same_traffic_agree(recs):
    def end(text):
        if "/" in text:
            ns, pod = text.split("/")
            return (ns, pod, "")
        return ("", None, text)

    lines = []
    for s, d, port, proto in recs:
        line = json.loads(hubble(end(s), end(d), proto, port))
        for side in ("source", "destination"):
            line["flow"][side].pop("workloads", None)
        lines.append(json.dumps(line))
    from_json = read("\n".join(lines) + "\n", format="hubble")
    from_csv = flows_from_records(recs)
    assert [(str(f.src), str(f.dst), f.protocol, f.port, f.count) for f in from_json.flows] == [
        (str(f.src), str(f.dst), f.protocol, f.port, f.count) for f in from_csv.flows]


# ------------------------------------------------------------------ resolution


@pytest.fixture
def cluster():
    return Cluster(pods=[
        Pod("a", "web-7d4b9c8f6-x2x9k", {"app": "web"}, ips=("10.0.0.5",),
            owner_kind="ReplicaSet", owner_name="web-7d4b9c8f6"),
        Pod("a", "web-7d4b9c8f6-q8w2n", {"app": "web"}, ips=("10.0.0.6",),
            owner_kind="ReplicaSet", owner_name="web-7d4b9c8f6"),
        Pod("a", "api", {"app": "api"}, owner_kind="Deployment", owner_name="api"),
        Pod("b", "db-0", {"app": "db"}, ips=("10.0.1.9",), owner_kind="StatefulSet",
            owner_name="db"),
        Pod("b", "node-agent", ips=("192.168.0.1",), host_network=True),
        Pod("b", "twin-1", ips=("10.0.9.9",)), Pod("b", "twin-2", ips=("10.0.9.9",)),
    ])


def test_ends_are_matched_by_pod_workload_hubble_prefix_and_ip(cluster):
    recs = [
        ("a/web-7d4b9c8f6-x2x9k", "b/db-0", 5432, "TCP"),  # pods
        ("a/web-7d4b9c8f6", "a/api", 8080, "TCP"),  # workloads (all their pods)
        ("a/api-5c9f8d7b6-m4t9z", "b/db[StatefulSet]", 5432, "TCP"),  # prefix; workload id
        ("a/web-7d4b9c8f6-zzzzz", "b/db-1", 5432, "TCP"),  # prefix (new replica); prefix
        ("10.0.0.6", "8.8.8.8", 443, "TCP"),  # pod IP; address
        ("192.168.0.1", "10.0.9.9", 80, "TCP"),  # host-network and shared IPs: addresses
    ]
    r = flows_from_records(recs).resolve(cluster)
    web = ("a/web-7d4b9c8f6-x2x9k", "a/web-7d4b9c8f6-q8w2n")
    assert [(f.src, f.dst) for f in r.flows] == [
        (("a/web-7d4b9c8f6-x2x9k",), ("b/db-0",)), (web, ("a/api",)), (("a/api",), ("b/db-0",)),
        (web, ("b/db-0",)), (("a/web-7d4b9c8f6-q8w2n",), "8.8.8.8"), ("192.168.0.1", "10.0.9.9")]
    assert r.unresolved == ()
    assert dict(r.matched) == {"address": 3, "pod": 3, "pod IP": 1, "pod-name prefix": 3,
                               "workload": 2}


def test_hubble_workloads_are_used_before_name_guessing(cluster):
    line = json.loads(hubble(("a", "frontend-1", "10.9.9.9"), ("b", "db-0", "10.0.1.9")))
    line["flow"]["source"]["workloads"] = [{"name": "api", "kind": "Deployment"}]
    r = read(json.dumps(line)).resolve(cluster)
    assert [(f.src, f.dst) for f in r.flows] == [(("a/api",), ("b/db-0",))]
    assert dict(r.matched) == {"Hubble workload": 1, "pod": 1}


def test_pods_not_in_the_inventory_are_reported_with_their_records(cluster):
    recs = [("a/gone-1", "b/db-0", 5432, "TCP")] * 3 + [("a/gone-1", "a/api", 80, "TCP"),
                                                        ("a/apx", "a/api", 80, "TCP")]
    r = flows_from_records(recs).resolve(cluster)
    assert r.flows == ()
    assert [(u.end, u.flows, u.records, u.where) for u in r.unresolved] == [
        ("a/apx", 1, 1, "<records>:5"), ("a/gone-1", 2, 4, "<records>:1")]
    assert r.unresolved[0].reason == ("no such pod or workload in the inventory; did you mean "
                                      "'a/api'?")
    line = json.loads(hubble(("a", "cron-28475510-7xk2p", "10.9.9.9"), ("b", "db-0", "")))
    line["flow"]["source"]["workloads"] = [{"name": "cron", "kind": "CronJob"}]
    [u] = read(json.dumps(line)).resolve(cluster).unresolved
    assert u.reason == "no such pod or workload in the inventory (Hubble: a/cron[CronJob])"

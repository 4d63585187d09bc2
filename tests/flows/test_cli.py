"""``netpol replay`` and ``netpol suggest``: outputs, exit codes, errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netpol_dsl.cli import app
from netpol_dsl.policyset import collect
from netpol_dsl.sources import load_policies

ROOT = Path(__file__).resolve().parents[2]
FLOWS = "examples/payments-flows.json"
INVENTORY = "examples/payments_cluster.yaml"


@pytest.fixture
def run(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("NETPOL_DEBUG", raising=False)

    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


def test_replay_exit_codes(run):
    ok = run("replay", FLOWS, "-m", INVENTORY)
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("replayed 56 records of 89 flow records (9 connections) against "
                                "the policies in examples/payments_cluster.yaml\n"
                                "nothing recorded would break: 56 records allowed\n")
    broken = run("replay", FLOWS, "-m", INVENTORY, "--default-deny", "payments", "--limit", "2")
    assert broken.exit_code == 1
    assert "against the policies in examples/payments_cluster.yaml + default deny in payments" \
        in broken.output
    assert "would break 6 workload pairs and ports (56 records)" in broken.output
    assert "  ... and 4 more" in broken.output


def test_replay_against_proposed_policies_and_additions(run):
    lesson = run("replay", FLOWS, "-m", INVENTORY, "--policies", "examples/payments.py")
    assert lesson.exit_code == 1
    assert "payments/api-server[Deployment] -> 203.0.113.10 TCP 443: 2 records" in lesson.output
    added = run("replay", FLOWS, "-m", INVENTORY, "--add", "examples/payments.py", "-f", "json")
    assert added.exit_code == 1
    data = json.loads(added.output)
    assert data["policies"] == ("the policies in examples/payments_cluster.yaml + "
                                "examples/payments.py")
    assert [b["dst"] for b in data["broken"]] == ["203.0.113.10"]


def test_replay_strict_and_markdown(run, tmp_path):
    out = tmp_path / "replay.md"
    result = run("replay", FLOWS, "-m", INVENTORY, "--strict", "-f", "md", "-o", str(out))
    assert result.exit_code == 1  # an end is not in the inventory
    assert out.read_text().startswith("### Replay of recorded traffic against the policies in ")


def test_replay_reads_csv_from_stdin(run):
    result = run("replay", "-", "-m", INVENTORY, "--default-deny", "payments",
                 input="src,dst,port,protocol,count\npayments/frontend,payments/api-server,8080,"
                       "TCP,7\n")
    assert result.exit_code == 1
    assert "payments/frontend[Deployment] -> payments/api-server[Deployment] TCP 8080: 7 " \
           "records (first <stdin>:2)" in result.output


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (("-",), "a/x,a/y\n", "error: <stdin>:1: record: got 'a/x,a/y'; expected src,dst,port,"),
    (("-",), "", "error: no flow records found in -; pass --allow-empty if that is expected"),
    (("no-such.json",), None, "error: no-such.json: No such file or directory; expected a "
                               "readable flow file"),
    (("-", "--default-deny", "kube-system"), "payments/frontend,payments/api-server,80,TCP\n",
     "error: deny_all(): got namespace='kube-system'; expected an application namespace"),
])
def test_bad_input_is_one_error_line_and_exit_2(run, args, stdin, message):
    result = run("replay", *args, "-m", INVENTORY, input=stdin)
    assert result.exit_code == 2
    assert result.output.startswith(message), result.output
    assert "Traceback" not in result.output


def test_suggest_python_and_yaml_agree(run, tmp_path):
    py = tmp_path / "suggested.py"
    result = run("suggest", FLOWS, "-m", INVENTORY, "-o", str(py))
    assert result.exit_code == 0, result.output
    assert "note: 2 records not allowed: 1 end not in the inventory" in result.output
    assert ("check: the recording replayed against the suggestion: nothing would break "
            "(56 records allowed)") in result.output
    yaml_out = run("suggest", FLOWS, "-m", INVENTORY, "-f", "yaml")
    assert yaml_out.exit_code == 0
    rendered = run("render", str(py))
    assert rendered.exit_code == 0
    assert rendered.stdout == yaml_out.stdout
    # and replaying against the rendered suggestion breaks nothing
    assert collect(load_policies(str(py)))
    again = run("replay", FLOWS, "-m", INVENTORY, "--policies", str(py))
    assert again.exit_code == 0, again.output


def test_suggest_options(run):
    result = run("suggest", FLOWS, "-m", INVENTORY, "-g", "namespace", "-n", "payments",
                 "--no-dns", "--group-external", "24")
    assert result.exit_code == 0, result.output
    assert 'payments = PolicySet(namespace="payments").add(' in result.output
    assert "    allow_dns()," not in result.output
    assert 'ip_block("203.0.113.0/24")' in result.output
    assert 'namespace("monitoring")' in result.output
    assert "monitoring = PolicySet" not in result.output
    bad = run("suggest", FLOWS, "-m", INVENTORY, "-n", "kube-system")
    assert bad.exit_code == 2
    assert bad.output.startswith("error: suggest(): got namespace 'kube-system'")


def test_suggest_exits_1_when_its_check_fails(run, tmp_path):
    deny = tmp_path / "deny.yaml"
    deny.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: d, "
                    "namespace: kube-system}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n")
    result = run("suggest", FLOWS, "-m", INVENTORY, "-m", str(deny))
    assert result.exit_code == 1
    assert "check: the recording replayed against the suggestion would still break:" \
        in result.output
    assert "  payments/frontend[Deployment] -> kube-system/coredns[Deployment] UDP 53" \
        in result.output

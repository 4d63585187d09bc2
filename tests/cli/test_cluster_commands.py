"""check, matrix, explain, diff, graph and export through the Typer runner, on the lesson setup."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

LESSON = "tests/fixtures/cli/lesson"
INV = ["-m", f"{LESSON}/namespaces.yaml", "-m", f"{LESSON}/workloads.yaml"]
ALL = ["-m", LESSON]
INTENT = f"{LESSON}/intent.yaml"


# ------------------------------------------------------------------------------ check


def test_check_allowed(run, golden):
    r = run("check", *ALL, "--from", "payments/frontend", "--to", "payments/api-server",
            "--port", "8080")
    assert r.exit_code == 0, r.output
    golden("check-allowed.txt", r.stdout)
    assert r.stdout.startswith("ALLOWED: payments/frontend -> payments/api-server on TCP 8080")


def test_check_denied_explains_why(run, golden):
    r = run("check", *ALL, "--from", "monitoring/rogue-pod", "--to", "payments/api-server",
            "--port", "9090/tcp")
    assert r.exit_code == 1
    golden("check-denied.txt", r.stdout)
    assert "does not match monitoring/rogue-pod" in r.stdout


def test_check_json(run, golden):
    r = run("check", *ALL, "--from", "payments/frontend", "--to", "payments/postgres",
            "-p", "5432", "-f", "json")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    assert data["allowed"] is False
    golden("check-denied.json", r.stdout)


def test_check_against_a_python_definition(run):
    # --manifests takes the DSL definition itself: no render step between authoring and checking
    args = ["-m", "examples/payments_cluster.yaml", "-m", "examples/payments.py"]
    ok = run("check", *args, "--from", "payments/frontend", "--to", "payments/api-server",
             "-p", "8080")
    assert ok.exit_code == 0, ok.output
    assert "payments/allow-frontend-to-api spec.ingress[0].from[0] allows it" in ok.stdout
    denied = run("check", *args, "--from", "payments/frontend", "--to", "payments/postgres",
                 "-p", "5432")
    assert denied.exit_code == 1, denied.output


def test_check_against_cluster_wide_policies_defined_in_python(run, tmp_path):
    # a FILE.py given to --manifests contributes its cluster-wide policies too, not only its
    # NetworkPolicies: the lesson's inventory alone lets payments reach the internet on 443;
    # with the cluster-wide default deny (and nothing else) it may not, and DNS still works
    (tmp_path / "baseline.py").write_text(
        "from netpol_dsl.admin import cluster_default_deny\n"
        "baseline = cluster_default_deny()\n", encoding="utf-8")
    inv = ["-m", f"{LESSON}/namespaces.yaml", "-m", f"{LESSON}/workloads.yaml"]
    before = run("check", *inv, "--allow-empty", "--from", "payments/frontend",
                 "--to", "8.8.8.8", "-p", "443")
    assert before.exit_code == 0, before.output
    after = run("check", *inv, "-m", str(tmp_path / "baseline.py"), "--from",
                "payments/frontend", "--to", "8.8.8.8", "-p", "443")
    assert after.exit_code == 1, after.output
    assert "ClusterNetworkPolicy" in after.stdout
    dns = run("check", *inv, "-m", str(tmp_path / "baseline.py"), "--from",
              "payments/frontend", "--to", "kube-system/coredns", "-p", "53/UDP")
    assert dns.exit_code == 0, dns.output


def test_check_external_destination(run):
    r = run("check", *ALL, "--from", "payments/frontend", "--to", "8.8.8.8", "-p", "443")
    assert r.exit_code == 1 and "DENIED" in r.stdout


def test_check_dns_named_port(run):
    r = run("check", *ALL, "--from", "payments/api-server", "--to", "kube-system/coredns",
            "-p", "dns/UDP")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "payments/frontnd", "--to", "payments/api-server", "-p", "80"],
     "error: got endpoint 'payments/frontnd'; expected a pod of the cluster ('namespace/name'), a "
     "workload ('namespace/name[Kind]'), a Service ('svc/namespace/name') or an IP address. "
     "Did you mean 'payments/frontend'?"),
    (["--from", "payments/frontend", "--to", "payments/api-server", "-p", "70000"],
     "error: port: got '70000'; expected 1..65535 or a port name such as 'http'"),
    (["--from", "payments/frontend", "--to", "payments/api-server", "-p", "80/HTTP"],
     "error: protocol: got 'HTTP'; expected one of 'TCP', 'UDP', 'SCTP'"),
    (["--from", "payments/frontend", "--to", "payments/api-server", "-p", "Not_A_Name"],
     "error: port: got 'Not_A_Name'"),
])
def test_check_bad_input(run, args, message):
    r = run("check", *ALL, *args)
    assert r.exit_code == 2
    assert r.stderr.startswith(message)
    assert "Traceback" not in r.output


def test_check_missing_option(run):
    r = run("check", *ALL, "--from", "payments/frontend", "--port", "80")
    assert r.exit_code == 2 and "--to" in r.output


def test_check_bad_manifests(run, tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_bytes(b"\xff\xfe\x00kind")
    r = run("check", "-m", str(bad), "--from", "a/b", "--to", "a/c", "-p", "80")
    assert r.exit_code == 2 and r.stderr.startswith("error: ")
    invalid = tmp_path / "p.yaml"
    invalid.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                       "metadata: {name: p, namespace: a}\nspec: {ingress: [{ports: [{port: 0}]}]}\n")
    r = run("check", "-m", str(invalid), "--from", "a/b", "--to", "a/c", "-p", "80")
    assert r.exit_code == 2 and f"{invalid}:4: a/p: spec.ingress[0].ports[0].port" in r.stderr


# ------------------------------------------------------------------------------ matrix


def test_matrix_table(run, golden):
    r = run("matrix", *ALL, "--port", "9090")
    assert r.exit_code == 0
    golden("matrix-9090.txt", r.stdout)
    assert "7 of 30 pairs allowed" in r.stderr


@pytest.mark.parametrize("fmt", ["json", "csv", "md"])
def test_matrix_formats(run, golden, fmt):
    r = run("matrix", *ALL, "-p", "8080", "--format", fmt)
    assert r.exit_code == 0
    golden(f"matrix-8080.{fmt}", r.stdout)


def test_matrix_json_is_data(run):
    data = json.loads(run("matrix", *ALL, "-f", "json", "-p", "8080").stdout)
    i = data["names"].index("payments/frontend")
    j = data["names"].index("payments/api-server")
    assert data["allowed"][i][j] is True and data["allowed"][j][i] is False
    assert data["allowed"][i][i] is None  # one pod: the diagonal does not apply
    ports = json.loads(run("matrix", *ALL, "-f", "json").stdout)
    assert ports["connections"][i][j] == "TCP 8080" and ports["connections"][j][i] == "none"


def test_matrix_bad_port(run):
    r = run("matrix", *ALL, "-p", "0")
    assert r.exit_code == 2 and "port: got '0'" in r.stderr


# ------------------------------------------------------------------------------ explain


def test_explain(run, golden):
    r = run("explain", *ALL, "payments/api-server")
    assert r.exit_code == 0
    golden("explain-api-server.txt", r.stdout)


def test_explain_json(run):
    r = run("explain", *ALL, "monitoring/rogue-pod", "--format", "json")
    data = json.loads(r.stdout)
    assert data["selected_by"] == [] and data["isolated"] == {"ingress": False, "egress": False}
    assert "payments/api-server" not in data["can_reach"]


def test_explain_unknown_pod(run):
    r = run("explain", *ALL, "payments/nope")
    assert r.exit_code == 2
    assert "got endpoint 'payments/nope'; expected a pod of the cluster" in r.stderr


# ------------------------------------------------------------------------------ diff


@pytest.fixture
def changed(tmp_path):
    """The lesson's policies with the frontend -> api-server port moved from 8080 to 8443."""
    text = (Path(LESSON) / "policies" / "payments.yaml").read_text()
    text = text.replace("port: 8080", "port: 8443")
    out = tmp_path / "new"
    out.mkdir()
    (out / "payments.yaml").write_text(text)
    return str(out)


def test_diff_reports_gained_and_lost(run, golden, changed):
    r = run("diff", f"{LESSON}/policies", changed, *INV)
    assert r.exit_code == 1
    golden("diff.txt", r.stdout.replace(changed, "NEW"))
    assert "+ payments/frontend -> payments/api-server: TCP 8443" in r.stdout
    assert "- payments/frontend -> payments/api-server: TCP 8080" in r.stdout


def test_diff_counts_cluster_wide_policies(run, tmp_path):
    # a side's cluster-wide policies take part (YAML and Python alike): the baseline added on
    # the NEW side cuts what the lesson's policies left open, here egress to the internet
    (tmp_path / "baseline.py").write_text(
        "from netpol_dsl.admin import cluster_default_deny\n"
        "baseline = cluster_default_deny()\n", encoding="utf-8")
    new = tmp_path / "with-baseline"
    shutil.copytree(f"{LESSON}/policies", new)
    rendered = run("render", str(tmp_path / "baseline.py"))
    assert rendered.exit_code == 0, rendered.output
    (new / "baseline.yaml").write_text(rendered.stdout, encoding="utf-8")
    for side in (str(new), str(tmp_path / "baseline.py")):
        r = run("diff", f"{LESSON}/policies", side, *INV, "--format", "json")
        assert r.exit_code == 1, r.output
        data = json.loads(r.stdout)
        assert "ClusterNetworkPolicy/default-deny" in data["policies"]["added"], data["policies"]
        # the baseline's egress deny cuts the internet for pods the lesson's policies left open
        assert any(e["workload"] == "monitoring/prometheus" and e["lost"] == "all"
                   for e in data["external"]), data["external"]
    r = run("diff", f"{LESSON}/policies", str(new), *INV, "--format", "json")
    assert json.loads(r.stdout)["policies"]["removed"] == []


def test_diff_markdown(run, golden, changed):
    r = run("diff", f"{LESSON}/policies", changed, *INV, "--format", "md")
    assert r.exit_code == 1
    golden("diff.md", r.stdout.replace(changed, "NEW"))


def test_diff_json(run, changed):
    data = json.loads(run("diff", f"{LESSON}/policies", changed, *INV, "-f", "json").stdout)
    assert data["changed"] is True
    assert data["gained"][0]["gained"] == "TCP 8443" and data["lost"][0]["lost"] == "TCP 8080"


def test_diff_unchanged_exits_zero(run):
    r = run("diff", f"{LESSON}/policies", f"{LESSON}/policies/payments.yaml", *INV)
    assert r.exit_code == 0 and "no change" in r.stdout


def test_diff_python_definition_against_yaml(run):
    # The DSL example and the hand-written lesson YAML allow exactly the same flows.
    r = run("diff", f"{LESSON}/policies", "examples/payments.py", *INV)
    assert "connectivity unchanged" in r.stdout
    assert r.exit_code == 1  # the policy objects differ (names), which CI may gate on


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_diff_git_revisions(run, tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "k8s").mkdir(parents=True)
    policy = (Path(LESSON) / "policies" / "payments.yaml").read_text()
    (repo / "k8s" / "p.yaml").write_text(policy)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    git = ["git", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True)
    (repo / "k8s" / "p.yaml").write_text(policy.replace("port: 5432", "port: 5433"))
    inv = [str(Path(LESSON).resolve() / "namespaces.yaml"),
           str(Path(LESSON).resolve() / "workloads.yaml")]
    monkeypatch.chdir(repo)
    from typer.testing import CliRunner

    from netpol_dsl.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["diff", "HEAD", "k8s/", "-m", inv[0], "-m", inv[1]])
    assert r.exit_code == 1, r.output
    assert "- payments/api-server -> payments/postgres: TCP 5432" in r.stdout
    r = runner.invoke(app, ["diff", "HEAD:k8s/p.yaml", "k8s/p.yaml", "-m", inv[0], "-m", inv[1]])
    assert r.exit_code == 1 and "TCP 5433" in r.stdout
    r = runner.invoke(app, ["diff", "nosuchrev:k8s/", "k8s/", "-m", inv[0], "-m", inv[1]])
    assert r.exit_code == 2 and "does not exist" in r.stderr


def test_diff_missing_old(run):
    r = run("diff", "no/such", f"{LESSON}/policies", *INV)
    assert r.exit_code == 2 and "error: no/such: got a path that does not exist" in r.stderr


# ------------------------------------------------------------------------------ graph


def test_graph_mermaid(run, golden):
    r = run("graph", *ALL)
    assert r.exit_code == 0
    golden("graph.mmd", r.stdout)
    assert 'subgraph ns_payments["namespace: payments"]' in r.stdout


def test_graph_dot_with_denied_and_probes(run, golden):
    r = run("graph", *ALL, "-f", "dot", "-p", "9090", "--intent", INTENT)
    assert r.exit_code == 0
    golden("graph-probes.dot", r.stdout)
    assert "DENY TCP 9090" in r.stdout and "style=dashed" in r.stdout


def test_graph_denied_edges(run):
    r = run("graph", *ALL, "-p", "9090", "--denied")
    assert r.exit_code == 0 and "-.->" in r.stdout


def test_graph_json(run):
    data = json.loads(run("graph", *ALL, "-f", "json").stdout)
    # NetworkPolicies only: tiers are not computed unless asked for (--tiers)
    assert {"from": "payments/frontend", "to": "payments/api-server", "label": "TCP 8080",
            "allowed": True, "probe": False, "tiers": []} in data["edges"]
    assert data["show_tiers"] is False


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graph_svg_with_graphviz(run, tmp_path):
    out = tmp_path / "g.svg"
    r = run("graph", *ALL, "-f", "svg", "-o", str(out))
    assert r.exit_code == 0
    svg = out.read_text()
    assert svg.startswith("<svg") and "namespace: payments" in svg


def test_graph_svg_without_graphviz(run, monkeypatch):
    monkeypatch.setenv("PATH", "")
    r = run("graph", *ALL, "-f", "svg")
    assert r.exit_code == 2
    assert "got no Graphviz `dot` on PATH" in r.stderr and "html draws without Graphviz" in r.stderr


def test_graph_html_without_graphviz_is_self_contained(run, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", "")
    out = tmp_path / "r.html"
    r = run("graph", *ALL, "-f", "html", "-o", str(out))
    assert r.exit_code == 0
    page = out.read_text()
    assert "<svg" in page and "payments/api-server" in page and "<table" in page
    assert "<script" not in page and "src=" not in page and "@import" not in page


def test_graph_bad_intent(run, tmp_path):
    f = tmp_path / "i.yaml"
    f.write_text("- {from: payments/frontend, to: payments/api-server, port: 99999}\n")
    r = run("graph", *ALL, "--intent", str(f))
    assert r.exit_code == 2 and "intents[0].port: got 99999" in r.stderr


# ------------------------------------------------------------------------------ export


def test_export_netassert(run, golden):
    r = run("export", "netassert", *ALL, "--intent", INTENT)
    assert r.exit_code == 0, r.output
    golden("netassert.yaml", r.stdout)
    tests = yaml.safe_load(r.stdout)
    assert len(tests) == 6
    rogue = next(t for t in tests if t["src"]["k8sResource"]["name"] == "rogue-pod")
    assert rogue["exitCode"] == 1 and rogue["src"]["k8sResource"]["kind"] == "pod"
    dns = tests[-1]
    assert dns["protocol"] == "udp" and dns["targetPort"] == 53


def test_export_netassert_json(run):
    r = run("export", "netassert", *ALL, "--intent", INTENT, "--format", "json")
    assert r.exit_code == 0
    assert json.loads(r.stdout) == yaml.safe_load(run("export", "netassert", *ALL, "--intent",
                                                      INTENT).stdout)


def test_export_netassert_fails_when_intent_does_not_hold(run, tmp_path):
    f = tmp_path / "i.yaml"
    f.write_text("- {from: monitoring/rogue-pod, to: payments/api-server, port: 9090}\n")
    r = run("export", "netassert", *ALL, "--intent", str(f))
    assert r.exit_code == 1
    assert "intent does not hold offline: monitoring/rogue-pod -> payments/api-server TCP 9090: " \
           "expected allow, got deny" in r.stderr
    assert run("export", "netassert", *ALL, "--intent", str(f), "--no-verify").exit_code == 0


def test_export_netassert_unsupported(run, tmp_path):
    f = tmp_path / "i.yaml"
    f.write_text("- {from: payments/frontend, to: payments/api-server, port: 80/SCTP}\n")
    r = run("export", "netassert", *ALL, "--intent", str(f))
    assert r.exit_code == 2 and "TCP or UDP" in r.stderr


def test_export_missing_intent(run):
    r = run("export", "netassert", *ALL, "--intent", "nope.yaml")
    assert r.exit_code == 2
    assert r.stderr == "error: nope.yaml: got a path that does not exist; expected an intent file\n"


def test_graph_tiers_flags(run):
    tiers = "tests/fixtures/graph/tiers.yaml"
    auto = json.loads(run("graph", "-m", tiers, "-f", "json").stdout)
    assert auto["show_tiers"] is True
    assert {"from": "shop/db", "to": "shop/api", "label": "TCP 9090", "allowed": True,
            "probe": False, "tiers": ["admin"]} in auto["edges"]
    off = json.loads(run("graph", "-m", tiers, "-f", "json", "--no-tiers").stdout)
    assert off["show_tiers"] is False and all(e["tiers"] == [] for e in off["edges"])
    # NetworkPolicies only, asked for: frontend -> api-server TCP 8080 is allowed by
    # allow-frontend-egress-to-api (egress) and allow-frontend-to-api (ingress), both
    # NetworkPolicies (default-deny-all isolates both pods)
    lesson = json.loads(run("graph", *ALL, "-f", "json", "--tiers").stdout)
    (e,) = [e for e in lesson["edges"]
            if (e["from"], e["to"]) == ("payments/frontend", "payments/api-server")]
    assert e["tiers"] == ["networkpolicy"]
    r = run("graph", "-m", tiers, "--denied")
    assert r.exit_code == 0
    assert '-.->|"denied [admin+networkpolicy]"|' in r.stdout

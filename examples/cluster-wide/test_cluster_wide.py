"""Checks for the cluster-wide example: it renders to valid, stable objects in both API versions,
lints clean, and the same baseline renders for Calico and Cilium.

Paths are relative to this file (``cluster-wide`` is not an importable package name).
"""

import runpy
from pathlib import Path

import pytest

from netpol_dsl import load_manifests
from netpol_dsl.lint import lint_text
from netpol_dsl.vendor import to_calico, to_cilium

HERE = Path(__file__).parent
example = runpy.run_path(str(HERE / "guardrails.py"))


@pytest.mark.parametrize("version", ["v1alpha2", "v1alpha1"])
def test_renders_valid_stable_objects(version):
    text = example["manifests"](version)
    assert text == example["manifests"](version)
    loaded = load_manifests(text)
    kinds = sorted(r.spec.kind for r in loaded.resources)
    if version == "v1alpha2":
        assert kinds == ["ClusterNetworkPolicy"] * 3
    else:
        assert kinds == ["AdminNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"]
    assert loaded.warnings == ()


def test_rule_order_is_what_the_guardrails_mean():
    ingress = example["guardrails"].to_dict()["spec"]["ingress"]
    assert [(r["name"], r["action"]) for r in ingress] == [
        ("monitoring-scrapes", "Accept"), ("nobody-else-scrapes", "Deny")]


def test_lints_clean_with_the_inventory():
    report = lint_text(example["manifests"](), manifests=[HERE / "cluster.yaml"])
    assert report.findings == ()


def test_inventory_loads_without_skipping():
    assert not load_manifests(HERE / "cluster.yaml").skipped


def test_vendor_renderings_exclude_the_system_namespaces():
    gnp, ccnp = to_calico(example["baseline"]), to_cilium(example["baseline"])
    assert gnp["spec"]["namespaceSelector"].endswith('not in {"kube-system", "monitoring"}')
    assert ccnp["spec"]["endpointSelector"]["matchExpressions"][0]["values"] == [
        "kube-system", "monitoring"]

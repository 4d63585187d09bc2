"""Lint NetworkPolicy manifests for the classic mistakes: rules -> ``Finding`` values, never exceptions.

Every rule has an id (``NP001``...), a severity, a one-line fix and a docs page
(``docs/lint/NP001.md``). Findings carry ``file:line`` of the offending field. Rules that need to
know the cluster's namespaces and pods (``needs_inventory``) run when an inventory is given
(``manifests=`` here, ``--manifests`` on the command line); Namespaces, Pods and workloads found
among the linted paths count as inventory too.

Suppress findings on one object with an annotation listing rule ids (or ``all``):

```yaml
metadata:
  annotations:
    netpol-dsl.io/lint-ignore: "NP001,NP004"
```

Example:
    >>> report = lint_text('''
    ... apiVersion: networking.k8s.io/v1
    ... kind: NetworkPolicy
    ... metadata: {name: default-deny, namespace: payments}
    ... spec:
    ...   podSelector: {}
    ...   ingress: [{}]
    ... ''')
    >>> [f.rule.id for f in report.findings]
    ['NP005']
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from netpol_dsl import _rules
from netpol_dsl import load as _load
from netpol_dsl.errors import InvalidPolicyError, Issue, LoadError
from netpol_dsl.load import Manifest, Manifests

if TYPE_CHECKING:
    from netpol_dsl.evaluate import Cluster
from netpol_dsl.model import (
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
)
from netpol_dsl.model.clusterwide import ClusterWidePolicy, is_cluster_policy, parse_cluster_policy

__all__ = [
    "IGNORE_ANNOTATION",
    "RULES",
    "Finding",
    "LintReport",
    "Rule",
    "Severity",
    "lint",
    "lint_text",
]

Severity = Literal["error", "warning", "info"]
_SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}

#: The annotation that suppresses findings on one object: rule ids separated by commas, or ``all``.
IGNORE_ANNOTATION = "netpol-dsl.io/lint-ignore"
#: An annotation that states a policy's intent (``deny`` or ``allow``), read by NP005.
INTENT_ANNOTATION = "netpol-dsl.io/intent"

_NS_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True, slots=True)
class Rule:
    """One lint rule: its id, severity, what it catches and how to fix it.

    Example:
        >>> RULES["NP001"].doc
        'docs/lint/NP001.md'
        >>> RULES["NP003"].needs_inventory
        True
    """

    id: str
    name: str
    severity: Severity
    summary: str
    fix: str
    needs_inventory: bool = False

    @property
    def doc(self) -> str:
        """The path of the rule's docs page.

        Example:
            >>> RULES["NP012"].doc
            'docs/lint/NP012.md'
        """
        return f"docs/lint/{self.id}.md"


_RULE_LIST = (
    Rule("NP000", "invalid-object", "error",
         "an object kube-apiserver would reject",
         "correct the field as the message says (see `netpol validate`)"),
    Rule("NP001", "or-looks-like-and", "warning",
         "a rule with a namespaceSelector-only peer and a podSelector-only peer: two peers (OR), "
         "which usually was meant as one peer (AND)",
         "put namespaceSelector and podSelector in the same list item (drop the second '-')"),
    Rule("NP002", "egress-without-dns", "warning",
         "pods isolated for egress without an egress rule to kube-dns on UDP and TCP 53",
         "add an egress rule to kube-system/k8s-app=kube-dns on UDP 53 and TCP 53"),
    Rule("NP003", "selector-matches-nothing", "warning",
         "a pod or namespace selector that matches nothing in the inventory",
         "fix the selector's labels to match the pods or namespaces in the inventory",
         needs_inventory=True),
    Rule("NP004", "unknown-namespace-label", "warning",
         "a namespaceSelector on a label key that no namespace has",
         "select namespaces by 'kubernetes.io/metadata.name', which the API server sets",
         needs_inventory=True),
    Rule("NP005", "allow-all-in-deny-policy", "error",
         "an allow-all rule ('- {}') in a policy whose name or intent says deny",
         "delete the '- {}' rule (use 'ingress: []' / 'egress: []' or omit the field to deny)"),
    Rule("NP006", "rules-for-missing-policy-type", "error",
         "rules for a direction that policyTypes leaves out, so they are ignored (or an empty "
         "rule list that does not isolate because policyTypes is absent)",
         "add the direction to policyTypes, or delete the rules"),
    Rule("NP007", "default-deny-kube-system", "warning",
         "a default-deny policy in kube-system, which cuts cluster DNS and system add-ons",
         "scope the policy to specific pods, or add the allow rules system components need"),
    Rule("NP008", "named-port-undeclared", "warning",
         "a named port that no destination pod declares (with that protocol), so it allows nothing",
         "use the port number, or declare the name on the container's ports",
         needs_inventory=True),
    Rule("NP009", "ipblock-overlaps-pods", "warning",
         "an ipBlock that covers pod IPs; whether ipBlocks match pod traffic depends on the CNI",
         "select pods with podSelector/namespaceSelector and add the pod CIDR to 'except'",
         needs_inventory=True),
    Rule("NP010", "pod-not-covered", "warning",
         "a pod that no NetworkPolicy selects, so all its traffic is allowed",
         "add a default-deny-all policy to the pod's namespace, then allow-lists",
         needs_inventory=True),
    Rule("NP011", "redundant", "warning",
         "a rule, peer, port or whole policy that adds nothing to what another already allows",
         "delete the redundant entry"),
    Rule("NP012", "duplicate-key", "error",
         "a mapping with the same key twice; YAML keeps only the last value, silently",
         "keep one of the two keys and merge what both held into it"),
    Rule("NP013", "equal-priority", "warning",
         "cluster-wide policies of one tier with the same priority: upstream leaves their order "
         "undefined",
         "give each policy of the tier its own priority"),
    Rule("NP014", "pass-to-nothing", "warning",
         "a Pass rule with nothing behind it (a baseline-tier Pass, or an admin-tier Pass with no "
         "NetworkPolicy or baseline policy to hand over to), so it allows",
         "write Allow/Accept if allowing is meant, or add the policy that should decide"),
    Rule("NP015", "networks-deny-cuts-pods", "warning",
         "a Deny rule whose networks cover pod addresses: networks match in-cluster traffic too, "
         "so it also cuts pod-to-pod traffic (unless the policy's name or intent says deny)",
         "put a Pass (or Allow) rule for pods, e.g. 'namespaces: {}', before the Deny"),
    Rule("NP016", "shadowed-rule", "warning",
         "a cluster-wide rule that an earlier rule of the same policy always matches first, so "
         "it never applies",
         "delete the rule, or move it above the rule that shadows it"),
    Rule("NP017", "baseline-not-default", "error",
         "a BaselineAdminNetworkPolicy not named 'default', which the API server refuses",
         "rename it to 'default' (there is one baseline per cluster)"),
    Rule("NP018", "domain-names-not-allow", "warning",
         "a domainNames peer in a rule whose action is not Allow/Accept, which upstream does not "
         "support",
         "use domainNames in Allow/Accept rules, and deny the rest with a later rule"),
    Rule("NP019", "duplicate-object", "error",
         "two inputs for one object (same kind, namespace and name): kubectl apply keeps only "
         "the last, so the first is silently replaced",
         "rename one of the two, or delete the one that should not be applied"),
)

#: Every rule, by id.
RULES: Mapping[str, Rule] = {r.id: r for r in _RULE_LIST}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem one rule found, with where it is and how to fix it.

    Example:
        >>> f = Finding(RULES["NP006"], "egress rules are ignored", file="a.yaml", line=9,
        ...             object="payments/api", path="spec.egress")
        >>> str(f)
        'a.yaml:9: NP006 error: payments/api: spec.egress: egress rules are ignored'
    """

    rule: Rule
    message: str
    file: str | None = None
    line: int | None = None
    object: str | None = None
    kind: str = "NetworkPolicy"
    path: str = ""
    fix: str | None = None
    severity_override: Severity | None = None

    @property
    def severity(self) -> Severity:
        """The finding's severity: the rule's, unless this finding raised it.

        Example:
            >>> Finding(RULES["NP001"], "x", severity_override="error").severity
            'error'
        """
        return self.severity_override or self.rule.severity

    @property
    def location(self) -> str:
        """``file:line``, the file alone, or ``<input>``.

        Example:
            >>> Finding(RULES["NP001"], "x", file="p.yaml", line=3).location
            'p.yaml:3'
        """
        if self.file is None:
            return "<input>"
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_dict(self) -> dict[str, Any]:
        """The finding as plain data (for ``--format json``).

        Example:
            >>> Finding(RULES["NP001"], "x").to_dict()["rule"]
            'NP001'
        """
        return {
            "rule": self.rule.id,
            "name": self.rule.name,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "kind": self.kind,
            "object": self.object,
            "path": self.path,
            "message": self.message,
            "fix": self.fix or self.rule.fix,
            "doc": self.rule.doc,
        }

    def __str__(self) -> str:
        parts = [f"{self.location}: {self.rule.id} {self.severity}:"]
        if self.object:
            parts.append(f"{self.object}:")
        if self.path:
            parts.append(f"{self.path}:")
        parts.append(self.message)
        return " ".join(parts)


@dataclass(frozen=True)
class LintReport:
    """What ``lint`` found: findings in file order, and what it could not check.

    Example:
        >>> r = lint_text("kind: ConfigMap\\nmetadata: {name: x}\\n")
        >>> r.findings, r.policies
        ((), 0)
    """

    findings: tuple[Finding, ...] = ()
    suppressed: int = 0
    policies: int = 0
    skipped_rules: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    def failed(self, fail_on: Severity = "warning") -> bool:
        """Whether any finding is at least as severe as ``fail_on``.

        Example:
            >>> LintReport().failed()
            False
        """
        floor = _SEVERITY_RANK[fail_on]
        return any(_SEVERITY_RANK[f.severity] >= floor for f in self.findings)

    def counts(self) -> dict[str, int]:
        """Number of findings per severity.

        Example:
            >>> LintReport().counts()
            {'error': 0, 'warning': 0, 'info': 0}
        """
        c = Counter(f.severity for f in self.findings)
        return {s: c.get(s, 0) for s in ("error", "warning", "info")}

    def summary(self) -> str:
        """One line: how many findings of which severity, in how many policies.

        Example:
            >>> LintReport(policies=2).summary()
            'no findings in 2 policies'
        """
        c = self.counts()
        n = len(self.findings)
        what = f"{self.policies} polic{'y' if self.policies == 1 else 'ies'}"
        text = (f"{n} finding{'s' if n != 1 else ''} ("
                + ", ".join(f"{v} {k}{'s' if v != 1 else ''}" for k, v in c.items() if v)
                + f") in {what}") if n else f"no findings in {what}"
        if self.suppressed:
            text += f"; {self.suppressed} suppressed by {IGNORE_ANNOTATION}"
        if self.skipped_rules:
            text += (f"; {', '.join(self.skipped_rules)} not run (they need an inventory: "
                     "pass --manifests with Namespaces and Pods/workloads)")
        return text

    def to_text(self) -> str:
        """Human-readable findings with their fix and docs page, then the summary.

        Example:
            >>> print(LintReport().to_text())
            no findings in 0 policies
        """
        lines: list[str] = []
        for f in self.findings:
            lines.append(str(f))
            lines.append(f"    fix: {f.fix or f.rule.fix}")
            lines.append(f"    see: {f.rule.doc}")
        lines.append(self.summary())
        return "\n".join(lines)

    def to_json(self) -> str:
        """Findings and summary as JSON.

        Example:
            >>> json.loads(LintReport().to_json())["counts"]
            {'error': 0, 'warning': 0, 'info': 0}
        """
        data = {
            "findings": [f.to_dict() for f in self.findings],
            "counts": self.counts(),
            "policies": self.policies,
            "suppressed": self.suppressed,
            "skipped_rules": list(self.skipped_rules),
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def to_sarif(self) -> str:
        """Findings as SARIF 2.1.0, for code-scanning UIs.

        Example:
            >>> json.loads(LintReport().to_sarif())["version"]
            '2.1.0'
        """
        level = {"error": "error", "warning": "warning", "info": "note"}
        results = []
        for f in self.findings:
            result: dict[str, Any] = {
                "ruleId": f.rule.id,
                "level": level[f.severity],
                "message": {"text": " ".join(
                    x for x in (f.object and f"{f.object}:", f.path and f"{f.path}:", f.message,
                                f"Fix: {f.fix or f.rule.fix}.") if x
                )},
            }
            if f.file is not None:
                region = {"startLine": f.line} if f.line else {}
                result["locations"] = [{"physicalLocation": {
                    "artifactLocation": {"uri": Path(f.file).as_posix()},
                    **({"region": region} if region else {}),
                }}]
            results.append(result)
        sarif = {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "netpol-dsl",
                    "informationUri": "https://github.com/netpol-dsl/netpol-dsl",
                    "rules": [{
                        "id": r.id,
                        "name": r.name,
                        "shortDescription": {"text": r.summary},
                        "help": {"text": f"Fix: {r.fix}. See {r.doc}."},
                        "helpUri": r.doc,
                        "defaultConfiguration": {"level": level[r.severity]},
                    } for r in _RULE_LIST],
                }},
                "results": results,
            }],
        }
        return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------------------ reading


#: Mappings whose keys are label keys: a duplicate there is a second value for one label.
_LABEL_MAPS = frozenset({"matchLabels", "labels", "annotations", "nodeSelector", "selector"})


def _duplicate_fix(key: Any, parent: str | None) -> str:
    """NP012's fix for ``key`` given twice in the mapping under ``parent``.

    Example:
        >>> _duplicate_fix("app", "matchLabels")
        "keep one 'app' in matchLabels: a label has one value, and matchLabels ANDs its entries; for either value use matchExpressions with operator In"
        >>> _duplicate_fix("ingress", "spec")
        "keep one 'ingress' key in spec and move the items of both lists under it"
    """
    if parent in _LABEL_MAPS:
        return (f"keep one {key!r} in {parent}: a label has one value, and matchLabels ANDs its "
                "entries; for either value use matchExpressions with operator In")
    where = f" in {parent}" if parent else ""
    if key in ("ingress", "egress", "from", "to", "ports", "policyTypes", "matchExpressions",
               "except", "values", "items"):
        return f"keep one {key!r} key{where} and move the items of both lists under it"
    return f"keep one {key!r} key{where} and merge what both held into it"


@dataclass
class _Read:
    manifests: list[Manifest] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _parse_tolerant(text: str, where: str, out: _Read) -> None:
    # the loader's reading (depth and alias limits, file:line errors), but a key given twice
    # is recorded as a finding instead of refused
    duplicates: list[tuple[Any, int, int, str | None]] = []
    docs = _load._parse_text(text, where, on_duplicate=lambda *dup: duplicates.append(dup))
    found: list[Manifest] = []
    skipped: Counter[str] = Counter()
    for d in docs:
        _load._expand(d.data, where, d.line, d.lines, found, skipped, d.located)
    out.manifests.extend(found)
    for key, first, again, parent in duplicates:
        owner = _owner_at(found, again)
        obj = _label(owner.data) if owner else None
        kind = owner.kind if owner else ""
        ignored = owner is not None and _ignored(owner.data, "NP012")
        if ignored:
            continue
        out.findings.append(Finding(
            RULES["NP012"],
            f"got duplicate key {key!r} (first at line {first}); YAML keeps only the last "
            "value, so the first one is silently lost",
            file=where, line=again, object=obj, kind=kind or "object",
            fix=_duplicate_fix(key, parent),
        ))


def _owner_at(found: Sequence[Manifest], line: int) -> Manifest | None:
    best: Manifest | None = None
    for m in found:
        if m.line is not None and m.line <= line and (best is None or (best.line or 0) < m.line):
            best = m
    return best


def _dsl_manifest(policy: NetworkPolicy, src: str) -> Manifest:
    """A policy read from a ``.py`` source, with the lines of the DSL statements behind it.

    Only lines in ``src`` itself are used (a statement written in a module it imports has no
    line in ``src``).
    """
    from netpol_dsl.policyset import statement_sites

    data = policy.to_dict()
    try:
        here = Path(src).resolve()
    except OSError:  # a py:module spec or REV:path is no file here
        return Manifest(data, src, None)
    lines = {path: line for path, (file, line) in statement_sites(policy).items()
             if Path(file).resolve() == here}
    if "" not in lines:
        return Manifest(data, src, None)
    tables: dict[int, Any] = {}

    def walk(node: Any, path: str, line: int) -> None:
        if isinstance(node, dict):
            table = {k: lines.get(f"{path}.{k}" if path else str(k), line) for k in node}
            tables[id(node)] = table
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else str(k), table[k])
        elif isinstance(node, list):
            items = [lines.get(f"{path}[{i}]", line) for i in range(len(node))]
            tables[id(node)] = items
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]", items[i])

    walk(data, "", lines[""])
    return Manifest(data, src, lines[""], tables)


def _read(paths: Iterable[str | Path], out: _Read) -> None:
    from netpol_dsl.sources import is_revision_path, load_objects, looks_like_python

    for src in paths:
        path = Path(src)
        if looks_like_python(str(src)) or (not path.exists() and is_revision_path(str(src))):
            # A policy definition or REV:path: lint what it holds; a policy the DSL built in
            # this file points at the lines of its statements.
            out.files.append(str(src))
            # cluster-wide policies too (no statement lines: they point at the file)
            out.manifests.extend(_dsl_manifest(p, str(src)) if isinstance(p, NetworkPolicy)
                                 else Manifest(p.to_dict(), str(src), None)
                                 for p in load_objects(str(src)))
            continue
        if path.is_dir():
            files = [f for f in sorted(path.rglob("*"))
                     if f.is_file() and f.suffix.lower() in _load.MANIFEST_SUFFIXES]
        elif path.is_file():
            files = [path]
        else:
            msg = f"{src}: got a path that does not exist; expected a file or directory"
            raise LoadError(msg, source=str(src))
        for f in files:
            where = str(f)
            out.files.append(where)
            text = _load._decode(f.read_bytes(), where)
            if f.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
                try:
                    docs = _load._parse_json(text, where)
                except LoadError as err:
                    if "duplicate key" in str(err):
                        out.findings.append(Finding(
                            RULES["NP012"], str(err).split(": ", 1)[-1], file=where,
                            kind="object"))
                        continue
                    if f.suffix.lower() == ".json":
                        raise
                else:
                    skipped: Counter[str] = Counter()
                    for d in docs:
                        _load._expand(d.data, where, d.line, d.lines, out.manifests, skipped,
                                      d.located)
                    continue
            _parse_tolerant(text, where, out)


# ------------------------------------------------------------------------------ inventory


@dataclass(frozen=True, slots=True)
class _Pod:
    namespace: str
    name: str
    labels: Mapping[str, str]
    ips: tuple[str, ...]
    ports: tuple[tuple[str, int, str], ...]  # (name, number, protocol)
    host_network: bool
    source: Manifest

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass
class _Inventory:
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    pods: list[_Pod] = field(default_factory=list)
    #: the evaluator over this inventory and the valid policies: rules that ask which pods a
    #: policy, a peer or an ipBlock stands for ask it
    cluster: Cluster | None = None
    _by_ns: dict[str, list[int]] | None = field(default=None, repr=False)
    _by_ns_count: int = field(default=-1, repr=False)

    def pods_in(self, namespaces: Iterable[str]) -> list[_Pod]:
        """The pods of ``namespaces``, in inventory order (indexed by namespace once)."""
        if self._by_ns is None or self._by_ns_count != len(self.pods):
            self._by_ns = {}
            for i, p in enumerate(self.pods):
                self._by_ns.setdefault(p.namespace, []).append(i)
            self._by_ns_count = len(self.pods)
        at = sorted(i for n in set(namespaces) for i in self._by_ns.get(n, ()))
        return [self.pods[i] for i in at]

    def namespaces_matching(self, sel: LabelSelector) -> list[str]:
        return sorted(n for n, labels in self.namespaces.items() if sel.matches(labels))

    def add_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> None:
        current = self.namespaces.setdefault(name, {_NS_NAME_LABEL: name})
        if labels:
            current.update(labels)
            current[_NS_NAME_LABEL] = name


def _dig(data: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(k)
    return data


def _inventory(objects: Iterable[Manifest], policies: Iterable[NetworkPolicy]) -> _Inventory:
    # The evaluator's reading of Namespaces, Pods and workloads (representative pods, owner
    # chains, ports, IPs), with each pod's manifest kept so findings can point at it.
    from netpol_dsl.evaluate._manifests import inventory_from

    found = inventory_from(Manifests(objects=tuple(objects)))
    inv = _Inventory()
    for ns in found.namespaces:
        inv.add_namespace(ns.name, ns.labels)
    for pod in found.pods:
        ports = tuple((p.name or "", p.port, p.protocol) for p in pod.ports)
        inv.pods.append(_Pod(pod.namespace, pod.name, pod.labels, pod.ips, ports,
                             pod.host_network, found.sources[pod.key]))
        inv.add_namespace(pod.namespace)
    policies = list(policies)
    for p in policies:
        if p.namespace:
            inv.add_namespace(p.namespace)
    from netpol_dsl.evaluate import Cluster

    inv.cluster = Cluster(found.namespaces, found.pods, policies)
    return inv


# ------------------------------------------------------------------------------ helpers


def _label(data: Mapping[str, Any]) -> str | None:
    return _load._policy_label(data)


def _ignored(data: Mapping[str, Any], rule_id: str) -> bool:
    value = _dig(data, "metadata", "annotations", IGNORE_ANNOTATION)
    if not isinstance(value, str):
        return False
    ids = {x.strip().upper() for x in re.split(r"[,\s]+", value) if x.strip()}
    return rule_id.upper() in ids or "ALL" in ids or "*" in ids


def _canon(obj: Any) -> str:
    if hasattr(obj, "to_dict"):
        obj = obj.to_dict()
    return json.dumps(obj, sort_keys=True)


def _sel_text(sel: LabelSelector) -> str:
    parts = [f"{k}={v}" for k, v in sorted((sel.match_labels or {}).items())]
    for r in sel.match_expressions or ():
        vals = ",".join(r.values or ())
        parts.append(f"{r.key} {r.operator}" + (f" ({vals})" if vals else ""))
    return "{" + ", ".join(parts) + "}" if parts else "{}"


def _peers_all(peers: Sequence[NetworkPolicyPeer] | None) -> bool:
    return not peers


def _ports_all(ports: Sequence[NetworkPolicyPort] | None) -> bool:
    return not ports


def _port_covers(port: NetworkPolicyPort, number: int, protocol: str,
                 names: Iterable[str] = ()) -> bool:
    if port.effective_protocol != protocol:
        return False
    if port.port is None:
        return True
    if isinstance(port.port, str):
        return port.port in names
    end = port.end_port if port.end_port is not None else port.port
    return port.port <= number <= end


def _rules_of(policy: NetworkPolicy) -> Iterator[tuple[str, int, Any]]:
    for direction in ("ingress", "egress"):
        for i, r in enumerate(getattr(policy.spec, direction) or ()):
            yield direction, i, r


def _peer_field(direction: str) -> str:
    return "from" if direction == "ingress" else "to"


_DENY_WORDS = re.compile(r"(^|[-_.])(deny|block|isolate|isolation|lockdown)([-_.]|$)")


def _says_deny(policy: NetworkPolicy) -> bool:
    intent = (policy.metadata.annotations or {}).get(INTENT_ANNOTATION, "")
    if intent:
        return "deny" in intent.lower()
    return bool(_DENY_WORDS.search(policy.name.lower()))


# ------------------------------------------------------------------------------ the rules


@dataclass
class _Ctx:
    policies: Sequence[NetworkPolicy]
    sources: Sequence[Manifest]
    inventory: _Inventory | None
    findings: list[Finding] = field(default_factory=list)
    suppressed: int = 0

    def report(self, rule_id: str, i: int, path: str, message: str, *,
               fix: str | None = None, severity: Severity | None = None) -> None:
        policy, src = self.policies[i], self.sources[i]
        if _ignored(src.data, rule_id):
            self.suppressed += 1
            return
        line = src.line_of(path) if path else src.line
        self.findings.append(Finding(
            RULES[rule_id], message, file=src.file, line=line, object=policy.key,
            kind="NetworkPolicy", path=path, fix=fix, severity_override=severity,
        ))

    def report_object(self, rule_id: str, m: Manifest, label: str, message: str,
                      path: str = "", fix: str | None = None) -> None:
        if _ignored(m.data, rule_id):
            self.suppressed += 1
            return
        self.findings.append(Finding(
            RULES[rule_id], message, file=m.file, line=m.line_of(path) if path else m.line,
            object=label, kind=m.kind, path=path, fix=fix,
        ))


def _np001_or_like_and(ctx: _Ctx) -> None:
    for i, policy in enumerate(ctx.policies):
        for direction, r_i, rule in _rules_of(policy):
            peers = rule.peers or ()
            ns_only = [(j, p) for j, p in enumerate(peers)
                       if p.namespace_selector is not None and p.pod_selector is None]
            pod_only = [(j, p) for j, p in enumerate(peers)
                        if p.pod_selector is not None and p.namespace_selector is None]
            if not ns_only or not pod_only:
                continue
            nj, ns_peer = ns_only[0]
            pj, pod_peer = pod_only[0]
            assert ns_peer.namespace_selector is not None and pod_peer.pod_selector is not None
            everything = ns_peer.namespace_selector.is_empty
            base = f"spec.{direction}[{r_i}].{_peer_field(direction)}"
            who = ("every pod in every namespace" if everything else
                   f"every pod in namespaces {_sel_text(ns_peer.namespace_selector)}")
            msg = (f"{base}[{nj}] (namespaceSelector) and {base}[{pj}] (podSelector) are two "
                   f"peers, ORed: this allows {who}, plus pods "
                   f"{_sel_text(pod_peer.pod_selector)} in {policy.namespace or 'this namespace'}; "
                   "for pods matching both, make them one peer")
            fix = None
            if (ctx.sources[i].file or "").endswith(".py"):
                # Written with the DSL: the two peers come from `|`, not from a YAML '-'.
                fix = ("use `&` instead of `|` to make one peer: `namespace(...) & pods(...)` "
                       "selects pods matching both; `|` is two peers, ORed")
            ctx.report("NP001", i, f"{base}[{pj}]", msg, fix=fix,
                       severity="error" if everything else None)


_DNS_NS = {_NS_NAME_LABEL: "kube-system"}
_DNS_POD = {"k8s-app": "kube-dns"}


def _examples(sel: LabelSelector, limit: int = 8) -> list[dict[str, str]]:
    """Label sets a selector selects: exact values, each combination of ``In`` values (up to
    ``limit``), a placeholder value for ``Exists``; ``NotIn``/``DoesNotExist`` keys left out."""
    import itertools

    fixed = dict(sel.match_labels or {})
    choices: list[tuple[str, tuple[str, ...]]] = []
    for r in sel.match_expressions or ():
        if r.key in fixed:
            continue
        if r.operator == "In":
            choices.append((r.key, tuple(r.values or ())))
        elif r.operator == "Exists":
            choices.append((r.key, ("x",)))
    out = []
    for combo in itertools.islice(itertools.product(*(v for _, v in choices)), limit):
        labels = {**fixed, **{k: v for (k, _), v in zip(choices, combo, strict=True)}}
        if sel.matches(labels):
            out.append(labels)
    return out


def _np002_dns(ctx: _Ctx) -> None:
    """Egress isolated without DNS: asked of the evaluator, with an example pod of each
    egress-isolating policy's podSelector and a CoreDNS-like pod in kube-system."""
    from netpol_dsl.evaluate import Cluster, ContainerPort, Namespace, Pod

    ns_labels: Mapping[str, str] = _DNS_NS
    if ctx.inventory is not None and "kube-system" in ctx.inventory.namespaces:
        ns_labels = ctx.inventory.namespaces["kube-system"]
    dns = Pod("kube-system", "netpol-lint-kube-dns", _DNS_POD,
              ports=(ContainerPort(53, "UDP", "dns"), ContainerPort(53, "TCP", "dns-tcp")))
    subjects: list[tuple[int, Pod]] = []
    seen: dict[tuple[str, str], int] = {}
    for i, policy in enumerate(ctx.policies):
        ns = _rules.namespace_of(policy.namespace)
        if ns == "kube-system" or not policy.spec.isolates_egress:
            continue
        key = (ns, _canon(policy.spec.pod_selector))
        if key in seen:
            continue
        seen[key] = i
        for labels in _examples(policy.spec.pod_selector):
            subjects.append((i, Pod(ns, f"netpol-lint-{len(subjects)}", labels)))
    if not subjects:
        return
    cluster = Cluster([Namespace("kube-system", ns_labels)],
                      [dns, *(p for _, p in subjects)], ctx.policies)
    reported: set[int] = set()
    # what a pod may reach outside the cluster depends only on the policies that select it for
    # egress (external addresses have no labels, namespaces or named ports): asked once per set
    external: dict[tuple[tuple[int, ...], str], bool] = {}
    for i, pod in subjects:
        if i in reported:
            continue
        egress = tuple(id(p) for p, dirs in cluster.selecting(pod.key) if "egress" in dirs)
        missing = []
        for proto in ("UDP", "TCP"):
            if cluster.allows(pod, dns.key, 53, proto).all():
                continue
            if (egress, proto) not in external:
                external[(egress, proto)] = _external_dns(cluster, pod, proto)
            if not external[(egress, proto)]:
                missing.append(proto)
        if not missing:
            continue
        reported.add(i)
        policy = ctx.policies[i]
        which = " and ".join(f"{m} 53" for m in missing)
        path = "spec.policyTypes" if policy.spec.policy_types else "spec.egress"
        ctx.report("NP002", i, path,
                   f"isolates egress of pods {_sel_text(policy.spec.pod_selector)} in "
                   f"{_rules.namespace_of(policy.namespace)}, but no policy there allows egress to "
                   f"kube-dns on {which}; DNS lookups will time out",
                   fix=f"allow egress to namespace kube-system, pods k8s-app=kube-dns, on {which}")


def _external_dns(cluster: Cluster, pod: Any, proto: str) -> bool:
    """Some external address (a node-local DNS cache, say) is allowed on ``proto`` 53: the
    benefit of the doubt."""
    # only its external egress is read
    exposure = cluster.exposure(pod.key, pods=False, namespaces=False)
    return any(e.connections.allows(proto, 53) for e in exposure.external_egress)


def _close(wanted: str, candidates: Iterable[str]) -> str | None:
    pool = sorted(set(candidates))
    hits = difflib.get_close_matches(wanted, pool, n=1, cutoff=0.6)
    return hits[0] if hits else None


_WORD_SEP = re.compile(r"[-_./]")


def _near(wanted: str, candidates: Iterable[str]) -> str | None:
    """A close spelling of ``wanted`` (a typo), or a name it is one word of (``api`` for
    ``api-server``); None when nothing is near.

    Example:
        >>> _near("frontnd", ["frontend", "prometheus"]), _near("api", ["api-server"])
        ('frontend', 'api-server')
        >>> _near("prometheus", ["frontend"]) is None
        True
    """
    pool = sorted(set(candidates))
    if (hit := _close(wanted, pool)) is not None:
        return hit
    words = [c for c in pool if wanted in _WORD_SEP.split(c) or c in _WORD_SEP.split(wanted)]
    return words[0] if len(words) == 1 else None


def _did_you_mean(sel: LabelSelector, label_sets: Iterable[Mapping[str, str]]) -> str | None:
    """A close match for the first label of ``sel`` that no label set has, or None.

    Only a near miss is suggested: the same key with a close value (a typo in the value), or a
    close key with the same value (a typo in the key). Comparing whole ``key=value`` strings
    would offer ``app=frontend`` for ``app=prometheus``: the shared ``app=`` is most of the text.

    Example:
        >>> sel = LabelSelector(match_labels={"app": "frontnd"})
        >>> _did_you_mean(sel, [{"app": "frontend"}, {"app": "prometheus"}])
        'Did you mean app=frontend?'
        >>> _did_you_mean(LabelSelector(match_labels={"app": "prometheus"}), [{"app": "frontend"}])
        >>> _did_you_mean(LabelSelector(match_labels={"ap": "web"}), [{"app": "web"}])
        'Did you mean app=web?'
    """
    sets = list(label_sets)
    keys = {k for labels in sets for k in labels}
    for k, v in sorted((sel.match_labels or {}).items()):
        if any(labels.get(k) == v for labels in sets):
            continue
        same_key = {labels[k] for labels in sets if k in labels}
        if (value := _near(v, same_key)) is not None:
            return f"Did you mean {k}={value}?"
        same_value = {key for labels in sets for key, val in labels.items() if val == v}
        if (key := _near(k, same_value)) is not None:
            return f"Did you mean {key}={v}?"
    for r in sel.match_expressions or ():
        if r.key not in keys:
            hit = _close(r.key, keys)
            if hit:
                return f"Did you mean the key {hit!r}?"
        elif r.operator == "In":
            values = {labels[r.key] for labels in sets if r.key in labels}
            for v in r.values or ():
                hit = _close(v, values)
                if hit and hit not in (r.values or ()):
                    return f"Did you mean {r.key}={hit}?"
    return None


def _np003_np004_selectors(ctx: _Ctx) -> None:
    inv = ctx.inventory
    assert inv is not None
    all_ns_keys = {k for labels in inv.namespaces.values() for k in labels}
    for i, policy in enumerate(ctx.policies):
        ns = _rules.namespace_of(policy.namespace)
        own = inv.pods_in([ns])
        if not own:
            # Nothing in the inventory lives there: every selector would "match nothing".
            continue
        sel = policy.spec.pod_selector
        assert inv.cluster is not None
        if not inv.cluster.selected_by(policy):
            hint = _did_you_mean(sel, [p.labels for p in own])
            ctx.report("NP003", i, "spec.podSelector",
                       f"podSelector {_sel_text(sel)} selects no pod in namespace {ns!r} "
                       f"({len(own)} pod{'s' if len(own) != 1 else ''} in the inventory)"
                       + (f". {hint}" if hint else ""))
        for direction, r_i, rule in _rules_of(policy):
            for j, peer in enumerate(rule.peers or ()):
                base = f"spec.{direction}[{r_i}].{_peer_field(direction)}[{j}]"
                scope = [ns]
                nsel = peer.namespace_selector
                if (peer.pod_selector is not None and peer.pod_selector.matches(_DNS_POD)
                        and not inv.pods_in(["kube-system"])):
                    continue  # kube-dns is rarely in an application's inventory
                if nsel is not None:
                    unknown = sorted(nsel.keys() - all_ns_keys)
                    if unknown:
                        key = unknown[0]
                        hint = (f"Namespaces carry {_NS_NAME_LABEL!r} (set by the API server)"
                                if key in ("name", "namespace", "kubernetes.io/name") else None)
                        near = _close(key, all_ns_keys)
                        if hint is None and near:
                            hint = f"Did you mean {near!r}?"
                        ctx.report("NP004", i, f"{base}.namespaceSelector",
                                   f"namespaceSelector uses the label key {key!r}, which no "
                                   f"namespace in the inventory has"
                                   + (f". {hint}" if hint else ""),
                                   fix=f"select by '{_NS_NAME_LABEL}: <namespace>' or label the "
                                       f"namespace with {key!r}")
                        continue
                    scope = inv.namespaces_matching(nsel)
                    if not scope:
                        hint = _did_you_mean(nsel, inv.namespaces.values())
                        ctx.report("NP003", i, f"{base}.namespaceSelector",
                                   f"namespaceSelector {_sel_text(nsel)} matches no namespace "
                                   "in the inventory" + (f". {hint}" if hint else ""))
                        continue
                psel = peer.pod_selector
                # Whether the peer stands for some pod is the evaluator's answer; the
                # namespaces in scope only shape the hint.
                if (psel is not None and not psel.is_empty
                        and not inv.cluster.peer_pods(policy, direction, r_i, j)):
                    pods = inv.pods_in(scope)
                    hint = _did_you_mean(psel, [p.labels for p in pods])
                    fix = None
                    elsewhere = sorted({p.namespace for p in inv.pods
                                        if psel.matches(p.labels)} - set(scope))
                    if nsel is None and elsewhere:
                        # The lesson's mistake: a lone podSelector means *this* namespace.
                        hint = (f"Pods matching it run in namespace "
                                f"{', '.join(map(repr, elsewhere))}; a podSelector without "
                                "a namespaceSelector selects only the policy's namespace")
                        fix = (f"add namespaceSelector {{{_NS_NAME_LABEL}: {elsewhere[0]}}} "
                               f"to this peer (namespace({elsewhere[0]!r}) & pods(...) in "
                               "the DSL)")
                    where = (f"namespace {scope[0]!r}" if len(scope) == 1
                             else f"{len(scope)} namespaces")
                    ctx.report("NP003", i, f"{base}.podSelector",
                               f"podSelector {_sel_text(psel)} matches no pod in {where}"
                               + (f". {hint}" if hint else ""), fix=fix)


def _np008_named_ports(ctx: _Ctx) -> None:
    inv = ctx.inventory
    assert inv is not None and inv.cluster is not None
    by_key = {p.key: p for p in inv.pods}
    for i, policy in enumerate(ctx.policies):
        subjects: list[_Pod] | None = None
        for direction, r_i, rule in _rules_of(policy):
            named = [(k, port) for k, port in enumerate(rule.ports or ())
                     if isinstance(port.port, str)]
            if not named:
                continue
            # Named ports resolve against the destination pod, in both directions: the
            # policy's own pods for ingress, the rule's peers (as the evaluator reads them) for
            # egress.
            if direction == "ingress":
                if subjects is None:
                    subjects = [by_key[k] for k in inv.cluster.selected_by(policy)]
                dests = subjects
            else:
                dests = [by_key[k] for k in inv.cluster.peer_pods(policy, direction, r_i)]
            if not dests:
                continue
            for k, port in named:
                proto = port.effective_protocol
                if any(n == port.port and pr == proto for p in dests for n, _, pr in p.ports):
                    continue
                other = sorted({pr for p in dests for n, _, pr in p.ports if n == port.port})
                names = sorted({n for p in dests for n, _, pr in p.ports if n and pr == proto})
                extra = (f"; it is declared for {', '.join(other)}, not {proto}" if other else
                         (f". Did you mean {hit!r}?" if (hit := _close(str(port.port), names))
                          else ""))
                ctx.report("NP008", i, f"spec.{direction}[{r_i}].ports[{k}].port",
                           f"named port {port.port!r} ({proto}) is declared by none of the "
                           f"{len(dests)} destination pod{'s' if len(dests) != 1 else ''}, "
                           f"so this port allows nothing{extra}")


def _np009_ipblock(ctx: _Ctx) -> None:
    inv = ctx.inventory
    assert inv is not None and inv.cluster is not None
    by_key = {p.key: p for p in inv.pods}
    for i, policy in enumerate(ctx.policies):
        for direction, r_i, rule in _rules_of(policy):
            for j, peer in enumerate(rule.peers or ()):
                block = peer.ip_block
                if block is None or (block.network.prefixlen == 0 and not block.except_):
                    continue
                # The pods whose IPs the block holds, as the evaluator matches them.
                hit = [by_key[k] for k in inv.cluster.peer_pods(policy, direction, r_i, j)]
                if not hit:
                    continue
                examples = ", ".join(
                    f"{p.key} ({next(ip for ip in p.ips if block.contains(ip))})" for p in hit[:3])
                more = f" and {len(hit) - 3} more" if len(hit) > 3 else ""
                ctx.report("NP009", i, f"spec.{direction}[{r_i}].{_peer_field(direction)}[{j}]"
                           ".ipBlock",
                           f"ipBlock {block.cidr} covers pod IPs: {examples}{more}; some CNIs "
                           "match pod traffic by ipBlock and some do not")


def _np010_uncovered(ctx: _Ctx) -> None:
    inv = ctx.inventory
    assert inv is not None and inv.cluster is not None
    for pod in inv.pods:
        if pod.host_network or pod.namespace.startswith("kube-"):
            continue  # NetworkPolicy does not apply to hostNetwork pods; kube-* is the system's
        if any(isinstance(p, NetworkPolicy) for p, _ in inv.cluster.selecting(pod.key)):
            continue
        ctx.report_object("NP010", pod.source, pod.key,
                          f"{pod.source.kind} {pod.key} is selected by no NetworkPolicy, so all "
                          "its ingress and egress is allowed",
                          fix=f"add a default-deny-all policy in namespace {pod.namespace!r}")


def _rule_covers(wide: Any, narrow: Any) -> bool:
    peers_ok = _peers_all(wide.peers) or (
        not _peers_all(narrow.peers)
        and {_canon(p) for p in narrow.peers} <= {_canon(p) for p in wide.peers}
    )
    ports_ok = _ports_all(wide.ports) or (
        not _ports_all(narrow.ports)
        and {_canon(p) for p in narrow.ports} <= {_canon(p) for p in wide.ports}
    )
    return peers_ok and ports_ok


def _np011_redundant(ctx: _Ctx) -> None:
    for i, policy in enumerate(ctx.policies):
        for direction in ("ingress", "egress"):
            rules: list[Any] = list(getattr(policy.spec, direction) or ())
            for a, rule in enumerate(rules):
                base = f"spec.{direction}[{a}]"
                cover = next((b for b, other in enumerate(rules)
                              if b != a and _rule_covers(other, rule)
                              and (not _rule_covers(rule, other) or b < a)), None)
                if cover is not None:
                    same = _canon(rules[cover]) == _canon(rule)
                    ctx.report("NP011", i, base,
                               f"this rule is {'identical to' if same else 'covered by'} "
                               f"spec.{direction}[{cover}], so it allows nothing more")
                    continue
                for what, items in ((_peer_field(direction), rule.peers or ()),
                                    ("ports", rule.ports or ())):
                    seen: dict[str, int] = {}
                    for k, item in enumerate(items):
                        key = _canon(item)
                        if key in seen:
                            ctx.report("NP011", i, f"{base}.{what}[{k}]",
                                       f"repeats {base}.{what}[{seen[key]}]")
                        else:
                            seen[key] = k
    # Whole policies: same subject and every rule already allowed by an earlier/wider policy.
    # only policies of one namespace with the same subject can be compared: grouped once
    by_subject: dict[tuple[Any, ...], list[int]] = {}
    for i, policy in enumerate(ctx.policies):
        by_subject.setdefault((policy.namespace, _canon(policy.spec.pod_selector)), []).append(i)
    for i, policy in enumerate(ctx.policies):
        for j in by_subject[(policy.namespace, _canon(policy.spec.pod_selector))]:
            other = ctx.policies[j]
            if i == j:
                continue
            if not set(policy.spec.effective_policy_types) <= set(
                    other.spec.effective_policy_types):
                continue
            covered = all(
                any(_rule_covers(o, r) for o in (getattr(other.spec, d) or ()))
                for d in ("ingress", "egress") for r in (getattr(policy.spec, d) or ())
            )
            if not covered:
                continue
            mutual = set(other.spec.effective_policy_types) <= set(
                policy.spec.effective_policy_types) and all(
                any(_rule_covers(r, o) for r in (getattr(policy.spec, d) or ()))
                for d in ("ingress", "egress") for o in (getattr(other.spec, d) or ()))
            if mutual and j > i:
                continue  # equal policies: report the later one only
            ctx.report("NP011", i, "",
                       f"adds nothing: {other.key} selects the same pods, isolates the same "
                       "directions and already allows everything this policy allows",
                       fix=f"delete this policy, or merge it into {other.key}")
            break


def _np005_allow_all_in_deny(ctx: _Ctx) -> None:
    for i, policy in enumerate(ctx.policies):
        if not _says_deny(policy):
            continue
        for direction, r_i, rule in _rules_of(policy):
            if _peers_all(rule.peers) and _ports_all(rule.ports):
                if direction == "egress" and not policy.spec.isolates_egress:
                    continue
                if direction == "ingress" and not policy.spec.isolates_ingress:
                    continue
                ctx.report("NP005", i, f"spec.{direction}[{r_i}]",
                           f"the policy's name/intent says deny, but this {direction} rule "
                           f"('- {{}}') allows all {direction} traffic to the selected pods"
                           if direction == "ingress" else
                           "the policy's name/intent says deny, but this egress rule "
                           "('- {}') allows all egress traffic from the selected pods")


def _np006_policy_types(ctx: _Ctx) -> None:
    for i, policy in enumerate(ctx.policies):
        spec = policy.spec
        if spec.policy_types:
            for direction, kind in (("ingress", "Ingress"), ("egress", "Egress")):
                rules = getattr(spec, direction)
                if rules and kind not in spec.policy_types:
                    ctx.report("NP006", i, f"spec.{direction}",
                               f"has {len(rules)} {direction} rule{'s' if len(rules) != 1 else ''}"
                               f", but policyTypes {list(spec.policy_types)} leaves out {kind!r},"
                               " so they are ignored",
                               fix=f"add {kind!r} to policyTypes, or delete spec.{direction}")
        elif spec.egress is not None and not spec.egress:
            ctx.report("NP006", i, "spec.egress",
                       "'egress: []' without policyTypes does not isolate egress: the API server "
                       "adds Egress to policyTypes only when there are egress rules",
                       fix="add 'policyTypes: [Ingress, Egress]' to deny all egress")


def _np007_kube_system(ctx: _Ctx) -> None:
    for i, policy in enumerate(ctx.policies):
        if policy.namespace != "kube-system" or not policy.spec.pod_selector.is_empty:
            continue
        denied = [t for t in policy.spec.effective_policy_types
                  if not getattr(policy.spec, t.lower())]
        if denied:
            ctx.report("NP007", i, "spec.podSelector",
                       f"default-deny ({' and '.join(denied)}) for every pod in kube-system: "
                       "this cuts cluster DNS and the add-ons there unless each flow is allowed")


# ------------------------------------------------------------------------------ cluster-wide


def _cw_load(m: Manifest, out: list[tuple[ClusterWidePolicy, Manifest]],
             findings: list[Finding]) -> int:
    """Validate one cluster-wide policy; invalid ones become NP000 (NP017 for a BANP's name)."""
    label = _label(m.data)
    try:
        policy, _ = parse_cluster_policy(m.data)
    except InvalidPolicyError as err:
        suppressed = 0
        for issue in err.issues:
            rule = ("NP017" if m.kind == "BaselineAdminNetworkPolicy"
                    and issue.path == "metadata.name" and issue.expected == "'default'" else "NP000")
            if _ignored(m.data, rule):
                suppressed += 1
                continue
            text = str(dataclasses.replace(issue, source=None))
            findings.append(Finding(
                RULES[rule], text.removeprefix(f"{issue.path}: "), file=m.file,
                line=m.line_of(issue.path) if issue.path else m.line, object=label,
                kind=m.kind, path=issue.path))
        return suppressed
    out.append((policy, m))
    return 0


@dataclass
class _CwCtx:
    policies: Sequence[tuple[ClusterWidePolicy, Manifest]]
    has_network_policies: bool
    inventory: _Inventory | None
    findings: list[Finding] = field(default_factory=list)
    suppressed: int = 0

    def report(self, rule_id: str, i: int, path: str, message: str, *,
               fix: str | None = None) -> None:
        policy, src = self.policies[i]
        if _ignored(src.data, rule_id):
            self.suppressed += 1
            return
        self.findings.append(Finding(
            RULES[rule_id], message, file=src.file,
            line=src.line_of(path) if path else src.line, object=policy.key, kind=policy.kind,
            path=path, fix=fix))


def _cw_tier(policy: ClusterWidePolicy) -> tuple[str, int]:
    # the tier and priority netpol_dsl.evaluate._compile_clusterwide gives a policy
    if policy.kind == "AdminNetworkPolicy":
        return "admin", policy.spec.priority
    if policy.kind == "BaselineAdminNetworkPolicy":
        return "baseline", 0
    return policy.spec.tier.lower(), policy.spec.priority


def _cw_rules_of(policy: ClusterWidePolicy) -> Iterator[tuple[str, int, Any]]:
    for direction in ("ingress", "egress"):
        for r_i, rule in enumerate(getattr(policy.spec, direction) or ()):
            yield direction, r_i, rule


def _np013_equal_priority(ctx: _CwCtx) -> None:
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for i, (policy, _) in enumerate(ctx.policies):
        groups[_cw_tier(policy)].append(i)
    for (tier, priority), members in groups.items():
        if len(members) < 2:
            continue
        for i in members:
            others = ", ".join(sorted({ctx.policies[j][0].key for j in members if j != i}))
            policy = ctx.policies[i][0]
            if policy.kind == "BaselineAdminNetworkPolicy":
                ctx.report("NP013", i, "metadata.name",
                           f"another BaselineAdminNetworkPolicy ({others}) is given: a cluster has "
                           "one, and the later object replaces the earlier one",
                           fix="merge the baselines into one object named 'default'")
                continue
            ctx.report("NP013", i, "spec.priority",
                       f"{tier}-tier priority {priority} is also {others}'s: which one applies "
                       "first to a connection both match is undefined upstream (netpol-dsl "
                       "evaluates them by name)")


def _np014_pass_to_nothing(ctx: _CwCtx) -> None:
    has_baseline = any(_cw_tier(p)[0] == "baseline" for p, _ in ctx.policies)
    for i, (policy, _) in enumerate(ctx.policies):
        tier, _prio = _cw_tier(policy)
        for direction, r_i, rule in _cw_rules_of(policy):
            if rule.action != "Pass":
                continue
            path = f"spec.{direction}[{r_i}].action"
            if tier == "baseline":
                ctx.report("NP014", i, path,
                           "Pass in the Baseline tier skips to the default, which allows: this "
                           "rule is an Accept in disguise",
                           fix="write Accept if allowing is meant, or Deny")
            elif not ctx.has_network_policies and not has_baseline:
                ctx.report("NP014", i, path,
                           "no NetworkPolicy or baseline policy is among the linted objects, so "
                           "this Pass reaches the default and allows")


_POD_RANGES = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"))


def _passes_all_pods(rule: Any) -> bool:
    if rule.action not in ("Pass", "Allow", "Accept") or getattr(rule, "ports", None) or getattr(
            rule, "protocols", None):
        return False
    for peer in rule.peers:
        if isinstance(peer.namespaces, LabelSelector) and peer.namespaces.is_empty:
            return True
    return False


def _np015_networks_deny(ctx: _CwCtx) -> None:
    pod_ips = ([ipaddress.ip_address(ip) for pod in ctx.inventory.pods for ip in pod.ips
                if not pod.host_network] if ctx.inventory is not None else [])
    for i, (policy, _) in enumerate(ctx.policies):
        # A policy whose name or intent annotation says deny means to cut everything.
        intent = (policy.metadata.annotations or {}).get(INTENT_ANNOTATION, "")
        if ("deny" in intent.lower()) if intent else _DENY_WORDS.search(policy.name.lower()):
            continue
        covered = False
        rules: Sequence[Any] = policy.spec.egress or ()
        for r_i, rule in enumerate(rules):
            if _passes_all_pods(rule):
                covered = True
            if rule.action != "Deny" or covered:
                continue
            for p_j, peer in enumerate(rule.to):
                for n_k, cidr in enumerate(getattr(peer, "networks", None) or ()):
                    net = ipaddress.ip_network(cidr, strict=False)
                    if ctx.inventory is not None:
                        hits = sum(1 for ip in pod_ips if ip in net)
                        what = f"{hits} pod IP{'s' if hits != 1 else ''} of the inventory"
                    else:
                        hits = int(net.prefixlen == 0 or any(
                            net.version == r.version and net.overlaps(r)
                            for r in _POD_RANGES))
                        what = "addresses pods commonly use"
                    if hits:
                        ctx.report("NP015", i, f"spec.egress[{r_i}].to[{p_j}].networks[{n_k}]",
                                   f"{cidr} covers {what}: networks also match pod IPs, so this "
                                   "Deny cuts pod-to-pod traffic too")


def _peer_key(peer: Any) -> tuple[str, Any] | None:
    """A peer as (kind, value) for comparison; None for shapes not compared (obsolete ones)."""
    from netpol_dsl.model.anp import LegacyNamespacedPod, LegacyNamespaces

    if peer.namespaces is not None:
        if isinstance(peer.namespaces, LegacyNamespaces):
            return None
        return ("pods", (_canon(peer.namespaces.to_dict()), _canon({})))
    if peer.pods is not None:
        if isinstance(peer.pods, LegacyNamespacedPod):
            return None
        ns = peer.pods.namespace_selector
        return ("pods", (_canon(ns.to_dict() if ns is not None else {}),
                         _canon(peer.pods.pod_selector.to_dict())))
    if getattr(peer, "nodes", None) is not None:
        return ("nodes", _canon(peer.nodes.to_dict()))
    if getattr(peer, "networks", None) is not None:
        return ("networks", tuple(ipaddress.ip_network(c, strict=False) for c in peer.networks))
    return ("domains", frozenset(peer.domain_names or ()))


def _peer_covers(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "pods":
        (a_ns, a_pod), (b_ns, b_pod) = a[1], b[1]
        empty = _canon({})
        return bool(a_ns in (empty, b_ns) and a_pod in (empty, b_pod))
    if a[0] == "nodes":
        return bool(a[1] == _canon({}) or a[1] == b[1])
    if a[0] == "networks":
        return all(any(n.version == m.version and n.subnet_of(m) for m in a[1]) for n in b[1])
    return bool(b[1] <= a[1])


def _port_key(port: Any) -> tuple[str, int, int] | str:
    if getattr(port, "named_port", None) is not None:
        return port.named_port  # type: ignore[no-any-return]
    if getattr(port, "destination_named_port", None) is not None:
        return port.destination_named_port  # type: ignore[no-any-return]
    if getattr(port, "port_number", None) is not None:
        return (port.port_number.protocol, port.port_number.port, port.port_number.port)
    if getattr(port, "port_range", None) is not None:
        r = port.port_range
        return (r.protocol, r.start, r.end)
    dest = port.ports.destination_port
    if dest.number is not None:
        return (port.protocol, dest.number, dest.number)
    return (port.protocol, dest.range.start, dest.range.end)


def _ports_cover(a: Any, b: Any) -> bool:
    if a is None:
        return True
    if b is None:
        return False
    keys_a = [_port_key(p) for p in a]
    for pb in (_port_key(p) for p in b):
        if isinstance(pb, str):
            if pb not in keys_a:
                return False
        elif not any(isinstance(pa, tuple) and pa[0] == pb[0] and pa[1] <= pb[1] and pb[2] <= pa[2]
                     for pa in keys_a):
            return False
    return True


def _np016_shadowed(ctx: _CwCtx) -> None:
    for i, (policy, _) in enumerate(ctx.policies):
        for direction in ("ingress", "egress"):
            rules: list[Any] = list(getattr(policy.spec, direction) or ())
            keys = [[_peer_key(p) for p in r.peers] for r in rules]
            # Obsolete-shape peers (None) are not compared.
            peers = [[k for k in ks if k is not None] if None not in ks else None for ks in keys]
            for j, later in enumerate(rules):
                later_peers = peers[j]
                if later_peers is None:
                    continue
                for e, earlier in enumerate(rules[:j]):
                    earlier_peers = peers[e]
                    if earlier_peers is None:
                        continue
                    ports_e = getattr(earlier, "ports", getattr(earlier, "protocols", None))
                    ports_j = getattr(later, "ports", getattr(later, "protocols", None))
                    if all(any(_peer_covers(a, b) for a in earlier_peers) for b in later_peers) \
                            and _ports_cover(ports_e, ports_j):
                        same = "with the same action" if earlier.action == later.action else (
                            f"so its {later.action} never applies ({earlier.action} does)")
                        ctx.report("NP016", i, f"spec.{direction}[{j}]",
                                   f"every connection this rule matches is matched first by "
                                   f"spec.{direction}[{e}], {same}")
                        break


def _np018_domain_names(ctx: _CwCtx) -> None:
    for i, (policy, _) in enumerate(ctx.policies):
        egress: Sequence[Any] = policy.spec.egress or ()
        for r_i, rule in enumerate(egress):
            if rule.action in ("Allow", "Accept"):
                continue
            for p_j, peer in enumerate(rule.to):
                if getattr(peer, "domain_names", None) is not None:
                    ctx.report("NP018", i, f"spec.egress[{r_i}].to[{p_j}].domainNames",
                               f"domainNames in a {rule.action} rule: upstream supports them only "
                               "in Allow/Accept rules (implementations may ignore the rule)")


def _cw_governed(cluster: Sequence[tuple[ClusterWidePolicy, Manifest]], inv: _Inventory) -> set[str]:
    """Keys of the inventory's pods that some cluster-wide policy's subject selects."""
    from netpol_dsl.model.anp import AdminNetworkPolicySubject

    out: set[str] = set()
    for pod in inv.pods:
        if pod.host_network:  # never a subject
            continue
        ns_labels = inv.namespaces.get(pod.namespace, {_NS_NAME_LABEL: pod.namespace})
        for policy, _ in cluster:
            subject = policy.spec.subject
            if subject.namespaces is not None:
                hit = subject.namespaces.matches(ns_labels)
            else:
                pods_sel: Any = subject.pods
                ns_sel = (pods_sel.namespace_selector if isinstance(subject, AdminNetworkPolicySubject)
                          else pods_sel.effective_namespace_selector)
                hit = ns_sel.matches(ns_labels) and pods_sel.pod_selector.matches(pod.labels)
            if hit:
                out.add(pod.key)
                break
    return out


_CLUSTER_RULES = (_np013_equal_priority, _np014_pass_to_nothing, _np015_networks_deny,
                  _np016_shadowed, _np018_domain_names)


_STATIC_RULES = (_np001_or_like_and, _np002_dns, _np005_allow_all_in_deny, _np006_policy_types,
                 _np007_kube_system, _np011_redundant)
_INVENTORY_RULES = (_np003_np004_selectors, _np008_named_ports, _np009_ipblock, _np010_uncovered)
_INVENTORY_IDS = tuple(r.id for r in _RULE_LIST if r.needs_inventory)


def _np019_duplicates(read: Sequence[tuple[_load.KindSpec, Manifest]],
                      findings: list[Finding]) -> int:
    """NP019: two inputs for one object. ``kubectl apply`` applies both in turn, so the last one
    is what the cluster holds (the loader and the evaluator keep it too); the finding is on the
    later input and names both places. Identity is the loader's: API group, kind, namespace (a
    namespaced object without one is in ``default``) and name."""
    seen: dict[tuple[str, str, str | None, str], Manifest] = {}
    suppressed = 0
    for spec, m in read:
        ident = _load._identity(spec, m.data, None)
        if ident is None:
            continue
        key = (spec.group, spec.kind, *ident)
        first = seen.get(key)
        seen[key] = m
        if first is None:
            continue
        if _ignored(m.data, "NP019"):
            suppressed += 1
            continue
        what = f"{ident[0]}/{ident[1]}" if ident[0] else ident[1]
        here = _name_place(m) or "a later input"
        there = _name_place(first) or "an earlier input"
        findings.append(Finding(
            RULES["NP019"],
            f"{spec.kind} {what} is given twice: at {there} and again at {here}; kubectl apply "
            "keeps only the last one, so the first is silently replaced",
            file=m.file, line=m.line_of("metadata.name") or m.line, object=_label(m.data),
            kind=m.kind, path="metadata.name"))
    return suppressed


def _name_place(m: Manifest) -> str | None:
    """``file:line`` of an object's ``metadata.name`` (of the object when unknown)."""
    if m.file is None:
        return None
    line = m.line_of("metadata.name") or m.line
    return f"{m.file}:{line}" if line else m.file


def _sort_key(f: Finding) -> tuple[str, int, str, str]:
    return (f.file or "", f.line or 0, f.rule.id, f.message)


def _lint_read(read: _Read, inventory_objects: Sequence[Manifest] | None,
               select: Iterable[str] | None, ignore: Iterable[str]) -> LintReport:
    policies: list[NetworkPolicy] = []
    sources: list[Manifest] = []
    findings = list(read.findings)
    suppressed = 0
    objects: list[Manifest] = []
    cluster: list[tuple[ClusterWidePolicy, Manifest]] = []
    #: every object read (valid ones), for NP019: the loader's identity of each
    identified: list[tuple[_load.KindSpec, Manifest]] = []
    for m in read.manifests:
        spec, problem = _load.classify(m)
        if spec is not None and spec.loader is None:
            objects.append(m)
            identified.append((spec, m))
            continue
        if spec is not None and is_cluster_policy(m.data):
            before = len(cluster)
            suppressed += _cw_load(m, cluster, findings)
            if len(cluster) > before:
                identified.append((spec, m))
            continue
        if problem is None and (spec is None or spec.kind != "NetworkPolicy"):
            continue  # a kind lint does not read
        label = _label(m.data)
        if problem is not None:
            issues: Sequence[Issue] = [problem]  # a misspelt kind or a removed apiVersion
        else:
            try:
                policy, _ = _load._validate(m.data, lenient_cidr=False, source=None)
            except InvalidPolicyError as err:
                issues = err.issues
            else:
                policies.append(policy)
                sources.append(m)
                if spec is not None:
                    identified.append((spec, m))
                continue
        if _ignored(m.data, "NP000"):
            suppressed += 1
            continue
        for issue in issues:
            findings.append(Finding(
                RULES["NP000"], str(issue).removeprefix(f"{issue.path}: "),
                file=m.file, line=m.line_of(issue.path) if issue.path else m.line,
                object=label, path=issue.path))
    suppressed += _np019_duplicates(identified, findings)
    inventory_src = objects + list(inventory_objects or ())
    has_inventory = inventory_objects is not None or any(
        m.kind != "Namespace" for m in objects)
    inv = _inventory(inventory_src, policies) if has_inventory else None
    ctx = _Ctx(policies, sources, inv)
    for check in _STATIC_RULES:
        check(ctx)
    if inv is not None:
        for check in _INVENTORY_RULES:
            check(ctx)
    cw = _CwCtx(cluster, bool(policies), inv)
    for cw_check in _CLUSTER_RULES:
        cw_check(cw)
    if inv is not None and cluster:
        # NP010 looks at NetworkPolicies; a pod a cluster-wide policy applies to is governed too.
        governed = _cw_governed(cluster, inv)
        ctx.findings = [f for f in ctx.findings
                        if not (f.rule.id == "NP010" and f.object in governed)]
    ctx.findings.extend(cw.findings)
    ctx.suppressed += cw.suppressed
    wanted = {s.upper() for s in select} if select is not None else set(RULES)
    dropped = {s.upper() for s in ignore}
    kept = [f for f in findings + ctx.findings if f.rule.id in wanted and f.rule.id not in dropped]
    skipped = () if inv is not None else tuple(r for r in _INVENTORY_IDS if r in wanted - dropped)
    return LintReport(
        findings=tuple(sorted(kept, key=_sort_key)),
        suppressed=suppressed + ctx.suppressed,
        policies=len(policies) + len(cluster),
        skipped_rules=skipped,
        files=tuple(read.files),
    )


def _check_rule_ids(ids: Iterable[str], what: str) -> None:
    for rid in ids:
        if rid.upper() not in RULES:
            msg = (f"{what}: got {rid!r}; expected a rule id, one of "
                   + ", ".join(repr(r) for r in RULES))
            raise LoadError(msg)


def lint(
    paths: str | Path | Iterable[str | Path],
    *,
    manifests: Iterable[str | Path] | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
) -> LintReport:
    """Lint the NetworkPolicies in files or directories.

    Args:
        paths: YAML/JSON files or directories holding policies (and, optionally, inventory).
        manifests: inventory (Namespaces, Pods, workloads) for the rules that need one.
        select: run only these rule ids.
        ignore: skip these rule ids.

    Returns:
        A ``LintReport``; findings never raise.

    Raises:
        LoadError: a path is missing, not text, or not YAML/JSON; an unknown rule id.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "p.yaml").write_text('''apiVersion: networking.k8s.io/v1
        ... kind: NetworkPolicy
        ... metadata: {name: api, namespace: payments}
        ... spec:
        ...   podSelector: {matchLabels: {app: api}}
        ...   policyTypes: [Ingress]
        ...   egress: [{}]
        ... ''')
        >>> print(lint(d / "p.yaml").findings[0])  # doctest: +ELLIPSIS
        /.../p.yaml:7: NP006 error: payments/api: spec.egress: has 1 egress rule, but policyTypes ['Ingress'] leaves out 'Egress', so they are ignored
    """
    if select is not None:
        select = list(select)
        _check_rule_ids(select, "--select")
    ignore = list(ignore)
    _check_rule_ids(ignore, "--ignore")
    read = _Read()
    _read([paths] if isinstance(paths, (str, Path)) else paths, read)
    inventory: list[Manifest] | None = None
    if manifests is not None:
        inv_read = _Read()
        _read(manifests, inv_read)
        inventory = [m for m in inv_read.manifests if m.kind in _load.cluster_kinds()]
    return _lint_read(read, inventory, select, ignore)


def lint_text(text: str, *, where: str = "<text>",
              manifests: Iterable[str | Path] | None = None) -> LintReport:
    """Lint policies given as YAML text.

    Example:
        >>> r = lint_text('''
        ... apiVersion: networking.k8s.io/v1
        ... kind: NetworkPolicy
        ... metadata: {name: web, namespace: a}
        ... spec:
        ...   podSelector:
        ...     matchLabels: {app: web, app: api}
        ... ''')
        >>> print(r.findings[0])
        <text>:7: NP012 error: a/web: got duplicate key 'app' (first at line 7); YAML keeps only the last value, so the first one is silently lost
    """
    read = _Read()
    _parse_tolerant(text, where, read)
    inventory: list[Manifest] | None = None
    if manifests is not None:
        inv_read = _Read()
        _read(manifests, inv_read)
        inventory = [m for m in inv_read.manifests if m.kind in _load.cluster_kinds()]
    return _lint_read(read, inventory, None, ())

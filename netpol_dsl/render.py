"""Model -> dict / YAML / JSON, byte-for-byte deterministic."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import yaml

from netpol_dsl.errors import RenderError
from netpol_dsl.model import NetworkPolicy
from netpol_dsl.model._clusterwide import ClusterPolicyBase

__all__ = ["to_dict", "to_json", "to_yaml"]

_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

_TOP_ORDER = ("apiVersion", "kind", "metadata", "spec")
#: What renders: NetworkPolicies and the cluster-wide kinds (AdminNetworkPolicy,
#: BaselineAdminNetworkPolicy, ClusterNetworkPolicy).
_RENDERABLE = (NetworkPolicy, ClusterPolicyBase)
_Renderable = NetworkPolicy | ClusterPolicyBase
#: Maps whose keys are data, not fields: sorted so equal objects render identically.
_MAPS = frozenset({"matchLabels", "labels", "annotations"})


def _ordered(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        items = sorted(value.items()) if key in _MAPS else list(value.items())
        return {k: _ordered(v, k) for k, v in items}
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


def to_dict(policy: _Renderable) -> dict[str, Any]:
    """The API-shaped dict of a policy, keys in Kubernetes order, maps sorted.

    Example:
        >>> from netpol_dsl import load_policy
        >>> p = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        ...     "metadata": {"name": "deny", "namespace": "a"}, "spec": {}})
        >>> list(to_dict(p))
        ['apiVersion', 'kind', 'metadata', 'spec']
    """
    if not isinstance(policy, _RENDERABLE):
        msg = (f"to_dict(): got {policy!r} (type={type(policy).__name__}); expected a "
               "NetworkPolicy or a cluster-wide policy (AdminNetworkPolicy, "
               "BaselineAdminNetworkPolicy, ClusterNetworkPolicy)")
        raise RenderError(msg)
    data = policy.to_dict()
    top = {k: data[k] for k in _TOP_ORDER if k in data}
    top.update({k: v for k, v in data.items() if k not in top})
    return _ordered(top)  # type: ignore[no-any-return]


def _as_list(objects: _Renderable | Iterable[_Renderable]) -> list[_Renderable]:
    if isinstance(objects, _RENDERABLE):
        return [objects]
    return list(objects)


def to_yaml(objects: _Renderable | Iterable[_Renderable]) -> str:
    """Render policies as multi-document YAML, deterministic to the byte.

    NetworkPolicies and the cluster-wide kinds may be mixed.

    Example:
        >>> from netpol_dsl import load_policy
        >>> p = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        ...     "metadata": {"name": "deny", "namespace": "a"}, "spec": {"podSelector": {}}})
        >>> print(to_yaml([p]), end="")
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: deny
          namespace: a
        spec:
          podSelector: {}
    """
    docs = [to_dict(p) for p in _as_list(objects)]
    return yaml.dump_all(
        docs,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=4096,
        explicit_start=len(docs) > 1,
    )


def to_json(objects: _Renderable | Iterable[_Renderable], *, indent: int | None = 2) -> str:
    """Render one policy as a JSON object, or several as a ``v1`` ``List``.

    Example:
        >>> from netpol_dsl import load_policy
        >>> p = load_policy({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        ...     "metadata": {"name": "deny", "namespace": "a"}})
        >>> to_json(p, indent=None)
        '{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": "a"}, "spec": {"podSelector": {}}}'
    """
    if isinstance(objects, _RENDERABLE):
        data: Any = to_dict(objects)
    else:
        data = {"apiVersion": "v1", "kind": "List", "items": [to_dict(p) for p in objects]}
    return json.dumps(data, indent=indent, ensure_ascii=False) + ("\n" if indent else "")

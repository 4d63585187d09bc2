"""What both vendor renderers check before rendering."""

from __future__ import annotations

from netpol_dsl.admin import ClusterDefaultDeny, ClusterPolicy
from netpol_dsl.errors import DslUsageError, UnrepresentableError

__all__ = ["baseline_of"]


def baseline_of(obj: object, target: str, why_not: str) -> ClusterDefaultDeny:
    """``obj`` as the default-deny baseline, or a clear refusal naming the target.

    Raises:
        UnrepresentableError: a general cluster-wide policy (``admin(...)``/``baseline(...)``).
        DslUsageError: anything else.

    Example:
        >>> from netpol_dsl.admin import cluster_default_deny
        >>> baseline_of(cluster_default_deny(), "Calico", "").name
        'default-deny'
    """
    if isinstance(obj, ClusterDefaultDeny):
        return obj
    if isinstance(obj, ClusterPolicy):
        msg = f"{target}: cannot render {obj!r}: {why_not}"
        raise UnrepresentableError(msg)
    msg = (f"{target}: got {obj!r} (type={type(obj).__name__}); expected the baseline from "
           "cluster_default_deny()")
    raise DslUsageError(msg)

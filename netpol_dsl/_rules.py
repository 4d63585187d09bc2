"""Kubernetes' value rules: names, labels, ports, CIDRs.

Each check returns a list of reasons (empty when valid), like apimachinery's
``k8s.io/apimachinery/pkg/util/validation`` functions it transcribes.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# apimachinery/pkg/util/validation/validation.go and pkg/api/validate/content (kube.go, dns.go).
# Go's `^...$` without (?m) anchors at the ends of the text, so these use re.fullmatch: Python's
# `$` would also match before a trailing newline ("foo\n" is not a valid name).
_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL)
_DNS1123_SUBDOMAIN_RE = re.compile(rf"{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*")
_QUALIFIED_NAME_RE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE_RE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_PORT_NAME_CHARS_RE = re.compile(r"[-a-z0-9]+")
_PORT_NAME_ONE_LETTER_RE = re.compile(r"[a-z]")

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
QUALIFIED_NAME_MAX = 63
LABEL_VALUE_MAX = 63
PORT_NAME_MAX = 15
ANNOTATIONS_TOTAL_MAX = 256 * 1024  # apimachinery TotalAnnotationSizeLimitB

PROTOCOLS = ("TCP", "UDP", "SCTP")

#: Where a namespaced object without ``metadata.namespace`` lives: ``kubectl apply`` without
#: ``-n`` puts it in the current context's namespace, ``default`` unless configured.
DEFAULT_NAMESPACE = "default"
POLICY_TYPES = ("Ingress", "Egress")
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def namespace_of(namespace: object) -> str:
    """The namespace an object applies in: its own, or ``default`` when it has none.

    Example:
        >>> namespace_of("payments"), namespace_of(None), namespace_of("")
        ('payments', 'default', 'default')
    """
    return namespace if isinstance(namespace, str) and namespace else DEFAULT_NAMESPACE


def _glen(value: str) -> int:
    """Go's ``len()`` of a string: its UTF-8 bytes."""
    return len(value.encode("utf-8", "surrogatepass"))


def mask_trailing_dash(name: str) -> str:
    """apimachinery ``maskTrailingDash``, for names that get a suffix appended (generateName).

    Upstream drops the last *two* characters and appends ``a``; reproduced as written.

    Example:
        >>> mask_trailing_dash("web-"), mask_trailing_dash("-"), mask_trailing_dash("web")
        ('wea', '-', 'web')
    """
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


def dns1123_label(value: str) -> list[str]:
    """Reasons ``value`` is not a DNS-1123 label (``IsDNS1123Label``).

    Example:
        >>> dns1123_label("payments"), len(dns1123_label("Payments"))
        ([], 1)
    """
    errs = []
    if _glen(value) > DNS1123_LABEL_MAX:
        errs.append(f"must be no more than {DNS1123_LABEL_MAX} characters")
    if not _DNS1123_LABEL_RE.fullmatch(value):
        errs.append(
            "a lowercase RFC 1123 label: lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return errs


def dns1123_subdomain(value: str) -> list[str]:
    """Reasons ``value`` is not a DNS-1123 subdomain (``IsDNS1123Subdomain``).

    Example:
        >>> dns1123_subdomain("allow.api-1"), len(dns1123_subdomain("-x"))
        ([], 1)
    """
    errs = []
    if _glen(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(f"must be no more than {DNS1123_SUBDOMAIN_MAX} characters")
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(
            "a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit"
        )
    return errs


def qualified_name(value: str) -> list[str]:
    """Reasons ``value`` is not a label key / qualified name (``IsQualifiedName``).

    Example:
        >>> qualified_name("kubernetes.io/metadata.name"), qualified_name("app")
        ([], [])
        >>> qualified_name("a/b/c")
        ["a qualified name: an optional DNS subdomain prefix and '/', then a name"]
    """
    parts = value.split("/")
    errs: list[str] = []
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("the prefix part must be non-empty")
        else:
            errs.extend(f"the prefix part: {m}" for m in dns1123_subdomain(prefix))
    else:
        return ["a qualified name: an optional DNS subdomain prefix and '/', then a name"]
    if not name:
        errs.append("the name part must be non-empty")
    elif _glen(name) > QUALIFIED_NAME_MAX:
        errs.append(f"the name part must be no more than {QUALIFIED_NAME_MAX} characters")
    if name and not _QUALIFIED_NAME_RE.fullmatch(name):
        errs.append(
            "the name part: alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric"
        )
    return errs


def label_value(value: str) -> list[str]:
    """Reasons ``value`` is not a valid label value (``IsValidLabelValue``); empty is valid.

    Example:
        >>> label_value(""), label_value("v1.2_a-b"), len(label_value("x" * 64))
        ([], [], 1)
    """
    errs = []
    if _glen(value) > LABEL_VALUE_MAX:
        errs.append(f"must be no more than {LABEL_VALUE_MAX} characters")
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(
            "empty, or alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric"
        )
    return errs


def port_number(value: int) -> list[str]:
    """Reasons ``value`` is not a port number 1..65535 (``IsValidPortNum``).

    Example:
        >>> port_number(1), port_number(65535), port_number(0)
        ([], [], ['between 1 and 65535, inclusive'])
    """
    return [] if 1 <= value <= 65535 else ["between 1 and 65535, inclusive"]


def port_name(value: str) -> list[str]:
    """Reasons ``value`` is not an IANA_SVC_NAME (``IsValidPortName``).

    Example:
        >>> port_name("http"), port_name("80")
        ([], ['at least one letter'])
    """
    errs = []
    if _glen(value) > PORT_NAME_MAX:
        errs.append(f"no more than {PORT_NAME_MAX} characters")
    if not _PORT_NAME_CHARS_RE.fullmatch(value):
        errs.append("only lowercase letters, digits and '-'")
    if "--" in value:
        errs.append("no two adjacent hyphens")
    if value.startswith("-") or value.endswith("-"):
        errs.append("no hyphen at the start or end")
    if not _PORT_NAME_ONE_LETTER_RE.search(value):
        errs.append("at least one letter")
    return errs


# ---------------------------------------------------------------------------- CIDRs


@dataclass(frozen=True, slots=True)
class ParsedCIDR:
    """A CIDR as kube-apiserver reads it.

    ``network`` is the network the value denotes, as Go's ``net.ParseCIDR`` returns it and
    ``IPNet.Contains`` uses it (host bits cleared; an IPv4-mapped IPv6 value with a prefix of
    96 or more is the IPv4 network it maps); ``bits`` is the prefix length as written, which
    Go compares for ``except`` (``Mask.Size()``); ``strict_errors`` say why the newest API
    servers (``StrictIPCIDRValidation``) reject a value that older ones stored.
    """

    network: IPNetwork | None
    error: str | None
    strict_errors: tuple[str, ...] = ()
    bits: int = 0


_OCTETS = r"([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)"
_V4_SLOPPY_RE = re.compile(_OCTETS)
_LEADING_ZERO_RE = re.compile(r"(?:^|\.)0[0-9]")


def _parse_ip_sloppy(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address | None, bool]:
    """Parse like ``netutils.ParseIPSloppy``; return (address, had_leading_zeros).

    That is Go's ``netip.ParseAddr`` after stripping leading zeros from a trailing dotted quad
    (k8s.io/utils/net/parse.go ``matchZeros``). Zones (``%eth0``) are refused.
    """
    if "%" in text or not text or not text.isascii():
        return None, False
    m = _V4_SLOPPY_RE.fullmatch(text)
    if m:
        a, b, c, d = map(int, m.groups())
        if a > 255 or b > 255 or c > 255 or d > 255:
            return None, False
        leading = _LEADING_ZERO_RE.search(text) is not None
        # from the integer: the same address, without ipaddress parsing the text again
        return ipaddress.IPv4Address((a << 24) | (b << 16) | (c << 8) | d), leading
    if ":" not in text:
        return None, False
    # IPv6, possibly with an embedded dotted IPv4 tail that may carry leading zeros.
    head, _, tail = text.rpartition(":")
    leading = False
    if "." in tail:
        m = _V4_SLOPPY_RE.fullmatch(tail)
        if not m or any(int(g) > 255 for g in m.groups()):
            return None, False
        leading = any(len(g) > 1 and g.startswith("0") for g in m.groups())
        text = f"{head}:{'.'.join(str(int(g)) for g in m.groups())}"
    try:
        return ipaddress.IPv6Address(text), leading
    except ValueError:
        return None, False


def parse_cidr(value: str) -> ParsedCIDR:
    """Parse a CIDR the way kube-apiserver does (``IsValidCIDRForLegacyField``).

    Example:
        >>> parse_cidr("10.0.0.0/8").network
        IPv4Network('10.0.0.0/8')
        >>> p = parse_cidr("10.0.1.1/4")
        >>> p.network, p.strict_errors
        (IPv4Network('0.0.0.0/4'), ('must not have bits set beyond the prefix length',))
        >>> parse_cidr("10.0.0.1").error
        'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'
    """
    invalid = ParsedCIDR(None, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")
    addr_text, slash, bits_text = value.partition("/")
    # Go dtoi: ASCII digits only, no sign; leading zeros are read (and refused when strict).
    if not slash or not bits_text.isascii() or not bits_text.isdigit() or len(bits_text) > 8:
        return invalid
    addr, leading = _parse_ip_sloppy(addr_text)
    if addr is None:
        return invalid
    bits = int(bits_text)
    if bits > addr.max_prefixlen:
        return invalid
    mapped = isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None
    network: IPNetwork
    if mapped and bits >= 96:
        # Go keeps the 16-byte form, but IPNet.Contains uses the IPv4 form of a masked
        # "::ffff:a.b.c.d" and the last 32 bits of the mask: the IPv4 network /(bits-96).
        assert isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None
        network = ipaddress.IPv4Network((addr.ipv4_mapped, bits - 96), strict=False)
    else:
        network = ipaddress.ip_network((addr, bits), strict=False)
    strict: list[str] = []
    # apimachinery parseCIDR strict checks, first failure only, in upstream's order.
    if leading or (len(bits_text) > 1 and bits_text.startswith("0")):
        strict.append("must not have leading 0s in IP or prefix length")
    elif mapped:
        strict.append("must not have an IPv4-mapped IPv6 address")
    elif ipaddress.ip_network((addr, bits), strict=False).network_address != addr:
        strict.append("must not have bits set beyond the prefix length")
    return ParsedCIDR(network, None, tuple(strict), bits)


def is_ip(value: str) -> bool:
    """Whether ``value`` is an IP address as Kubernetes reads pod IPs (``parse_ip`` is not None).

    Example:
        >>> is_ip("10.0.0.1"), is_ip("10.0.0.01"), is_ip("::1"), is_ip("nope")
        (True, True, True, False)
    """
    return type(value) is str and ip_int(value) is not None


def ip_int(text: str) -> tuple[int, int] | None:
    """``(version, integer)`` of an IP address as Kubernetes reads it, or None.

    Example:
        >>> ip_int("10.0.0.1"), ip_int("nope")
        ((4, 167772161), None)
    """
    try:
        # Fast path for plain dotted quads; glibc's inet_pton refuses leading zeros, so what it
        # accepts means the same to Go's parser. Everything else takes the exact slow path.
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError, TypeError):
        pass
    addr = parse_ip(text)
    if addr is None:
        return None
    return addr.version, int(addr)


def parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Parse an IP address as Kubernetes reads pod IPs (sloppy), or None.

    Example:
        >>> parse_ip("10.0.0.1"), parse_ip("nope")
        (IPv4Address('10.0.0.1'), None)
    """
    addr, _ = _parse_ip_sloppy(value)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr

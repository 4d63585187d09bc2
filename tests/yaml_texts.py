"""Generated YAML texts for the loader's tests: manifest-like documents whose keys and scalars
are drawn from the shapes on which YAML readers disagree (YAML 1.1 booleans, octal, sexagesimal,
timestamps, ``~``, ``.inf``, ``<<``...), written plain, quoted, folded or as block scalars, with
comments, and optionally damaged (characters inserted or deleted, lines re-indented)."""

from __future__ import annotations

import random

#: Plain scalars that YAML 1.1 (PyYAML, go-yaml) and a JSON-minded reader may read differently.
RISKY = [
    "yes", "Yes", "no", "NO", "on", "off", "true", "True", "false", "FALSE", "null", "Null", "~",
    "", "0", "-0", "00", "0777", "0o17", "0x1F", "0b101", "1_000", "12:30", "1:20:30", "+12",
    "-1", "1e3", "1.0e+3", "1.5", ".5", "5.", "-.inf", ".inf", ".nan", "inf", "nan", "NaN",
    "Infinity", "2001-12-14", "2001-12-14T21:59:43Z", "2001-1-1 10:00:00", "=", "<<", "y", "n",
    "-", "-x", "+", "1e+3", "0.", "1__0", "123456789012345678901234567890", "TRUE", "Off", "0xg",
    "12e", "1.2e-3", "- x", "? x", "*a", "&a", "!x", "%x", "|", "a|b", ">x", "@x", "`x", "a,b",
    "foo#bar", "é", "日本",
]
#: Scalars of real manifests (ports, IPs, names, versions, hashes...).
PLAIN = [
    "nginx", "TCP", "UDP", "true", "false", "null", "8080", "0", "-1", "10.64.2.28",
    "10.0.0.0/8", "1.2.3", "v1", "apps/v1", "kube-system", "node-3", "a b c", "x:y", "foo#bar",
    "é日本", "3scale", "58a909e7-98c9", "2m74rngr44", "Ingress", "ReplicaSet",
    "registry.example.com/a/b:9.1", "http://x/y?z=1", "a,b", "o'neil", 'say "hi"', "yesterday",
    "nothing", "offset", "online", "trueish", "Nullable", "inform", "nanny", "-x", "--x", "+x",
    ".x", "~x", "<x", "=x", "1.5.6", "1-2", "12-34-56", "2001", "100%", "50m", "128Mi", "1e",
    "e3", "0x", "0b", "",
]
KEYS = ["apiVersion", "kind", "metadata", "name", "namespace", "labels", "app", "spec", "ports",
        "port", "protocol", "x-y", "k8s.io/x", "a b", "é"]
RISKY_KEYS = ["on", "yes", "80", "true", "null", "1.5", "~", "'80'", '"yes"', "<<", "0x1F"]


def _scalar(r: random.Random, indent: int, risk: float) -> str:
    token = r.choice(RISKY) if r.random() < risk else r.choice(PLAIN)
    style = r.random()
    if style < 0.6:
        return token
    if style < 0.72:
        return "'" + token.replace("'", "''") + "'"
    if style < 0.86:
        escape = r.choice(["", "", "\\n", "\\t", '\\"', "\\\\", "\\/", "\\x41", "\\e", "\\ "])
        return '"' + token.replace("\\", "\\\\").replace('"', '\\"') + escape + '"'
    if style < 0.94:
        pad = " " * (indent + r.choice([1, 2, 4]))
        header = r.choice(["|", "|-", "|+", ">", ">-", ">+"]) + r.choice(["", "  # c"])
        lines = [r.choice([*PLAIN, "  more indented", "", "text line"])
                 for _ in range(r.randint(1, 4))]
        return header + "\n" + "\n".join(pad + line if line else r.choice(["", pad])
                                         for line in lines)
    if style < 0.97:
        quote = r.choice(["'", '"'])
        pad = " " * (indent + r.choice([1, 2]))
        return (quote + "line one\n" + pad + r.choice(PLAIN).replace(quote, "")
                + r.choice(["", "\n"]) + quote)
    pad = " " * (indent + r.choice([1, 2, 3]))
    return token + "\n" + pad + r.choice(PLAIN + RISKY[:5])  # a plain scalar over two lines


def _block(r: random.Random, depth: int, indent: int, risk: float) -> str:
    pad = " " * indent
    out: list[str] = []
    if depth == 0 or r.random() < 0.6:
        seen: set[str] = set()
        for _ in range(r.randint(1, 5)):
            key = r.choice(RISKY_KEYS) if r.random() < risk else r.choice(KEYS)
            if key in seen and r.random() < 0.9:
                continue
            seen.add(key)
            space = r.choice([" ", " ", " ", "  "])
            if r.random() < 0.35 and depth < 4:
                out.append(f"{pad}{key}:" + r.choice(["", "", " # c"]))
                out.append(_block(r, depth + 1, indent + r.choice([0, 1, 2, 2, 4]), risk))
            elif r.random() < 0.08:
                out.append(f"{pad}{key}:{space}" + r.choice(["{}", "[]"]))
            else:
                value = _scalar(r, indent, risk)
                comment = "" if "\n" in value else r.choice(["", "", " # c: yes"])
                out.append(f"{pad}{key}:{space}{value}{comment}")
    else:
        for _ in range(r.randint(1, 4)):
            if r.random() < 0.35 and depth < 4:
                out.append(pad + "- " + _block(r, depth + 1, indent + 2, risk).lstrip(" "))
            else:
                out.append(f"{pad}-{r.choice([' ', ' ', '  '])}{_scalar(r, indent, risk)}")
    if r.random() < 0.1:
        out.append(pad + "# comment: yes")
    if r.random() < 0.1:
        out.append("")
    return "\n".join(out)


def damage(r: random.Random, text: str) -> str:
    """Insert or delete a few characters, or re-indent a line."""
    for _ in range(r.randint(1, 4)):
        at = r.randrange(len(text) + 1)
        op = r.random()
        if op < 0.45:
            text = text[:at] + r.choice(
                [" ", "\n", "\n  ", "- ", ": ", "'", '"', "#", "x", "1", "-", ":", "  ", "\n- ",
                 "yes", "0", "[", "{", "&a ", "*a", "!", "|", ">", "\t", "\r", "\\", "---\n"]
            ) + text[at:]
        elif op < 0.85:
            text = text[:at] + text[at + r.randint(1, 3):]
        else:
            lines = text.split("\n")
            i = r.randrange(len(lines))
            lines[i] = " " * r.randint(0, 3) + lines[i].lstrip(" ")
            text = "\n".join(lines)
    return text


def stream(r: random.Random, *, risk: float = 0.05, damaged: bool = False) -> str:
    """A YAML stream of one to four documents."""
    docs = [_block(r, 0, 0, risk) + "\n" for _ in range(r.randint(1, 4))]
    text = r.choice(["", "---\n", "# head\n---\n"]) + "---\n".join(docs)
    return damage(r, text) if damaged else text

"""Where each key and array element of a TOML document is: ``{path: line}``.

:mod:`tomllib` gives values without positions; error messages about a policy
file must name the line.  :func:`key_lines` re-scans the text (already known
to be valid TOML, so the scanner can be simple) and records, for every key and
every array element, the 1-based line it starts on.

Paths are tuples of keys (``str``) and 0-based indices (``int``), the same
shape as the parsed document: ``("zones", 1, "authorised", "callsigns", 0)``
for the first callsign pattern of the second ``[[zones]]`` table.  Tables and
arrays of tables (``[a.b]``, ``[[a]]``) are recorded at their header line.
"""

from __future__ import annotations

Path = tuple


def key_lines(text: str) -> dict[Path, int]:
    """Line of every key, table header and array element in ``text``."""
    return _Scanner(text).run()


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """Line of ``path``, or of its nearest recorded ancestor."""
    p = tuple(path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return None


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.line = 1
        self.out: dict[Path, int] = {}
        self.aot: dict[Path, int] = {}  # array-of-tables path -> elements so far

    # ------------------------------------------------------------- characters
    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def adv(self, n: int = 1) -> None:
        for _ in range(n):
            if self.i < len(self.s):
                if self.s[self.i] == "\n":
                    self.line += 1
                self.i += 1

    def skip_ws(self, newlines: bool) -> None:
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.adv()
            elif c == "#":
                while self.i < len(self.s) and self.s[self.i] != "\n":
                    self.i += 1
            else:
                return

    def string(self) -> str:
        """Consume a string at the cursor and return its (raw) content."""
        q = self.peek()
        if self.s.startswith(q * 3, self.i):
            end = self.s.find(q * 3, self.i + 3)
            while self.s.startswith(q, end + 3):  # up to two quotes may close a multi-line string
                end += 1
            body = self.s[self.i + 3 : end]
            self.adv(end + 3 - self.i)
            return body
        j = self.i + 1
        while self.s[j] != q:
            j += 2 if (q == '"' and self.s[j] == "\\") else 1
        body = self.s[self.i + 1 : j]
        self.adv(j + 1 - self.i)
        return body

    def key(self) -> tuple[str, ...]:
        """A (dotted) key, bare or quoted."""
        parts = []
        while True:
            self.skip_ws(False)
            if self.peek() in "\"'":
                parts.append(self.string())
            else:
                j = self.i
                while j < len(self.s) and (self.s[j].isalnum() or self.s[j] in "_-"):
                    j += 1
                parts.append(self.s[self.i : j])
                self.adv(j - self.i)
            self.skip_ws(False)
            if self.peek() == ".":
                self.adv()
                continue
            return tuple(parts)

    # ------------------------------------------------------------- structure
    def run(self) -> dict[Path, int]:
        table: Path = ()
        while True:
            self.skip_ws(True)
            if self.i >= len(self.s):
                return self.out
            if self.peek() == "[":
                table = self.header()
            else:
                self.keyval(table)

    def resolve(self, keys: tuple[str, ...]) -> Path:
        """A header's dotted key with the current index of each array of tables in it."""
        path: Path = ()
        for k in keys:
            path += (k,)
            if path in self.aot:
                path += (self.aot[path] - 1,)
        return path

    def header(self) -> Path:
        line = self.line
        double = self.s.startswith("[[", self.i)
        self.adv(2 if double else 1)
        keys = self.key()
        self.adv(2 if double else 1)
        if double:
            base = self.resolve(keys[:-1]) + (keys[-1],)
            n = self.aot.get(base, 0)
            self.aot[base] = n + 1
            self.out.setdefault(base, line)
            path = base + (n,)
        else:
            path = self.resolve(keys)
        self.out[path] = line
        return path

    def keyval(self, table: Path) -> None:
        line = self.line
        path = table + self.key()
        self.out[path] = line
        self.adv()  # '='
        self.skip_ws(False)
        self.value(path)

    def value(self, path: Path) -> None:
        c = self.peek()
        if c in "\"'":
            self.string()
        elif c == "[":
            self.adv()
            n = 0
            while True:
                self.skip_ws(True)
                if self.peek() == "]":
                    self.adv()
                    return
                self.out[path + (n,)] = self.line
                self.value(path + (n,))
                n += 1
                self.skip_ws(True)
                if self.peek() == ",":
                    self.adv()
        elif c == "{":
            self.adv()
            while True:
                self.skip_ws(False)
                if self.peek() == "}":
                    self.adv()
                    return
                self.keyval(path)
                self.skip_ws(False)
                if self.peek() == ",":
                    self.adv()
        else:  # number, bool, date-time: up to a delimiter
            while self.i < len(self.s) and self.s[self.i] not in ",]}\n#":
                self.adv()

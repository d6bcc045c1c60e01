"""Bad policy files through the CLI: one line naming the file and the line, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from skyfence.cli import main

ROOT = Path(__file__).resolve().parents[1]
TRACK = ROOT / "tests" / "data" / "cli" / "turkey_syria.csv"

GOOD = """\
[policy]
name = "t"

[[zones]]
name = "turkey"
match = ["TUR"]
min_duration_s = 1.0
schedule = [
  { from = 2015-01-01T00:00:00Z, until = 2015-06-01T00:00:00Z },
  { from = 2015-06-01T00:00:00Z, until = 2016-01-01T00:00:00Z },
  { days = ["mon", "tue"], from = "08:00", until = "12:00" },
]

[zones.authorised]
states = ["TUR"]
callsigns = ['^THY[0-9]+$', '^PGT']

[[zones.ring]]
distance = "15 NM"
along = ["SYR"]

[[clearance]]
id = "C1"
icao24 = ["3b7777"]
zones = ["TUR"]
from = 2015-11-24T06:00:00Z
until = 2015-11-24T10:00:00Z
"""


def _line(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for no, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return no
    raise AssertionError(needle)


CASES = [
    # (replace, with, the line's marker in the new text, words in the message)
    ("min_duration_s = 1.0", "min_duration = 1.0", "min_duration = 1.0", "unknown key; did you mean 'min_duration_s'"),
    ("[zones.authorised]\n", "[zones.authorised]\nstate = [\"TUR\"]\n", "state = [", "unknown key"),
    ('distance = "15 NM"', 'distance = "15 NM"\nrepeat = 30', "repeat = 30", "unknown key"),
    ("'^PGT'", "'^PGT('", "callsigns = ", "bad regular expression '^PGT('"),
    ("until = 2015-06-01T00:00:00Z }", "until = 2015-06-02T00:00:00Z }", "{ from = 2015-06-01", "overlaps the one on line 9"),
    ("{ from = 2015-01-01T00:00:00Z, until = 2015-06-01T00:00:00Z }",
     "{ from = 2015-06-01T00:00:00Z, until = 2015-01-01T00:00:00Z }", "{ from = 2015-06-01T00:00:00Z, until = 2015-01",
     "inverted time window"),
    ('from = "08:00", until = "12:00"', 'from = "12:00", until = "08:00"', 'from = "12:00"', "inverted time window"),
    ("until = 2015-11-24T10:00:00Z", "until = 2015-11-24T05:00:00Z", "until = 2015-11-24T05", "inverted time window"),
    ('match = ["TUR"]', 'match = ["TUR", "GRC"]', 'match = ["TUR", "GRC"]', "zone pattern 'GRC' matches none"),
    ('zones = ["TUR"]', 'zones = ["LS*"]', 'zones = ["LS*"]', "zone pattern 'LS*' matches none"),
    ('along = ["SYR"]', 'along = ["CHE"]', "[[zones.ring]]", "shares no border with CHE"),
    ('distance = "15 NM"', 'distance = "15 parsecs"', "distance = ", "expected a distance"),
    ('states = ["TUR"]', 'states = ["Turkey"]', "states = ", "ISO 3166-1 alpha-3"),
    ("[[clearance]]", "[[clearance]]\nnotes = 1", "notes = 1", "unknown key"),
    ('name = "t"', 'name = "t"\nname = "u"', 'name = "u"', "not valid TOML"),
    ('[[clearance]]', '[[zones]]\nname = "turkey"  # again\nmatch = ["SYR"]\n\n[[clearance]]', "# again",
     "name 'turkey' already used"),
    ('until = 2015-11-24T10:00:00Z', 'until = 2015-11-24T10:00:00Z\n\n[[clearance]]\nid = "C2"\n'
     'icao24 = ["3B7777"]\nzones = ["TUR"]\nfrom = 2015-11-24T09:00:00Z\nuntil = 2015-11-24T11:00:00Z',
     'from = 2015-11-24T09', "time window overlaps clearance 'C1' (line 22) for 3b7777"),
]


@pytest.mark.parametrize(("old", "new", "marker", "message"), CASES)
def test_bad_policy_names_file_and_line(tmp_path: Path, capsys, old: str, new: str, marker: str, message: str) -> None:
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    pol = tmp_path / "bad.toml"
    pol.write_text(text, encoding="utf-8")
    rc = main(["detect", str(TRACK), "--zones", "world:TUR,SYR", "--policy", str(pol), "-q", "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"skyfence: error: {pol}:{_line(text, marker)}: "), (err, _line(text, marker))
    assert message in err, err


def test_good_policy_runs(tmp_path: Path, capsys) -> None:
    pol = tmp_path / "good.toml"
    pol.write_text(GOOD, encoding="utf-8")
    rc = main(["detect", str(TRACK), "--zones", "world:TUR,SYR", "--policy", str(pol), "-o", str(tmp_path / "o.jsonl")])
    assert rc == 0
    assert "verdicts:" in capsys.readouterr().err


def test_no_traceback_from_a_fresh_process(tmp_path: Path) -> None:
    pol = tmp_path / "bad.toml"
    pol.write_text(GOOD.replace("'^PGT'", "'[PGT'"), encoding="utf-8")
    exe = Path(sys.executable).with_name("skyfence")
    p = subprocess.run([str(exe), "detect", str(TRACK), "--zones", "world:TUR",
                        "--policy", str(pol)], capture_output=True, text=True)  # fmt: skip
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [p.stderr.strip()]
    assert f"{pol}:{_line(GOOD, 'callsigns =')}: field 'zones[1].authorised.callsigns[2]'" in p.stderr


def test_incidents_without_policy_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["detect", str(TRACK), "--incidents", str(tmp_path / "i.jsonl")]) == 2
    assert "--incidents and --warnings need --policy" in capsys.readouterr().err


def test_ring_along_an_unknown_state(tmp_path: Path, capsys) -> None:
    text = GOOD.replace('along = ["SYR"]', 'along = ["SYX"]')
    pol = tmp_path / "bad.toml"
    pol.write_text(text, encoding="utf-8")
    assert main(["detect", str(TRACK), "--zones", "world:TUR", "--policy", str(pol), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"skyfence: error: {pol}:{_line(text, '[[zones.ring]]')}: ring '15NM': along: unknown country code 'SYX'")


def test_missing_policy_file(tmp_path: Path, capsys) -> None:
    assert main(["detect", str(TRACK), "--policy", str(tmp_path / "absent.toml")]) == 2
    assert capsys.readouterr().err == f"skyfence: error: {tmp_path / 'absent.toml'}: cannot read policy file: No such file or directory\n"

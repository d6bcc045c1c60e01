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
    ("'^PGT'", "'^PGT{99999999999}'", "callsigns = ", "bad regular expression '^PGT{99999999999}'"),
    ('name = "t"', 'name = "t"\nowner = ["TUR", "SYR"]', "owner = ", "expected one ISO 3166-1 alpha-3 code"),
    ('days = ["mon", "tue"]', "days = []", "days = []", "no day given"),
    ('days = ["mon", "tue"]', 'days = ["monkey"]', 'days = ["monkey"]', "unknown day 'monkey'"),
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


WATCHLIST = """\
$ICAO,$Registration,$Operator,$Type,$ICAO Type,#CMPG,$Tag 1,$#Tag 2,$#Tag 3,Category,$#Link
4BA9C1,TC-XYZ,Turkish Air Force,Airbus A400M,A400,Mil,Transport,,,Other Air Forces,
4BA9CZ,TC-BAD,x,y,z,Mil,,,,,
4ba9c1,TC-DUP,x,y,z,Civ,,,,,
"""


def test_policy_watchlist_is_used_and_its_skipped_rows_reported(tmp_path: Path, capsys) -> None:
    import json

    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "wl.csv").write_text(WATCHLIST, encoding="utf-8")
    pol = tmp_path / "p.toml"
    pol.write_text('[policy]\nwatchlists = ["lists/wl.csv"]\n\n[[zones]]\nmatch = ["TUR"]\n', encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert main(["detect", str(TRACK), "--zones", "world:TUR", "--policy", str(pol), "-o", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    wl = tmp_path / "lists" / "wl.csv"
    assert err[:3] == [
        f"skyfence: warning: {wl}:3: bad ICAO address '4BA9CZ' (not 6 hex digits): row skipped",
        f"skyfence: warning: {wl}:4: address 4ba9c1 already listed on line 2: row skipped",
        f"skyfence: {wl}: 1 aircraft read, 2 rows skipped",
    ]
    (ep,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert (ep["category"], ep["identity_source"]) == ("military", "watchlist")
    assert main(["detect", str(TRACK), "--zones", "world:TUR", "--policy", str(pol), "-q", "-o", str(out)]) == 0
    assert capsys.readouterr().err == ""


def test_policy_watchlist_missing_or_not_a_watchlist(tmp_path: Path, capsys) -> None:
    pol = tmp_path / "p.toml"
    pol.write_text('[policy]\nname = "x"\nwatchlists = ["ok.csv",\n  "absent.csv"]\n\n[[zones]]\nmatch = ["TUR"]\n')
    (tmp_path / "ok.csv").write_text(WATCHLIST, encoding="utf-8")
    assert main(["detect", str(TRACK), "--zones", "world:TUR", "--policy", str(pol), "-q"]) == 2
    assert capsys.readouterr().err == (f"skyfence: error: {pol}:4: field 'policy.watchlists[2]': "
                                       f"no such watchlist file: {tmp_path / 'absent.csv'}\n")
    (tmp_path / "absent.csv").mkdir()
    assert main(["detect", str(TRACK), "--zones", "world:TUR", "--policy", str(pol), "-q"]) == 2
    assert capsys.readouterr().err == (f"skyfence: error: {pol}:4: field 'policy.watchlists[2]': "
                                       f"watchlist {tmp_path / 'absent.csv'} is a folder, not a file\n")
    (tmp_path / "absent.csv").rmdir()
    (tmp_path / "absent.csv").write_bytes(b"\x00\x01binary")
    assert main(["detect", str(TRACK), "--zones", "world:TUR", "--policy", str(pol), "-q"]) == 2
    assert capsys.readouterr().err == f"skyfence: error: {tmp_path / 'absent.csv'}: not a plane-alert-db watchlist: binary content\n"


def test_yaml_policy_file_is_told_to_be_toml(tmp_path: Path, capsys) -> None:
    pol = tmp_path / "p.yaml"
    pol.write_text("zones:\n  - match: [TUR]\n", encoding="utf-8")
    assert main(["detect", str(TRACK), "--policy", str(pol)]) == 2
    assert capsys.readouterr().err.startswith(
        f"skyfence: error: {pol}:1: not valid TOML (policy files are TOML; YAML and JSON are not read): ")


def test_policy_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    pol = tmp_path / "p.toml"
    pol.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert main(["detect", str(TRACK), "--zones", "world:TUR,SYR", "--policy", str(pol), "-q",
                 "-o", str(tmp_path / "o.jsonl")]) == 0  # fmt: skip


def test_binary_or_non_utf8_policy_file(tmp_path: Path, capsys) -> None:
    pol = tmp_path / "p.toml"
    pol.write_bytes(b'[policy]\nname = "Zo\xeb"\n')  # Latin-1, not UTF-8
    assert main(["detect", str(TRACK), "--policy", str(pol)]) == 2
    assert capsys.readouterr().err == f"skyfence: error: {pol}:2: not a TOML policy file: byte 0xeb is not UTF-8 text\n"
    pol.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00")
    assert main(["detect", str(TRACK), "--policy", str(pol)]) == 2
    assert capsys.readouterr().err.startswith(f"skyfence: error: {pol}:1: not valid TOML: ")


@pytest.mark.parametrize("option", ["-o", "--incidents", "--warnings"])
def test_output_in_a_missing_folder_fails_before_any_work(tmp_path: Path, capsys, option: str) -> None:
    pol = tmp_path / "p.toml"
    pol.write_text(GOOD, encoding="utf-8")
    target = tmp_path / "no" / "such" / "out.csv"
    # the tracks file does not exist either: the output is checked first, before anything is read
    rc = main(["detect", str(tmp_path / "absent.csv"), "--zones", "world:TUR", "--policy", str(pol), option, str(target)])
    assert rc == 2
    assert capsys.readouterr().err == f"skyfence: error: {target}: cannot write: folder {target.parent} does not exist\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.toml"]


def test_side_tables_must_not_overwrite_the_episodes(tmp_path: Path, capsys) -> None:
    pol = tmp_path / "p.toml"
    pol.write_text(GOOD, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    rc = main(["detect", str(TRACK), "--zones", "world:TUR", "--policy", str(pol), "-o", str(out),
               "--warnings", str(tmp_path / "." / "out.jsonl")])  # fmt: skip
    assert rc == 2
    assert capsys.readouterr().err == (f"skyfence: error: --warnings and -o name the same file "
                                       f"'{tmp_path / '.' / 'out.jsonl'}'; one would overwrite the other\n")

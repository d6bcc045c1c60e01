"""Aircraft identity: ICAO allocation blocks, military blocks, callsign rules, watchlists."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import skyfence
from skyfence import InputError
from skyfence.cli import main
from skyfence.identity import COLUMNS, identify, read_watchlist
from skyfence.identity._blocks import BLOCKS, format_icao24, load_blocks, parse_icao24
from skyfence.identity._rules import RULES, load_rules
from skyfence.identity._watchlist import WatchlistError

SAMPLE = Path(__file__).resolve().parent / "data" / "identity" / "plane-alert-sample.csv"


def one(icao24, callsign=None, **kw) -> dict:
    return identify([icao24], None if callsign is None else [callsign], **kw).to_pylist()[0]


# --- state of registry from the ICAO allocation blocks -----------------------------------------

def test_known_examples_resolve_to_their_state():
    t = identify(["4b8e2a", "3B7777", "ae0455"])
    assert t.column_names == list(COLUMNS)
    assert t.schema == pa.schema([(c, pa.string()) for c in COLUMNS])
    assert t.column("country").to_pylist() == ["Turkey", "France", "United States"]
    assert t.column("state").to_pylist() == ["TUR", "FRA", "USA"]
    assert t.column("icao24").to_pylist() == ["4b8e2a", "3b7777", "ae0455"]
    assert t.column("tags").to_pylist() == ["", "", ""]


def test_every_turkish_address_is_turkey():
    addr = np.arange(0x4B8000, 0x4C0000, dtype=np.uint32)
    assert set(identify(addr).column("state").to_pylist()) == {"TUR"}


@pytest.mark.parametrize(("addr", "state"), [
    (0x4B8000, "TUR"), (0x4BFFFF, "TUR"), (0x4B7FFF, "CHE"), (0x4C0000, "SRB"),   # first / last of a block
    (0x380000, "FRA"), (0x3BFFFF, "FRA"), (0x37FFFF, "ESP"),
    (0xA00000, "USA"), (0xAFFFFF, "USA"),
    (0x899000, "TWN"),                       # Taiwan: same range as "ICAO special use"; the state wins
    (0x718000, "KOR"), (0x720000, "PRK"),    # no fuzzy matching: Republic of Korea is not North Korea
])
def test_block_boundaries(addr, state):
    assert one(addr)["state"] == state


def test_address_in_no_block_and_in_an_unassigned_reserve():
    nothing = one(0x000001)
    assert nothing["state"] is None and nothing["country"] is None
    assert nothing["source"] == "none" and nothing["confidence"] == "low"
    assert "no ICAO allocation block" in nothing["evidence"]
    reserve = one(0x516400)            # EUR/NAT reserve between state blocks
    assert reserve["state"] is None and reserve["category"] == "unknown"
    assert "Unassigned (EUR / NAT regions)" in reserve["evidence"]


def test_plain_block_gives_state_but_unknown_category():
    r = one("4b8e2a")
    assert (r["category"], r["source"], r["confidence"]) == ("unknown", "block", "medium")
    assert r["evidence"] == "ICAO allocation 4b8000-4bffff: Turkey"


def test_block_state_codes_are_world_zone_ids():
    world = {z.id for z in skyfence.read_zones("world")}
    blocks = load_blocks()
    states = {s for s in blocks.state if s}
    assert len(states) >= 180
    assert states <= world, states - world


def test_derived_file_is_sorted_disjoint_and_cites_its_source():
    raw = json.loads(BLOCKS.read_text(encoding="utf-8"))
    start, end = np.array(raw["start"]), np.array(raw["end"])
    assert np.all(start[1:] > end[:-1]) and np.all(end >= start)
    assert "traffic" in raw["source"] and raw["licence"].startswith("MIT")


@pytest.mark.shared
def test_derived_blocks_agree_with_the_shared_registers(shared_data):
    """Every state block of the source resolves to that state (the flattening lost nothing)."""
    src = json.loads((shared_data / "identity" / "icao-registers.json").read_text(encoding="utf-8"))
    for rec in src["registers"]:
        if "start" not in rec or rec["country"].startswith(("Unassigned", "ICAO")):
            continue
        lo, hi = int(rec["start"], 16), int(rec["end"], 16)
        names = set(identify([lo, hi, (lo + hi) // 2]).column("country").to_pylist())
        assert len(names) == 1 and None not in names, (rec["country"], names)


# --- input handling ---------------------------------------------------------------------------

def test_integers_strings_numpy_and_arrow_give_the_same_identity():
    ref = identify(["4b8e2a", "3b7777"])
    assert identify([0x4B8E2A, 0x3B7777]).equals(ref)
    assert identify(np.array([0x4B8E2A, 0x3B7777], dtype=np.uint32)).equals(ref)
    assert identify(pa.array(["4B8E2A", "3b7777"])).equals(ref)
    assert identify(np.array(["4b8e2a", "3b7777"])).equals(ref)
    assert identify([]).num_rows == 0


@pytest.mark.parametrize("bad", ["4b8e2", "4b8e2a1", "zzzzzz", None, "4b8e2 ", "4b8e2é", 0x1000000, -1])
def test_bad_address_is_an_input_error_naming_the_element(bad):
    with pytest.raises(InputError, match="element 1"):
        identify(["4b8e2a", bad] if isinstance(bad, (str, type(None))) else [0x4B8E2A, bad])


def test_callsigns_of_another_length_are_an_input_error():
    with pytest.raises(InputError, match="2 callsigns for 1 addresses"):
        identify(["4b8e2a"], ["A", "B"])


def test_format_and_parse_round_trip():
    x = np.random.default_rng(1).integers(0, 1 << 24, 10_000).astype(np.uint32)
    assert np.array_equal(parse_icao24(format_icao24(x)), x)


def test_lazy_export():
    assert skyfence.identify is identify and skyfence.read_watchlist is read_watchlist
    assert "identify" in skyfence.__all__ and "read_watchlist" in skyfence.__all__


# --- military blocks ------------------------------------------------------------------------

READSB = "readsb aircraft.c updateTypeReg()"


@pytest.mark.parametrize(("addr", "state", "cited"), [
    (0xADF7C8, "USA", "united states mil"), (0xAFFFFF, "USA", "united states mil"), (0xAE0455, "USA", "united states"),
    (0x43C000, "GBR", "united kingdom mil(ra)"), (0x3B7777, "FRA", "france mil_2"), (0x3AA000, "FRA", "france mil_1"),
    (0x4B8200, "TUR", "turkey mil(tq)"), (0x4B82FF, "TUR", "turkey mil(tq)"), (0xC20000, "CAN", "canada mil"),
    (0x3F4000, "DEU", "germany mil_2"), (0x738A00, "ISR", "israel mil"),
])
def test_military_blocks_with_their_cited_source(addr, state, cited):
    r = one(addr)
    assert (r["state"], r["category"], r["source"], r["confidence"]) == (state, "military", "military-block", "medium")
    rules = load_rules()
    i = int(rules.military.find(np.array([addr], dtype=np.uint32))[0])
    assert READSB in rules.military.source[i] and cited in rules.military.source[i]


@pytest.mark.parametrize("addr", [0xADF7C7, 0x43BFFF, 0x43D000, 0x3B6FFF, 0x4B81FF, 0x4B8300, 0x506F40])
def test_just_outside_military_blocks(addr):
    # adf7c7 is N99999, the last civil N-number; 506f40 is Slovenia's range readsb disables
    assert one(addr)["category"] == "unknown"


def test_every_military_block_lies_in_its_states_allocation_and_cites_a_source():
    rules, blocks = load_rules(), load_blocks()
    m = rules.military
    ends = blocks.find(np.concatenate([m.start, m.end]))
    n = len(m.start)
    assert n >= 30
    for k in range(n):
        assert blocks.state[ends[k]] == blocks.state[ends[n + k]] == m.state[k], f"{int(m.start[k]):06x}"
        assert m.source[k]
    raw = json.loads(RULES.read_text(encoding="utf-8"))
    assert all(r["source"] for r in raw["callsigns"])


# --- callsign rules -------------------------------------------------------------------------

def test_callsign_rule_and_military_block_agree():
    r = one("3b7777", "FAF4011")
    assert (r["state"], r["category"]) == ("FRA", "military")
    assert (r["source"], r["confidence"]) == ("callsign-rule+military-block", "high")
    assert r["evidence"].startswith("callsign FAF4011 matches French Air and Space Force")


@pytest.mark.parametrize(("addr", "cs", "state"), [
    ("ae0455", "RCH177", "USA"), ("3b77e4", "CTM1283", "FRA"), ("7cfa71", "ASY319", "AUS"),
    ("3aabfc", "fmy 8055", "FRA"),            # spaces and case are ignored
])
def test_callsign_rules(addr, cs, state):
    r = one(addr, cs)
    assert (r["state"], r["category"], r["source"]) == (state, "military", "callsign-rule+military-block")


def test_callsign_rule_alone_and_in_conflict_with_the_registry():
    assert one("4b8e2a", "AFR123")["source"] == "block"          # no rule for an airline
    assert one("4b8e2a", "FAFNER")["source"] == "block"          # the rule needs digits after FAF
    r = one("4b8e2a", "FAF12")                                   # French AF callsign on a Turkish address
    assert (r["state"], r["category"], r["source"], r["confidence"]) == ("TUR", "military", "callsign-rule", "low")
    assert "callsign-rule says FRA but the address is registered in TUR" in r["evidence"]
    r = one(0x516400, "FAF12")                                   # no state block: the rule's state fills in
    assert (r["state"], r["country"], r["confidence"]) == ("FRA", "France", "medium")


def test_none_and_missing_callsigns():
    t = identify(["3b7777", "3b7777", "3b7777"], [None, "", "FAF1"])
    assert t.column("source").to_pylist() == ["military-block", "military-block", "callsign-rule+military-block"]


# --- watchlists (plane-alert-db format) ------------------------------------------------------

def test_read_watchlist_reports_and_counts_bad_rows():
    wl = read_watchlist(SAMPLE)
    assert len(wl) == 5 and wl.skipped == 2
    assert wl.warnings == [
        f"{SAMPLE}:6: bad ICAO address 'XYZ123' (not 6 hex digits): row skipped",
        f"{SAMPLE}:7: address 4b8e2a already listed on line 3: row skipped",
    ]
    cats = dict(zip((f"{int(a):06x}" for a in wl.icao24), wl.category))
    assert cats == {"3b7777": "military", "400a0b": "state", "4b8201": "military", "4b8e2a": "state", "adf7c9": "civil"}


def test_watchlist_entry_fills_identity_with_file_and_line():
    wl = read_watchlist(SAMPLE)
    r = one("4b8201", watchlists=(wl,))
    assert (r["state"], r["category"], r["registration"], r["operator"], r["type"]) == (
        "TUR", "military", "13-0001", "Turkish Air Force", "Lockheed Martin F-16C")
    assert r["tags"] == "Fighter,Viper,Turkey"
    assert (r["source"], r["confidence"]) == ("watchlist+military-block", "high")
    assert r["evidence"].startswith("watchlist plane-alert-sample.csv:4: Turkish Air Force")
    gov = one("4b8e2a", watchlists=(wl,))
    assert (gov["category"], gov["source"], gov["registration"]) == ("state", "watchlist", "TC-ANK")
    police = one("400a0b", watchlists=(wl,))
    assert (police["state"], police["category"]) == ("GBR", "state")
    assert one("4b8e2b", watchlists=(wl,))["source"] == "block"   # not listed


def test_precedence_watchlist_beats_callsign_beats_military_block():
    wl = read_watchlist(SAMPLE)
    # watchlist says civil, the address is in the US military block: the watchlist wins, medium
    r = one("adf7c9", "RCH1", watchlists=(wl,))
    assert (r["category"], r["source"], r["confidence"]) == ("civil", "watchlist", "medium")
    assert "overridden: callsign RCH1" in r["evidence"] and "overridden: address in United States military" in r["evidence"]
    # watchlist says state (government); a military callsign rule loses
    r = one("4b8e2a", "FAF1", watchlists=(wl,))
    assert (r["category"], r["source"]) == ("state", "watchlist")
    # all three agree
    r = one("3b7777", "FAF4011", watchlists=(wl,))
    assert (r["source"], r["confidence"]) == ("watchlist+callsign-rule+military-block", "high")


def test_first_watchlist_wins(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("$ICAO,$Registration,$Operator,$Type,$ICAO Type,#CMPG,$Tag 1,$#Tag 2,$#Tag 3,Category,$#Link\n"
                     "4B8E2A,TC-XXX,Someone Else,Airbus,A332,Civ,,,,,\n", encoding="utf-8")
    a, b = read_watchlist(SAMPLE), read_watchlist(other)
    assert one("4b8e2a", watchlists=(a, b))["registration"] == "TC-ANK"
    assert one("4b8e2a", watchlists=(b, a))["registration"] == "TC-XXX"


def test_older_layout_and_images_variant_are_read(tmp_path):
    old = tmp_path / "old.csv"
    old.write_text("ICAO,Ident,Operator,Type,CMPG,$Tag,#$Tag2,Category\n"
                   "406C1B,G-CNWL,Cornwall Air Ambulance,Bell MD-900 Explorer,Civ,Air Ambo,Choppa,M*A*S*H\n",
                   encoding="utf-8")
    wl = read_watchlist(old)
    assert list(wl.registration) == ["G-CNWL"] and list(wl.category) == ["civil"]
    img = tmp_path / "img.csv"
    img.write_text("\ufeff$ICAO,$Registration,$Operator,$Type,$ICAO Type,#CMPG,$Tag 1,$#Tag 2,$#Tag 3,Category,"
                   "$#Link,#ImageLink,#ImageLink2\n43C6E4,ZZ336,Royal Air Force,Voyager KC2,A332,Mil,Tanker,,,"
                   "Other Air Forces,,https://x/1,https://x/2\n", encoding="utf-8")
    assert one("43c6e4", watchlists=(read_watchlist(img),))["source"] == "watchlist+military-block"


@pytest.mark.parametrize("content", ["", "# skyfence\n\nsome text\n", "icao24,lat,lon\n4b8e2a,1,2\n", "\x00\x01\x02"])
def test_not_a_watchlist_is_an_input_error_naming_the_file(tmp_path, content):
    f = tmp_path / "x.csv"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(WatchlistError, match="x.csv") as err:
        read_watchlist(f)
    assert isinstance(err.value, InputError) and "\n" not in str(err.value)


def test_missing_watchlist_file(tmp_path):
    with pytest.raises(WatchlistError, match="nope.csv: no such file"):
        read_watchlist(tmp_path / "nope.csv")


# --- speed ----------------------------------------------------------------------------------

def test_vectorised_speed():
    rng = np.random.default_rng(7)
    addr = rng.integers(0, 1 << 24, 1_000_000).astype(np.uint32)
    hexes = format_icao24(addr)
    wl = read_watchlist(SAMPLE)
    identify(addr[:1000], watchlists=(wl,))                      # warm up
    t0 = time.perf_counter()
    t = identify(hexes, watchlists=(wl,))
    took = time.perf_counter() - t0
    assert t.num_rows == 1_000_000
    assert took < 3.0, f"{took:.2f} s for 1 M addresses"        # about 0.4 s measured on 2 shared cores
    # spot-check against the scalar path
    for k in rng.integers(0, len(addr), 50):
        assert t.slice(int(k), 1).to_pylist()[0] == one(int(addr[k]))


# --- CLI ------------------------------------------------------------------------------------

def test_cli_prints_jsonl(capsys):
    assert main(["identify", "3b7777", "4b8201", "--callsign", "FAF4011", "--callsign", "TUAF1",
                 "--watchlist", str(SAMPLE)]) == 0
    out, err = capsys.readouterr()
    recs = [json.loads(line) for line in out.splitlines()]
    assert [r["icao24"] for r in recs] == ["3b7777", "4b8201"]
    assert recs[0]["source"] == "watchlist+callsign-rule+military-block"
    assert "plane-alert-sample.csv:6: bad ICAO address 'XYZ123'" in err and "2 rows skipped" in err


def test_cli_table(capsys):
    assert main(["identify", "4b8e2a", "--format", "table"]) == 0
    out = capsys.readouterr().out
    assert "TUR" in out and "Turkey" in out and "evidence: ICAO allocation 4b8000-4bffff: Turkey" in out


def test_cli_missing_watchlist_is_one_line_and_exit_2(tmp_path):
    missing = tmp_path / "missing.csv"
    p = subprocess.run([sys.executable, "-c", "import sys; from skyfence.cli import main; sys.exit(main(sys.argv[1:]))",
                        "identify", "4b8e2a", "--watchlist", str(missing)], capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.strip() == f"skyfence: error: {missing}: no such file"
    assert p.stdout == ""


@pytest.mark.parametrize(("argv", "msg"), [
    (["identify", "4b8e2"], "not an ICAO 24-bit address (6 hex digits): '4b8e2'"),
    (["identify", "4b8e2a", "3b7777", "--callsign", "X"], "--callsign given 1 times for 2 addresses"),
])
def test_cli_bad_arguments(capsys, argv, msg):
    assert main(argv) == 2
    assert msg in capsys.readouterr().err


# --- the real trajectories in ../shared ----------------------------------------------------

@pytest.mark.shared
def test_real_trajectories_have_plausible_states(shared_data):
    europe = {"FRA", "DEU", "GBR", "ESP", "ITA", "CHE", "AUT", "BEL", "NLD", "IRL", "LUX", "PRT", "DNK", "SWE",
              "NOR", "FIN", "POL", "CZE", "HUN", "GRC", "TUR", "ROU", "BGR", "HRV", "SVN", "SVK", "MLT", "CYP",
              "ISL", "EST", "LVA", "LTU", "SRB", "UKR", "RUS", "MCO", "ALB", "BIH", "MKD", "MNE", "MDA", "BLR"}
    seen = {}
    for f in sorted((shared_data / "tracks" / "opensky").glob("*.json.gz")):
        tracks = skyfence.read_tracks(f)
        addr, first = np.unique(tracks.icao24, return_index=True)
        cs = [tracks.callsigns[c] if c >= 0 else None for c in tracks.callsign[first]]
        t = identify(addr, cs)
        assert t.num_rows == len(addr)
        seen[f.name.removesuffix(".json.gz")] = t
    for name, t in seen.items():
        states = t.column("state").to_pylist()
        assert None not in states, name                          # every real address is in a state's block
    for name in ("quickstart", "switzerland"):
        states = collections.Counter(seen[name].column("state").to_pylist())
        share = sum(n for s, n in states.items() if s in europe) / sum(states.values())
        assert share > 0.8, (name, share, states.most_common(10))
    assert collections.Counter(seen["quickstart"].column("state").to_pylist()).most_common(1)[0][0] == "FRA"
    assert collections.Counter(seen["zurich_airport"].column("state").to_pylist()).most_common(1)[0][0] == "CHE"
    tanker = seen["inflight_refuelling"].to_pylist()
    assert len(tanker) == 1
    tanker = tanker[0]
    assert (tanker["icao24"], tanker["state"], tanker["country"]) == ("3b7777", "FRA", "France")
    assert (tanker["category"], tanker["source"], tanker["confidence"]) == (
        "military", "callsign-rule+military-block", "high")
    assert "france mil_2" in load_rules().military.source[
        int(load_rules().military.find(np.array([0x3B7777], dtype=np.uint32))[0])]


@pytest.mark.parametrize("big", [False, True])
def test_combinations_round_trip(big):
    from skyfence.identity._identify import _combinations

    rng = np.random.default_rng(3)
    hi = [300, 40, 8, 20_000 if big else 3, 50]
    parts = [rng.integers(-1, h, 100_000) for h in hi]
    uniq, inverse = _combinations(parts)
    assert np.array_equal(uniq[:, inverse], np.stack(parts))
    assert uniq.shape[1] == len({tuple(c) for c in np.stack(parts).T.tolist()})


def test_line_numbers_survive_quoted_newlines(tmp_path):
    f = tmp_path / "q.csv"
    f.write_text("$ICAO,$Registration,$Operator,$Type,$ICAO Type,#CMPG,$Tag 1,$#Tag 2,$#Tag 3,Category,$#Link\n"
                 '3B7777,F-UJCT,"French Air\nand Space Force",A330,A332,Mil,,,,,\n'
                 "\n"
                 "NOTHEX,X,Y,Z,,Mil,,,,,\n", encoding="utf-8")
    wl = read_watchlist(f)
    assert wl.line.tolist() == [2] and wl.skipped == 1
    assert wl.warnings == [f"{f}:5: bad ICAO address 'NOTHEX' (not 6 hex digits): row skipped"]

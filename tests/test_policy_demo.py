"""The demo under its shipped policy: verdicts, severities and the 24 November warnings."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

import skyfence
from skyfence._scenario import load_scenario
from skyfence.cli import main

UTC = timezone.utc


@pytest.fixture(scope="module")
def judged():
    scenario = load_scenario("yayladagi-2015")
    policy = skyfence.read_policy(Path(scenario.path).with_name("yayladagi-2015-policy.toml"))
    tracks = scenario.tracks()
    zones = skyfence.read_zones("world:TUR")
    episodes = skyfence.detect(tracks, zones + policy.rings(zones))
    return skyfence.judge(episodes, policy, zones=zones, tracks=tracks)


def test_foreign_military_in_tur_are_critical_breaches(judged) -> None:
    tur = [r for r in judged.episodes.to_pylist() if r["zone"] == "TUR"]
    assert sorted(r["callsign"] for r in tur) == ["FAKE24A", "FAKE24B", "FAKE30A"]
    for r in tur:
        assert (r["verdict"], r["severity"], r["severity_rule"]) == ("breach", "critical", "foreign military")
        assert (r["registry_state"], r["category"], r["identity_source"]) == ("RUS", "military", "watchlist")
        assert r["rule"] == "Turkish airspace: not authorised"
    lead = next(r for r in tur if r["callsign"] == "FAKE24A")
    assert abs(lead["entry_time"].timestamp() - datetime(2015, 11, 24, 7, 24, 5, tzinfo=UTC).timestamp()) <= 1.0
    assert lead["duration_s"] == pytest.approx(17, abs=1) and 1800 <= lead["max_depth_m"] <= 2300
    assert judged.incidents.num_rows == 3


def test_24_november_warned_10_times_within_5_minutes(judged) -> None:
    lead = next(r for r in judged.episodes.to_pylist() if r["zone"] == "TUR" and r["callsign"] == "FAKE24A")
    entry = lead["entry_time"]
    warns = [w for w in judged.warnings.to_pylist() if w["callsign"] == "FAKE24A" and w["time"] < entry]
    assert len(warns) == 10
    assert all(w["ring"] == "TUR~15NM-SYR" for w in warns)
    times = [w["time"].timestamp() for w in warns]
    assert all(b - a == pytest.approx(30, abs=1e-3) for a, b in zip(times, times[1:]))
    assert entry.timestamp() - times[0] <= 300, "all 10 within the 5 minutes before the entry"
    assert [w["seq"] for w in warns] == list(range(1, 11))
    inc = next(i for i in judged.incidents.to_pylist() if i["incident_id"] == lead["incident_id"])
    assert inc["n_warnings"] == 10 and inc["first_warning"] == warns[0]["time"]
    # the wingman was warned 10 times too; each warning lies in Syria, within 15 NM of Turkey
    wing = [w for w in judged.warnings.to_pylist() if w["callsign"] == "FAKE24B" and w["time"] < entry]
    assert len(wing) == 10


def test_demo_prints_verdicts_and_the_warning_sequence(capsys) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "RECONSTRUCTION" in out
    assert out.count("verdict: breach, severity critical (foreign military)") == 3
    assert "identity: RUS military (watchlist)" in out
    block = out.split("FAKE24A (15e241")[1].split("detected:")[0]
    assert "warned 10 times within 4.5 min" in block
    assert block.count("    warning ") == 10
    assert "warning  1 at 2015-11-24T07:19:16" in block
    plain = main(["demo", "--policy", "none"])
    assert plain == 0 and "verdict:" not in capsys.readouterr().out


def test_scenario_names_its_policy(tmp_path) -> None:
    from skyfence._errors import InputError

    scenario = load_scenario("yayladagi-2015")
    text = Path(scenario.path).read_text(encoding="utf-8")
    copy = tmp_path / "copy.toml"
    copy.write_text(text, encoding="utf-8")
    assert load_scenario(copy).policy_path() == Path(scenario.path).with_name("yayladagi-2015-policy.toml")
    copy.write_text(text.replace('policy = "yayladagi-2015-policy.toml"', 'policy = "nope.toml"'), encoding="utf-8")
    with pytest.raises(InputError, match=r"field 'scenario.policy': policy file 'nope.toml' found neither"):
        load_scenario(copy).policy_path()
    mine = tmp_path / "nope.toml"
    mine.write_text('[[zones]]\nmatch = ["TUR"]\nmin_duration_s = 100\n', encoding="utf-8")
    assert load_scenario(copy).policy_path() == mine

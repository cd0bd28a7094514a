"""What the kiosk keeps, said by `appliance doctor`, and erased by `appliance forget`.

journald's configuration is a file the test writes (this machine runs no
journald); the vacuum runs the real `journalctl` on a throw-away directory,
never on this machine's journal.
"""

from __future__ import annotations

from pathlib import Path

from appliance.cli import main
from appliance.config import Config, PrivacySettings, ServiceSettings
from appliance.runtime import doctor, privacy


def journald(tmp_path: Path, text: str, drop_in: str | None = None) -> Path:
    conf = tmp_path / "journald.conf"
    conf.write_text(text)
    if drop_in is not None:
        (tmp_path / "journald.conf.d").mkdir()
        (tmp_path / "journald.conf.d" / "50-kiosk.conf").write_text(drop_in)
    return conf


def test_journal_storage_follows_journald_rules(tmp_path):
    persistent_dir = tmp_path / "var-log-journal"
    auto = journald(tmp_path, "[Journal]\n#Storage=auto\n")
    assert privacy.journal_storage(auto, persistent_dir) == "volatile"
    persistent_dir.mkdir()
    assert privacy.journal_storage(auto, persistent_dir) == "persistent"
    (tmp_path / "journald.conf").unlink()
    dropped = journald(tmp_path, "[Journal]\nStorage=persistent\n", "[Journal]\nStorage=volatile\n")
    assert privacy.journal_storage(dropped, persistent_dir) == "volatile"


def test_doctor_privacy_line_with_defaults(tmp_path):
    config = Config(service=ServiceSettings(state_dir=str(tmp_path), events_path="events.jsonl"))
    conf = journald(tmp_path, "[Journal]\nStorage=persistent\n")
    (finding,) = doctor.check_privacy(config, conf, tmp_path / "none")
    assert finding.level == doctor.OK
    assert finding.message == (
        f"guest words not logged, replies not logged; events in {tmp_path / 'events.jsonl'} "
        "(rotated daily, kept 7 days, at most 20 MB); no audio recorded; "
        "journal (persistent) gets events without words")


def test_doctor_warns_when_words_are_kept(tmp_path):
    config = Config(privacy=PrivacySettings(log_transcripts=True))
    (finding,) = doctor.check_privacy(config, journald(tmp_path, ""), tmp_path)
    assert finding.level == doctor.WARN
    assert "guest words logged" in finding.message and "no events file" in finding.message
    assert "journal (persistent) gets the same words" in finding.message
    assert "log_transcripts = false" in finding.fix


def test_doctor_prints_the_privacy_line(tmp_path, capsys):
    config = tmp_path / "appliance.toml"
    config.write_text('[audio]\nbackend = "sim"\n')
    main(["--config", str(config), "doctor"])
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("privacy"))
    assert "guest words not logged" in line


def make_events(state: Path) -> list[Path]:
    state.mkdir(mode=0o700)
    files = [state / "events.jsonl", state / "events.jsonl.2025-11-29",
             state / "events.jsonl.2025-11-29.1", state / "events.jsonl.2025-11-28"]
    for path in files:
        path.write_text('{"t": 1.0, "event": "wake"}\n')
    (state / "models").mkdir()
    return files


def test_forget_deletes_every_events_file_and_nothing_else(tmp_path, capsys):
    state = tmp_path / "state"
    files = make_events(state)
    config = tmp_path / "appliance.toml"
    config.write_text(f'[service]\nstate_dir = "{state}"\nevents_path = "events.jsonl"\n')
    assert main(["--config", str(config), "forget"]) == 0
    out = capsys.readouterr().out
    assert all(f"deleted {path}" in out for path in files)
    assert "journal: not touched" in out
    assert sorted(p.name for p in state.iterdir()) == ["models"]
    assert main(["--config", str(config), "forget"]) == 0
    assert "no events files at" in capsys.readouterr().out


def test_forget_vacuums_a_journal_directory_with_the_real_journalctl(tmp_path):
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    done = privacy.forget(None, journal=True, journal_dir=journal_dir)
    assert done == ["no events file configured", f"vacuumed the journal's archived files in {journal_dir}"]


def test_the_summary_without_an_events_file():
    assert privacy.summary(Config(), None).endswith("no events file; no audio recorded")

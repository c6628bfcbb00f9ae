"""The README's first five minutes, checked against what CI does: its shell blocks name every package CI
installs (from the one list in packaging/linux/), run as written for root and for a sudo user, its test command
is CI's, and what it says about backups and settings is what the code does."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, re.S)


def setup_blocks() -> list[str]:
    return bash_blocks(README[README.index("## Set up") : README.index("## A 60-second tour")])


def list_file(path: Path) -> list[str]:
    """A package list: one per line, ``#`` comments (as .ci/run reads it: ``sed 's/#.*//'``)."""
    return [w for line in path.read_text(encoding="utf-8").splitlines() for w in line.split("#")[0].split()]


def installed_by(script: str) -> list[str]:
    """The packages of every ``apt-get install`` in a shell text (options and shell syntax dropped)."""
    out: list[str] = []
    joined = script.replace("\\\n", " ")
    for m in re.finditer(r"apt-get install([^&|;\n>]*)", joined):
        out += [w for w in shlex.split(m.group(1)) if not w.startswith(("-", "$"))]
    return out


def ci_packages() -> set[str]:
    """What .ci/run installs: the list files it reads, and any package named in its install line."""
    files = re.findall(r"packaging/linux/apt-packages[\w-]*\.txt", CI)
    assert files, "CI reads its packages from packaging/linux/apt-packages*.txt"
    named = {
        p for p in installed_by(CI) if re.fullmatch(r"[a-z0-9.+-]+", p)
    }  # not the $(sed ... files) words
    return {p for f in files for p in list_file(ROOT / f)} | named


def test_readme_names_every_package_ci_installs() -> None:
    named = {p for block in setup_blocks() for p in installed_by(block)}
    missing = ci_packages() - named
    assert not missing, f"CI installs {sorted(missing)}, the README's set-up does not name them"
    assert "dataset-fashion-mnist" in named  # else the README's test command skips the embedding tests


def test_readme_setup_is_the_one_package_list() -> None:
    first = setup_blocks()[0]
    assert installed_by(first) == list_file(ROOT / "packaging" / "linux" / "apt-packages.txt")
    assert "apt-get update" in first and first.index("apt-get update") < first.index("apt-get install")


def test_readme_test_command_is_cis() -> None:
    readme_cmd = [line for b in setup_blocks() for line in b.splitlines() if "pytest" in line]
    ci_cmd = [line for line in CI.splitlines() if "pytest" in line and not line.lstrip().startswith("#")]
    assert readme_cmd == ci_cmd and len(ci_cmd) == 1
    assert "-m 'not slow'" in ci_cmd[0] and "-k" not in ci_cmd[0]  # nothing deselected beyond the slow ones
    # CI installs [test,dev] before the checks; the README's command must too, or a test CI runs would skip
    ci_extras = set(re.findall(r"pip install -q -e '\.\[([\w,]+)\]'", CI)[0].split(","))
    assert ci_extras <= set(re.findall(r"'\.\[([\w,]+)\]'", readme_cmd[0])[0].split(","))


def test_headless_machines_are_told_about_xvfb() -> None:
    blocks = setup_blocks()
    assert any("xvfb-run -a .venv/bin/aldesk demo" in b and "xvfb" in installed_by(b) for b in blocks)
    assert "no display found: set DISPLAY or WAYLAND_DISPLAY, or use QT_QPA_PLATFORM=offscreen" in README
    from aldesk.cli.display_check import NO_DISPLAY

    assert NO_DISPLAY.startswith(
        "no display found: set DISPLAY or WAYLAND_DISPLAY, or use QT_QPA_PLATFORM=offscreen"
    )


def _shim(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(0o755)


@pytest.mark.parametrize("who", ["root", "sudo-user"])
def test_the_apt_commands_run_as_written_for_root_and_for_a_sudo_user(tmp_path: Path, who: str) -> None:
    """Each README line with apt-get, run by a real bash as written; ``apt-get`` (and ``sudo``) are shims that
    record how they were called. Root has no sudo (a bare container); the user's sudo runs the command."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls"
    _shim(bin_dir, "apt-get", f'echo "apt-get $*" >> {log}\n')
    _shim(bin_dir, "xvfb-run", "exit 0\n")  # the headless line goes on to run the demo: not here
    if who == "sudo-user":
        _shim(bin_dir, "sudo", f'echo "sudo" >> {log}\nexec "$@"\n')
    # Only the shims on PATH: a real sudo or apt-get can never run (the lines need nothing else: echo and
    # command are bash builtins).
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    for block in setup_blocks():
        lines = [line for line in block.replace("\\\n", " ").splitlines() if "apt-get" in line]
        for line in lines:
            log.unlink(missing_ok=True)
            done = subprocess.run(
                ["/bin/bash", "-c", line], env=env, capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, (line, done.stderr)
            calls = log.read_text().splitlines()
            apt = [c for c in calls if c.startswith("apt-get")]
            assert apt and all(c.startswith(("apt-get update", "apt-get install -y")) for c in apt), calls
            assert ("sudo" in calls) == (who == "sudo-user")
            if who == "sudo-user":  # every apt-get came through sudo
                assert calls.count("sudo") == len(apt)


def test_backups_and_settings_are_where_the_readme_says() -> None:
    from aldesk.core.project.backups import backup_dir

    assert backup_dir(Path("photos.aldesk")).name == ".photos.aldesk.backups"
    assert "`.photos.aldesk.backups/`" in README and "`.<name>.aldesk.backups/`" in README
    assert "~/.config/aldesk/aldesk.ini" in README
    assert "~/.local/state/aldesk/log/aldesk.log" in README


def test_every_documented_open_option_exists() -> None:
    """The README's ``aldesk open ...`` lines parse with the real parser (the issue: --text-column did not)."""
    from aldesk.cli import build_parser

    parser = build_parser()
    for line in README.splitlines():
        if line.startswith("aldesk open "):
            argv = shlex.split(line.split("#")[0])[1:]
            parser.parse_args(argv)  # argparse exits (a failure) on an unknown option

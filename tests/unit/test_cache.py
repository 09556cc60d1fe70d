"""A folder built once per machine: two processes asking at once build it once and both use
that copy; a build killed by SIGKILL leaves a partial folder that the next build removes."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from saekit.cache import build_once

ROOT = Path(__file__).resolve().parents[2]

BUILDER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from saekit.cache import build_once

    target, log, pause = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])

    def build(folder):
        folder.mkdir()
        (folder / "started").write_text(str(os.getpid()))
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\\n")
        time.sleep(pause)  # a slow build (the real one takes ~15 s)
        (folder / "config.json").write_text(str(os.getpid()))

    print((build_once(target, build) / "config.json").read_text())
    """
)


def _start(target: Path, log: Path, pause: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", BUILDER, str(target), str(log), str(pause)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen) -> str:
    try:
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, err
    return out.strip()


def test_two_processes_build_once_and_share_the_copy(tmp_path):
    target, log = tmp_path / "models" / "m", tmp_path / "builders.log"
    first, second = _start(target, log, 1.0), _start(target, log, 1.0)
    answers = {_finish(first), _finish(second)}
    builders = log.read_text().split()
    assert len(builders) == 1  # one build; the other process waited and used it
    assert answers == {builders[0]}  # both read the one finished copy
    assert sorted(p.name for p in target.parent.iterdir()) == ["m", "m.lock"]  # no partials


def test_a_killed_build_leaves_nothing_the_next_build_uses(tmp_path):
    target, log = tmp_path / "m", tmp_path / "builders.log"
    victim = _start(target, log, 3600.0)
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob("m.partial-*/started")):
            assert time.monotonic() < deadline and victim.poll() is None
            time.sleep(0.05)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=60)
    finally:
        victim.kill()
        victim.communicate()
    assert list(tmp_path.glob("m.partial-*"))  # what kill -9 leaves behind

    def build(folder: Path) -> None:
        folder.mkdir()
        (folder / "config.json").write_text("rebuilt")

    assert (build_once(target, build) / "config.json").read_text() == "rebuilt"
    assert not list(tmp_path.glob("m.partial-*"))

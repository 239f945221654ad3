"""Every case of the bad-input corpus (tests/bad_inputs/cases/, made by
scripts/make_bad_inputs.py) through the CLI, `python -m tinyc.cli build ...`: it must exit 2 with
exactly one `error: ...` line that says what is wrong, print no traceback, and leave its sandbox
exactly as it was: nothing written next to the model, in the output folder, or in TMPDIR.

Each case runs in its own process, forked from a server that has imported tinyc once
(forkrun.py: runpy runs `tinyc.cli` as __main__, as `python -m` does, minus 0.4 s of imports);
a sample also runs as a plain `python -m tinyc.cli` subprocess. Two servers run in parallel;
each case is reported as its own test. Each process has a 4 GiB address-space limit, so a
case that tries to allocate a huge tensor fails (MemoryError: exit 1) instead of taking the
machine down, and a 120 s alarm.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from .forkrun import ForkServer

CASES_DIR = Path(__file__).resolve().parent / "cases"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "case.json").is_file())
MEMORY_LIMIT = 4 << 30
TIMEOUT = 120


@dataclass
class Result:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    before: dict
    after: dict


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry below root: kind and content hash (files) or target (symlinks)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir",)
            else:
                out[rel] = ("file", hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def _setup(sandbox: Path, steps: list) -> None:
    for kind, rel, *rest in steps:
        p = sandbox / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if kind == "mkdir":
            p.mkdir(parents=True, exist_ok=True)
        elif kind == "write":
            p.write_text(rest[0])
        elif kind == "symlink":
            if p.exists() or p.is_symlink():
                p.unlink() if not p.is_dir() or p.is_symlink() else shutil.rmtree(p)
            os.symlink(rest[0], p)
        else:
            raise ValueError(f"unknown setup step {kind}")


def _limit_memory() -> None:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_case(name: str, root: Path, server: ForkServer | None = None) -> Result:
    spec = json.loads((CASES_DIR / name / "case.json").read_text())
    sandbox = root / name
    shutil.copytree(CASES_DIR / name, sandbox / "case", symlinks=True)
    (sandbox / "case" / "case.json").unlink()
    (sandbox / "tmp").mkdir()
    _setup(sandbox, spec["setup"])
    subs = {"{case}": str(sandbox / "case"), "{out}": str(sandbox / "out"),
            "{sandbox}": str(sandbox)}
    argv = []
    for a in spec["args"]:
        for k, v in subs.items():
            a = a.replace(k, v)
        argv.append(a)
    env = {**os.environ, "TMPDIR": str(sandbox / "tmp"), "PYTHONDONTWRITEBYTECODE": "1"}
    before = snapshot(sandbox)
    cmd = [sys.executable, "-m", "tinyc.cli", "build", *argv]
    if server is not None:
        logs = root / "_logs"
        logs.mkdir(exist_ok=True)
        out_p, err_p = logs / f"{name}.out", logs / f"{name}.err"
        code = server.run(cmd[3:], str(sandbox), env, str(out_p), str(err_p), TIMEOUT,
                          MEMORY_LIMIT)
        out, err = out_p.read_text(errors="replace"), err_p.read_text(errors="replace")
        return Result(cmd, code, out, err, before, snapshot(sandbox))
    try:
        r = subprocess.run(cmd, cwd=sandbox, env=env, capture_output=True, text=True,
                           timeout=TIMEOUT, preexec_fn=_limit_memory)
        code, out, err = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        code, out, err = -1, str(e.stdout), f"timeout after {TIMEOUT} s\n{e.stderr}"
    return Result(cmd, code, out, err, before, snapshot(sandbox))


@pytest.fixture(scope="session")
def results(request, tmp_path_factory) -> dict[str, Result]:
    """Run every selected case once, in parallel."""
    wanted = sorted({item.callspec.params["name"] for item in request.session.items
                     if item.originalname == "test_bad_input" and hasattr(item, "callspec")})
    root = tmp_path_factory.mktemp("bad_inputs")
    workers = max(1, min(4, os.cpu_count() or 2))
    servers = [ForkServer() for _ in range(workers)]
    chunks = [wanted[i::workers] for i in range(workers)]
    try:
        with ThreadPoolExecutor(workers) as pool:
            done = pool.map(lambda k: [(n, run_case(n, root, servers[k])) for n in chunks[k]],
                            range(workers))
            return dict(pair for chunk in done for pair in chunk)
    finally:
        for s in servers:
            s.close()


def test_corpus_has_at_least_150_cases():
    assert len(CASES) >= 150, len(CASES)


def check(name: str, r: Result) -> None:
    spec = json.loads((CASES_DIR / name / "case.json").read_text())
    context = f"{spec['why']}\n$ {' '.join(r.argv)}\n--- stderr:\n{r.stderr}"
    assert "Traceback" not in r.stderr + r.stdout, context
    assert r.returncode == 2, f"exit status {r.returncode}, expected 2: {context}"
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), context
    for want in spec["expect"]:
        assert want in lines[0], f"expected {want!r} in the message: {context}"
    changed = {k for k in r.before.keys() | r.after.keys() if r.before.get(k) != r.after.get(k)}
    assert not changed, f"the command changed {sorted(changed)}: {context}"


@pytest.mark.parametrize("name", CASES)
def test_bad_input(name, results):
    check(name, results[name])


SAMPLE = ["cli_unknown_flag", "file_git_lfs_pointer", "ext_symlink_to_outside", "huge_tile",
          "calib_header_claims_1e10", "out_holds_unrelated_files", "nan_conv_weight_nan"]


@pytest.mark.parametrize("name", SAMPLE)
def test_bad_input_plain_subprocess(name, tmp_path):
    """The same checks through a plain `python -m tinyc.cli` (no fork server)."""
    check(name, run_case(name, tmp_path))


def test_the_corpus_is_what_the_script_makes(tmp_path):
    """scripts/make_bad_inputs.py is deterministic and the committed corpus is current."""
    import importlib.util
    script = CASES_DIR.parents[2] / "scripts" / "make_bad_inputs.py"
    spec = importlib.util.spec_from_file_location("make_bad_inputs", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--out", str(tmp_path / "cases")]) == 0
    made, committed = snapshot(tmp_path / "cases"), snapshot(CASES_DIR)
    differ = sorted(k for k in made.keys() | committed.keys() if made.get(k) != committed.get(k))
    assert not differ, ("tests/bad_inputs/cases is stale (run python scripts/make_bad_inputs.py)"
                        f": {differ[:10]}")

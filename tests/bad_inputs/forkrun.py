"""A fork server that runs `python -m tinyc.cli ARGS` many times without paying Python's and
tinyc's import time (~0.4 s) for each run.

    server = ForkServer(); status = server.run(argv, cwd, env, stdout_path, stderr_path)

The server is a separate Python process that imports tinyc once; for every request it forks a
child that sets cwd, environment, stdio, a memory limit and an alarm, and runs the module
`tinyc.cli` as __main__ (runpy, exactly what `python -m` does). The child is a real process:
its exit status, its stdout/stderr and its file-system effects are its own. Requests and
replies are JSON lines on the server's stdin/stdout.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

PRELOAD = ("tinyc.commands", "tinyc.pipeline", "tinyc.frontend.onnx",
           "onnx.reference", "tinyc.backend_c.emit")


def _child(req: dict) -> None:
    import resource
    import runpy
    import signal
    import tempfile
    import traceback
    code = 1
    try:
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        tempfile.tempdir = None                   # honour the new TMPDIR
        limit = req["memory_limit"]
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        signal.alarm(req["timeout"])
        for fd, path in ((1, req["stdout"]), (2, req["stderr"])):
            f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(f, fd)
            os.close(f)
        sys.argv = ["tinyc", *req["argv"]]
        try:
            runpy.run_module("tinyc.cli", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:                         # noqa: BLE001 — report like python would
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve() -> None:
    import importlib
    for m in PRELOAD:
        importlib.import_module(m)
    for line in sys.stdin:
        req = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(req)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        sys.stdout.write(json.dumps({"status": code}) + "\n")
        sys.stdout.flush()


class ForkServer:
    def __init__(self):
        here = os.path.dirname(os.path.abspath(__file__))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", f"import sys; sys.path.insert(0, {here!r}); "
             "import forkrun; forkrun.serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def run(self, argv: list[str], cwd: str, env: dict, stdout: str, stderr: str,
            timeout: int = 120, memory_limit: int = 4 << 30) -> int:
        req = {"argv": argv, "cwd": cwd, "env": env, "stdout": stdout, "stderr": stderr,
               "timeout": timeout, "memory_limit": memory_limit}
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the fork server died")
        return json.loads(line)["status"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


if __name__ == "__main__":
    serve()

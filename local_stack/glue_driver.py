"""A warm Glue driver process: runs the job script once on a sample to warm its Spark JVM, then one real run.

Started by local_stack.glue_runner as `python glue_driver.py '<warm-up JSON>'`, with stdin, stdout
and stderr piped. The warm-up (`{"script", "argv", "cwd"}`) runs the job script as `__main__`
(it starts a SparkSession and stops it at its end: the JVM, its loaded classes and compiled code
stay), then what else it left in this interpreter is undone: the modules it imported from beside
the script, `sys.path`, the root logger's handlers, the working directory. READY_LINE on stdout
says the driver waits; the one request then read from stdin (`{"script", "argv", "cwd",
"pythonpath"}`) runs like `cd cwd; PYTHONPATH=... python script argv...` would, and the process
exits with it: one run per process, as a cold run, only without the JVM's start-up and warm-up,
and at a lower CPU priority (NICENESS).
"""

import json
import logging
import os
import runpy
import sys
import traceback

READY_LINE = "local-glue-driver: ready"
# The driver warms up while the run before it still loads, checks and merges its batch, on the same
# cores, and should yield to them. Where the kernel shares CPU between sessions first (autogroup), a
# nice value counts only against the emulator's own session: there it yields little (see README,
# Performance). An unprivileged process cannot raise its priority again, so the run it serves keeps
# this one too; on a machine with idle cores that costs the run nothing.
NICENESS = 10
# Exit code of a driver whose warm-up failed: it never served a run.
WARM_UP_FAILED = 3


def run_script(script: str, argv: list[str], cwd: str, pythonpath: list[str]) -> None:
    """The script as `__main__`, with sys.path as `python script` under PYTHONPATH would have it."""
    os.chdir(cwd)
    # `python script` puts the script's folder first, then PYTHONPATH; this file's own folder goes.
    sys.path[:] = [os.path.dirname(os.path.abspath(script)), *pythonpath, *sys.path[1:]]
    sys.argv = [script, *argv]
    runpy.run_path(script, run_name="__main__")


def warm_up(spec: dict) -> None:
    """Runs the warm-up and undoes what it left in this interpreter, but for PySpark and its JVM."""
    modules, path, cwd = set(sys.modules), list(sys.path), os.getcwd()
    beside_script = os.path.dirname(os.path.abspath(spec["script"])) + os.sep
    try:
        run_script(spec["script"], spec["argv"], spec["cwd"], [])
    finally:
        # The job's own modules go, so the run imports its own version; pyspark stays imported:
        # its SparkContext class holds the gateway to the warm JVM.
        for name, module in list(sys.modules.items()):
            if name not in modules and (getattr(module, "__file__", None) or "").startswith(beside_script):
                del sys.modules[name]
        sys.path[:] = path
        sys.argv = [__file__]
        os.chdir(cwd)
        for handler in list(logging.root.handlers):
            logging.root.removeHandler(handler)


def main() -> int:
    try:
        os.nice(NICENESS)  # before the JVM starts: it inherits it
        warm_up(json.loads(sys.argv[1]))
    except BaseException:  # noqa: BLE001 - any failure (SystemExit too) leaves a driver that cannot serve
        traceback.print_exc()
        return WARM_UP_FAILED
    print(READY_LINE, flush=True)
    line = sys.stdin.readline()
    if not line:  # the runner stopped this driver without a run
        return 0
    request = json.loads(line)
    # Exceptions and sys.exit() end the process as they would end `python script`.
    run_script(request["script"], request["argv"], request["cwd"], request["pythonpath"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

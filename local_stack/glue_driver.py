"""A warm Glue driver process: runs the job script once on a sample to warm its Spark JVM, then one real run.

Started by local_stack.glue_runner as `python glue_driver.py '<warm-up JSON>' <runner pid>`, with
stdin, stdout and stderr piped. The warm-up (`{"script", "argv", "cwd"}`) runs the job script as `__main__`
(it starts a SparkSession and stops it at its end: the JVM, its loaded classes and compiled code
stay), then what else it left in this interpreter is undone: the modules it imported from beside
the script, `sys.path`, the root logger's handlers, the working directory. READY_LINE on stdout
says the driver waits; the one request then read from stdin (`{"script", "argv", "cwd",
"pythonpath"}`) runs like `cd cwd; PYTHONPATH=... python script argv...` would, and the process
exits with it: one run per process, as a cold run, only without the JVM's start-up and warm-up,
and at a lower process priority (NICENESS). The runner starts it in a session of its own, whose
nice value (see AUTOGROUP) is NICENESS while it warms up and waits, 0 while it serves the run; it
exits when the process that started it dies.
"""

import contextlib
import json
import logging
import os
import runpy
import sys
import threading
import time
import traceback
from pathlib import Path

READY_LINE = "local-glue-driver: ready"
# The driver warms up while the run before it still loads, checks and merges its batch, on the same
# cores, and should yield to them. The run it serves gets its session's full share back (an
# autogroup's nice may go back to 0), but keeps its process nice, which an unprivileged process
# cannot lower again: that counts only where the kernel shares CPU by process nice alone.
NICENESS = 10
# The nice value of the driver's session (its autogroup), where the kernel has autogroups. When
# `/proc/sys/kernel/sched_autogroup_enabled` is 1 and the process is in the root CPU cgroup, the
# kernel first shares CPU between autogroups (sessions) by their nice values and only then between
# a session's processes by theirs: the driver's own process nice counts only against its JVM.
AUTOGROUP = Path("/proc/self/autogroup")
# Exit code of a driver whose warm-up failed: it never served a run.
WARM_UP_FAILED = 3
# Exit code of a driver whose parent (the emulator) died: in its own session, no group kill reaches it.
PARENT_DIED = 4
PARENT_CHECK_SECONDS = 0.5


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


def set_session_nice(nice: int) -> None:
    """`nice` for this process's autogroup (its session, see AUTOGROUP), where the kernel has them.
    Any process may set its autogroup's nice to 0 or more. Only a hint: a failure is reported, not
    raised."""
    if not AUTOGROUP.exists():
        return
    # The kernel lets unprivileged processes change an autogroup's nice once per 100 ms (EAGAIN).
    for _ in range(20):
        try:
            AUTOGROUP.write_text(f"{nice}\n")
            return
        except BlockingIOError:
            time.sleep(0.1)
        except OSError as error:
            print(f"local-glue-driver: could not set its session's nice to {nice}: {error}", file=sys.stderr,
                  flush=True)  # fmt: skip
            return
    print(f"local-glue-driver: could not set its session's nice to {nice}: {AUTOGROUP} stayed busy",
          file=sys.stderr, flush=True)


def exit_with_parent(parent: int) -> None:
    """A daemon thread ends this process (and so its Spark JVM, whose gateway exits when this
    process does) once `parent`, the process that started it, has died: the emulator's group kill
    misses a driver in a session of its own. The runner passes its pid: it may die before this
    process reads its own parent's."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        with contextlib.suppress(OSError):  # stderr is a pipe to the parent: most likely gone with it
            print(f"local-glue-driver: the process that started it ({parent}) has gone; exiting",
                  file=sys.stderr, flush=True)  # fmt: skip
        os._exit(PARENT_DIED)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def main() -> int:
    exit_with_parent(int(sys.argv[2]))
    try:
        os.nice(NICENESS)  # before the JVM starts: it inherits both
        set_session_nice(NICENESS)
        warm_up(json.loads(sys.argv[1]))
    except BaseException:  # noqa: BLE001 - any failure (SystemExit too) leaves a driver that cannot serve
        traceback.print_exc()
        return WARM_UP_FAILED
    print(READY_LINE, flush=True)
    line = sys.stdin.readline()
    if not line:  # the runner stopped this driver without a run
        return 0
    request = json.loads(line)
    set_session_nice(0)  # the run competes with other sessions as a cold run would
    # Exceptions and sys.exit() end the process as they would end `python script`.
    run_script(request["script"], request["argv"], request["cwd"], request["pythonpath"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

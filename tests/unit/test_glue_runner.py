"""The local Glue runner: what a run's S3 names may and may not do on local disk, and warm drivers
serving a run as a cold process would."""

import concurrent.futures
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from local_stack import glue_driver, glue_runner
from local_stack.glue_driver import READY_LINE
from local_stack.glue_runner import RunRequest, WarmDrivers, execute_run
from local_stack.processes import is_alive
from tests.fixtures.processes import KERNEL_HAS_AUTOGROUPS, session_nice

REPO = Path(__file__).resolve().parents[2]


class FakeS3:
    """download_file over a dict of (bucket, key) -> bytes, as boto3's client writes files."""

    def __init__(self, objects: dict[tuple[str, str], bytes]):
        self.objects = objects

    def download_file(self, bucket: str, key: str, filename: str, Config=None) -> None:  # noqa: N803 - boto3's name
        Path(filename).write_bytes(self.objects[(bucket, key)])


@pytest.mark.parametrize(
    "uri",
    [
        "s3://bucket/raw/../../../../escaped.csv",  # a key climbing out of input/<bucket>/
        "s3://../escaped.csv",  # a "bucket" climbing out of input/
    ],
)
def test_an_input_name_with_dot_dot_cannot_write_outside_the_run_folder(tmp_path, uri):
    runs_dir = tmp_path / "runs"
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    manifest = json.dumps({"inputs": [{"uri": uri, "source_object": uri}]}).encode()
    s3 = FakeS3({("scripts", "job.py"): b"print('ran')\n", (bucket, key): b"a,b\n", ("out", "m.json"): manifest})

    result = execute_run(
        RunRequest("jr_1", "job", "s3://scripts/job.py", {"--input_manifest": "s3://out/m.json"}), runs_dir, s3
    )

    outside = [path for path in tmp_path.rglob("*") if path.is_file() and not path.is_relative_to(runs_dir / "jr_1")]
    assert outside == []
    assert not result.succeeded
    assert "leave the run folder" in result.error_message and uri in result.error_message


def test_a_script_key_ending_in_dot_dot_is_refused(tmp_path):
    s3 = FakeS3({("scripts", "x/.."): b"print('ran')\n"})

    result = execute_run(RunRequest("jr_2", "job", "s3://scripts/x/..", {}), tmp_path / "runs", s3)

    assert not result.succeeded and "leave the run folder" in result.error_message
    assert [path.name for path in tmp_path.rglob("*") if path.is_file()] == ["run.log"]


def test_inputs_are_staged_from_the_manifest_keeping_names_order_and_suffix(tmp_path):
    keys = ["raw/b, *[x]{y}?.csv", "raw/a é.csv.gz"]
    manifest = {"inputs": [{"uri": f"s3://data/{key}", "source_object": f"s3://data/{key}"} for key in keys]}
    script = b"import sys; print(open(sys.argv[sys.argv.index('--input_manifest') + 1][7:]).read())\n"
    s3 = FakeS3({("scripts", "job.py"): script, ("data", "out/m.json"): json.dumps(manifest).encode(),
                 **{("data", key): key.encode() for key in keys}})

    result = execute_run(
        RunRequest("jr_3", "job", "s3://scripts/job.py", {"--input_manifest": "s3://data/out/m.json"}),
        tmp_path / "runs", s3,
    )

    assert result.succeeded, result.error_message
    staged = json.loads(result.output_lines[0][1])["inputs"]
    assert [entry["source_object"] for entry in staged] == [f"s3://data/{key}" for key in keys]
    for entry, key in zip(staged, keys, strict=True):
        path = Path(entry["uri"].removeprefix("file://"))
        assert path.name == key.rsplit("/", 1)[1] and path.read_bytes() == key.encode()


# A run's view of its process, printed as JSON: what must not differ between a cold and a warm run,
# and its session's nice value (read as tests.fixtures.processes.session_nice does: this script runs
# in an interpreter of its own).
VIEW_SCRIPT = b"""import json, logging, os, sys
import extra_module
autogroup = "/proc/self/autogroup"
fields = open(autogroup).read().split() if os.path.exists(autogroup) else []
session_nice = fields[-1] if fields else None  # empty in the kernel's default (root) autogroup
print(json.dumps({"cwd": os.getcwd(), "argv": sys.argv, "path": sys.path[:2], "extra": extra_module.__file__,
                  "warm_up_module_left": "warm_up_helper" in sys.modules, "handlers": len(logging.root.handlers),
                  "session_nice": session_nice}))
"""


def warm_drivers(tmp_path, warm_up_script: bytes = b"import warm_up_helper, logging\nlogging.basicConfig()\n"):
    """WarmDrivers over a fake warm-up job (importing a module beside it) on a sample file."""
    job = tmp_path / "checkout" / "job.py"
    job.parent.mkdir()
    job.write_bytes(warm_up_script)
    (job.parent / "warm_up_helper.py").write_text("print('warm-up helper imported')\n")
    (tmp_path / "sample.csv").write_text("Series_Title\nx\n")
    return WarmDrivers(tmp_path / "warm", job, tmp_path / "sample.csv")


# Starts warming a driver (the warm_drivers job of the test's tmp_path), prints its pid, then waits.
PARENT_OF_A_DRIVER = """
import sys, time
from pathlib import Path
from local_stack.glue_runner import WarmDrivers
tmp_path = Path(sys.argv[1])
drivers = WarmDrivers(tmp_path / "warm", tmp_path / "checkout" / "job.py", tmp_path / "sample.csv")
drivers.replenish()
print(next((tmp_path / "warm").glob("warm-up-*.log")).stem.removeprefix("warm-up-"), flush=True)
time.sleep(600)
"""


def driver_pid(warm_up_log: Path) -> int:
    """The process id of the driver that writes `warm-up-<pid>.log`."""
    return int(warm_up_log.stem.removeprefix("warm-up-"))


def driver_gone(warm_up_log: Path) -> bool:
    """Whether the driver that writes `warm-up-<pid>.log` has exited and been reaped."""
    return not Path(f"/proc/{driver_pid(warm_up_log)}").exists()


def wait_until_ready(drivers: WarmDrivers, timeout: float = 30) -> Path:
    """The warm-up log that says ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for log in drivers.directory.glob("warm-up-*.log"):
            if READY_LINE in log.read_text():
                return log
        time.sleep(0.1)
    raise AssertionError(f"no warm driver became ready in {timeout} s: {list(drivers.directory.iterdir())}")


def run_view(tmp_path, run_id: str, drivers: WarmDrivers | None):
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("extra_module.py", "VALUE = 1\n")
    s3 = FakeS3({("scripts", "job.py"): VIEW_SCRIPT, ("scripts", "extra.zip"): package.getvalue()})
    request = RunRequest(run_id, "job", "s3://scripts/job.py",
                         {"--extra-py-files": "s3://scripts/extra.zip", "--batch_id": "B1"})  # fmt: skip
    result = execute_run(request, tmp_path / "runs", s3, script_sha256=hashlib.sha256(VIEW_SCRIPT).hexdigest(),
                         warm_drivers=drivers)  # fmt: skip
    assert result.succeeded, result.error_message
    (line,) = [text for _, text in result.output_lines]
    return json.loads(line.replace(run_id, "<run>")), result


def test_a_run_on_a_warm_driver_sees_what_a_cold_run_sees(tmp_path):
    drivers = warm_drivers(tmp_path)
    try:
        cold, _ = run_view(tmp_path, "jr_cold", None)
        drivers.replenish()
        warm_up_log = wait_until_ready(drivers)
        warm, result = run_view(tmp_path, "jr_warm", drivers)
    finally:
        drivers.stop()

    # A served run gets its session's full CPU share back (a cold run's is the runner's session).
    assert warm.pop("session_nice") == ("0" if KERNEL_HAS_AUTOGROUPS else None)
    cold.pop("session_nice")
    assert warm == cold
    assert cold["path"][0].endswith("/runs/<run>/script")
    assert cold["argv"][1:] == ["--batch_id", "B1", "--JOB_NAME", "job"]
    assert not cold["warm_up_module_left"] and cold["handlers"] == 0
    assert "(on warm driver pid" in result.log_path.read_text().splitlines()[0]
    # The warm-up's own output stays in its log, out of the run's.
    assert "warm-up helper imported" in warm_up_log.read_text()
    assert "warm-up helper imported" not in result.log_path.read_text()


def test_a_warm_driver_runs_below_the_runners_priority_in_a_session_of_its_own(tmp_path):
    drivers = warm_drivers(tmp_path)
    try:
        drivers.replenish()
        pid = driver_pid(wait_until_ready(drivers))
        niceness, session = os.getpriority(os.PRIO_PROCESS, pid), os.getsid(pid)
        autogroup_nice = session_nice(pid)
    finally:
        drivers.stop()

    highest = 20 if sys.platform == "darwin" else 19
    assert niceness == min(highest, os.getpriority(os.PRIO_PROCESS, 0) + glue_driver.NICENESS)
    assert session == pid
    # Where the kernel shares CPU between sessions first, the driver's whole session is niced.
    assert autogroup_nice == (str(glue_driver.NICENESS) if KERNEL_HAS_AUTOGROUPS else None)


def test_a_warm_driver_exits_when_the_process_that_started_it_dies(tmp_path):
    warm_drivers(tmp_path, warm_up_script=b"import time\ntime.sleep(60)\n")  # the files its parent uses
    parent = subprocess.Popen([sys.executable, "-c", PARENT_OF_A_DRIVER, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True, cwd=REPO)  # fmt: skip
    pid = int(parent.stdout.readline())
    try:
        assert is_alive(pid)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while is_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not is_alive(pid), "the driver outlived the process that started it by 10 s"
    finally:
        parent.kill()
        if is_alive(pid):
            os.killpg(pid, signal.SIGKILL)


def test_a_run_ending_a_warm_driver_starts_the_next_one_warming(tmp_path):
    drivers = warm_drivers(tmp_path)
    try:
        drivers.replenish()
        first = wait_until_ready(drivers)
        run_view(tmp_path, "jr_1", drivers)
        wait_until_ready(drivers)
        logs = sorted(drivers.directory.glob("warm-up-*.log"))
    finally:
        drivers.stop()

    assert len(logs) == 2 and first in logs


def test_a_run_arriving_while_the_driver_warms_up_waits_for_it(tmp_path):
    drivers = warm_drivers(tmp_path, warm_up_script=b"import time, warm_up_helper\ntime.sleep(2)\n")
    try:
        drivers.replenish()
        _, result = run_view(tmp_path, "jr_1", drivers)
    finally:
        drivers.stop()

    assert "(on warm driver pid" in result.log_path.read_text().splitlines()[0]


def test_a_warm_up_slower_than_the_wait_is_stopped_and_the_run_goes_cold(tmp_path, monkeypatch):
    monkeypatch.setattr(glue_runner, "WARM_UP_WAIT_SECONDS", 0.5)
    drivers = warm_drivers(tmp_path, warm_up_script=b"import time\ntime.sleep(60)\n")
    try:
        drivers.replenish()
        (slow_log,) = drivers.directory.glob("warm-up-*.log")
        view, result = run_view(tmp_path, "jr_1", drivers)
        assert driver_gone(slow_log)  # stopped (and reaped) before the run went cold
    finally:
        drivers.stop()

    assert "(on warm driver pid" not in result.log_path.read_text()
    assert view["path"][0].endswith("/runs/<run>/script")


def test_a_run_that_fails_to_stage_stops_the_driver_it_took(tmp_path):
    drivers = warm_drivers(tmp_path)
    try:
        drivers.replenish()
        ready_log = wait_until_ready(drivers)
        s3 = FakeS3({("scripts", "job.py"): VIEW_SCRIPT})
        result = execute_run(RunRequest("jr_1", "job", "s3://scripts/job.py", {}), tmp_path / "runs", s3,
                             script_sha256="0" * 64, warm_drivers=drivers)  # fmt: skip
    finally:
        drivers.stop()

    assert not result.succeeded and "differs from the registered job script" in result.error_message
    assert driver_gone(ready_log)


def test_stopping_the_pool_stops_a_driver_a_run_waits_for(tmp_path):
    """The emulator's shutdown must not wait out a warm-up some run is waiting for."""
    drivers = warm_drivers(tmp_path, warm_up_script=b"import time\ntime.sleep(60)\n")
    drivers.replenish()
    (log,) = drivers.directory.glob("warm-up-*.log")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        taken = pool.submit(drivers.take, 90)
        time.sleep(0.5)  # the run is waiting
        started = time.monotonic()
        drivers.stop()
        assert taken.result(timeout=30) is None
    assert time.monotonic() - started < 10
    assert driver_gone(log)


@pytest.mark.parametrize(("script", "message"), [
    (b"raise ValueError('line 7 of x.csv breaks rule R')\n", "ValueError: line 7 of x.csv breaks rule R"),
    (b"import sys\nsys.exit('movies_quality_ingestion: --batch_id is bad')\n",
     "movies_quality_ingestion: --batch_id is bad"),
])  # fmt: skip
def test_a_failing_run_fails_alike_cold_and_warm(tmp_path, script, message):
    s3 = FakeS3({("scripts", "job.py"): script})
    digest = hashlib.sha256(script).hexdigest()
    drivers = warm_drivers(tmp_path)
    try:
        cold = execute_run(RunRequest("jr_cold", "job", "s3://scripts/job.py", {}), tmp_path / "runs", s3,
                           script_sha256=digest)  # fmt: skip
        drivers.replenish()
        wait_until_ready(drivers)
        warm = execute_run(RunRequest("jr_warm", "job", "s3://scripts/job.py", {}), tmp_path / "runs", s3,
                           script_sha256=digest, warm_drivers=drivers)  # fmt: skip
    finally:
        drivers.stop()

    for result in (cold, warm):
        assert not result.succeeded
        assert result.error_message.startswith(f"{message} (exit code 1; log: ")
    assert "(on warm driver pid" in warm.log_path.read_text()


def test_a_failed_warm_up_leaves_runs_cold_and_says_why(tmp_path):
    drivers = warm_drivers(tmp_path, warm_up_script=b"raise RuntimeError('no Java here')\n")
    try:
        drivers.replenish()
        (log,) = drivers.directory.glob("warm-up-*.log")
        deadline = time.monotonic() + 30
        while "no Java here" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        view, result = run_view(tmp_path, "jr_1", drivers)
    finally:
        drivers.stop()

    assert "RuntimeError: no Java here" in log.read_text()
    assert "(on warm driver pid" not in result.log_path.read_text()
    assert view["path"][0].endswith("/runs/<run>/script")

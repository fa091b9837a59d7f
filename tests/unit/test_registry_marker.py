"""Registry-dependent tests are skipped with a reason when the registry cannot be reached."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from local_stack.processes import free_port
from local_stack.settings import REPO_ROOT
from tests.fixtures.registry import unreachable_reason


class ProjectPage(BaseHTTPRequestHandler):
    def do_HEAD(self):
        self.send_response(200 if self.path == "/simple/uv/" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_an_index_that_answers_is_reachable():
    server = HTTPServer(("127.0.0.1", 0), ProjectPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        index = f"http://127.0.0.1:{server.server_port}"
        assert unreachable_reason(f"{index}/simple") is None
        assert unreachable_reason(f"{index}/elsewhere") == f"the package registry {index}/elsewhere answered HTTP 404"
    finally:
        server.shutdown()


def test_a_closed_port_is_named_as_the_reason():
    index = f"http://127.0.0.1:{free_port()}/simple"
    reason = unreachable_reason(index, timeout=2)
    assert reason.startswith(f"the package registry {index} is unreachable (")


def test_offline_the_resolution_tests_are_skipped_with_the_reason():
    index = f"http://127.0.0.1:{free_port()}/simple"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         "tests/unit/test_requirements_resolve.py"],
        cwd=REPO_ROOT, env={**os.environ, "UV_DEFAULT_INDEX": index}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "2 skipped" in result.stdout
    assert f"needs the package registry: the package registry {index} is unreachable" in result.stdout

"""A real Prometheus (Debian's `prometheus`) for the meter tests: past hours backfilled with
`promtool tsdb create-blocks-from openmetrics`, and a tiny exporter it scrapes every second."""

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

START_TIMEOUT_S = 30


def needs_prometheus() -> None:
    """Fail under CI, skip on a bare dev machine, when Debian's prometheus is not installed."""
    if shutil.which("prometheus") and shutil.which("promtool"):
        return
    message = "needs Prometheus: apt-get install prometheus (make system-packages)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Exporter(BaseHTTPRequestHandler):
    """A DCGM-style counter that rises 500 mJ each time it is read."""

    reads = 0

    def do_GET(self) -> None:
        _Exporter.reads += 1
        body = (
            "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\n"
            'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="1",namespace="live",'
            f'modelName="NVIDIA A100-SXM4-80GB"}} {_Exporter.reads * 500}\n'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def prometheus_server(tmp_path: Path, openmetrics: str) -> Iterator[str]:
    """Prometheus's base URL, with `openmetrics` backfilled and the exporter scraped."""
    exporter = ThreadingHTTPServer(("127.0.0.1", 0), _Exporter)
    threading.Thread(target=exporter.serve_forever, daemon=True).start()
    data = tmp_path / "data"
    source = tmp_path / "backfill.om"
    source.write_text(openmetrics)
    subprocess.run(
        [
            shutil.which("promtool"),
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            str(source),
            str(data),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: dcgm\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{exporter.server_port}']}}]\n"
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            shutil.which("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=30d",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_scraped(url)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        exporter.shutdown()


def _wait_until_scraped(url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            answer = requests.get(
                f"{url}/api/v1/query", params={"query": 'up{job="dcgm"}'}, timeout=2
            ).json()
            if answer["data"]["result"] and answer["data"]["result"][0]["value"][1] == "1":
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"Prometheus at {url} did not start scraping in {START_TIMEOUT_S}s")

"""Load check of the web chat: start `app.py` with the real models on a free local port (over seeds/ and a
temporary index), fire 20 concurrent `ask` calls through gradio_client, and print their p50/p95 latency.

    .venv/bin/python scripts/bench_web_load.py [--calls 20] [--articles seeds] [--modes batched,serial]

Each mode is one server and one burst, in the same run: `batched` is the web app's default (concurrent questions
share micro-batched model calls), `serial` sets QA_MICRO_BATCH_MS=0 (one question at a time, as before). Bounded
bursts against 127.0.0.1 only; each server is stopped after its burst.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = (
    "who was arrested?",
    "When did the KNB report the operation?",
    "Who dismantled the crime ring?",
    "How do drug traffickers get paid?",
    "What is the dark web?",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, index: Path, process: subprocess.Popen, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"app.py exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200 and (index / "CURRENT").exists():
                    return
        except OSError:
            pass
        time.sleep(1)
    sys.exit("app.py did not come up in time")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


MODES = {"batched": {}, "serial": {"QA_MICRO_BATCH_MS": "0"}}


def burst(calls: int, articles: Path, extra_env: dict[str, str]) -> tuple[float, list[tuple[float, dict]]]:
    """Start a server, warm it up with one question, then time ``calls`` concurrent asks: (wall s, results)."""
    from gradio_client import Client

    with tempfile.TemporaryDirectory() as tmp:
        index, port = Path(tmp) / "index", free_port()
        url = f"http://127.0.0.1:{port}/"
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               **extra_env}
        with open(Path(tmp) / "server.log", "wb") as log:
            command = [sys.executable, "app.py", "--port", str(port)]
            command += ["--articles", str(articles), "--index", str(index)]
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_up(url, index, process)
            client = Client(url, verbose=False)
            client.predict("who was arrested?", [], api_name="/ask")  # models loaded before timing

            def one(i: int) -> tuple[float, dict]:
                started = time.perf_counter()
                answer = client.predict(QUESTIONS[i % len(QUESTIONS)], [], api_name="/ask")
                return time.perf_counter() - started, answer

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=calls) as pool:
                results = list(pool.map(one, range(calls)))
            return time.perf_counter() - started, results
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--articles", type=Path, default=ROOT / "seeds")
    parser.add_argument("--modes", default="batched,serial", help="comma-separated: " + ", ".join(MODES))
    args = parser.parse_args()
    failed = False
    for mode in args.modes.split(","):
        wall, results = burst(args.calls, args.articles, MODES[mode])
        latencies = [seconds for seconds, _ in results]
        answered = sum(1 for _, answer in results if isinstance(answer, dict) and answer.get("text"))
        failed |= answered != args.calls
        print(f"[{mode}] {args.calls} concurrent ask calls: {answered}/{args.calls} returned answers in {wall:.1f}s wall")
        print(f"[{mode}] latency p50 {percentile(latencies, 50):.2f}s  p95 {percentile(latencies, 95):.2f}s  "
              f"min {min(latencies):.2f}s  max {max(latencies):.2f}s  mean {statistics.mean(latencies):.2f}s")
        for i, (seconds, answer) in enumerate(results[:len(QUESTIONS)]):
            question = QUESTIONS[i % len(QUESTIONS)]
            print(f"  {seconds:6.2f}s  {question!r} -> {answer.get('text')!r} ({answer.get('confidence', 0):.0%})")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()

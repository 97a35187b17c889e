"""Resident memory of the Hypercorn worker processes, sampled through the run (psutil)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import psutil

MB = 1024 * 1024
LIMIT_MB = 200


@dataclass
class Sample:
    at: float  # seconds since sampling started
    rss: dict[int, int]  # worker pid -> RSS bytes


@dataclass
class RssSampler:
    """Samples every ``interval`` seconds in a thread until :meth:`stop`."""

    server_pid: int
    interval: float = 5.0
    samples: list[Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def workers(self) -> list[psutil.Process]:
        """Hypercorn's worker processes (multiprocessing "spawn" children; not its resource
        tracker)."""
        try:
            children = psutil.Process(self.server_pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        workers = []
        for child in children:
            try:
                if any("spawn_main" in part for part in child.cmdline()):
                    workers.append(child)
            except psutil.NoSuchProcess:
                continue
        return workers

    def sample(self) -> Sample:
        rss = {}
        for process in self.workers():
            try:
                rss[process.pid] = process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        taken = Sample(time.monotonic() - self._started, rss)
        self.samples.append(taken)
        return taken

    def start(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.interval + 1)
        self.sample()

    def write_csv(self, path) -> None:
        """Every sample: seconds into the load, worker pid, RSS in MB."""
        lines = ["seconds,pid,rss_mb"]
        for sample in self.samples:
            lines += [f"{sample.at:.1f},{pid},{rss / MB:.1f}" for pid, rss in sample.rss.items()]
        path.write_text("\n".join(lines) + "\n")

    # -- summary ----------------------------------------------------------------------------
    def at(self, fraction: float) -> Sample:
        """The sample nearest to ``fraction`` of the way through the run."""
        target = fraction * self.samples[-1].at
        return min(self.samples, key=lambda s: abs(s.at - target))

    def trend_mb_per_minute(self, pid: int) -> float:
        """Least-squares slope of one worker's RSS over the second half of the run (the first
        half includes warm-up: imports, pool, caches)."""
        half = self.samples[-1].at / 2
        points = [(s.at, s.rss[pid] / MB) for s in self.samples if s.at >= half and pid in s.rss]
        if len(points) < 3:
            return 0.0
        mean_t = sum(t for t, _ in points) / len(points)
        mean_m = sum(m for _, m in points) / len(points)
        spread = sum((t - mean_t) ** 2 for t, _ in points)
        if not spread:
            return 0.0
        return 60 * sum((t - mean_t) * (m - mean_m) for t, m in points) / spread

    def lines(self) -> list[str]:
        if not self.samples:
            return ["(no samples)"]
        pids = sorted({pid for s in self.samples for pid in s.rss})
        start, middle, end = self.at(0.0), self.at(0.5), self.at(1.0)
        out = [f"{'worker pid':>10} {'start MB':>9} {'middle MB':>10} {'end MB':>8} "
               f"{'max MB':>8} {'2nd-half trend':>15}"]
        for pid in pids:
            peak = max(s.rss.get(pid, 0) for s in self.samples) / MB
            out.append(
                f"{pid:>10} {start.rss.get(pid, 0) / MB:>9.1f} {middle.rss.get(pid, 0) / MB:>10.1f}"
                f" {end.rss.get(pid, 0) / MB:>8.1f} {peak:>8.1f}"
                f" {self.trend_mb_per_minute(pid):>+10.2f} MB/min")
        out.append(f"(samples every {self.interval:.0f} s: start {start.at:.0f} s, middle "
                   f"{middle.at:.0f} s, end {end.at:.0f} s into the load)")
        peak = max((max(s.rss.values(), default=0) for s in self.samples), default=0) / MB
        out.append(f"largest worker: {peak:.0f} MB (target: under {LIMIT_MB} MB, no growth trend)")
        return out

"""benchmarks/bench.py's end-to-end part: the demo's documents through `litmine run --offline`
as whole commands in new processes (benchmarks/warm_rerun.py's), cold and warm, and the memory
of the processes a run takes."""
from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import threading
from pathlib import Path

import psutil
from bench_parts import Part, PartFailed


class MemoryWatch(threading.Thread):
    """Samples, every `every` s until stopped, the resident memory of this process's children and
    all their descendants, and of litmine's Prefect server with its children if one runs (it may
    be no child of the command measured: an earlier run started it).

    `peak_mb`: the largest sum over those processes at one sample (memory two processes share is
    counted in each); `command_peak_mb`: the largest peak (VmHWM) of a direct child, the command.
    """

    def __init__(self, prefect_home: Path, every: float = 0.1):
        super().__init__(daemon=True)
        self.prefect_home, self.every = prefect_home, every
        self.peak_mb = self.command_peak_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        from flows.server import running_server

        me = psutil.Process()
        while not self._done.wait(self.every):
            roots = me.children()
            server = running_server(self.prefect_home)
            processes = {p.pid: p for p in roots}
            for root in [*roots, *([psutil.Process(server.pid)] if server and psutil.pid_exists(server.pid) else [])]:
                try:
                    processes.update({p.pid: p for p in [root, *root.children(recursive=True)]})
                except psutil.NoSuchProcess:
                    continue
            total = 0
            for process in processes.values():
                try:
                    total += process.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self.command_peak_mb = max([self.command_peak_mb, *(high_water_mb(p.pid) for p in roots)])

    def stop(self) -> None:
        self._done.set()
        self.join()


def high_water_mb(pid: int) -> float:
    """A process's peak resident memory so far (Linux's VmHWM); 0 where it cannot be read."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0.0)


def children_cpu_s() -> float:
    """CPU seconds (user + system) of this process's children that have ended, with the children
    they waited for: a command's CPU time beside its wall time says how much of the machine it had."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def demo_part(quick: bool, repeats: int) -> Part:
    """`litmine run --offline` on the demo's documents, cold then warm, in new processes; `cpu_s`
    leaves out the background server, which the command does not wait for."""
    import warm_rerun  # sets Prefect's defaults and imports the flow: only this part needs them

    home = Path(os.environ["PREFECT_HOME"])
    out = tempfile.mkdtemp(prefix="litmine-bench-demo-")
    rows = []

    def watched(what: str, fresh: bool) -> None:
        watch, cpu = MemoryWatch(home), children_cpu_s()
        watch.start()
        try:
            seconds = warm_rerun.command_seconds(fresh, out)
        finally:
            watch.stop()
        rows.append({"run": what, "seconds": round(seconds, 2), "cpu_s": round(children_cpu_s() - cpu, 1),
                     "command_peak_mb": round(watch.command_peak_mb), "peak_mb": round(watch.peak_mb)})

    warm_rerun.litmine("server", "stop")  # so that the first run starts the background server, as a first run does
    try:
        if quick:
            warm_rerun.command_seconds(False, out)  # fills the caches, or finds them filled
        else:
            watched("cold (--fresh, starts the background server)", True)
        for _ in range(repeats):
            watched("warm (the same again, server running)", False)
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or b"").decode(errors="replace").strip().splitlines() or ["(nothing on stderr)"]
        raise PartFailed(f"litmine run exited with status {exc.returncode}: {last[-1]}") from exc
    finally:
        warm_rerun.litmine("server", "stop")
        shutil.rmtree(out, ignore_errors=True)
    warm = [r["seconds"] for r in rows if r["run"].startswith("warm")]
    cold = [r["seconds"] for r in rows if r["run"].startswith("cold")]
    part = Part({"demo_cold_s": cold[0] if cold else None, "demo_warm_s": round(statistics.median(warm), 2),
                 "peak_rss_mb": max(r["peak_mb"] for r in rows)}, {"demo": rows})
    if quick:
        part.missing["demo_cold_s"] = "skipped: --quick"
    return part

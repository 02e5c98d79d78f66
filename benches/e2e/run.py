#!/usr/bin/env python3
"""End-to-end benchmark driver (issue 8), started by scripts/bench-e2e.

For each source (MariaDB 10.11 sandbox, MySQL 9.7 sandbox):
  1. load: loadgen.py writes N rows into bench.t (multi-row INSERTs, then single-row UPDATEs
     and DELETEs) and records the binlog range [start, end).
  2. throughput, every consumer reading that same binlog range from `start`:
       canal-server -> Rust client (crates/client/examples/bench_consume.rs)
       canal-server -> canal-python 0.4 (canal_py_consumer.py)
       @vlasky/zongji (zongji_consumer.mjs) and mysql-replication (pmr_consumer.py)
     canal-server is started fresh (memory meta) at `start`; its rows/s counts from the
     server's spawn to the client's last row, so it includes server start-up and the
     connection to the source. Peers count from their own start to their last row.
     Server CPU seconds (utime+stime) and peak RSS (VmHWM) come from /proc.
  3. latency: a fresh canal-server at `end`, idle RSS after --idle-secs, then a paced load
     (loadgen.py paced, --rate rows/s for --paced-secs) consumed by the Rust client and then by
     canal-python; latency = client receive wall clock - commit_us written in the row.
Writes results.json, results.md and bench-e2e.png into --out and prints results.md.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CLK = os.sysconf("SC_CLK_TCK")

SOURCES = {
    "mariadb": {"label": "MariaDB 10.11", "port": 3307,
                "socket": "/tmp/canal-mariadb/run/mysqld.sock"},
    "mysql9": {"label": "MySQL 9.7", "port": 3308,
               "socket": "/var/cache/canal-rs/sid-chroot/run/canal-mysql9/mysqld.sock"},
}


def log(*a):
    print("[bench-e2e %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def children_cpu():
    """utime+stime of every child reaped so far (RUSAGE_CHILDREN): the difference around one
    subprocess's wait is that process's CPU seconds (canal-server is reaped only later)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_json(cmd, timeout, env=None, cpu=False):
    ru0 = children_cpu()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (cmd[0], p.returncode, p.stderr[-2000:]))
    r = json.loads(p.stdout.strip().splitlines()[-1])
    if cpu:
        r["client_cpu_s"] = round(children_cpu() - ru0, 3)
    return r


class Proc:
    """/proc sampling of one process: RSS now, peak RSS, CPU seconds."""

    def __init__(self, pid):
        self.pid = pid

    def status(self):
        out = {}
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0]) / 1024.0  # MiB
        return out

    def ctxt_switches(self):
        """Voluntary + involuntary context switches summed over the process's live threads."""
        total = 0
        try:
            tids = os.listdir("/proc/%d/task" % self.pid)
        except OSError:
            return None
        for t in tids:
            try:
                with open("/proc/%d/task/%s/status" % (self.pid, t)) as f:
                    for line in f:
                        if "ctxt_switches:" in line:
                            total += int(line.split()[1])
            except (OSError, ValueError, IndexError):
                pass
        return total

    def cpu(self):
        with open("/proc/%d/stat" % self.pid) as f:
            s = f.read()
        fields = s[s.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / CLK


class Server:
    """One canal-server process on a generated conf dir (destination `bench`)."""

    def __init__(self, a, src, journal, pos):
        self.dir = tempfile.mkdtemp(prefix="canal-bench-conf-")
        props = open(os.path.join(REPO, "conf", "canal.properties")).read()
        over = {
            "canal.port": str(a.canal_port), "canal.metrics.pull.port": str(a.canal_port + 1),
            "canal.admin.port": str(a.canal_port + 2), "canal.destinations": "bench",
            "canal.auto.scan": "false", "canal.zkServers": "",
            "canal.instance.global.spring.xml": "classpath:spring/memory-instance.xml",
        }
        for k, v in over.items():
            pat = re.compile(r"^%s\s*=.*$" % re.escape(k), re.M)
            props = pat.sub(lambda _m, k=k, v=v: "%s = %s" % (k, v), props) if pat.search(props) \
                else props + "\n%s = %s\n" % (k, v)
        with open(os.path.join(self.dir, "canal.properties"), "w") as f:
            f.write(props)
        os.makedirs(os.path.join(self.dir, "bench"))
        inst = open(os.path.join(REPO, "conf", "example", "instance.properties")).read()
        iover = {
            "canal.instance.master.address": "127.0.0.1:%d" % SOURCES[src]["port"],
            "canal.instance.master.journal.name": journal,
            "canal.instance.master.position": str(pos),
            "canal.instance.master.gtid": "", "canal.instance.gtidon": "false",
            "canal.instance.dbUsername": "canal", "canal.instance.dbPassword": "canal",
            "canal.instance.filter.regex": "bench\\\\.t",
            "canal.instance.mysql.slaveId": "7003",
        }
        for k, v in iover.items():
            pat = re.compile(r"^%s\s*=.*$" % re.escape(k), re.M)
            inst = pat.sub(lambda _m, k=k, v=v: "%s=%s" % (k, v), inst) if pat.search(inst) \
                else inst + "\n%s=%s\n" % (k, v)
        with open(os.path.join(self.dir, "bench", "instance.properties"), "w") as f:
            f.write(inst)
        self.logf = open(os.path.join(self.dir, "server.log"), "w")
        self.spawn_us = time.time_ns() // 1000
        self.p = subprocess.Popen([a.server_bin, "--conf", self.dir, "--logs", os.path.join(self.dir, "logs")],
                                  stdout=self.logf,
                                  stderr=subprocess.STDOUT, cwd=self.dir)
        self.proc = Proc(self.p.pid)

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.logf.close()

    def log_tail(self):
        out = ""
        for name in ("server.log", "logs/canal/canal.log", "logs/bench/bench.log"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out += "--- %s\n%s\n" % (name, f.read()[-2000:])
            except OSError:
                pass
        return out

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def binlog_bytes(a, src, start, end):
    """Bytes of binlog between start and end (summing whole files in between)."""
    if start["file"] == end["file"]:
        return end["pos"] - start["pos"]
    out = subprocess.run([a.python, os.path.join(HERE, "loadgen.py"), "logs", "--socket",
                          SOURCES[src]["socket"]], capture_output=True, text=True, check=True)
    sizes = json.loads(out.stdout)
    total, on = 0, False
    for name, size in sizes:
        if name == start["file"]:
            on, total = True, size - start["pos"]
        elif name == end["file"]:
            return total + end["pos"]
        elif on:
            total += size
    return total


def canal_run(a, src, start, expect, consumer_cmd, timeout):
    """canal-server at `start` + one consumer until `expect` rows; server cost from /proc."""
    srv = Server(a, src, start["file"], start["pos"])
    try:
        ru0 = children_cpu()
        c = subprocess.Popen(consumer_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak_rss = 0.0
        deadline = time.monotonic() + timeout
        while c.poll() is None and time.monotonic() < deadline:
            if not srv.alive():
                break
            peak_rss = max(peak_rss, srv.proc.status().get("VmRSS", 0.0))
            time.sleep(0.1)
        if c.poll() is None:
            c.kill()
        out, err = c.communicate()
        client_cpu = children_cpu() - ru0
        if not srv.alive():
            raise RuntimeError("canal-server exited: " + srv.log_tail())
        cpu = srv.proc.cpu()
        ctxt = srv.proc.ctxt_switches()
        st = srv.proc.status()
        if c.returncode != 0:
            raise RuntimeError("consumer failed: " + err[-2000:] + "\nserver log:\n" + srv.log_tail())
        r = json.loads(out.strip().splitlines()[-1])
        wall = (r["last_row_us"] - srv.spawn_us) / 1e6 if r["last_row_us"] else float("nan")
        stream = (r["last_row_us"] - r["first_row_us"]) / 1e6 if r["last_row_us"] else 0
        r.update({"server_cpu_s": round(cpu, 3), "client_cpu_s": round(client_cpu, 3),
                  "server_ctxt_switches": ctxt,
                  "server_peak_rss_mib": round(max(peak_rss, st.get("VmHWM", 0)), 1),
                  "wall_s": round(wall, 3), "rows_per_s": r["rows"] / wall if wall > 0 else None,
                  # spawn -> first successful GET, and the rate from the first row to the last
                  "startup_s": round((r["connected_us"] - srv.spawn_us) / 1e6, 3),
                  "stream_rows_per_s": r["rows"] / stream if stream > 0 else None})
        return r
    finally:
        srv.stop()
        srv.cleanup()


def rust_cmd(a, expect, latency=False):
    cmd = [a.client_bin, "--addr", "127.0.0.1:%d" % a.canal_port, "--destination", "bench",
           "--expect", str(expect), "--max-secs", str(a.max_consumer_secs)]
    if latency:
        # MEMSIZE batch of 1 x memunit: the server answers as soon as >= 1 KiB is ready.
        cmd += ["--latency", "--batch", "1", "--timeout-ms", "100"]
    else:
        cmd += ["--batch", "1000", "--timeout-ms", "10"]
    return cmd


def py_cmd(a, expect, latency=False):
    cmd = [a.python, os.path.join(HERE, "canal_py_consumer.py"), "--port", str(a.canal_port),
           "--expect", str(expect), "--max-secs", str(a.max_consumer_secs)]
    if latency:
        cmd += ["--latency", "--batch", "100"]
    return cmd


def latency_phase(a, src, end, first_id, res):
    srv = Server(a, src, end["file"], end["pos"])
    try:
        time.sleep(a.idle_secs)
        if not srv.alive():
            raise RuntimeError("canal-server exited: " + srv.log_tail())
        idle = srv.proc.status()
        res["idle_rss_mib"] = round(idle.get("VmRSS", 0), 1)
        res["idle_cpu_s"] = round(srv.proc.cpu(), 3)
        total = int(a.rate * a.paced_secs)
        for name, cmd in (("rust", rust_cmd(a, total, True)), ("python", py_cmd(a, total, True))):
            if name not in a.consumers:
                continue
            c = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(1.0)  # connect + subscribe
            cpu0 = srv.proc.cpu()
            gen = run_json([a.python, os.path.join(HERE, "loadgen.py"), "paced", "--socket",
                            SOURCES[src]["socket"], "--first-id", str(first_id), "--rate", str(a.rate),
                            "--seconds", str(a.paced_secs), "--per-stmt", str(a.paced_per_stmt)],
                           timeout=a.paced_secs * 5 + 60)
            first_id += total
            try:
                out, err = c.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                c.kill()
                out, err = c.communicate()
            cpu1 = srv.proc.cpu()
            if c.returncode not in (0, None) or not out.strip():
                raise RuntimeError("latency consumer %s failed: %s\nserver log:\n%s" % (name, err[-2000:], srv.log_tail()))
            r = json.loads(out.strip().splitlines()[-1])
            r["generator"] = gen
            r["server_cpu_s"] = round(cpu1 - cpu0, 3)
            r["server_rss_mib"] = round(srv.proc.status().get("VmRSS", 0), 1)
            r["loadavg"] = loadavg()
            res["latency_" + name] = r
            log(src, "latency", name, "p50=%s p99=%s ms (%d samples, generator %.0f rows/s)" % (
                r.get("latency_ms_p50"), r.get("latency_ms_p99"), r.get("latency_samples", 0), gen["rate"]))
    finally:
        srv.stop()
        srv.cleanup()
    return first_id


def bench_source(a, src):
    res = {"source": SOURCES[src]["label"]}
    sock = SOURCES[src]["socket"]
    lg = [a.python, os.path.join(HERE, "loadgen.py")]
    start = run_json(lg + ["setup", "--socket", sock], 120)["start"]
    log(src, "loading %d rows (+%d updates, +%d deletes) ..." % (a.rows, a.updates, a.deletes))
    load = run_json(lg + ["bulk", "--socket", sock, "--rows", str(a.rows), "--updates", str(a.updates),
                          "--deletes", str(a.deletes)], 1800)
    end = load["end"]
    expect = load["rows"]
    nbytes = binlog_bytes(a, src, start, end)
    res.update({"start": start, "end": end, "load": load, "rows": expect, "binlog_bytes": nbytes})
    log(src, "load done in %.1fs: %d row images, %.1f MiB of binlog (%s .. %s:%d)" % (
        load["seconds"], expect, nbytes / 2**20, start["file"] + ":%d" % start["pos"], end["file"], end["pos"]))
    res["throughput"] = throughput(a, src, start, expect, nbytes)
    if a.rate > 0 and a.paced_secs > 0:
        try:
            latency_phase(a, src, end, a.rows + 10_000_000, res)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
            log(src, "latency FAILED:", str(e)[-1500:])
            res["latency_error"] = str(e)[-1500:]
    return res


def replay_source(a, old):
    """--replay: only the throughput runs, on the binlog range an earlier run loaded."""
    src = next(k for k, v in SOURCES.items() if v["label"] == old["source"])
    res = {k: old[k] for k in ("source", "start", "end", "load", "rows", "binlog_bytes") if k in old}
    res["replay_of"] = a.replay
    res["throughput"] = throughput(a, src, old["start"], old["rows"], old["binlog_bytes"])
    return res


def throughput(a, src, start, expect, nbytes):
    port = SOURCES[src]["port"]
    runs = {}
    for name in a.consumers:
        la = loadavg()
        t0 = time.monotonic()
        try:
            if name == "rust":
                r = canal_run(a, src, start, expect, rust_cmd(a, expect), a.max_consumer_secs + 30)
            elif name == "python":
                r = canal_run(a, src, start, expect, py_cmd(a, expect), a.max_consumer_secs + 30)
            elif name == "zongji":
                env = dict(os.environ, ZONGJI_DIR=a.zongji_dir)
                r = run_json(["node", os.path.join(HERE, "zongji_consumer.mjs"), "--port", str(port),
                              "--file", start["file"], "--pos", str(start["pos"]), "--expect", str(expect),
                              "--max-secs", str(a.max_consumer_secs)], a.max_consumer_secs + 30, env, cpu=True)
            elif name == "pmr":
                r = run_json([a.python, os.path.join(HERE, "pmr_consumer.py"), "--port", str(port),
                              "--file", start["file"], "--pos", str(start["pos"]), "--expect", str(expect),
                              "--max-secs", str(a.max_consumer_secs)], a.max_consumer_secs + 30, cpu=True)
            else:
                continue
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
            log(src, name, "FAILED:", str(e)[-1500:])
            r = {"error": str(e)[-1500:]}
        r["loadavg_before"] = la
        r["loadavg_after"] = loadavg()
        r["elapsed_s"] = round(time.monotonic() - t0, 2)
        if r.get("rows_per_s"):
            r["binlog_mib_per_s"] = nbytes / 2**20 / (r["rows"] / r["rows_per_s"])
        runs[name] = r
        log(src, name, "%s rows/s, %s MiB/s binlog%s%s (load %s)" % (
            "%.0f" % r["rows_per_s"] if r.get("rows_per_s") else "-",
            "%.1f" % r["binlog_mib_per_s"] if r.get("binlog_mib_per_s") else "-",
            ", server %.2f CPU s, peak RSS %.1f MiB" % (r["server_cpu_s"], r["server_peak_rss_mib"])
            if "server_cpu_s" in r else "",
            ", consumer %.2f CPU s" % r["client_cpu_s"] if "client_cpu_s" in r else "", la))
    return runs


def fmt(v, spec="%.0f"):
    return spec % v if isinstance(v, (int, float)) and v == v else "-"


def report(a, results):
    lines = ["# bench-e2e results", "",
             "%s, %d cores, N=%d inserts + %d updates + %d deletes, paced %d rows/s for %ss" % (
                 time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count(), a.rows, a.updates,
                 a.deletes, a.rate, a.paced_secs), ""]
    for r in results:
        lines += ["## " + r["source"], "",
                  "%d row images, %.1f MiB of binlog (range includes any other traffic on the shared sandbox)" % (
                      r.get("rows", 0), r.get("binlog_bytes", 0) / 2**20), "",
                  "| consumer | rows/s | binlog MiB/s | server start-up s | rows/s first→last row | server CPU s "
                  "| consumer CPU s | server peak RSS MiB | load avg |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
        tp = r.get("throughput", {})
        names = {"rust": "canal-server → Rust client", "python": "canal-server → canal-python",
                 "zongji": "@vlasky/zongji (peer)", "pmr": "mysql-replication (peer)"}
        for k, v in tp.items():
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                names.get(k, k), fmt(v.get("rows_per_s")), fmt(v.get("binlog_mib_per_s"), "%.1f"),
                fmt(v.get("startup_s"), "%.2f"), fmt(v.get("stream_rows_per_s")),
                fmt(v.get("server_cpu_s"), "%.2f"), fmt(v.get("client_cpu_s"), "%.2f"),
                fmt(v.get("server_peak_rss_mib"), "%.1f"),
                v.get("loadavg_before", "") + (" ERROR" if "error" in v else "")))
        ratios = []
        for ours in ("rust", "python"):
            for peer in ("zongji", "pmr"):
                x, y = tp.get(ours, {}).get("rows_per_s"), tp.get(peer, {}).get("rows_per_s")
                if x and y:
                    ratios.append("%s / %s = %.2f×" % (names[ours], names[peer], x / y))
        if ratios:
            lines += ["", "Ratios: " + "; ".join(ratios)]
        lines += ["", "Idle canal-server RSS: %s MiB" % fmt(r.get("idle_rss_mib"), "%.1f"), ""]
        for k in ("rust", "python"):
            v = r.get("latency_" + k)
            if v:
                g = v["generator"]
                lines.append("Latency commit → %s at %s rows/s: p50 %s ms, p99 %s ms, p99.9 %s ms, max %s ms "
                             "(%d samples; the INSERT+commit round trip itself, included: p50 %s ms, p99 %s ms; "
                             "server %s CPU s during the paced phase; load %s)" % (
                                 names[k].split("→ ")[1], fmt(g["rate"]), fmt(v.get("latency_ms_p50"), "%.2f"),
                                 fmt(v.get("latency_ms_p99"), "%.2f"), fmt(v.get("latency_ms_p999"), "%.2f"),
                                 fmt(v.get("latency_ms_max"), "%.2f"), v.get("latency_samples", 0),
                                 fmt(g.get("exec_ms_p50"), "%.2f"), fmt(g.get("exec_ms_p99"), "%.2f"),
                                 fmt(v.get("server_cpu_s"), "%.2f"), v.get("loadavg")))
        if r.get("latency_error"):
            lines.append("Latency phase failed: " + r["latency_error"][:300])
        lines.append("")
    return "\n".join(lines)


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing: no plot")
        return
    names = [("rust", "canal-rs → Rust"), ("python", "canal-rs → canal-python"),
             ("zongji", "@vlasky/zongji"), ("pmr", "mysql-replication")]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.8 / max(1, len(results))
    for i, r in enumerate(results):
        tp = r.get("throughput", {})
        ys = [tp.get(k, {}).get("rows_per_s") or 0 for k, _ in names]
        xs = [j + i * width for j in range(len(names))]
        bars = ax1.bar(xs, ys, width, label=r["source"])
        for b, y in zip(bars, ys):
            if y:
                ax1.annotate("%.0fk" % (y / 1000), (b.get_x() + b.get_width() / 2, y), ha="center",
                             va="bottom", fontsize=7)
        lat = []
        for k in ("rust", "python"):
            v = r.get("latency_" + k) or {}
            lat += [v.get("latency_ms_p50") or 0, v.get("latency_ms_p99") or 0]
        xs2 = [j + i * width for j in range(4)]
        bars = ax2.bar(xs2, lat, width, label=r["source"])
        for b, y in zip(bars, lat):
            if y:
                ax2.annotate("%.2f" % y, (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=7)
    ax1.set_xticks([j + width * (len(results) - 1) / 2 for j in range(len(names))], [n for _, n in names],
                   fontsize=8)
    ax1.set_yscale("log")
    ax1.set_ylabel("rows/s (log)")
    ax1.set_title("Replay throughput, same binlog range")
    ax1.legend(fontsize=8)
    ax2.set_xticks([j + width * (len(results) - 1) / 2 for j in range(4)],
                   ["Rust p50", "Rust p99", "canal-python p50", "canal-python p99"], fontsize=8)
    ax2.axhline(5, color="red", linestyle="--", linewidth=1, label="5 ms target")
    ax2.set_yscale("log")
    ax2.set_ylabel("ms (log)")
    ax2.set_title("Commit → client latency at the paced rate")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    log("plot:", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sources", default="mariadb,mysql9")
    ap.add_argument("--consumers", default="rust,python,zongji,pmr")
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--updates", type=int, default=20_000)
    ap.add_argument("--deletes", type=int, default=20_000)
    ap.add_argument("--rate", type=float, default=10_000)
    ap.add_argument("--paced-secs", type=float, default=10)
    ap.add_argument("--paced-per-stmt", type=int, default=20)
    ap.add_argument("--idle-secs", type=float, default=3)
    ap.add_argument("--canal-port", type=int, default=11311)
    ap.add_argument("--max-consumer-secs", type=int, default=240)
    ap.add_argument("--server-bin")
    ap.add_argument("--client-bin")
    ap.add_argument("--replot", metavar="RESULTS_JSON",
                    help="only redraw the plot and the table of an earlier results.json into --out")
    ap.add_argument("--replay", metavar="RESULTS_JSON",
                    help="skip loading and latency: rerun the throughput consumers on the binlog ranges "
                         "recorded in an earlier results.json (the sources must still hold those binlogs)")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--zongji-dir")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    a.consumers = [c for c in a.consumers.split(",") if c]
    os.makedirs(a.out, exist_ok=True)
    if a.replot:
        with open(a.replot) as f:
            results = json.load(f)
        plot(results, os.path.join(a.out, "bench-e2e.png"))
        print(report(a, results))
        return
    if not (a.server_bin and a.client_bin and a.zongji_dir):
        sys.exit("--server-bin, --client-bin and --zongji-dir are required")
    results = []
    if a.replay:
        with open(a.replay) as f:
            old = json.load(f)
        wanted = [SOURCES[s]["label"] for s in a.sources.split(",") if s in SOURCES]
        for o in old:
            if o["source"] in wanted and "start" in o:
                log("replay", o["source"], "load average", loadavg())
                results.append(replay_source(a, o))
        a.rate = 0
    else:
        results = run_sources(a)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    md = report(a, results)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(md)
    plot(results, os.path.join(a.out, "bench-e2e.png"))
    print(md)


def run_sources(a):
    results = []
    for src in [s for s in a.sources.split(",") if s]:
        if src not in SOURCES:
            sys.exit("unknown source " + src)
        log("source", src, "load average", loadavg())
        results.append(bench_source(a, src))
        with open(os.path.join(a.out, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main()

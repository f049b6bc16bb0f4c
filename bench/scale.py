#!/usr/bin/env python3
"""Scale benchmark for supervise-scan (issue 6): N services of `sleep` under
one scanner. Measures time until all are up, private memory in total and per
service (smaps_rollup), CPU and wake-ups while idle, and the time for an
orderly shutdown. Prints a Markdown table.

    python3 bench/scale.py [--services 1000] [--idle 60]

Needs the release binaries (built if missing). Every process it starts is
killed by pid at the end, even on error.
"""
import argparse, os, signal, struct, subprocess, sys, tempfile, time, platform

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REL = os.path.join(ROOT, "target", "release")
HZ = os.sysconf("SC_CLK_TCK")


def status_pid(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return struct.unpack("<I", data[16:20])[0] if len(data) >= 20 else 0
    except OSError:
        return 0


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def rollup(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                    out[parts[0][:-1]] = int(parts[1])
    except OSError:
        pass
    return out


def cpu_and_switches(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        with open(f"/proc/{pid}/status") as f:
            sw = sum(int(l.split()[1]) for l in f if "ctxt_switches" in l)
        return ticks, sw
    except OSError:
        return 0, 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--idle", type=float, default=60.0)
    args = ap.parse_args()
    if not all(os.path.exists(os.path.join(REL, b)) for b in ("supervise", "supervise-scan")):
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    n = args.services
    tmp = tempfile.mkdtemp(prefix="supervise-scale-")
    conf = os.path.join(tmp, "s.conf")
    with open(conf, "w") as f:
        f.write("[global]\nstop_timeout : 10\n")
        for i in range(n):
            f.write(f"[s{i}]\ncommand : sleep {100000 + i}\n")
    statuses = [os.path.join(tmp, "root", "status", f"s{i}", "status") for i in range(n)]
    started = time.monotonic()
    scan = subprocess.Popen(
        [os.path.join(REL, "supervise-scan"), "-F", conf, "-d", os.path.join(tmp, "root")],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "scan.err"), "w"),
    )
    try:
        pending = set(range(n))
        while pending:
            pending = {i for i in pending if status_pid(statuses[i]) == 0}
            if time.monotonic() - started > 300:
                sys.exit(f"only {n - len(pending)} of {n} services up after 300 s")
            time.sleep(0.01)
        up_time = time.monotonic() - started
        sups = children(scan.pid)
        services = [p for s in sups for p in children(s)]
        time.sleep(2)  # let start-up settle before the idle window
        procs = [scan.pid] + sups
        before = {p: cpu_and_switches(p) for p in procs}
        time.sleep(args.idle)
        after = {p: cpu_and_switches(p) for p in procs}
        idle_ticks = sum(after[p][0] - before[p][0] for p in procs)
        idle_switches = sum(after[p][1] - before[p][1] for p in procs)
        mem = {"Pss": 0, "Private_Dirty": 0, "Private_Clean": 0, "Rss": 0}
        for p in procs:
            r = rollup(p)
            for k in mem:
                mem[k] += r.get(k, 0)
        scan_mem = rollup(scan.pid)
        t0 = time.monotonic()
        scan.send_signal(signal.SIGTERM)
        code = scan.wait(timeout=120)
        down_time = time.monotonic() - t0
        left = [p for p in services if os.path.exists(f"/proc/{p}")]
    finally:
        if scan.poll() is None:
            for s in children(scan.pid):
                for c in children(s):
                    os.killpg(c, signal.SIGKILL) if c > 1 else None
                os.kill(s, signal.SIGKILL)
            scan.kill()
            scan.wait()
    private = mem["Private_Dirty"] + mem["Private_Clean"]
    print(f"### supervise-scan with {n} services of `sleep` ({time.strftime('%Y-%m-%d')}, "
          f"{os.cpu_count()} cores, Linux {platform.release()})\n")
    print("| figure | value |")
    print("|---|---|")
    print(f"| time until all {n} services run | {up_time:.2f} s |")
    print(f"| supervisor processes (1 scanner + {len(sups)} supervise) | {len(procs)} |")
    print(f"| private memory, total (Private_Clean + Private_Dirty) | {private / 1024:.1f} MiB |")
    print(f"| private memory per service | {private / n:.0f} kB |")
    print(f"| PSS total / per service | {mem['Pss'] / 1024:.1f} MiB / {mem['Pss'] / n:.0f} kB |")
    print(f"| scanner alone: RSS / Private_Dirty | {scan_mem.get('Rss', 0)} kB / {scan_mem.get('Private_Dirty', 0)} kB |")
    print(f"| CPU while idle over {args.idle:.0f} s (all supervisor processes) | {idle_ticks * 1000 / HZ:.0f} ms |")
    print(f"| context switches while idle (all supervisor processes) | {idle_switches} |")
    print(f"| orderly shutdown of all (SIGTERM → scanner exits) | {down_time:.2f} s, exit {code} |")
    print(f"| services left alive after shutdown | {len(left)} |")
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()

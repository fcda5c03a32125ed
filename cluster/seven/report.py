#!/usr/bin/python3
"""report.py - helpers of cluster/demo (the seven-site demo): tables and counters.

    report.py datasets DATASETS.txt          table of the datasets (demo-data.py's lines)
    report.py central FED.yaml               "SITE TOTAL_CORES": the best-connected site
                                             (highest sum of link bandwidth to the others;
                                             ties: more cores, then the name) and the
                                             federation's total cores
    report.py counters DIR                   "A B BYTES" per site pair: what the two ends
                                             of the pair's veth have sent so far (tbf
                                             qdisc counters, `tc -s qdisc show`)
    report.py linkdiff BEFORE AFTER          table of bytes per link between two
                                             `counters` snapshots; last line "total N"
    report.py placement STATUS.json          the placement table of a job (status --json);
                                             last line "moved N" (sum of bytes_moved)
"""

import json
import re
import subprocess
import sys
from datetime import datetime

def human(n):
    n = float(n)
    for u in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or u == "TiB":
            return ("%.0f %s" % (n, u)) if u == "B" else ("%.1f %s" % (n, u))
        n /= 1024.0


def rate(s):
    """bytes/s of a federation.yaml rate (the subset used by cluster/seven)."""
    s = str(s)
    m = re.match(r"^([0-9.]+) *([kKMGT]?)(bit/s|bps|B/s|)$", s)
    if not m:
        sys.exit("report.py: unsupported rate %r" % s)
    mult = {"": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}[m.group(2)]
    per = 1 / 8 if m.group(3) in ("bit/s", "bps") else 1
    return float(m.group(1)) * mult * per


def cmd_datasets(path):
    rows = [l.split() for l in open(path) if l.startswith("dataset ")]
    print("%-9s %-32s %-14s %-8s %10s  %s" % ("SITE", "NAME", "SHAPE", "DTYPE", "SIZE", "POLICY"))
    total = {}
    for _, site, f, d, shape, dtype, nbytes, pol in rows:
        name = "%s/%s/%s" % (site, f.rsplit(".", 1)[0], d)
        print("%-9s %-32s %-14s %-8s %10s  %s" % (site, name, shape, dtype, human(int(nbytes)), pol))
        total[site] = total.get(site, 0) + int(nbytes)
    print("per site: " + ", ".join("%s %s" % (s, human(b)) for s, b in total.items())
          + "; total %s" % human(sum(total.values())))


def cmd_central(path):
    import yaml
    doc = yaml.safe_load(open(path))
    sites = [s if isinstance(s, dict) else {"name": s} for s in doc["sites"]]
    names = [s["name"] for s in sites]
    cores = {s["name"]: int(s.get("cores", 1)) for s in sites}
    links = doc.get("links") or {}
    default = rate((links.get("default") or {}).get("bandwidth", "1GB/s"))
    bw = {}
    for p in links.get("pairs") or []:
        bw[frozenset(p["between"])] = rate(p.get("bandwidth", default))
    score = {n: sum(bw.get(frozenset((n, o)), default) for o in names if o != n) for n in names}
    best = sorted(names, key=lambda n: (-score[n], -cores[n], n))[0]
    print("%s %d %.0f" % (best, sum(cores.values()), score[best] * 8))


def wan_state(d):
    sites, links = {}, []
    for line in open(d + "/wan.state"):
        w = line.split()
        if not w:
            continue
        if w[0] == "site":
            sites[w[1]] = (w[2], w[3])          # address, namespace
        elif w[0] == "link":
            links.append((w[1], w[2], w[3], w[4]))  # A devA B devB
    return sites, links


def sent(ns, dev):
    out = subprocess.run(["tc", "-s", "-n", ns, "qdisc", "show", "dev", dev],
                         capture_output=True, text=True).stdout
    m = re.search(r"Sent (\d+) bytes", out)
    return int(m.group(1)) if m else 0


def cmd_counters(d):
    sites, links = wan_state(d)
    for a, da, b, db in links:
        print("%s %s %d" % (a, b, sent(sites[a][1], da) + sent(sites[b][1], db)))


def cmd_linkdiff(before, after):
    def load(p):
        return {(a, b): int(n) for a, b, n in (l.split() for l in open(p) if l.strip())}
    b0, b1 = load(before), load(after)
    rows = sorted(((k, b1[k] - b0.get(k, 0)) for k in b1), key=lambda r: -r[1])
    print("%-20s %14s %12s" % ("LINK", "BYTES", ""))
    # Links that carried only a few packets (IPv6 neighbour discovery and the
    # like: the kernel's housekeeping, no data) are summed up in one line.
    small = [n for _, n in rows if n < 4096]
    for (a, b), n in rows:
        if n >= 4096:
            print("%-20s %14d %12s" % (a + "-" + b, n, human(n)))
    if small:
        print("%-20s %14d %12s  (%d links below 4 KiB each: kernel housekeeping packets, no data)"
              % ("other links", sum(max(n, 0) for n in small), "", len(small)))
    print("total %d" % sum(max(n, 0) for _, n in rows))


def cmd_placement(path):
    job = json.load(open(path))
    print("%-13s %-9s %5s %10s %11s  %s" % ("TASK", "SITE", "RANKS", "LOCAL", "MOVED", "RUN"))
    moved = 0
    for t in job["tasks"]:
        run = ""
        if t.get("started") and t.get("ended"):
            run = "%.0f s" % (ts(t["ended"]) - ts(t["started"]))
        print("%-13s %-9s %5d %10s %11s  %s" % (t["name"], t.get("site") or "-", t.get("ranks", 1),
                                                human(t.get("bytes_local") or 0),
                                                human(t.get("bytes_moved") or 0), run))
        moved += t.get("bytes_moved") or 0
    per = {}
    for t in job["tasks"]:
        per[t.get("site")] = per.get(t.get("site"), 0) + 1
    print("tasks per site: " + ", ".join("%s %d" % (s, n) for s, n in sorted(per.items())))
    print("moved %d" % moved)


def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def main():
    a = sys.argv[1:]
    cmds = {"datasets": (cmd_datasets, 1), "central": (cmd_central, 1), "counters": (cmd_counters, 1),
            "linkdiff": (cmd_linkdiff, 2), "placement": (cmd_placement, 1)}
    if not a or a[0] not in cmds or len(a) != cmds[a[0]][1] + 1:
        sys.exit(__doc__)
    cmds[a[0]][0](*a[1:])


if __name__ == "__main__":
    main()

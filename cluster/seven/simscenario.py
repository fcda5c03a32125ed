#!/usr/bin/python3
"""simscenario.py - a `fedsched sim` scenario of a finished seven-site demo run.

    /usr/bin/python3 cluster/seven/simscenario.py DIR JOBID [FEDERATION.yaml] > sim.yaml

DIR is a demo directory kept with `./cluster/demo --keep DIR` (or any local
federation that ran the workflow), JOBID its federated job.  The scenario has the
demo's sites, cores and links (FEDERATION.yaml, by default
cluster/seven/federation.yaml: the cores the sites had in the federated run; a
site.yaml may have been changed since, for the centralised run), its datasets with their real
sizes, replicas and policies (`fedsched catalog --json`), and the job's tasks with
their inputs (the job file kept by the scheduler, `fedsched status`), each task's
runtime taken from the workers' logs (from `event=task.running` to
`event=task.completed`, millisecond timestamps), its command (the argv as written:
what the scheduler's dispatcher learns runtimes by) and each output's real size.  So the
simulator replays the same workflow on the same federation, and its makespans can be
set against the demo's measured ones (tests/bench/headline).

Sliced inputs move `bytes x fraction`, fraction being the share of the dataset's
elements selected; a block reduction is given as `reduce: R`, R the elements per
block (what the simulator compares with an aggregate policy's min_block product),
with the fraction set so that the moved bytes are the reduced result's (capped at 1).
"""
import json, os, re, subprocess, sys
from datetime import datetime

import yaml

d, jobid = sys.argv[1], int(sys.argv[2])
env = dict(os.environ)
for line in open(os.path.join(d, "env")):
    m = re.match(r"export (\w+)=(.*)", line.strip())
    if m:
        env[m.group(1)] = m.group(2).strip("'\"")


def fedsched(*args):
    return json.loads(subprocess.run(["fedsched", *args, "--json"], env=env, check=True,
                                     capture_output=True, text=True).stdout)


here = os.path.dirname(os.path.abspath(__file__))
fedfile = sys.argv[3] if len(sys.argv) > 3 else os.path.join(here, "federation.yaml")
fed = yaml.safe_load(open(fedfile))
sites_cores = {}
for e in fed.get("sites", []):
    if isinstance(e, dict):
        sites_cores[e["name"]] = (e.get("region", e["name"]), e.get("cores", 2))
for sd in sorted(os.listdir(os.path.join(d, "sites"))):
    if sd not in sites_cores:
        sy = yaml.safe_load(open(os.path.join(d, "sites", sd, "site.yaml")))
        sites_cores[sy["name"]] = (sy.get("region", sy["name"]), sy.get("cores", 2))
catalog = {c["name"]: c for c in fedsched("catalog")}
status = fedsched("status", str(jobid))

# The job file: the scheduler keeps its text; fedsched-local keeps the demo's copy.
jobtext = None
for cand in ("federated.yaml",):
    p = os.path.join(d, cand)
    if os.path.exists(p):
        jobtext = open(p).read()
if jobtext is None:
    sys.exit("simscenario: the job file is not in %s" % d)
job = yaml.safe_load(jobtext)

# Task runtimes from the workers' logs.
ts = re.compile(r"^(\S+)Z .* event=task\.(running|completed) job=(\d+) task=(\S+)")
start, end = {}, {}
for sd in os.listdir(os.path.join(d, "sites")):
    log = os.path.join(d, "sites", sd, "worker.log")
    if not os.path.exists(log):
        continue
    for line in open(log, errors="replace"):
        m = ts.match(line)
        if not m or int(m.group(3)) != jobid:
            continue
        t = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp()
        (start if m.group(2) == "running" else end)[m.group(4)] = t
itemsize = {"int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4,
            "int64": 8, "uint64": 8, "float32": 4, "float64": 8}


def selected(shape, sel):
    """Elements kept and result shape of a NumPy basic slice (sel: text in brackets)."""
    parts = [p.strip() for p in sel.split(",")] if sel.strip() else []
    if "..." in parts:
        i = parts.index("...")
        parts = parts[:i] + [":"] * (len(shape) - len(parts) + 1) + parts[i + 1:]
    parts += [":"] * (len(shape) - len(parts))
    n, out = 1, []
    for p, size in zip(parts, shape):
        if ":" not in p:
            continue                      # an integer: one element, dimension dropped
        a = [int(x) if x.strip() else None for x in (p.split(":") + [""])[:3]]
        k = len(range(*slice(*a).indices(size)))
        n *= k
        out.append(k)
    return n, out


def total(shape):
    n = 1
    for s in shape:
        n *= s
    return n


tasks_out = []
for t in job["tasks"]:
    name = t["name"]
    if name not in start or name not in end:
        sys.exit("simscenario: no runtime for task %s in the workers' logs" % name)
    inputs = []
    for iname, spec in (t.get("inputs") or {}).items():
        if isinstance(spec, str) and re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", spec):
            inputs.append(spec)
            continue
        text = spec if isinstance(spec, str) else spec["slice"]
        m = re.fullmatch(r"([^\[]+)(?:\[(.*)\])?", text.strip())
        dsname, sel = m.group(1), m.group(2) or ""
        c = catalog[dsname]
        nsel, oshape = selected(c["shape"], sel)
        frac = nsel / max(1, total(c["shape"]))
        entry = {"data": dsname}
        red = None if isinstance(spec, str) else spec.get("reduce")
        if red:
            (op, blocks), = red.items()
            r = total(blocks)
            nout = total([k // b for k, b in zip(oshape, blocks)])
            moved = nout * (8 if op in ("mean", "sum") else itemsize[c["dtype"]])
            frac = min(1.0, moved * r / max(1, c["bytes"]))
            entry["reduce"] = r
        if frac < 1.0:
            entry["fraction"] = max(frac, 1e-9)
        inputs.append(entry if len(entry) > 1 else dsname)
    outs = {}
    for o in (t.get("outputs") or {}):
        c = catalog.get("jobs/%d/%s/%s" % (jobid, name, o))
        outs[o] = c["bytes"] if c else 1
    task = {"name": name, "ranks": t.get("ranks", 1),
            "runtime": "%dms" % max(1, round((end[name] - start[name]) * 1000)),
            # what the scheduler learns runtimes by: the argv as written
            "command": " ".join(str(a) for a in t["command"]),
            "inputs": inputs, "outputs": outs}
    if t.get("walltime"):
        task["walltime"] = t["walltime"]
    if t.get("site"):
        task["site"] = t["site"]
    if t.get("after"):
        task["after"] = t["after"]
    tasks_out.append(task)

used = set()
for t in tasks_out:
    for i in t["inputs"]:
        n = i["data"] if isinstance(i, dict) else i
        if not re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", n):
            used.add(n)
datasets = [{"name": n, "sites": [r["site"] for r in catalog[n]["replicas"]],
             "bytes": catalog[n]["bytes"], "policy": catalog[n]["policy"]} for n in sorted(used)]
scenario = {
    "version": 1,
    "name": "seven-demo-job%d" % jobid,
    "sites": [{"name": n, "region": r, "cores": c} for n, (r, c) in sorted(sites_cores.items())],
    "links": fed.get("links", {}),
    "datasets": datasets,
    "tasks": tasks_out,
}
yaml.safe_dump(scenario, sys.stdout, sort_keys=False, default_flow_style=None, width=120)

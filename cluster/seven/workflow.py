#!/usr/bin/python3
"""workflow.py - the seven-site demo's joint workflow as a fedsched job file.

    /usr/bin/python3 cluster/seven/workflow.py [--size full|small] [--tag TAG]
                                               [--central SITE] [--app NAME@VERSION] > job.yaml

A multi-hazard risk assessment over the seven data centres of
cluster/seven/federation.yaml and the datasets of cluster/demo-data.py, built
from the example MPI models of jobs/models (climatology, anomaly, regrid,
ensemble_mean, risk_index); 34 tasks:

  per site, next to the data (monthly climatology, anomaly, coarsening):
    meteo     t2m and precipitation: clim -> anom -> coarse; station climatology
              (regions=europe data)
    ocean     sea-surface temperature: clim -> anom -> coarse; marine heat index
              (anomaly above 0.5 K over the sea mask)
    hydro     runoff (regions=asia,europe) and soil moisture: clim -> anom ->
              coarse; gauge climatology (policy none: runs only at hydro)
    earthobs  NDVI (int16, twice the grid's resolution): coarse -> clim -> anom
    seismo    PGA hazard coarsened; waveform stacking (policy none: only at seismo)
    agri      irrigation water use: mean annual field -> coarse
  across sites (placed by fedsched where they finish soonest):
    heat_idx     ensemble mean of the t2m and SST anomalies
    flood_idx    ensemble mean of the precipitation and runoff anomalies
    drought_idx  ensemble mean of precipitation, soil-moisture and NDVI anomalies
    heat_risk, flood_risk, seismic_risk   hazard x population exposure: census's
                 population grid (policy aggregate=1x4x4) read as a block sum that
                 satisfies the policy, computed at census
    drought_risk hazard x cropland fraction (block mean at agri)
    water_risk   drought hazard x irrigation water use
    multi_hazard ensemble mean of the flood, heat and drought risks (published)

--central SITE writes the same workflow for the centralised comparison run:
every task pinned to SITE, and every dataset not held by SITE read from its
whole copy there, published as SITE/central/<original name>.
--tag TAG makes the published names unique (results/seven/TAG/...).
--app NAME@VERSION runs every model from that published app (the example models
as one app, jobs/models/app.yaml.in: ./cluster/demo publishes it once, at one
site); without it the models are looked up on the sites' PATH.
"""

import argparse
import sys

# Grids of cluster/demo-data.py: full 180x360 (NDVI and population 360x720),
# small 90x180 (180x360).  The cross-site products are all on one 45x90 grid.
COARSE = {"full": 4, "small": 2}


def build(size, tag, central):
    f = COARSE[size]
    big = 4 if size == "full" else 2     # ranks of the per-site grid tasks
    tasks = []

    def ds(name):
        if central and not name.startswith(central + "/"):
            return central + "/central/" + name
        return name

    def task(name, command, inputs, outputs=("out",), ranks=1, publish=None):
        t = {"name": name, "command": command, "ranks": ranks, "inputs": inputs,
             "outputs": {o: ({"publish": publish} if publish and o == outputs[0] else {})
                         for o in outputs}}
        tasks.append(t)

    def chain(prefix, dataset, ranks):
        """clim -> anom -> coarse of one monthly time x lat x lon dataset."""
        task(prefix + "_clim", ["climatology", "--period", "12", "{in.x}", "{out.out}"],
             {"x": ds(dataset)}, ranks=ranks)
        task(prefix + "_anom", ["anomaly", "{in.x}", "{in.clim}", "{out.out}"],
             {"x": ds(dataset), "clim": prefix + "_clim.out"}, ranks=ranks)
        task(prefix + "_coarse", ["regrid", "--factor", str(f), "{in.x}", "{out.out}"],
             {"x": prefix + "_anom.out"})

    chain("t2m", "meteo/reanalysis/t2m", big)
    chain("pr", "meteo/reanalysis/precip", big)
    task("stn_clim", ["climatology", "--period", "365", "{in.x}", "{out.out}"],
         {"x": ds("meteo/stations/tmean")})
    chain("sst", "ocean/model/sst", 2)
    task("marine_heat", ["risk_index", "{in.h}", "{in.e}", "{out.out}", "--threshold", "0.5"],
         {"h": "sst_anom.out", "e": ds("ocean/masks/sea")})
    chain("ro", "hydro/routing/runoff", 2)
    chain("sm", "hydro/landsurface/soilmoist", 2)
    task("gauge_clim", ["climatology", "--period", "365", "{in.x}", "{out.out}"],
         {"x": ds("hydro/gauges/discharge")})
    # NDVI is at twice the resolution: coarsen first (2f), then clim and anomaly.
    task("ndvi_coarse", ["regrid", "--factor", str(2 * f), "{in.x}", "{out.out}"],
         {"x": ds("earthobs/modis/ndvi")}, ranks=big)
    task("ndvi_clim", ["climatology", "--period", "12", "{in.x}", "{out.out}"],
         {"x": "ndvi_coarse.out"})
    task("ndvi_anom", ["anomaly", "{in.x}", "{in.clim}", "{out.out}"],
         {"x": "ndvi_coarse.out", "clim": "ndvi_clim.out"})
    task("pga_coarse", ["regrid", "--factor", str(f), "{in.x}", "{out.out}"],
         {"x": ds("seismo/hazard/pga")})
    task("wave_stack", ["regrid", "--factor", "4", "{in.x}", "{out.out}"],
         {"x": ds("seismo/waveforms/bhz")})
    task("water_mean", ["climatology", "--period", "1", "{in.x}", "{out.out}"],
         {"x": ds("agri/irrigation/water_use")}, ranks=2)
    task("water_coarse", ["regrid", "--factor", str(f), "{in.x}", "{out.out}"],
         {"x": "water_mean.out"})

    # Cross-site composites and risks.
    task("heat_idx", ["ensemble_mean", "{out.out}", "{in.a}", "{in.b}"],
         {"a": "t2m_coarse.out", "b": "sst_coarse.out"})
    task("flood_idx", ["ensemble_mean", "{out.out}", "{in.a}", "{in.b}"],
         {"a": "pr_coarse.out", "b": "ro_coarse.out"})
    task("drought_idx", ["ensemble_mean", "{out.out}", "{in.a}", "{in.b}", "{in.c}"],
         {"a": "pr_coarse.out", "b": "sm_coarse.out", "c": "ndvi_anom.out"})
    # Population: latest census year, people summed over blocks of 2f x 2f cells
    # (the census site's policy lets only blocks of at least 4x4 cells leave).
    pop = {"slice": ds("census/grid/population") + "[-1]", "reduce": {"sum": [2 * f, 2 * f]}}
    crop = {"slice": ds("agri/crops/cropland"), "reduce": {"mean": [f, f]}}
    task("heat_risk", ["risk_index", "{in.h}", "{in.e}", "{out.out}", "--threshold", "0.5"],
         {"h": "heat_idx.out", "e": pop})
    task("flood_risk", ["risk_index", "{in.h}", "{in.e}", "{out.out}", "--threshold", "0.2"],
         {"h": "flood_idx.out", "e": pop})
    task("seismic_risk", ["risk_index", "{in.h}", "{in.e}", "{out.out}", "--threshold", "0.05"],
         {"h": "pga_coarse.out", "e": pop}, publish="results/seven/%s/seismic-risk" % tag)
    task("drought_risk", ["risk_index", "{in.h}", "{in.e}", "{out.out}"],
         {"h": "drought_idx.out", "e": crop})
    task("water_risk", ["risk_index", "{in.h}", "{in.e}", "{out.out}"],
         {"h": "drought_idx.out", "e": "water_coarse.out"})
    task("multi_hazard", ["ensemble_mean", "{out.out}", "{in.a}", "{in.b}", "{in.c}"],
         {"a": "flood_risk.out", "b": "heat_risk.out", "c": "drought_risk.out"},
         publish="results/seven/%s/multi-hazard" % tag)
    return tasks


def q(s):
    """A YAML scalar: plain when safe, else double-quoted."""
    s = str(s)
    if s and all(c.isalnum() or c in "_-/." for c in s) and not s[0] in "-." \
            and not s.replace(".", "").isdigit():
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dump(tasks, name, header, app=None):
    out = [header, "version: 1", "name: %s" % name, "tasks:"]
    for t in tasks:
        out.append("  - name: %s" % t["name"])
        if app:
            out.append("    app: %s" % app)
        out.append("    command: [%s]" % ", ".join(q(c) for c in t["command"]))
        if t["ranks"] != 1:
            out.append("    ranks: %d" % t["ranks"])
        out.append("    walltime: 10m")
        if t.get("site"):
            out.append("    site: %s" % t["site"])
        out.append("    inputs:")
        for k, v in t["inputs"].items():
            if isinstance(v, dict):
                op, blocks = next(iter(v["reduce"].items()))
                out.append("      %s: {slice: %s, reduce: {%s: [%s]}}" % (
                    k, q(v["slice"]), op, ", ".join(map(str, blocks))))
            else:
                out.append("      %s: %s" % (k, q(v)))
        out.append("    outputs:")
        for k, v in t["outputs"].items():
            out.append("      %s: %s" % (k, "{publish: %s}" % q(v["publish"]) if v else "{}"))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description="write the seven-site demo's job file")
    ap.add_argument("--size", choices=sorted(COARSE), default="full")
    ap.add_argument("--tag", default="run", help="published names: results/seven/TAG/...")
    ap.add_argument("--central", metavar="SITE",
                    help="centralised variant: every task pinned to SITE, inputs from SITE/central/")
    ap.add_argument("--app", metavar="NAME@VERSION",
                    help="the published app whose entry points the models are")
    a = ap.parse_args()
    tasks = build(a.size, a.tag, a.central)
    if a.central:
        for t in tasks:
            t["site"] = a.central
    kind = "centralised at %s" % a.central if a.central else "federated"
    header = ("# The seven-site demo's workflow (%s, size %s), %d tasks.\n"
              "# Written by cluster/seven/workflow.py; see its docstring and docs/benchmarks.md."
              % (kind, a.size, len(tasks)))
    sys.stdout.write(dump(tasks, "seven-" + ("central" if a.central else "federated"), header,
                          a.app))


if __name__ == "__main__":
    main()

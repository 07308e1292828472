#!/usr/bin/env python3
"""Whole-process benchmark: trailwatch against the decompression floor and
its peers, on a generated corpus of at least 1 GB (decoded).

    python3 benches/e2e.py                 # build, generate if needed, measure, write BENCHMARKS.md
    python3 benches/e2e.py --runs 3 --no-peers --no-rss

Every variant reads the same CloudTrail log files. Runs are interleaved
(run 1 of every variant, then run 2, ...) and the median wall time is
reported, with its ratio to the floor (libdeflate-gunzip on as many
processes as there are cores, output discarded), MB/s (decoded), records/s
and peak RSS. jq and DuckDB are measured when they are installed
(`apt-get install jq`, `pip install duckdb`); libdeflate-gunzip comes from
Debian's libdeflate-tools (libdeflate-bin on newer releases).
"""

import argparse
import datetime
import json
import os
import re
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "trailwatch")
GEN = os.path.join(ROOT, "target", "release", "trailwatch-gen")
HEADLINE = '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, **kw)


def generate(corpus, records, seed, duration="2d"):
    if os.path.exists(os.path.join(corpus, "manifest.json")):
        return
    print(f"generating {records} records over {duration} into {corpus} ...", file=sys.stderr)
    sh([GEN, "--out", corpus, "--records", str(records), "--duration", duration, "--accounts", "3", "--regions", "3",
        "--seed", str(seed)])


def log_files(corpus):
    out = []
    for d, _, fs in os.walk(corpus):
        if os.sep + "CloudTrail" + os.sep not in d + os.sep:
            continue
        out.extend(os.path.join(d, f) for f in fs if f.endswith(".json.gz"))
    return sorted(out)


def largest_decoded(scope):
    """Bytes of the largest file under `scope` once decoded (a gzip file's
    size trailer, else its size)."""
    big = 0
    for d, _, fs in os.walk(scope):
        for f in fs:
            path = os.path.join(d, f)
            size = os.path.getsize(path)
            if f.endswith(".gz") and size >= 18:
                with open(path, "rb") as fh:
                    fh.seek(-4, os.SEEK_END)
                    size = int.from_bytes(fh.read(4), "little")
            big = max(big, size)
    return big


def timed(cmd):
    """Wall seconds and peak RSS (KiB) of a shell command. The wall time is
    read from a monotonic clock around /usr/bin/time, whose own hundredths
    are too coarse for runs of a few tenths of a second; the peak RSS is
    /usr/bin/time's (the largest of the command's processes; a process
    forked from Python would count Python's own pages)."""
    start = time.perf_counter()
    t = subprocess.run(["/usr/bin/time", "-f", "%M", "sh", "-c", cmd + " > /dev/null"],
                       stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    return wall, int(t.stderr.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(ROOT, "bench-corpus"))
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-peers", action="store_true", help="skip jq and DuckDB")
    ap.add_argument("--no-rss", action="store_true", help="skip the 100 MB / 2 GB memory comparison")
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--only", metavar="REGEX",
                    help="run only the variants whose name matches (the floor always runs)")
    a = ap.parse_args()

    if not a.no_build:
        sh(["cargo", "build", "--release", "--quiet", "--workspace"], cwd=ROOT)
    generate(a.corpus, a.records, a.seed)
    files = log_files(a.corpus)
    cores = os.cpu_count() or 1
    listing = tempfile.NamedTemporaryFile("w", delete=False, suffix=".txt")
    listing.write("\n".join(files) + "\n")
    listing.close()

    # Decoded size and record count, from trailwatch itself.
    probe = json.loads(subprocess.run([BIN, "scan", a.corpus, "--format", "json", "--samples", "0"],
                                      capture_output=True, text=True).stdout)
    decoded = probe["inputs"]["bytes_decompressed"]
    compressed = probe["inputs"]["bytes_compressed"]
    records = probe["inputs"]["records"]
    if decoded < 1_000_000_000:
        print(f"warning: the corpus is only {decoded/1e9:.2f} GB decoded", file=sys.stderr)

    gunzip = shutil.which("libdeflate-gunzip")
    if not gunzip:
        sys.exit("libdeflate-gunzip is missing: apt-get install libdeflate-tools (or libdeflate-bin)")
    xargs = f"xargs -P{cores} -n 300"
    out_dir = tempfile.mkdtemp(prefix="trailwatch-e2e-")
    tw = f"{BIN} scan {a.corpus} --format json --samples 0"
    variants = [
        ("floor: libdeflate-gunzip", f"{xargs} {gunzip} -c < {listing.name}"),
        ("gzip -dc", f"{xargs} gzip -dc < {listing.name}"),
        ("trailwatch: headline rule", tw),
        ("trailwatch: 15 CIS rules", f"{tw} --rules cis"),
        ("trailwatch: { $.x NOT EXISTS }", f"{tw} --pattern '{{ $.x NOT EXISTS }}'"),
        ("trailwatch: { $.x NOT EXISTS }, 3 samples per window",
         f"{BIN} scan {a.corpus} --format json --pattern '{{ $.x NOT EXISTS }}'"),
        ("trailwatch: every CIS variant (cis-all)", f"{tw} --rules cis-all"),
        ("trailwatch: metric value from every record",
         f"{tw} --pattern '{{ $.eventVersion = * }}' --metric-value '$.eventVersion'"),
        ("trailwatch: headline, --no-prefilter", f"{tw} --no-prefilter"),
        ("trailwatch: headline, 1 thread", f"{tw} --threads 1"),
        ("trailwatch tune: headline, 100 settings",
         f"{BIN} tune {a.corpus} --format json --threshold 1..10 --period 1m,5m,15m,1h,6h --evaluation-periods 1,3"),
        ("trailwatch verify", f"{BIN} verify {a.corpus} --format json"),
        ("trailwatch diff: CIS v1.2 vs v1.4 text",
         f"{BIN} diff {a.corpus} --format json --rule unauthorized-api-calls:cis-1.2 "
         "--rule unauthorized-api-calls:cis-1.4"),
        ("trailwatch: headline, --contributors 10", f"{tw} --contributors 10"),
        ("trailwatch: headline, --events-out NDJSON", f"{tw} --events-out {out_dir}/events.ndjson"),
        ("trailwatch: headline, --events-out CSV", f"{tw} --events-out {out_dir}/events.csv"),
        ("trailwatch: headline, --manifest", f"{tw} --manifest {out_dir}/manifest.json"),
        ("trailwatch: headline, --html --contributors 10 --events",
         f"{tw} --html {out_dir}/report.html --contributors 10 --events"),
    ]
    if a.only:
        variants = variants[:1] + [v for v in variants[1:] if re.search(a.only, v[0])]
    slow = []
    helpers = []
    if not a.no_peers:
        if shutil.which("jq"):
            script = tempfile.NamedTemporaryFile("w", delete=False, suffix=".sh")
            script.write("gzip -dc \"$@\" | jq -c '.Records[] | select((.errorCode // \"\") | type == \"string\" and "
                         "(endswith(\"UnauthorizedOperation\") or startswith(\"AccessDenied\")))'\n")
            script.close()
            helpers.append(script.name)
            slow.append(("zcat \\| jq (headline)", f"{xargs} sh {script.name} < {listing.name}"))
        try:
            import duckdb  # noqa: F401
            q = ("SELECT count(*) FROM (SELECT unnest(json_extract_string(json, '$.Records[*].errorCode')) AS e "
                 f"FROM read_json_objects('{a.corpus}/**/*_CloudTrail_*.json.gz', format='auto')) "
                 "WHERE e LIKE '%UnauthorizedOperation' OR e LIKE 'AccessDenied%'")
            script = tempfile.NamedTemporaryFile("w", delete=False, suffix=".py")
            script.write(f"import duckdb\nprint(duckdb.sql({q!r}).fetchall())\n")
            script.close()
            helpers.append(script.name)
            slow.append(("DuckDB read_json_objects (headline)", f"{sys.executable} {script.name}"))
        except ImportError:
            pass

    results = {name: [] for name, _ in variants + slow}
    for run in range(a.runs):
        for name, cmd in variants:
            results[name].append(timed(cmd))
            print(f"run {run + 1}: {name}: {results[name][-1][0]:.3f} s", file=sys.stderr)
    for name, cmd in slow:
        for run in range(min(a.runs, 3)):
            results[name].append(timed(cmd))
            print(f"run {run + 1}: {name}: {results[name][-1][0]:.3f} s", file=sys.stderr)
    for h in [listing.name] + helpers:
        os.unlink(h)

    floor = statistics.median(t for t, _ in results[variants[0][0]])
    rows = []
    for name, _ in variants + slow:
        times = [t for t, _ in results[name]]
        med = statistics.median(times)
        rss = max(m for _, m in results[name])
        rows.append((name, med, min(times), max(times), med / floor, decoded / 1e6 / med, records / med, rss / 1024))
    one = next((r[1] for r in rows if r[0].endswith("1 thread")), None)
    two = next((r[1] for r in rows if r[0] == "trailwatch: headline rule"), None)

    rss_note = ""
    if not a.no_rss:
        rss_rows = []
        # 100 MB against 2 GB two ways: the same 2 days 20× denser (same
        # number of files, each 20× larger), and the same activity over 40
        # days (20× more files of the same size, 20× more minutes). Each is
        # scanned whole, and its trail logs alone: the generator's
        # manifest.json grows with the minutes (0.8 MB over 40 days) and is
        # then the largest file, whose buffer each thread may keep.
        for n, days in ((100_000, 2), (2_000_000, 2), (2_000_000, 40)):
            d = os.path.join(ROOT, f"bench-corpus-{n // 1000}k-{days}d")
            generate(d, n, a.seed + n, f"{days}d")
            info = json.loads(subprocess.run([BIN, "scan", d, "--format", "json", "--samples", "0"],
                                             capture_output=True, text=True).stdout)["inputs"]
            for scope in (d, os.path.join(d, "AWSLogs")):
                peak = max(timed(f"{BIN} scan {scope} --format json --samples 0")[1] for _ in range(3))
                peak3 = max(timed(f"{BIN} scan {scope} --format json")[1] for _ in range(3))
                rss_rows.append((n, days, scope != d, info["files"], info["bytes_decompressed"],
                                 largest_decoded(scope), peak / 1024, peak3 / 1024))

        def table(logs_only):
            rows = [r for r in rss_rows if r[2] == logs_only]
            small = rows[0]
            return (
                "| corpus | files | decoded | largest file | peak RSS, `--samples 0` | vs 100 MB "
                "| peak RSS, 3 samples | vs 100 MB |\n"
                "|---|---:|---:|---:|---:|---:|---:|---:|\n"
                + "".join(f"| {n:,} records over {days} days | {f:,} | {b / 1e9:.2f} GB | {big / 1e3:,.0f} KB | "
                          f"{r:.1f} MiB | {100 * (r - small[6]) / small[6]:+.1f}% | {r3:.1f} MiB | "
                          f"{100 * (r3 - small[7]) / small[7]:+.1f}% |\n"
                          for n, days, _, f, b, big, r, r3 in rows)
            )

        rss_note = (
            "\n## Memory against corpus size\n\n"
            "The whole corpus directory, as generated (with its `manifest.json`):\n\n"
            + table(False)
            + "\nThe trail logs alone (`AWSLogs/`):\n\n"
            + table(True)
            + "\nHeadline rule, `--format json`, without drill-down samples and with the default 3 per "
            "window, max of 3 runs each; files and decoded bytes are the whole corpus's, the largest file "
            "(decoded) is the scope's. Each thread holds the largest file's compressed and decoded bytes "
            "seen so far; up to 8,192 event IDs, 896 per-minute statistic sets, 256 samples and 16 KiB of "
            "paths before it writes them to one temporary file as sorted runs; and the identities of the "
            "directories walked. The report reads the runs back merged, as it writes each alarm's windows "
            "and state changes.\n"
        )

    version = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "?")
    lines = [
        "# Benchmarks",
        "",
        "Regenerate with `python3 benches/e2e.py` (see its docstring). Times are medians of "
        f"{a.runs} interleaved runs (the peers: of {min(a.runs, 3)}); ratios are to the floor's median in the same run.",
        "",
        f"* date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"* trailwatch: {probe['trailwatch']} ({version})",
        f"* machine: {cores} cores ({cpu}), {int(mem) // 1024 // 1024} GiB RAM, {platform.system()} {platform.release()}",
        f"* corpus: `trailwatch-gen --records {a.records} --duration 2d --accounts 3 --regions 3 --seed {a.seed}`: "
        f"{len(files):,} files, {records:,} records, {compressed / 1e6:.0f} MB gzip, {decoded / 1e9:.2f} GB decoded, "
        f"{probe['alarms'][0]['matches']:,} matching records ({100 * probe['alarms'][0]['matches'] / records:.1f}%)",
        f"* floor: `{variants[0][1].split(' < ')[0]}` (all cores, output discarded)",
        "",
        "| variant | median s | min–max s | × floor | MB/s decoded | records/s | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, med, lo, hi, ratio, mbs, rps, rss in rows:
        lines.append(f"| {name} | {med:.3f} | {lo:.3f}–{hi:.3f} | {ratio:.3f} | {mbs:,.0f} | {rps:,.0f} | {rss:.1f} MiB |")
    if one is not None and two is not None:
        lines += ["", f"Scaling, headline rule: 1 → {cores} threads = {one / two:.2f}×."]
    lines += [rss_note]
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

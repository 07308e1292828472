"""Run trailwatch over CloudTrail logs with Spark, and replay the merged result.

    spark-submit [--files trailwatch] trailwatch_spark.py [options] INPUT...
    python3 trailwatch_spark.py --master 'local[2]' [options] INPUT...

INPUT is a folder of log files or an s3://bucket/prefix. The driver lists the
log objects (*.json.gz, not digests or Insights files), spreads them over the
executors, and runs `trailwatch scan --series-out` on each partition (in
chunks of --chunk files). The series files come back to the driver, which runs
`trailwatch replay` over all of them: the same report as one `trailwatch scan`
over every input (see "More than one machine" in the README).

Options:
  --binary PATH        the trailwatch executable on every executor (default:
                       `trailwatch` on PATH, or the one shipped with
                       spark-submit --files)
  --partitions N       Spark partitions (default: the default parallelism)
  --chunk N            log files per trailwatch run (default 2000)
  --scan ARGS          more `trailwatch scan` options, one string, e.g.
                       "--rules cis --dedup" (the rules the series hold)
  --replay ARGS        `trailwatch replay` options, e.g. "--format json"
  --series-dir DIR     keep the series files there (default: a temporary
                       folder, removed after the replay)
  --master URL         Spark master when not started by spark-submit

The exit status is trailwatch replay's (0 no alarm, 1 alarm, 3 inputs could
not be read, 4 no record); 2 for a usage error or a failed executor.
"""

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

LOG_SUFFIX = ".json.gz"


def is_log(key):
    """A CloudTrail log object: not a digest, not an Insights file."""
    return key.endswith(LOG_SUFFIX) and "/CloudTrail-Digest/" not in key and "/CloudTrail-Insight/" not in key


def list_inputs(inputs):
    """Every log object under the inputs, sorted, each once."""
    found = set()
    for spec in inputs:
        if spec.startswith("s3://"):
            import boto3  # only needed for S3 inputs

            bucket, _, prefix = spec[len("s3://") :].partition("/")
            pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for page in pages:
                for obj in page.get("Contents", []):
                    if is_log(obj["Key"]):
                        found.add(f"s3://{bucket}/{obj['Key']}")
        elif os.path.isdir(spec):
            for folder, _, names in os.walk(spec):
                for n in names:
                    p = os.path.abspath(os.path.join(folder, n))
                    if is_log(p):
                        found.add(p)
        elif os.path.isfile(spec):
            found.add(os.path.abspath(spec))
        else:
            raise SystemExit(f"trailwatch_spark: {spec}: no such file, folder or s3:// prefix")
    return sorted(found)


def resolve_binary(name):
    """The executable on an executor: shipped with --files, or on PATH."""
    if os.path.sep in name:
        return name
    try:
        from pyspark import SparkFiles

        shipped = SparkFiles.get(name)
        if os.path.exists(shipped):
            os.chmod(shipped, 0o755)
            return shipped
    except Exception:
        pass
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name}: not found on this executor (ship it with spark-submit --files)")
    return found


def scan_partition(index, objects, binary, chunk, scan_args):
    """Run trailwatch over one partition's objects; yield (name, series text)."""
    objects = list(objects)
    if not objects:
        return
    exe = resolve_binary(binary)
    work = tempfile.mkdtemp(prefix=f"trailwatch-{index}-")
    try:
        for start in range(0, len(objects), chunk):
            part = objects[start : start + chunk]
            paths = []
            for k, obj in enumerate(part):
                if obj.startswith("s3://"):
                    import boto3

                    bucket, _, key = obj[len("s3://") :].partition("/")
                    local = os.path.join(work, "objects", key)
                    os.makedirs(os.path.dirname(local), exist_ok=True)
                    boto3.client("s3").download_file(bucket, key, local)
                    paths.append(local)
                else:
                    paths.append(obj)
            cmd = [exe, "scan", "--series-out", "-", *scan_args, *paths]
            run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            # 0, 1 (alarm), 3 (some inputs unreadable: counted in the
            # series) and 4 (no record) all write a complete series.
            if run.returncode not in (0, 1, 3, 4):
                raise RuntimeError(f"trailwatch scan exited {run.returncode}: {run.stderr.strip()}")
            yield (f"part-{index:05d}-{start:09d}.series", run.stdout)
            shutil.rmtree(os.path.join(work, "objects"), ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+", metavar="INPUT")
    ap.add_argument("--binary", default="trailwatch")
    ap.add_argument("--partitions", type=int)
    ap.add_argument("--chunk", type=int, default=2000)
    ap.add_argument("--scan", default="")
    ap.add_argument("--replay", default="")
    ap.add_argument("--series-dir")
    ap.add_argument("--master")
    a = ap.parse_args(argv)
    if a.chunk < 1:
        ap.error("--chunk must be at least 1")

    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("trailwatch")
    if a.master:
        builder = builder.master(a.master)
    spark = builder.config("spark.ui.showConsoleProgress", "false").getOrCreate()
    sc = spark.sparkContext
    sc.setLogLevel("ERROR")
    objects = list_inputs(a.inputs)
    print(f"trailwatch_spark: {len(objects)} log files", file=sys.stderr)
    partitions = max(1, min(a.partitions or sc.defaultParallelism, len(objects) or 1))
    binary, chunk, scan_args = a.binary, a.chunk, shlex.split(a.scan)
    try:
        series = (
            sc.parallelize(objects, partitions)
            .mapPartitionsWithIndex(lambda i, objs: scan_partition(i, objs, binary, chunk, scan_args))
            .collect()
        )
    except Exception as e:  # an executor failed: say so, never a partial report
        print(f"trailwatch_spark: a partition failed: {e}", file=sys.stderr)
        spark.stop()
        return 2
    spark.stop()

    folder = a.series_dir or tempfile.mkdtemp(prefix="trailwatch-series-")
    os.makedirs(folder, exist_ok=True)
    names = []
    for name, text in series:
        path = os.path.join(folder, name)
        with open(path, "w") as f:
            f.write(text)
        names.append(path)
    if not names:
        print("trailwatch_spark: no log file found under the inputs", file=sys.stderr)
        return 4
    replay = subprocess.run([resolve_binary(a.binary), "replay", *shlex.split(a.replay), *sorted(names)])
    if not a.series_dir:
        shutil.rmtree(folder, ignore_errors=True)
    return replay.returncode


if __name__ == "__main__":
    sys.exit(main())

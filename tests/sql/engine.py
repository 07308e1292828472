"""Run a `trailwatch sql` query on a real engine, for the tests.

    engine.py duckdb QUERY OUT.csv ROOT [QUERY OUT.csv ROOT ...]
    engine.py athena ...   (Trino SQL parsed by sqlglot, run by DuckDB over
                            a table with the Athena CloudTrail schema)
    engine.py spark  ...   (PySpark, local[2], one session for all)

Each result is written as CSV with a header, the form `trailwatch replay`
reads. ROOT is the folder of log files (walked for *.json.gz; the DuckDB
query names its files itself).
"""

import csv
import sys

def write(rows, names, out):
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        for r in rows:
            w.writerow([repr(v) if isinstance(v, float) else v for v in r])


def duckdb_run(query, out):
    import duckdb

    con = duckdb.connect()
    rel = con.sql(query)
    write(rel.fetchall(), rel.columns, out)


# The CloudTrail table as AWS documents it for Athena (partition projection
# version), built from the log files the way the CloudTrail SerDe reads
# them: string columns hold the field's text (NULL when missing or null),
# the JSON columns the object's text.
STRINGS = [
    "eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
    "userAgent", "errorCode", "errorMessage", "requestID", "eventID", "eventType", "apiVersion",
    "recipientAccountId", "sharedEventID", "vpcEndpointId", "eventCategory", "readOnly",
]
JSON_COLUMNS = ["requestParameters", "responseElements", "additionalEventData", "serviceEventDetails"]
IDENTITY = ["type", "principalId", "arn", "accountId", "invokedBy", "accessKeyId", "userName"]
ISSUER = ["type", "principalId", "arn", "accountId", "userName"]


def athena_table(con, root):
    def s(path):
        return f"json_extract_string(r, '{path}')"

    def struct(fields, base):
        return "{" + ", ".join(f"'{f.lower()}': {s(base + '.' + f)}" for f in fields)

    identity = struct(IDENTITY, "$.userIdentity")
    identity += ", 'sessioncontext': {'attributes': {'mfaauthenticated': " + s(
        "$.userIdentity.sessionContext.attributes.mfaAuthenticated"
    ) + ", 'creationdate': " + s("$.userIdentity.sessionContext.attributes.creationDate") + "}"
    identity += ", 'sessionissuer': " + struct(ISSUER, "$.userIdentity.sessionContext.sessionIssuer") + "}}}"
    cols = [f"{s('$.' + c)} AS {c.lower()}" for c in STRINGS]
    cols += [
        f"CASE WHEN json_type(r, '$.{c}') IN ('OBJECT', 'ARRAY') THEN CAST(json_extract(r, '$.{c}') AS VARCHAR) "
        f"ELSE json_extract_string(r, '$.{c}') END AS {c.lower()}"
        for c in JSON_COLUMNS
    ]
    cols.append(f"{identity} AS useridentity")
    con.sql(
        f"""CREATE TABLE cloudtrail_logs AS
        WITH files AS (SELECT filename, json AS doc FROM read_json_objects('{root}/**/*.json.gz', format = 'auto',
             filename = true, maximum_object_size = 1073741824)
             WHERE filename NOT LIKE '%/CloudTrail-Insight/%' AND filename NOT LIKE '%CloudTrail-Digest%'),
        records AS (SELECT unnest(json_extract(doc, '$.Records[*]')) AS r FROM files
             WHERE json_type(doc, '$.Records') = 'ARRAY')
        SELECT {', '.join(cols)} FROM records WHERE json_type(r) = 'OBJECT'"""
    )


def athena_run(query, out, root):
    import duckdb
    import sqlglot

    # Athena's engine is Trino: the query must parse as Trino SQL.
    parsed = sqlglot.parse_one(query, read="trino")
    duck = parsed.sql(dialect="duckdb")
    con = duckdb.connect()
    con.sql("SET TimeZone = 'UTC'")
    athena_table(con, root)
    rel = con.sql(duck)
    write(rel.fetchall(), rel.columns, out)


def spark_session():
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def spark_run(spark, query, out, root):
    files = (
        spark.read.option("recursiveFileLookup", "true")
        .option("pathGlobFilter", "*.json.gz")
        .text(root, wholetext=True)
        .selectExpr("value", "_metadata.file_path AS path")
    )
    files.createOrReplaceTempView("cloudtrail_files")
    df = spark.sql(query)
    write([tuple(r) for r in df.collect()], df.columns, out)


def main():
    engine, jobs = sys.argv[1], sys.argv[2:]
    if not jobs or len(jobs) % 3:
        sys.exit("usage: engine.py duckdb|athena|spark QUERY OUT.csv ROOT [...]")
    spark = spark_session() if engine == "spark" else None
    for i in range(0, len(jobs), 3):
        query_file, out, root = jobs[i : i + 3]
        query = open(query_file).read()
        if engine == "duckdb":
            duckdb_run(query, out)
        elif engine == "athena":
            athena_run(query, out, root)
        elif engine == "spark":
            spark_run(spark, query, out, root)
        else:
            sys.exit(f"unknown engine {engine}")
    if spark is not None:
        spark.stop()


if __name__ == "__main__":
    main()

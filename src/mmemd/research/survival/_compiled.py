"""DuckDB SQL compiled from the Ibis queries in ``_queries`` — generated, do not edit.

Regenerate with ``python -m mmemd.research.survival._queries`` after changing a query; a test checks the
queries still compile to these strings."""

IBIS_VERSION = "12.0.0"

CONVERT: dict[str, str] = {
    "boolean": "CAST(CAST({column} AS BIGINT) AS DOUBLE)",
    "integer": "CAST({column} AS DOUBLE)",
    "floating": "{column}",
    "float32": "CAST({column} AS DOUBLE)",
    "decimal": "CAST({column} AS DOUBLE)",
    "date": "CAST(DATE_DIFF('DAY', MAKE_DATE(1970, 1, 1), {column}) AS DOUBLE)",
    "timestamp": "CAST(EPOCH(CAST({column} AS TIMESTAMP)) AS DOUBLE) / 86400.0",
    "timestamptz": "CAST(EPOCH(CAST({column} AS TIMESTAMP)) AS DOUBLE) / 86400.0",
}

CHECKS: dict[str, str] = {
    "entry=False,group=False": (
        "SELECT\n"
        '  COUNT(*) AS "rows",\n'
        "  SUM(\n"
        "    CAST((\n"
        '      "t0"."t" IS NULL\n'
        "    )\n"
        '    OR ISNAN("t0"."t")\n'
        "    OR (\n"
        '      "t0"."e" IS NULL\n'
        "    )\n"
        '    OR ISNAN("t0"."e") AS INT)\n'
        '  ) AS "missing",\n'
        "  SUM(\n"
        "    CAST(NOT (\n"
        "      (\n"
        '        "t0"."t" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."t")\n'
        "      OR (\n"
        '        "t0"."e" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."e")\n'
        "    )\n"
        "    AND NOT (\n"
        '      "t0"."e" IN (0, 1)\n'
        "    ) AS INT)\n"
        '  ) AS "bad_event",\n'
        "  SUM(\n"
        "    CAST(NOT (\n"
        "      (\n"
        '        "t0"."t" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."t")\n'
        "      OR (\n"
        '        "t0"."e" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."e")\n'
        "    )\n"
        "    AND (\n"
        '      "t0"."t" < 0\n'
        "    ) AS INT)\n"
        '  ) AS "bad_time"\n'
        'FROM "mmemd_survival_rows" AS "t0"'
    ),
    "entry=False,group=True": (
        "SELECT\n"
        '  COUNT(*) AS "rows",\n'
        "  SUM(\n"
        "    CAST((\n"
        '      "t0"."t" IS NULL\n'
        "    )\n"
        '    OR ISNAN("t0"."t")\n'
        "    OR (\n"
        '      "t0"."e" IS NULL\n'
        "    )\n"
        '    OR ISNAN("t0"."e")\n'
        "    OR (\n"
        '      "t0"."g" IS NULL\n'
        "    ) AS INT)\n"
        '  ) AS "missing",\n'
        "  SUM(\n"
        "    CAST(NOT (\n"
        "      (\n"
        '        "t0"."t" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."t")\n'
        "      OR (\n"
        '        "t0"."e" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."e")\n'
        "      OR (\n"
        '        "t0"."g" IS NULL\n'
        "      )\n"
        "    )\n"
        "    AND NOT (\n"
        '      "t0"."e" IN (0, 1)\n'
        "    ) AS INT)\n"
        '  ) AS "bad_event",\n'
        "  SUM(\n"
        "    CAST(NOT (\n"
        "      (\n"
        '        "t0"."t" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."t")\n'
        "      OR (\n"
        '        "t0"."e" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."e")\n'
        "      OR (\n"
        '        "t0"."g" IS NULL\n'
        "      )\n"
        "    )\n"
        "    AND (\n"
        '      "t0"."t" < 0\n'
        "    ) AS INT)\n"
        '  ) AS "bad_time",\n'
        '  ARRAY_AGG(DISTINCT "t0"."g") FILTER(WHERE\n'
        '    "t0"."g" IS NOT NULL\n'
        "    AND NOT (\n"
        "      (\n"
        '        "t0"."t" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."t")\n'
        "      OR (\n"
        '        "t0"."e" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."e")\n'
        "      OR (\n"
        '        "t0"."g" IS NULL\n'
        "      )\n"
        '    )) AS "groups"\n'
        'FROM "mmemd_survival_rows" AS "t0"'
    ),
    "entry=True,group=False": (
        "SELECT\n"
        '  COUNT(*) AS "rows",\n'
        "  SUM(\n"
        "    CAST((\n"
        '      "t0"."t" IS NULL\n'
        "    )\n"
        '    OR ISNAN("t0"."t")\n'
        "    OR (\n"
        '      "t0"."e" IS NULL\n'
        "    )\n"
        '    OR ISNAN("t0"."e")\n'
        "    OR (\n"
        '      "t0"."n" IS NULL\n'
        "    )\n"
        '    OR ISNAN("t0"."n") AS INT)\n'
        '  ) AS "missing",\n'
        "  SUM(\n"
        "    CAST(NOT (\n"
        "      (\n"
        '        "t0"."t" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."t")\n'
        "      OR (\n"
        '        "t0"."e" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."e")\n'
        "      OR (\n"
        '        "t0"."n" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."n")\n'
        "    )\n"
        "    AND NOT (\n"
        '      "t0"."e" IN (0, 1)\n'
        "    ) AS INT)\n"
        '  ) AS "bad_event",\n'
        "  SUM(\n"
        "    CAST(NOT (\n"
        "      (\n"
        '        "t0"."t" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."t")\n'
        "      OR (\n"
        '        "t0"."e" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."e")\n'
        "      OR (\n"
        '        "t0"."n" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."n")\n'
        "    )\n"
        "    AND (\n"
        '      "t0"."t" < 0\n'
        "    ) AS INT)\n"
        '  ) AS "bad_time",\n'
        "  SUM(\n"
        "    CAST(NOT (\n"
        "      (\n"
        '        "t0"."t" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."t")\n'
        "      OR (\n"
        '        "t0"."e" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."e")\n'
        "      OR (\n"
        '        "t0"."n" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."n")\n'
        "    )\n"
        "    AND (\n"
        '      "t0"."n" >= "t0"."t"\n'
        "    ) AS INT)\n"
        '  ) AS "bad_entry"\n'
        'FROM "mmemd_survival_rows" AS "t0"'
    ),
    "entry=True,group=True": (
        "SELECT\n"
        '  COUNT(*) AS "rows",\n'
        "  SUM(\n"
        "    CAST((\n"
        '      "t0"."t" IS NULL\n'
        "    )\n"
        '    OR ISNAN("t0"."t")\n'
        "    OR (\n"
        '      "t0"."e" IS NULL\n'
        "    )\n"
        '    OR ISNAN("t0"."e")\n'
        "    OR (\n"
        '      "t0"."n" IS NULL\n'
        "    )\n"
        '    OR ISNAN("t0"."n")\n'
        "    OR (\n"
        '      "t0"."g" IS NULL\n'
        "    ) AS INT)\n"
        '  ) AS "missing",\n'
        "  SUM(\n"
        "    CAST(NOT (\n"
        "      (\n"
        '        "t0"."t" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."t")\n'
        "      OR (\n"
        '        "t0"."e" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."e")\n'
        "      OR (\n"
        '        "t0"."n" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."n")\n'
        "      OR (\n"
        '        "t0"."g" IS NULL\n'
        "      )\n"
        "    )\n"
        "    AND NOT (\n"
        '      "t0"."e" IN (0, 1)\n'
        "    ) AS INT)\n"
        '  ) AS "bad_event",\n'
        "  SUM(\n"
        "    CAST(NOT (\n"
        "      (\n"
        '        "t0"."t" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."t")\n'
        "      OR (\n"
        '        "t0"."e" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."e")\n'
        "      OR (\n"
        '        "t0"."n" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."n")\n'
        "      OR (\n"
        '        "t0"."g" IS NULL\n'
        "      )\n"
        "    )\n"
        "    AND (\n"
        '      "t0"."t" < 0\n'
        "    ) AS INT)\n"
        '  ) AS "bad_time",\n'
        "  SUM(\n"
        "    CAST(NOT (\n"
        "      (\n"
        '        "t0"."t" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."t")\n'
        "      OR (\n"
        '        "t0"."e" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."e")\n'
        "      OR (\n"
        '        "t0"."n" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."n")\n'
        "      OR (\n"
        '        "t0"."g" IS NULL\n'
        "      )\n"
        "    )\n"
        "    AND (\n"
        '      "t0"."n" >= "t0"."t"\n'
        "    ) AS INT)\n"
        '  ) AS "bad_entry",\n'
        '  ARRAY_AGG(DISTINCT "t0"."g") FILTER(WHERE\n'
        '    "t0"."g" IS NOT NULL\n'
        "    AND NOT (\n"
        "      (\n"
        '        "t0"."t" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."t")\n'
        "      OR (\n"
        '        "t0"."e" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."e")\n'
        "      OR (\n"
        '        "t0"."n" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."n")\n'
        "      OR (\n"
        '        "t0"."g" IS NULL\n'
        "      )\n"
        '    )) AS "groups"\n'
        'FROM "mmemd_survival_rows" AS "t0"'
    ),
}

COUNTS: dict[str, str] = {
    "entry=False,group=False": (
        "SELECT\n"
        '  "t1"."t",\n'
        '  SUM("t1"."n_in") AS "n_in",\n'
        '  SUM("t1"."n_out") AS "n_out",\n'
        '  SUM("t1"."d") AS "d"\n'
        "FROM (\n"
        "  SELECT\n"
        '    "t0"."t",\n'
        '    0 AS "n_in",\n'
        '    1 AS "n_out",\n'
        '    CAST("t0"."e" AS BIGINT) AS "d"\n'
        '  FROM "mmemd_survival_rows" AS "t0"\n'
        "  WHERE\n"
        "    NOT (\n"
        "      (\n"
        '        "t0"."t" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."t")\n'
        "      OR (\n"
        '        "t0"."e" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."e")\n'
        "    )\n"
        ') AS "t1"\n'
        "GROUP BY\n"
        "  1"
    ),
    "entry=False,group=True": (
        "SELECT\n"
        '  "t1"."g",\n'
        '  "t1"."t",\n'
        '  SUM("t1"."n_in") AS "n_in",\n'
        '  SUM("t1"."n_out") AS "n_out",\n'
        '  SUM("t1"."d") AS "d"\n'
        "FROM (\n"
        "  SELECT\n"
        '    "t0"."g",\n'
        '    "t0"."t",\n'
        '    0 AS "n_in",\n'
        '    1 AS "n_out",\n'
        '    CAST("t0"."e" AS BIGINT) AS "d"\n'
        '  FROM "mmemd_survival_rows" AS "t0"\n'
        "  WHERE\n"
        "    NOT (\n"
        "      (\n"
        '        "t0"."t" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."t")\n'
        "      OR (\n"
        '        "t0"."e" IS NULL\n'
        "      )\n"
        '      OR ISNAN("t0"."e")\n'
        "      OR (\n"
        '        "t0"."g" IS NULL\n'
        "      )\n"
        "    )\n"
        ') AS "t1"\n'
        "GROUP BY\n"
        "  1,\n"
        "  2"
    ),
    "entry=True,group=False": (
        "SELECT\n"
        '  "t3"."t",\n'
        '  SUM("t3"."n_in") AS "n_in",\n'
        '  SUM("t3"."n_out") AS "n_out",\n'
        '  SUM("t3"."d") AS "d"\n'
        "FROM (\n"
        "  SELECT\n"
        "    *\n"
        "  FROM (\n"
        "    SELECT\n"
        '      "t0"."t",\n'
        '      0 AS "n_in",\n'
        '      1 AS "n_out",\n'
        '      CAST("t0"."e" AS BIGINT) AS "d"\n'
        '    FROM "mmemd_survival_rows" AS "t0"\n'
        "    WHERE\n"
        "      NOT (\n"
        "        (\n"
        '          "t0"."t" IS NULL\n'
        "        )\n"
        '        OR ISNAN("t0"."t")\n'
        "        OR (\n"
        '          "t0"."e" IS NULL\n'
        "        )\n"
        '        OR ISNAN("t0"."e")\n'
        "        OR (\n"
        '          "t0"."n" IS NULL\n'
        "        )\n"
        '        OR ISNAN("t0"."n")\n'
        "      )\n"
        '  ) AS "t1"\n'
        "  UNION ALL\n"
        "  SELECT\n"
        "    *\n"
        "  FROM (\n"
        "    SELECT\n"
        '      "t0"."n" AS "t",\n'
        '      1 AS "n_in",\n'
        '      0 AS "n_out",\n'
        '      0 AS "d"\n'
        '    FROM "mmemd_survival_rows" AS "t0"\n'
        "    WHERE\n"
        "      NOT (\n"
        "        (\n"
        '          "t0"."t" IS NULL\n'
        "        )\n"
        '        OR ISNAN("t0"."t")\n'
        "        OR (\n"
        '          "t0"."e" IS NULL\n'
        "        )\n"
        '        OR ISNAN("t0"."e")\n'
        "        OR (\n"
        '          "t0"."n" IS NULL\n'
        "        )\n"
        '        OR ISNAN("t0"."n")\n'
        "      )\n"
        '  ) AS "t2"\n'
        ') AS "t3"\n'
        "GROUP BY\n"
        "  1"
    ),
    "entry=True,group=True": (
        "SELECT\n"
        '  "t3"."g",\n'
        '  "t3"."t",\n'
        '  SUM("t3"."n_in") AS "n_in",\n'
        '  SUM("t3"."n_out") AS "n_out",\n'
        '  SUM("t3"."d") AS "d"\n'
        "FROM (\n"
        "  SELECT\n"
        "    *\n"
        "  FROM (\n"
        "    SELECT\n"
        '      "t0"."g",\n'
        '      "t0"."t",\n'
        '      0 AS "n_in",\n'
        '      1 AS "n_out",\n'
        '      CAST("t0"."e" AS BIGINT) AS "d"\n'
        '    FROM "mmemd_survival_rows" AS "t0"\n'
        "    WHERE\n"
        "      NOT (\n"
        "        (\n"
        '          "t0"."t" IS NULL\n'
        "        )\n"
        '        OR ISNAN("t0"."t")\n'
        "        OR (\n"
        '          "t0"."e" IS NULL\n'
        "        )\n"
        '        OR ISNAN("t0"."e")\n'
        "        OR (\n"
        '          "t0"."n" IS NULL\n'
        "        )\n"
        '        OR ISNAN("t0"."n")\n'
        "        OR (\n"
        '          "t0"."g" IS NULL\n'
        "        )\n"
        "      )\n"
        '  ) AS "t1"\n'
        "  UNION ALL\n"
        "  SELECT\n"
        "    *\n"
        "  FROM (\n"
        "    SELECT\n"
        '      "t0"."g",\n'
        '      "t0"."n" AS "t",\n'
        '      1 AS "n_in",\n'
        '      0 AS "n_out",\n'
        '      0 AS "d"\n'
        '    FROM "mmemd_survival_rows" AS "t0"\n'
        "    WHERE\n"
        "      NOT (\n"
        "        (\n"
        '          "t0"."t" IS NULL\n'
        "        )\n"
        '        OR ISNAN("t0"."t")\n'
        "        OR (\n"
        '          "t0"."e" IS NULL\n'
        "        )\n"
        '        OR ISNAN("t0"."e")\n'
        "        OR (\n"
        '          "t0"."n" IS NULL\n'
        "        )\n"
        '        OR ISNAN("t0"."n")\n'
        "        OR (\n"
        '          "t0"."g" IS NULL\n'
        "        )\n"
        "      )\n"
        '  ) AS "t2"\n'
        ') AS "t3"\n'
        "GROUP BY\n"
        "  1,\n"
        "  2"
    ),
}

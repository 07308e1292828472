#!/usr/bin/env python3
"""Authoring source of the pattern conformance suite.

Every expectation below was written by hand from the documented and observed
CloudWatch Logs behaviour (../shared/spec/filter-syntax.md: AWS docs and
recorded TestMetricFilter results), never by running trailwatch. This script
only expands the compact notation into TestMetricFilter request/response
files; `cargo test` runs those files (tests/conformance.rs).

Regenerate after editing:  python3 tests/conformance/cases.py

Notation
  ok(id, pattern, messages, [n, ...])            matches by 1-based number
  ok(id, pattern, messages, {n: {"$a": "v"}})    with extracted values
  bad(id, pattern, column)                       rejected; caret column
  metric(id, pattern, messages, matches, value, default, [(n, v), ...], dims)
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = {}
CURRENT = None


def section(name, description):
    global CURRENT
    CURRENT = name
    FILES[name] = {"description": description, "cases": []}


def _matches(messages, expected):
    if isinstance(expected, dict):
        items = sorted(expected.items())
    else:
        items = [(n, {}) for n in expected]
    return [
        {"eventNumber": n, "eventMessage": messages[n - 1], "extractedValues": vals}
        for n, vals in items
    ]


def ok(case_id, pattern, messages, expected, note=None):
    case = {
        "id": case_id,
        "request": {"filterPattern": pattern, "logEventMessages": messages},
        "response": {"matches": _matches(messages, expected)},
    }
    if note:
        case["note"] = note
    FILES[CURRENT]["cases"].append(case)


def every(messages):
    return list(range(1, len(messages) + 1))


def but(messages, *excluded):
    return [n for n in every(messages) if n not in excluded]


def bad(case_id, pattern, column, note=None):
    case = {
        "id": case_id,
        "request": {"filterPattern": pattern, "logEventMessages": ["{\"a\":1}", "ERROR"]},
        "error": {"code": "InvalidParameterException", "column": column},
    }
    if note:
        case["note"] = note
    FILES[CURRENT]["cases"].append(case)


def metric(case_id, pattern, messages, expected, value, default, points, dims=None):
    req = {"filterPattern": pattern, "logEventMessages": messages, "metricValue": value}
    if default is not None:
        req["defaultValue"] = default
    if dims:
        req["dimensions"] = dims
    resp = {"matches": _matches(messages, expected), "datapoints": []}
    for p in points:
        d = {"eventNumber": p[0], "value": float(p[1])}
        if len(p) > 2:
            d["dimensions"] = p[2]
        resp["datapoints"].append(d)
    FILES[CURRENT]["cases"].append({"id": case_id, "request": req, "response": resp})


def metric_bad(case_id, pattern, value, default=None, dims=None):
    req = {"filterPattern": pattern, "logEventMessages": ["x"], "metricValue": value}
    if default is not None:
        req["defaultValue"] = default
    if dims:
        req["dimensions"] = dims
    FILES[CURRENT]["cases"].append({"id": case_id, "request": req, "error": {"code": "InvalidParameterException"}})


# ---------------------------------------------------------------------------
section("terms", "Unstructured term patterns: case-sensitive substrings, -exclusions, ?optional terms, phrases")

T = [
    "ERROR",                # 1
    "ERRORS",               # 2
    "xERROR",               # 3
    "error",                # 4
    "[ERROR] disk full",    # 5
    "ERROR_code=7",         # 6
    "ERROR timeout",        # 7
    "INFO timeout",         # 8
    "WARN",                 # 9
    "two words",            # 10
    "two  words",           # 11
    "WARN ERROR",           # 12
    "café au lait",         # 13
    "a-b",                  # 14
    "a b",                  # 15
    "user.name=bob",        # 16
]
ok("substring", "ERROR", T, [1, 2, 3, 5, 6, 7, 12])
ok("case-sensitive", "error", T, [4])
ok("and", "ERROR timeout", T, [7])
ok("and-order-free", "timeout ERROR", T, [7])
ok("and-two-words", "ERROR WARN", T, [12])
ok("exclude", "ERROR -timeout", T, [1, 2, 3, 5, 6, 12])
ok("exclude-only", "-ERROR", T, [4, 8, 9, 10, 11, 13, 14, 15, 16])
ok("exclude-two", "-ERROR -WARN", T, [4, 8, 10, 11, 13, 14, 15, 16])
ok("optional", "?ERROR ?WARN", T, [1, 2, 3, 5, 6, 7, 9, 12])
ok("optional-ignored-with-plain", "?ERROR timeout", T, [7, 8], "a plain term makes every ?term irrelevant")
ok("optional-ignored-with-exclusion", "?ERROR -timeout", T, but(T, 7, 8))
ok("phrase", "\"two words\"", T, [10], "a phrase is literal, spacing included")
ok("phrase-excluded", "-\"two words\"", T, but(T, 10))
ok("phrase-optional", "?\"two words\" ?WARN", T, [9, 10, 12])
ok("phrase-star-is-literal", "\"ERR*\"", T, [])
ok("phrase-with-brackets", "\"[ERROR]\"", T, [5])
ok("phrase-and-term", "ERROR \"disk full\"", T, [5])
ok("quoted-blank", "\" \"", T, [5, 7, 8, 10, 11, 12, 13, 15], "contains a blank, not match-all")
ok("empty", "", T, every(T))
ok("blank", "   ", T, every(T))
ok("unicode-term", "café", T, [13])
ok("hyphen-splits", "a-b", T, [13], "a-b is a -b: contains a, not b")
ok("question-splits", "a?b", T, [13, 14, 15, 16], "a?b is a ?b, and ?b is ignored")
ok("dot-in-term", "user.name", T, [16])
ok("underscore-in-term", "ERROR_code", T, [6])
bad("star-rejected", "ERR*", 4)
bad("bang-rejected", "ERROR!", 6)
bad("colon-rejected", "ERROR:", 6)
bad("slash-rejected", "a/b", 2)
bad("at-rejected", "user@host", 5)
bad("comma-rejected", "a,b", 2)
bad("single-quote-rejected", "'ERROR'", 1)
bad("empty-phrase", "\"\"", 1)
bad("unclosed-phrase", "\"ERROR", 1)
bad("phrase-glued-to-word", "\"ERROR\"WARN", 8)
bad("regex-among-terms", "ERROR %WARN%", 7)
bad("optional-regex", "?%WARN%", 2)
bad("dangling-exclusion", "ERROR -", 7)
bad("too-long", "a" * 1025, 1025)
ok("longest-allowed", "a" * 1024, ["a" * 1024, "a" * 1023], [1])

# ---------------------------------------------------------------------------
section("regex", "Standalone %regex% patterns in CloudWatch's restricted dialect")

R = [
    "ERROR",                # 1
    "WARN",                 # 2
    "aaaa",                 # 3
    "aa",                   # 4
    "cat",                  # 5
    "a cat",                # 6
    "hat",                  # 7
    "color",                # 8
    "colour",               # 9
    "a-b",                  # 10
    "a b",                  # 11
    "a\nb",                 # 12
    "123",                  # 13
    "_",                    # 14
    "café",                 # 15
    "key:value",            # 16
    "ab",                   # 17
    "back\\slash",          # 18
    "!",                    # 19
    "UNAUTHORIZED access",  # 20
    "a{b}",                 # 21
]
ok("alternation", "%ERROR|WARN%", R, [1, 2])
ok("anchors", "%^[hc]at$%", R, [5, 7])
ok("anchored-alternation", "%^cat|^hat%", R, [5, 7])
ok("range-count", "%^a{3,5}$%", R, [3])
ok("exact-count", "%^a{2}$%", R, [4])
ok("upper-bound-only", "%^a{,2}$%", R, [4])
ok("lower-bound-only", "%^a{3,}$%", R, [3])
ok("optional", "%colou?r%", R, [8, 9])
ok("digits", "%\\d+%", R, [13])
ok("three-digits", "%^\\d{3}$%", R, [13])
ok("word", "%\\w+%", R, but(R, 19))
ok("ascii-word-only", "%^\\w+$%", R, [1, 2, 3, 4, 5, 7, 8, 9, 13, 14, 17], "\\w is ASCII: café does not match")
ok("space-class", "%a\\sb%", R, [11, 12], "\\s matches a newline")
ok("hex-escape", "%\\x3A%", R, [16])
ok("dot-not-newline", "%a.b%", R, [10, 11, 21])
ok("escaped-hyphen", "%a\\-b%", R, [10])
ok("lazy", "%a+?%", R, [3, 4, 5, 6, 7, 10, 11, 12, 15, 16, 17, 18, 20, 21])
ok("unanchored-search", "%AUTHORIZED%", R, [20])
ok("case-sensitive", "%unauthorized%", R, [])
ok("negated-class", "%[^a-z0-9]%", R, [1, 2, 6, 10, 11, 12, 14, 15, 16, 18, 19, 20, 21])
ok("class-with-vowels", "%c[aeiou]t%", R, [5, 6])
ok("escaped-braces", "%a\\{b\\}%", R, [21])
ok("literal-brace", "%a{b}%", R, [21], "a brace that is not a repetition is literal")
ok("space-in-regex", "%^a cat$%", R, [6], "blanks are allowed inside a regex (the AWS docs' own example has one)")
ok("empty-match-never", "%^$%", R, [])
bad("group", "%(ab)+%", 2)
bad("escaped-group", "%\\(ab\\)%", 3)
bad("non-ascii", "%café%", 5)
bad("bang", "%!%", 2)
bad("class-intersection", "%[a&&b]%", 4)
bad("unknown-escape", "%\\p%", 2)
bad("unknown-letter-escape", "%\\q%", 2)
bad("empty", "%%", 2)
bad("unclosed", "%abc", 1)
bad("bad-range", "%[z-a]%", 2)
bad("possessive", "%a++%", 4)
bad("nothing-to-repeat", "%*a%", 2)
bad("inverted-count", "%a{2,1}%", 3)
bad("count-too-large", "%a{1001}%", 3)
bad("unclosed-class", "%[abc%", 2)
bad("two-standalone-regexes", "%ERROR% %WARN%", 7)

# ---------------------------------------------------------------------------
section("json-compare", "JSON conditions on scalar values: numbers, strings, globs, regex, IS, NOT EXISTS")

J = [
    '{"a":1}',                  # 1
    '{"a":"1"}',                # 2
    '{"a":1.0}',                # 3
    '{"a":"01"}',               # 4
    '{"a":true}',               # 5
    '{"a":false}',              # 6
    '{"a":"true"}',             # 7
    '{"a":null}',               # 8
    '{}',                       # 9
    '{"a":{}}',                 # 10
    '{"a":[]}',                 # 11
    '{"a":"foo"}',              # 12
    '{"a":"foobar"}',           # 13
    '{"a":"FOO"}',              # 14
    '{"a":1e3}',                # 15
    '{"a":"1e3"}',              # 16
    '{"a":1e309}',              # 17
    '{"a":"1e309"}',            # 18
    '{"a":1e-999}',             # 19
    '{"a":-0.0}',               # 20
    '{"a":9007199254740993}',   # 21
    '{"a":" foo"}',             # 22
    '{"b":1}',                  # 23
    '{"a":"f\\u006fo"}',        # 24  (the string "foo", escaped)
]
STRINGS_AND_NUMBERS = [1, 2, 3, 4, 7, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 24]
ok("number", "{ $.a = 1 }", J, [1, 2, 3], "numerically vs numbers, by text vs strings")
ok("quoted-number", "{ $.a = \"1\" }", J, [1, 2], "a number's text: 1 is \"1\", 1.0 is \"1.0\"")
ok("number-ne", "{ $.a != 1 }", J, [4, 7, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 24],
   "present strings and numbers only; 1e309 is out of range")
ok("string-ne", "{ $.a != \"foo\" }", J, [1, 2, 3, 4, 7, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22])
ok("greater", "{ $.a > 0 }", J, [1, 3, 15, 21], "ordering ignores strings")
ok("greater-equal", "{ $.a >= 1000 }", J, [15, 21])
ok("less", "{ $.a < 1 }", J, [19, 20])
ok("less-equal", "{ $.a <= 1 }", J, [1, 3, 19, 20])
ok("bare-word", "{ $.a = foo }", J, [12, 24], "whole-value, case-sensitive; escapes are decoded")
ok("bare-word-upper", "{ $.a = FOO }", J, [14])
ok("quoted-leading-blank", "{ $.a = \" foo\" }", J, [22])
ok("bare-true-is-a-string", "{ $.a = true }", J, [7])
ok("quoted-true", "{ $.a = \"true\" }", J, [7])
ok("is-true", "{ $.a IS TRUE }", J, [5])
ok("is-false", "{ $.a IS FALSE }", J, [6])
ok("is-null", "{ $.a IS NULL }", J, [8])
ok("not-exists", "{ $.a NOT EXISTS }", J, [9, 23])
ok("star", "{ $.a = * }", J, STRINGS_AND_NUMBERS, "any present string or number")
ok("quoted-star", "{ $.a = \"*\" }", J, STRINGS_AND_NUMBERS)
ok("prefix-glob", "{ $.a = foo* }", J, [12, 13, 24], "a zero-length * matches too")
ok("suffix-glob", "{ $.a = *oo }", J, [12, 22, 24])
ok("contains-glob", "{ $.a = *o* }", J, [12, 13, 22, 24])
ok("number-glob", "{ $.a = 1* }", J, [1, 2, 3, 15, 16, 18], "numbers are globbed by their text (1e3 is 1000.0)")
ok("exponent", "{ $.a = 1e3 }", J, [15, 16])
ok("plus-sign", "{ $.a = +1 }", J, [1, 3], "the text \"+1\" is not \"1\"")
ok("decimal", "{ $.a = 1.0 }", J, [1, 3])
ok("quoted-decimal", "{ $.a = \"1.0\" }", J, [3])
ok("overflow-literal", "{ $.a = 1e309 }", J, [18], "JSON 1e309 is out of range and never equal")
ok("zero", "{ $.a = 0 }", J, [19, 20], "JSON 1e-999 underflows to 0; -0.0 equals 0")
ok("negative-zero", "{ $.a = -0.0 }", J, [19, 20])
ok("underflow-literal", "{ $.a = 1e-999 }", J, [], "the literal is exact: not zero")
ok("underflow-ordering", "{ $.a > 1e-999 }", J, [1, 3, 15, 21])
ok("exact-integer", "{ $.a = 9007199254740993 }", J, [21])
ok("exact-integer-neighbour", "{ $.a = 9007199254740992 }", J, [])
ok("regex-value", "{ $.a = %1% }", J, [1, 2, 3, 4, 15, 16, 18, 21], "numbers by their text")
ok("regex-value-ne", "{ $.a != %1% }", J, [7, 12, 13, 14, 17, 19, 20, 22, 24])
ok("anchored-regex-value", "{ $.a = %^foo$% }", J, [12, 24])
ok("number-text-thousand", "{ $.a = \"1000.0\" }", J, [15], "1e3 prints as 1000.0 (Java Double.toString)")

# ---------------------------------------------------------------------------
section("json-selectors", "JSON selectors: nesting, indexes, wildcards, quoted keys")

S = [
    '{"a":[1,2]}',                          # 1
    '{"a":[2,1]}',                          # 2
    '{"a":[null,2]}',                       # 3
    '{"a":{"x":1,"y":2}}',                  # 4
    '{"a":{"x":2,"y":1}}',                  # 5
    '{"a":[{"b":1},{"b":2}]}',              # 6
    '{"a.b":2}',                            # 7
    '{"a-b":2}',                            # 8
    '{"a":null}',                           # 9
    '{}',                                   # 10
    '[1,2]',                                # 11
    '{"a":2} trailing',                     # 12
    '{"a":{"b":2}}',                        # 13
    '{"a":[[1,2]]}',                        # 14
    '{"a":[{"b":null}]}',                   # 15
    '{"a":[true,false]}',                   # 16
    '{"a":2}',                              # 17
    '{"a":[]}',                             # 18
    '{"a":{"b":{"c":[0,{"d":"x"}]}}}',      # 19
]
JSON_OBJECTS = but(S, 11, 12)
ok("index", "{ $.a[1] = 2 }", S, [1, 3])
ok("index-zero", "{ $.a[0] = 2 }", S, [2])
ok("array-wildcard", "{ $.a[*] = 2 }", S, [1, 2, 3, 4, 5, 13], "[*] also enumerates object members")
ok("object-wildcard", "{ $.a.* = 2 }", S, [1, 2, 3, 4, 5, 13], ".* also enumerates array elements")
ok("wildcard-child", "{ $.a[*].b = 2 }", S, [6])
ok("quoted-key", "{ $.['a.b'] = 2 }", S, [7])
ok("hyphen-key", "{ $.a-b = 2 }", S, [8])
ok("no-implicit-traversal", "{ $.a.b = 2 }", S, [13])
ok("deep-path", "{ $.a.b.c[1].d = x }", S, [19])
ok("deep-index", "{ $.a.b.c[0] = 0 }", S, [19])
ok("root-wildcard", "{ $.* = 2 }", S, [7, 8, 17])
ok("wildcard-star", "{ $.a[*] = * }", S, [1, 2, 3, 4, 5, 13])
ok("arrays-never-equal", "{ $.a = 2 }", S, [17])
ok("is-null-array-quirk", "{ $.a IS NULL }", S, [3, 9], "an array holding null counts as null")
ok("wildcard-is-null", "{ $.a[*] IS NULL }", S, [3])
ok("not-exists", "{ $.a NOT EXISTS }", S, [7, 8, 10])
ok("wildcard-not-exists", "{ $.a[*] NOT EXISTS }", S, [7, 8, 9, 10, 17, 18], "true when nothing is selected")
ok("child-not-exists", "{ $.a.b NOT EXISTS }", S, [n for n in JSON_OBJECTS if n not in (13, 19)])
ok("wildcard-ne", "{ $.a[*] != 2 }", S, [6, 9, 14, 15, 16, 17, 18, 19],
   "the path before the wildcard exists and no selected value equals 2")
ok("wildcard-child-ne", "{ $.a[*].b != 2 }", S, [1, 2, 3, 4, 5, 9, 13, 14, 15, 16, 17, 18, 19])
ok("three-wildcard-selectors", "{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 }", S, [1, 2, 4, 5])

# ---------------------------------------------------------------------------
section("json-logic", "JSON patterns: &&, ||, parentheses, CIS filters, which messages count as JSON")

L = [
    '{"eventName":"ConsoleLogin","errorMessage":"Failed authentication","additionalEventData":{"MFAUsed":"No"},"userIdentity":{"type":"IAMUser"},"responseElements":{"ConsoleLogin":"Failure"}}',  # 1
    '{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"Yes"},"userIdentity":{"type":"IAMUser"},"responseElements":{"ConsoleLogin":"Success"}}',  # 2
    '{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"No"},"userIdentity":{"type":"IAMUser"},"responseElements":{"ConsoleLogin":"Success"}}',  # 3
    '{"eventName":"ConsoleLogin","userIdentity":{"type":"AssumedRole"},"responseElements":{"ConsoleLogin":"Success"}}',  # 4
    '{"eventName":"DeleteTrail","eventSource":"cloudtrail.amazonaws.com","userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}',  # 5
    '{"eventName":"DisableKey","eventSource":"kms.amazonaws.com","userIdentity":{"type":"Root","invokedBy":"support.amazonaws.com"},"eventType":"AwsApiCall"}',  # 6
    '{"eventName":"ScheduleKeyDeletion","eventSource":"kms.amazonaws.com","userIdentity":{"type":"IAMUser"},"eventType":"AwsApiCall"}',  # 7
    '{"eventName":"PutBucketPolicy","eventSource":"s3.amazonaws.com","userIdentity":{"type":"Root"},"eventType":"AwsServiceEvent"}',  # 8
    '{"eventName":"HeadBucket","eventSource":"s3.amazonaws.com","sourceIPAddress":"delivery.logs.amazonaws.com","errorCode":"AccessDenied"}',  # 9
    '{"eventName":"GetObject","eventSource":"s3.amazonaws.com","sourceIPAddress":"10.0.0.1","errorCode":"AccessDenied"}',  # 10
    '{"eventName":"DescribeInstances","errorCode":"Client.UnauthorizedOperation","sourceIPAddress":"delivery.logs.amazonaws.com"}',  # 11
]
ok("cis-no-mfa", "{ ($.eventName = \"ConsoleLogin\") && ($.additionalEventData.MFAUsed != \"Yes\") }", L, [1, 3],
   "!= is false when MFAUsed is absent (event 4)")
ok("cis-no-mfa-4-term",
   "{ ($.eventName = \"ConsoleLogin\") && ($.additionalEventData.MFAUsed != \"Yes\") && ($.userIdentity.type = \"IAMUser\") && ($.responseElements.ConsoleLogin = \"Success\") }",
   L, [3])
ok("cis-root", "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }", L, [5])
ok("cis-root-unquoted", "{ $.userIdentity.type = Root && $.userIdentity.invokedBy NOT EXISTS && $.eventType != AwsServiceEvent }", L, [5])
ok("cis-root-compact", "{$.userIdentity.type=\"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !=\"AwsServiceEvent\"}", L, [5])
ok("cis-console-failures", "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }", L, [1])
ok("cis-kms", "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }", L, [6, 7])
ok("cis-cloudtrail", "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}", L, [5])
ok("cis-s3-policy", "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy))}", L, [8])
ok("cis-unauthorized-v1.2", "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") }", L, [9, 10, 11])
ok("cis-unauthorized-v1.4-all-or",
   "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") || ($.sourceIPAddress!=\"delivery.logs.amazonaws.com\") || ($.eventName!=\"HeadBucket\") }",
   L, every(L), "the != alternatives make it match nearly everything")
ok("cis-unauthorized-v4-mixed",
   "{ ($.errorCode =*UnauthorizedOperation) || ($.errorCode =AccessDenied*) && ($.sourceIPAddress!=delivery.logs.amazonaws.com) && ($.eventName!=HeadBucket) }",
   L, [10, 11], "&& binds tighter: A || (B && C && D)")
ok("cis-unauthorized-parenthesised",
   "{(($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\")) && (($.sourceIPAddress!=\"delivery.logs.amazonaws.com\") && ($.eventName!=\"HeadBucket\"))}",
   L, [10])
ok("and-before-or", "{ $.eventName = ConsoleLogin && $.additionalEventData.MFAUsed = No || $.eventName = DeleteTrail }", L, [1, 3, 5])
ok("or-then-and", "{ $.eventName = DeleteTrail || $.eventName = ConsoleLogin && $.additionalEventData.MFAUsed = No }", L, [1, 3, 5])
ok("parentheses-override", "{ ($.eventName = DeleteTrail || $.eventName = ConsoleLogin) && $.userIdentity.type = Root }", L, [5])
ok("no-whitespace", "{$.eventName=DeleteTrail||$.eventName=DisableKey}", L, [5, 6])
ok("keywords-any-case", "{ $.userIdentity.invokedBy Not Exists && $.userIdentity.type = Root }", L, [5, 8])
ok("absent-field", "{ $.additionalEventData.MFAUsed NOT EXISTS && $.eventName = ConsoleLogin }", L, [4])
ok("nested-parentheses", "{ ((( $.eventName = DeleteTrail ))) }", L, [5])

N = [
    '{"a":1}',                      # 1
    '[{"a":1}]',                    # 2
    '{"a":1} {"b":2}',              # 3
    'a {"a":1}',                    # 4
    '{"a":1,}',                     # 5
    '  {"a":1}  ',                  # 6
    '{"a":1,"a":2}',                # 7
    '{"a":"\\u0031"}',              # 8
    '{ "a" : 1 , "b" : [ 1 , 2 ] }',  # 9
    '{\n"a":1\n}',                  # 10
    'not json',                     # 11
    '{"a":01}',                     # 12
]
ok("only-json-objects", "{ $.a = 1 }", N, [1, 6, 8, 9, 10],
   "arrays, trailing text, prefixes and invalid JSON never match; the last duplicate key wins")
ok("duplicate-key-last-wins", "{ $.a = 2 }", N, [7])
ok("not-exists-needs-json", "{ $.zzz NOT EXISTS }", N, [1, 6, 7, 8, 9, 10], "not even NOT EXISTS matches a non-JSON message")

# ---------------------------------------------------------------------------
section("json-rejections", "JSON patterns AWS refuses, with the column of the offending text")

bad("and-word", "{ $.a = 1 AND $.b = 2 }", 11)
bad("or-word", "{ $.a = 1 OR $.b = 2 }", 11)
bad("double-equals", "{ $.a == 1 }", 7)
bad("single-ampersand", "{ $.a = 1 & $.b = 2 }", 11)
bad("single-bar", "{ $.a = 1 | $.b = 2 }", 11)
bad("trailing-text", "{ $.a = 1 } x", 13)
bad("two-objects", "{ $.a = 1 } || { $.b = 2 }", 13)
bad("bracket-after-root", "{ $['a.b'] = 2 }", 3)
bad("double-quoted-key", "{ $.[\"a.b\"] = 2 }", 4)
bad("root-index", "{ $[1] = 2 }", 3)
bad("negative-index", "{ $.a[-1] = 2 }", 6)
bad("root-only", "{ $ = 2 }", 3)
bad("two-wildcards", "{ $.a[*].* = 2 }", 3)
bad("four-wildcard-selectors", "{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 || $.d[*] = 1 }", 45)
bad("is-not-null", "{ $.a IS NOT NULL }", 7)
bad("exists", "{ $.a EXISTS }", 7)
bad("null-value", "{ $.a = null }", 9)
bad("quoted-ordering", "{ $.a > \"0\" }", 9)
bad("word-ordering", "{ $.a > abc }", 9)
bad("colon-in-word", "{ $.a = a:b }", 10)
bad("huge-exponent", "{ $.a = 1e2147483648 }", 9)
bad("three-regexes", "{ $.a = %1% || $.a = %2% || $.a = %3% }", 35)
bad("empty", "{ }", 1)
bad("unclosed-paren", "{ ($.a = 1 }", 12)
bad("missing-value", "{ $.a = }", 9)
bad("single-quoted-value", "{ $.a = 'Root' }", 9)
bad("selector-without-dollar", "{ a = 1 }", 3)
bad("missing-operator", "{ $.a }", 7)
bad("dangling-or", "{ $.a = 1 || }", 14)
bad("unquoted-phrase", "{ $.errorMessage = Failed authentication }", 27,
    "the CIS v4.0.1 text prints this value unquoted; CloudWatch needs the quotes")
bad("bad-sign", "{ $.a = -foo }", 9)
bad("unclosed-brace", "{ $.a = 1", 9)
bad("regex-value-group", "{ $.a = %(x)% }", 10)

# ---------------------------------------------------------------------------
section("delimited", "Space-delimited patterns: fields, remainder, ellipsis, conditions, extracted values")

D = [
    "ERROR",                # 1
    "ERROR one",            # 2
    "ERROR one two",        # 3
    "WARN one",             # 4
    "INFO one",             # 5
    "a \"two words\" c",    # 6
    "a [two words] c",      # 7
    "a \"two words\"",      # 8
    "a [two words]",        # 9
    "a  b   c ",            # 10
    "a\tb\tc",              # 11
    "a \"unclosed",         # 12
    "a [unclosed",          # 13
    "a \"b\"c d",           # 14
    "1 2",                  # 15
    "1.0 2",                # 16
    "a b c d",              # 17
]


def abc(a, b, c):
    return {"$a": a, "$b": b, "$c": c}


ok("three-fields", "[a, b, c]", D, {
    3: abc("ERROR", "one", "two"), 6: abc("a", "two words", "c"), 7: abc("a", "two words", "c"),
    10: abc("a", "b", "c"), 11: abc("a", "b", "c"), 14: abc("a", "b", "c d"), 17: abc("a", "b", "c d"),
}, "quotes and brackets group; the last field takes the rest of the line")


def rest(a, r):
    return {"$a": a, "$rest": r}


ok("last-takes-rest", "[a, rest]", D, {
    2: rest("ERROR", "one"), 3: rest("ERROR", "one two"), 4: rest("WARN", "one"), 5: rest("INFO", "one"),
    6: rest("a", "\"two words\" c"), 7: rest("a", "[two words] c"), 8: rest("a", "two words"),
    9: rest("a", "two words"), 10: rest("a", "b   c "), 11: rest("a", "b\tc"), 12: rest("a", "\"unclosed"),
    13: rest("a", "[unclosed"), 14: rest("a", "\"b\"c d"), 15: rest("1", "2"), 16: rest("1.0", "2"),
    17: rest("a", "b c d"),
}, "the rest is raw text when it spans several fields, the bare field when it is one")
ok("one-field-whole-line", "[a]", D, {n: {"$a": m} for n, m in enumerate(D, 1)})
ok("empty-brackets", "[]", D, {
    1: {"$1": "ERROR"}, 2: {"$1": "ERROR", "$2": "one"}, 3: {"$1": "ERROR", "$2": "one", "$3": "two"},
    4: {"$1": "WARN", "$2": "one"}, 5: {"$1": "INFO", "$2": "one"},
    6: {"$1": "a", "$2": "two words", "$3": "c"}, 7: {"$1": "a", "$2": "two words", "$3": "c"},
    8: {"$1": "a", "$2": "two words"}, 9: {"$1": "a", "$2": "two words"},
    10: {"$1": "a", "$2": "b", "$3": "c"}, 11: {"$1": "a", "$2": "b", "$3": "c"},
    12: {"$1": "a", "$2": "\"unclosed"}, 13: {"$1": "a", "$2": "[unclosed"},
    14: {"$1": "a", "$2": "b", "$3": "c", "$4": "d"}, 15: {"$1": "1", "$2": "2"}, 16: {"$1": "1.0", "$2": "2"},
    17: {"$1": "a", "$2": "b", "$3": "c", "$4": "d"},
}, "[] matches everything and extracts every field")
ok("leading-ellipsis", "[..., last]", D, {
    1: {"$last": "ERROR"}, 2: {"$1": "ERROR", "$last": "one"}, 3: {"$1": "ERROR", "$2": "one", "$last": "two"},
    4: {"$1": "WARN", "$last": "one"}, 5: {"$1": "INFO", "$last": "one"},
    6: {"$1": "a", "$2": "two words", "$last": "c"}, 7: {"$1": "a", "$2": "two words", "$last": "c"},
    8: {"$1": "a", "$last": "two words"}, 9: {"$1": "a", "$last": "two words"},
    10: {"$1": "a", "$2": "b", "$last": "c"}, 11: {"$1": "a", "$2": "b", "$last": "c"},
    12: {"$1": "a", "$last": "\"unclosed"}, 13: {"$1": "a", "$last": "[unclosed"},
    14: {"$1": "a", "$2": "b", "$3": "c", "$last": "d"}, 15: {"$1": "1", "$last": "2"},
    16: {"$1": "1.0", "$last": "2"}, 17: {"$1": "a", "$2": "b", "$3": "c", "$last": "d"},
})
ok("middle-ellipsis", "[first, ..., last]", D, {
    2: {"$first": "ERROR", "$last": "one"}, 3: {"$first": "ERROR", "$2": "one", "$last": "two"},
    4: {"$first": "WARN", "$last": "one"}, 5: {"$first": "INFO", "$last": "one"},
    6: {"$first": "a", "$2": "two words", "$last": "c"}, 7: {"$first": "a", "$2": "two words", "$last": "c"},
    8: {"$first": "a", "$last": "two words"}, 9: {"$first": "a", "$last": "two words"},
    10: {"$first": "a", "$2": "b", "$last": "c"}, 11: {"$first": "a", "$2": "b", "$last": "c"},
    12: {"$first": "a", "$last": "\"unclosed"}, 13: {"$first": "a", "$last": "[unclosed"},
    14: {"$first": "a", "$2": "b", "$3": "c", "$last": "d"}, 15: {"$first": "1", "$last": "2"},
    16: {"$first": "1.0", "$last": "2"}, 17: {"$first": "a", "$2": "b", "$3": "c", "$last": "d"},
})
ok("trailing-ellipsis", "[first, ...]", D, {
    1: {"$first": "ERROR"}, 2: {"$first": "ERROR", "$2": "one"}, 3: {"$first": "ERROR", "$2": "one", "$3": "two"},
    4: {"$first": "WARN", "$2": "one"}, 5: {"$first": "INFO", "$2": "one"},
    6: {"$first": "a", "$2": "two words", "$3": "c"}, 7: {"$first": "a", "$2": "two words", "$3": "c"},
    8: {"$first": "a", "$2": "two words"}, 9: {"$first": "a", "$2": "two words"},
    10: {"$first": "a", "$2": "b", "$3": "c"}, 11: {"$first": "a", "$2": "b", "$3": "c"},
    12: {"$first": "a", "$2": "\"unclosed"}, 13: {"$first": "a", "$2": "[unclosed"},
    14: {"$first": "a", "$2": "b", "$3": "c", "$4": "d"}, 15: {"$first": "1", "$2": "2"},
    16: {"$first": "1.0", "$2": "2"}, 17: {"$first": "a", "$2": "b", "$3": "c", "$4": "d"},
})
ok("unnamed-fields", "[, b,]", D, {
    3: {"$1": "ERROR", "$b": "one", "$3": "two"}, 6: {"$1": "a", "$b": "two words", "$3": "c"},
    7: {"$1": "a", "$b": "two words", "$3": "c"}, 10: {"$1": "a", "$b": "b", "$3": "c"},
    11: {"$1": "a", "$b": "b", "$3": "c"}, 14: {"$1": "a", "$b": "b", "$3": "c d"},
    17: {"$1": "a", "$b": "b", "$3": "c d"},
})
ok("trailing-comma", "[a,]", D, {
    2: {"$a": "ERROR", "$2": "one"}, 3: {"$a": "ERROR", "$2": "one two"}, 4: {"$a": "WARN", "$2": "one"},
    5: {"$a": "INFO", "$2": "one"}, 6: {"$a": "a", "$2": "\"two words\" c"}, 7: {"$a": "a", "$2": "[two words] c"},
    8: {"$a": "a", "$2": "two words"}, 9: {"$a": "a", "$2": "two words"}, 10: {"$a": "a", "$2": "b   c "},
    11: {"$a": "a", "$2": "b\tc"}, 12: {"$a": "a", "$2": "\"unclosed"}, 13: {"$a": "a", "$2": "[unclosed"},
    14: {"$a": "a", "$2": "\"b\"c d"}, 15: {"$a": "1", "$2": "2"}, 16: {"$a": "1.0", "$2": "2"},
    17: {"$a": "a", "$2": "b c d"},
})
ok("equals", "[level=ERROR, rest]", D, {2: {"$level": "ERROR", "$rest": "one"}, 3: {"$level": "ERROR", "$rest": "one two"}})
ok("or-same-field", "[level=ERROR || level=WARN, rest]", D, {
    2: {"$level": "ERROR", "$rest": "one"}, 3: {"$level": "ERROR", "$rest": "one two"}, 4: {"$level": "WARN", "$rest": "one"},
})


def lvl(level, r):
    return {"$level": level, "$rest": r}


ok("and-not-equal", "[level!=ERROR && level!=WARN, rest]", D, {
    5: lvl("INFO", "one"), 6: lvl("a", "\"two words\" c"), 7: lvl("a", "[two words] c"), 8: lvl("a", "two words"),
    9: lvl("a", "two words"), 10: lvl("a", "b   c "), 11: lvl("a", "b\tc"), 12: lvl("a", "\"unclosed"),
    13: lvl("a", "[unclosed"), 14: lvl("a", "\"b\"c d"), 15: lvl("1", "2"), 16: lvl("1.0", "2"), 17: lvl("a", "b c d"),
})
ok("numeric", "[a=1, rest]", D, {15: rest("1", "2"), 16: rest("1.0", "2")}, "unquoted numbers compare numerically")
ok("quoted-numeric", "[a=\"1\", rest]", D, {15: rest("1", "2")}, "quoted values compare as text")
ok("greater", "[a>0, rest]", D, {15: rest("1", "2"), 16: rest("1.0", "2")})
ok("range", "[a>=1 && a<2, b]", D, {15: {"$a": "1", "$b": "2"}, 16: {"$a": "1.0", "$b": "2"}})
ok("regex-field", "[a=%ERR%, rest]", D, {2: rest("ERROR", "one"), 3: rest("ERROR", "one two")})
ok("glob-field", "[a=ERR*, rest]", D, {2: rest("ERROR", "one"), 3: rest("ERROR", "one two")})
ok("contains-field", "[a=*R*, rest]", D, {2: rest("ERROR", "one"), 3: rest("ERROR", "one two"), 4: rest("WARN", "one")})
ok("condition-before-ellipsis", "[a, b=two*, ...]", D, {
    6: {"$a": "a", "$b": "two words", "$3": "c"}, 7: {"$a": "a", "$b": "two words", "$3": "c"},
    8: {"$a": "a", "$b": "two words"}, 9: {"$a": "a", "$b": "two words"},
})
ok("condition-after-ellipsis", "[..., x=c]", D, {
    6: {"$1": "a", "$2": "two words", "$x": "c"}, 7: {"$1": "a", "$2": "two words", "$x": "c"},
    10: {"$1": "a", "$2": "b", "$x": "c"}, 11: {"$1": "a", "$2": "b", "$x": "c"},
})
E = ["x \"y\" ", "x [y] ", "x y ", "x  ", "x \"\"", "x []"]
ok("trailing-delimiters", "[a, b]", E, {
    1: {"$a": "x", "$b": "y"}, 2: {"$a": "x", "$b": "y"}, 3: {"$a": "x", "$b": "y"},
    5: {"$a": "x", "$b": ""}, 6: {"$a": "x", "$b": ""},
}, "empty quotes or brackets are an empty field; trailing blanks are no field")
I = ["x \"y z", "x [y z", "x \"y z q", "x [y z q"]
ok("unclosed-delimiters", "[a, b, c]", I, {
    1: abc("x", "\"y", "z"), 2: abc("x", "[y", "z"), 3: abc("x", "\"y", "z q"), 4: abc("x", "[y", "z q"),
}, "an unclosed quote or bracket is an ordinary character")
bad("cross-field", "[a=ERROR || b=one, b]", 13)
bad("cross-field-case", "[w1=ERROR || W1=WARNING, w2]", 14, "the 2022 guide's example has this typo")
bad("duplicate", "[a, a]", 5)
bad("double-ellipsis", "[a, ..., b, ...]", 13)
bad("digit-name", "[1a]", 2)
bad("double-equals", "[a == 1]", 4)
bad("quoted-ordering", "[a>\"1\", b]", 4)
bad("trailing-text", "[a, b] x", 8)
bad("missing-comma", "[a b]", 4)
bad("three-regexes", "[a=%1%, b=%2%, c=%3%]", 18)
bad("missing-value", "[a=]", 4)
bad("null-value", "[a, b=null]", 7)
bad("unclosed", "[a, b", 6)

# ---------------------------------------------------------------------------
section("metric", "Metric transformations: what each event publishes (TestMetricFilter extension: datapoints)")

metric("default-per-event", "ERROR", ["ERROR", "INFO", "ERROR"], [1, 3], "3", 7, [(1, 3), (2, 7), (3, 3)],
       )
metric("no-default", "ERROR", ["ERROR", "INFO"], [1], "1", None, [(1, 1)])
V = [
    '{"probe":"value"}',                             # 1 missing  -> default
    '{"probe":"value","value":null}',                # 2 null     -> default
    '{"probe":"value","value":"not-a-number"}',      # 3 text     -> nothing
    '{"probe":"value","value":3}',                   # 4 number
    '{"probe":"value","value":"4.5"}',               # 5 numeric text
    '{"probe":"value","value":true}',                # 6 boolean  -> nothing
    '{"value":9}',                                   # 7 matched by $.value = *
    '{"other":1}',                                   # 8 no match -> default
    'not json',                                      # 9 no match -> default
]
metric("selector-value", "{ $.probe = \"value\" || $.value = * }", V, [1, 2, 3, 4, 5, 6, 7], "$.value", 7,
       [(1, 7), (2, 7), (4, 3), (5, 4.5), (7, 9), (8, 7), (9, 7)])
metric("delimited-value", "[ip, user, bytes]", ["10.0.0.1 bob 512", "10.0.0.2 eve -", "short"],
       {1: {"$ip": "10.0.0.1", "$user": "bob", "$bytes": "512"}, 2: {"$ip": "10.0.0.2", "$user": "eve", "$bytes": "-"}},
       "$bytes", None, [(1, 512)])
metric("numeric-condition-value", "{ $.bytes > 100 }", ['{"bytes":50}', '{"bytes":150}', '{"bytes":1e3}'], [2, 3],
       "$.bytes", None, [(2, 150), (3, 1000)])
metric("dimensions", "{ $.probe = \"dimension\" || $.a = * || $.b = * }",
       ['{"probe":"dimension","a":"alpha","b":"beta"}', '{"probe":"dimension","a":"alpha"}',
        '{"probe":"dimension","b":"beta"}', '{"probe":"dimension"}'],
       [1, 2, 3, 4], "1", None, [(1, 1, {"A": "alpha", "B": "beta"}), (2, 1), (3, 1), (4, 1)],
       {"A": "$.a", "B": "$.b"})
metric_bad("selector-needs-json", "ERROR", "$.bytes")
metric_bad("wildcard-value", "{ $.values[*] = * }", "$.values[*]")
metric_bad("dimensions-with-default", "{ $.a = 1 }", "1", 0, {"A": "$.a"})
metric_bad("dimensions-need-structure", "ERROR", "1", None, {"A": "$.a"})
metric_bad("unknown-field", "[a, b]", "$c")

# ---------------------------------------------------------------------------
section("cloudtrail", "The CIS unauthorized-API-calls filter on CloudTrail-shaped records, near misses included")


def rec(code, name="DescribeInstances"):
    base = '{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice"},' \
           '"eventTime":"2023-07-10T11:50:01Z","eventSource":"ec2.amazonaws.com","eventName":"%s",' \
           '"awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7"' % name
    if code is None:
        return base + "}"
    if code == "null":
        return base + ',"errorCode":null}'
    return base + ',"errorCode":%s,"errorMessage":"denied"}' % json.dumps(code)


C = [
    rec("AccessDenied"),                        # 1
    rec("AccessDeniedException"),               # 2
    rec("Client.UnauthorizedOperation"),        # 3
    rec("UnauthorizedOperation"),               # 4
    rec("VpceAccessDenied"),                    # 5
    rec("accessdenied"),                        # 6
    rec(""),                                    # 7
    rec("Client.DryRunOperation"),              # 8
    rec(None),                                  # 9
    rec("null"),                                # 10
    rec("AccessDenied "),                       # 11
    rec(" AccessDenied"),                       # 12
    rec("Client.UnauthorizedOperationX"),       # 13
    rec("ThrottlingException"),                 # 14
    rec("AccessDenied", "HeadBucket"),          # 15
]
HEADLINE = [1, 2, 3, 4, 11, 15]
ok("headline", "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") }", C, HEADLINE)
ok("headline-security-hub", "{($.errorCode=\"*UnauthorizedOperation\") || ($.errorCode=\"AccessDenied*\")}", C, HEADLINE)
ok("headline-unquoted", "{ ($.errorCode =*UnauthorizedOperation) || ($.errorCode =AccessDenied*) }", C, HEADLINE)
ok("v1.4-matches-almost-all",
   "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") || ($.sourceIPAddress!=\"delivery.logs.amazonaws.com\") || ($.eventName!=\"HeadBucket\") }",
   C, every(C))
ok("term-on-raw-json", "AccessDenied", C, [1, 2, 5, 11, 12, 15], "terms search the raw record text")

# ---------------------------------------------------------------------------

if __name__ == "__main__":
    total = 0
    for name, body in FILES.items():
        path = os.path.join(HERE, name + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(body, f, indent=1, ensure_ascii=False)
            f.write("\n")
        total += len(body["cases"])
        print(f"{path}: {len(body['cases'])} cases")
    print(f"total: {total} cases")

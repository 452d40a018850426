"""The report of a matrix soundness run, and its log (one JSON row per case, the last
row of a case replacing earlier ones: a recheck with newer code).

>>> row = {"verdict": "unknown", "candidate": "dZ1 = dA1 * (Z1 > 0)"}
>>> matches(row, "verdict=equivalent,unknown"), matches(row, "candidate~> 0")
(True, True)
"""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict

import matrix_cases as mc
from run_report import NAMES, head


def matches(row, where: str) -> bool:
    """Whether a log row matches ``FIELD=V1,V2`` (one of the values) or ``FIELD~REGEX``.

    >>> matches({"verdict": "unknown"}, "verdict=equivalent")
    False
    """
    field, op, value = re.match(r"^(\w+)\s*([=~])(.*)$", where).groups()
    have = str(row.get(field, ""))
    if op == "=":
        return have in value.split(",")
    return re.search(value, have) is not None


def read_log(path) -> list:
    """The rows of a --log file, the last one of each case (a recheck replaces a row)."""
    rows = {}
    for line in open(path):
        if line.strip().endswith("}"):
            row = json.loads(line)
            rows.pop(row["index"], None)
            rows[row["index"]] = row
    return list(rows.values())


def failed(rows) -> bool:
    """Any wrong verdict, crash, or decided case whose evidence was not confirmed."""
    return any(r["wrong"] or r.get("skipped") or (
        r["verdict"] in ("equivalent", "equivalent_almost_everywhere", "not_equivalent")
        and not r.get("evidence")) for r in rows)


def report(rows, wall=None, jobs=None, seed=None, source=None) -> None:
    names = NAMES
    head(rows, "matrix soundness run", mc.MUTATIONS, 24, wall=wall, jobs=jobs, seed=seed,
         source=source)
    for r in rows:
        if r["verdict"] in ("refused", "crash"):
            print(f"{r['verdict']} case {r['index']} ({r['kind']}, {r['desc']}): "
                  f"{r.get('reason') or r.get('wrong')}\n  candidate: {r['candidate']}")
        if r["verdict"] == "unknown":
            print(f"unknown case {r['index']} ({r['kind']}, {r['desc']}): {r.get('reason')}")
    reasons = Counter(reason_class(r.get("reason")) for r in rows if r["verdict"] == "unknown")
    for reason, n in reasons.most_common():
        print(f"unknown, {n} case(s): {reason}")
    rechecked = [r for r in rows if r.get("rechecked")]
    if rechecked:
        shown = ", ".join(str(r["index"]) for r in rechecked[:40])
        print(f"rechecked: {len(rechecked)} case(s) run again with newer code (--recheck, "
              f"--recheck-where): {shown}{', ...' if len(rechecked) > 40 else ''}")
    latex = sum(1 for r in rows if "\\" in r["candidate"] or "^{" in r["candidate"])
    print(f"spelling: {latex} LaTeX candidates, {len(rows) - latex} numpy-like")
    decided = [r for r in rows if r["verdict"] in names[:3]]
    print(f"verification: {sum(r.get('compared', 0) for r in rows)} entry comparisons by "
          f"sympy.diff at exact points, {sum(r.get('compared_torch', 0) for r in rows)} by "
          f"torch autograd at larger sizes, {sum(r.get('unverifiable', 0) for r in rows)} not "
          f"evaluable; the verdict's own evidence confirmed in "
          f"{sum(1 for r in decided if r.get('evidence'))} of {len(decided)} decided cases")
    diagnosed = Counter(k for r in rows for k in r.get("diagnosis") or [])
    print("diagnoses: " + ", ".join(f"{k} {v}" for k, v in diagnosed.most_common()))
    refuted = defaultdict(Counter)
    for r in rows:
        if r["verdict"] == "not_equivalent":
            refuted[r["kind"]]["all"] += 1
            refuted[r["kind"]]["named"] += bool(r.get("diagnosis"))
    print("refutations with a named mistake, by mutation: " + ", ".join(
        f"{k} {c['named']}/{c['all']}" for k, c in refuted.items()))
    unchecked = Counter(k[len("diagnosis_unchecked_"):] for r in rows for k in r
                        if k.startswith("diagnosis_unchecked_"))
    print(f"diagnoses verified true: {sum(r.get('diagnosis_checked', 0) for r in rows)}; "
          f"not evaluable: {sum(r.get('diagnosis_unverifiable', 0) for r in rows)}; claiming "
          f"nothing checkable: {dict(unchecked)}; counterexample entries placed and shown to "
          f"differ in every case but {sum(r.get('entry_unplaced', 0) for r in rows)}")
    for r in rows:
        if r.get("skipped"):
            print(f"verification failed, case {r['index']}: {r['skipped']}")
        elif r in decided and not r.get("evidence"):
            print(f"evidence unconfirmed, case {r['index']} ({r['kind']}, {r['desc']})")
    wrong = [r for r in rows if r["wrong"]]
    for r in wrong:
        print(f"WRONG case {r['index']} ({r['kind']}, {r['desc']}, d/d{r['wrt']}): "
              f"{r['verdict']}: {r['wrong']}\n  candidate: {r['candidate']}")
    print(f"WRONG verdicts: {len(wrong)}")


def reason_class(reason) -> str:
    """An unknown's reason with its sizes, numbers and formulas left out, to group by."""
    text = re.sub(r"\d+(\.\d+)?", "N", reason or "no reason given")
    text = re.sub(r"at [a-zA-Z]\w* = N(, [a-zA-Z]\w* = N)*", "at <sizes>", text)
    return text[:160]

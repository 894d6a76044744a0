#!/usr/bin/env python3
"""dedup_eval: pairwise precision and recall of a duplicate scan against known groups.

    bench/dedup_eval.py --truth DIR/truth.tsv --groups groups.json [--customers DIR/customers.jsonl]
                        [--show N]

groups.json is what `kehu dedup scan --format json` prints: a JSON list of groups, each a list
of customer codes. A predicted pair is two customers in one predicted group; a true pair, two
records of one person. Precision = correct predicted pairs / predicted pairs; recall =
correct predicted pairs / true pairs. Customers missing from the truth (none, normally) are
ignored. --show prints up to N false positive and false negative pairs with their records.
"""
import argparse
import itertools
import json
import sys
from collections import Counter, defaultdict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--truth", required=True)
    ap.add_argument("--groups", required=True)
    ap.add_argument("--customers")
    ap.add_argument("--show", type=int, default=0)
    ap.add_argument("--dump", help="write the false and missed pairs to DUMP.false / DUMP.missed")
    a = ap.parse_args()

    person, tags = {}, {}
    with open(a.truth, encoding="utf-8") as f:
        next(f)
        for line in f:
            code, pid, t = line.rstrip("\n").split("\t")
            person[code] = pid
            tags[code] = set(filter(None, t.split(",")))
    with open(a.groups, encoding="utf-8") as f:
        groups = json.load(f)

    by_person = defaultdict(list)
    for code, pid in person.items():
        by_person[pid].append(code)
    true_pairs = set()
    for codes in by_person.values():
        for x, y in itertools.combinations(sorted(codes), 2):
            true_pairs.add((x, y))

    predicted = set()
    unknown = 0
    for g in groups:
        codes = [str(c) for c in g]
        known = [c for c in codes if c in person]
        unknown += len(codes) - len(known)
        for x, y in itertools.combinations(sorted(known), 2):
            predicted.add((x, y))

    correct = predicted & true_pairs
    precision = len(correct) / len(predicted) if predicted else 1.0
    recall = len(correct) / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    fp = sorted(predicted - true_pairs)
    fn = sorted(true_pairs - predicted)

    # What the wrongly joined pairs were.
    kinds = Counter()
    for x, y in fp:
        t = tags[x] & tags[y]
        kinds["family" if "family" in t else "switchboard" if "switchboard" in t
              else "role_mail" if "role_mail" in t else "common_name"
              if "common_name" in tags[x] and "common_name" in tags[y] else "other"] += 1
    print(f"RESULT precision={precision:.4f} recall={recall:.4f} f1={f1:.4f} "
          f"predicted_pairs={len(predicted)} true_pairs={len(true_pairs)} correct={len(correct)} "
          f"false_pairs={len(fp)} missed_pairs={len(fn)} groups={len(groups)} "
          f"unknown_codes={unknown} false_by_kind={','.join(f'{k}:{v}' for k, v in sorted(kinds.items())) or 'none'}")

    if a.dump:
        for name, pairs in (("false", fp), ("missed", fn)):
            with open(f"{a.dump}.{name}", "w", encoding="utf-8") as f:
                f.writelines(f"{x} {y}\n" for x, y in pairs)

    if a.show and a.customers:
        rec = {}
        with open(a.customers, encoding="utf-8") as f:
            for line in f:
                b = json.loads(line)
                rec[b["code"]] = b

        def brief(c):
            b = rec.get(c, {})
            phones = ";".join(p["number"] for p in b.get("phones", []))
            emails = ";".join(e["address"] for e in b.get("emails", []))
            return (f"{c} {b.get('name')!r} {b.get('company', '')} {b.get('province', '')}/"
                    f"{b.get('city', '')} [{phones}] [{emails}] {sorted(tags.get(c, []))}")

        print(f"-- false positives (first {a.show} of {len(fp)})")
        for x, y in fp[: a.show]:
            print("  " + brief(x) + "\n  " + brief(y) + "\n")
        print(f"-- missed pairs (first {a.show} of {len(fn)})")
        for x, y in fn[: a.show]:
            print("  " + brief(x) + "\n  " + brief(y) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

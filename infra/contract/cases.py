"""Cases run per operation, from a schemathesis NDJSON report.

Counts the requests schemathesis sent (each case with a response or a
network error), per documented operation and phase, and prints a table;
exits 1 when an operation of the document ran no case.
"""

import collections
import json
import sys

import yaml


def main(path, doc):
    with open(doc, encoding="utf-8") as f:
        paths = yaml.safe_load(f)["paths"]
    documented = {f"{m.upper()} {p}" for p, item in paths.items() for m in item if m != "parameters"}
    per = collections.defaultdict(collections.Counter)
    for line in open(path, encoding="utf-8"):
        event = json.loads(line)
        done = event.get("ScenarioFinished")
        if not done:
            continue
        recorder = done.get("recorder") or {}
        cases = recorder.get("cases") or {}
        for case_id in (recorder.get("interactions") or {}):
            case = (cases.get(case_id) or {}).get("value") or {}
            if case:
                op = f"{case['method']} {case['path']}"
                per[op if op in documented else "undeclared methods (405 probes)"][done["phase"]] += 1
    phases = ["examples", "coverage", "fuzzing", "stateful"]
    print(f"{'operation':<78}" + "".join(f"{p:>10}" for p in phases) + f"{'total':>8}")
    total = collections.Counter()
    for op in sorted(per, key=lambda o: (o.split(" ", 1)[1], o)):
        row = per[op]
        total.update(row)
        print(f"{op:<78}" + "".join(f"{row[p]:>10}" for p in phases) + f"{sum(row.values()):>8}")
    missing = sorted(documented - set(per))
    print(f"{'all (' + str(len(documented) - len(missing)) + ' of ' + str(len(documented)) + ' operations)':<78}" + "".join(f"{total[p]:>10}" for p in phases) + f"{sum(total.values()):>8}")
    for op in missing:
        print(f"not run: {op}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

#!/usr/bin/env python3
"""The policyuniverse peer of `ecr-audit scan` (scripts/bench.sh): one CSV line per repository.

    policyuniverse_scan.py ACCOUNT PATH     PATH: a folder of exports, or a JSON Lines file

Each file of the folder (or each line of the JSON Lines file) is loaded with the json module: a
get-repository-policy output or JSON Lines record (an object whose `policyText` holds the
policy, decoded when it is a string) or a bare policy document. Netflix's policyuniverse
(`policyuniverse.policy.Policy`) is asked what it offers about the policy: `whos_allowed()` (the
principals and condition values of the Allow statements) and `is_internet_accessible()`. The line
says whether ACCOUNT (or `*`) is among who is allowed, whether the policy is internet accessible,
and how many principals and conditions allow. Actions are not looked at: policyuniverse matches
them by expanding each wildcard over every AWS action (`Statement.actions_expanded`, about 6 ms a
statement), which would take most of an hour on the benchmark. So this does less than the scan.
"""
import csv
import json
import os
import sys

from policyuniverse.policy import Policy


def records(path):
    """(source, record) for each file of a folder in path order, or each line of a file."""
    if os.path.isdir(path):
        for folder, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                source = os.path.join(folder, name)
                with open(source, "rb") as f:
                    yield source, f.read()
    else:
        with open(path, "rb") as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    yield f"{path}:{number}", line


def main():
    account, path = sys.argv[1], sys.argv[2]
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["source", "repository", "account_allowed", "internet_accessible", "allowed"])
    for source, data in records(path):
        try:
            record = json.loads(data)
            if not (isinstance(record, dict) and "policyText" in record):
                record = {"policyText": record}
            policy = record["policyText"]
            if isinstance(policy, str):
                policy = json.loads(policy)
            policy = Policy(policy)
            who = policy.whos_allowed()
            allowed = any(w.value == "*" or account in w.value for w in who)
            internet = policy.is_internet_accessible()
        except Exception as error:  # one line per record, whatever it holds
            out.writerow([source, "", "error", str(error), ""])
            continue
        out.writerow([source, record.get("repositoryName", ""), allowed, internet, len(who)])


if __name__ == "__main__":
    main()

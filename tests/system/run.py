#!/usr/bin/env python3
"""The test runner behind `make test` and `make quick`: host unit tests
(plain and under ASan/UBSan), then system tests that boot the real ISO
through GRUB. Ends with the line `N passed, N failed`."""

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import EXIT, qemu_status  # noqa: E402
import cases  # noqa: E402


def run_host(build, names):
    """Each cmocka test binary; every cmocka test case counts once."""
    results = []
    for name in names:
        for variant in ("host", "host-san"):
            path = os.path.join(build, variant, name)
            label = "%s/%s" % (variant, name)
            try:
                p = subprocess.run([path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   timeout=300)
                out = p.stdout.decode("utf-8", "replace")
                rc = p.returncode
            except subprocess.TimeoutExpired:
                out, rc = "timed out after 300 s", -1
            npass = sum(int(n) for n in re.findall(r"\[  PASSED  \] (\d+) test", out))
            nfail = sum(int(n) for n in re.findall(r"\[  FAILED  \] (\d+) test", out))
            if rc != 0 and nfail == 0:
                nfail = 1           # crashed or sanitizer abort
            results.append((label, npass, nfail, out))
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--host-tests", default="")
    ap.add_argument("--quick", action="store_true", help="host tests and one QEMU boot")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--only", default="", help="regex: run the system tests it matches")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    passed = failed = 0
    failures = []

    host = run_host(args.build, args.host_tests.split())
    for label, npass, nfail, out in host:
        passed += npass
        failed += nfail
        print("%s %s (%d passed, %d failed)" % ("PASS" if not nfail else "FAIL", label,
                                               npass, nfail), flush=True)
        if nfail:
            failures.append((label, out[-4000:]))

    img = harness.Image(args.build)
    tests = cases.all_cases()
    if args.quick:
        tests = [t for t in tests if t.quick]
    if args.only:
        tests = [t for t in tests if re.search(args.only, t.name)]

    def one(t):
        try:
            return t, t.run(img)
        except Exception as e:  # a harness error is a failed test, not a crash
            return t, (False, "harness error: %r" % e, "")

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for t, (ok, why, log) in pool.map(one, tests):
            print("%s system/%s%s" % ("PASS" if ok else "FAIL", t.name,
                                      "" if ok else ": " + why), flush=True)
            if ok:
                passed += 1
            else:
                failed += 1
                failures.append(("system/" + t.name, why + "\n--- serial log ---\n" + log[-6000:]))

    for label, out in failures:
        print("\n==== %s ====\n%s" % (label, out))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

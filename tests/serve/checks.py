"""The server tests' check harness: each @check runs at once, prints one line, and a failing one
does not stop the others; summary() prints the count and gives the exit code.

    @check("chat: a plain reply")
    def _():
        expect(r.ok, "...")
    sys.exit(summary(t_start))
"""
import sys
import time
import traceback

failures = []
passed = 0


def check(name):
    """Runs the decorated function at once as one check and reports it."""
    def run(fn):
        global passed
        t0 = time.time()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - a failing check must not stop the others
            failures.append(name)
            print(f"FAIL {name} ({time.time() - t0:.1f}s): {type(e).__name__}: {e}")
            traceback.print_exc(limit=4, file=sys.stdout)
        else:
            passed += 1
            print(f"ok   {name} ({time.time() - t0:.1f}s)")
        sys.stdout.flush()
        return fn
    return run


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def summary(t_start):
    """Prints how many checks passed; 0 when all did, else 1 (the exit code)."""
    total = passed + len(failures)
    print(f"\n{passed}/{total} checks passed in {time.time() - t_start:.1f}s")
    if failures:
        print("failed: " + "; ".join(failures))
    return 1 if failures else 0

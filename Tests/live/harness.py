"""Runs a live-test file's tests in order: prints 'ok'/'FAIL' per test with the traceback, then
'<name>: N passed, N failed', and exits non-zero on any failure."""
import sys, traceback


def run(name, tests):
    # The list sets the order (some tests must run late); a test missing from it would never run.
    defined = {n for n, f in vars(sys.modules["__main__"]).items() if n.startswith("test_") and callable(f)}
    forgotten = sorted(defined - {test.__name__ for test in tests})
    if forgotten:
        print(f"{name}: defined but not in TESTS: {', '.join(forgotten)}")
        sys.exit(1)
    passed = failed = 0
    for test in tests:
        try:
            test()
            passed += 1
            print(f"ok   {test.__name__}")
        except Exception:
            failed += 1
            print(f"FAIL {test.__name__}")
            traceback.print_exc()
    print(f"{name}: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)

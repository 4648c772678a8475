"""flotilla's fallback Python test runner, used when pytest cannot be imported.

Imports the given test modules, runs every top-level function named test_* (and test_* methods
of Test* classes), prints one line per test, and ends with "N passed, M failed" as pytest does.
"""

import importlib.util
import inspect
import os
import sys
import traceback


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def collect(module):
    for name, obj in sorted(vars(module).items()):
        if name.startswith("test") and inspect.isfunction(obj):
            yield name, obj
        elif name.startswith("Test") and inspect.isclass(obj):
            for method, fn in sorted(vars(obj).items()):
                if method.startswith("test") and inspect.isfunction(fn):
                    yield f"{name}::{method}", (lambda cls=obj, m=method: getattr(cls(), m)())


def main(paths):
    sys.path.insert(0, os.getcwd())
    passed = failed = errors = 0
    for path in paths:
        try:
            module = load(path)
        except Exception:
            errors += 1
            print(f"ERROR collecting {path}")
            traceback.print_exc(file=sys.stdout)
            continue
        for name, test in collect(module):
            try:
                test()
            except Exception:
                failed += 1
                print(f"FAILED {path}::{name}")
                traceback.print_exc(file=sys.stdout)
            else:
                passed += 1
                print(f"PASSED {path}::{name}")
    summary = f"{passed} passed, {failed} failed"
    if errors:
        summary += f", {errors} error" + ("s" if errors > 1 else "")
    print(summary)
    return 0 if failed == 0 and errors == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["test_solution.py"]))

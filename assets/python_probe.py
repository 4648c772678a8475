"""flotilla's behaviour probe: imports solution.py, evaluates each call expression listed in
_flotilla_probe.json (calls of the code's functions with literal arguments, taken from the test
suites), and prints the values' reprs (or "!ExceptionName") as one JSON line after a marker.
Candidates that print the same line behave the same on these inputs."""

import json
import signal
import sys


def _timeout(*_):
    raise TimeoutError()


def main():
    sys.path.insert(0, ".")
    with open("_flotilla_probe.json") as f:
        exprs = json.load(f)
    try:
        import solution
    except BaseException as e:  # the code does not even import
        print("FLOTILLA_PROBE " + json.dumps(["!" + type(e).__name__] * len(exprs)))
        return
    signal.signal(signal.SIGALRM, _timeout)
    out = []
    for expr in exprs:
        signal.alarm(2)
        try:
            value = eval(expr, dict(vars(solution)))
            out.append(repr(value)[:200])
        except BaseException as e:
            out.append("!" + type(e).__name__)
        finally:
            signal.alarm(0)
    sys.stdout.flush()
    print("FLOTILLA_PROBE " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()

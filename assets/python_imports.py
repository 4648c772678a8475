"""flotilla's import check: runs each top-level import statement of solution.py on its own and
prints, as one JSON line after a marker, the line ranges of those that fail (a module the
sandbox's Python lacks, `import numpy`; or a name a module does not have,
`from itertools import intersperse`) and that can go without changing what the code means:
every name they bind is either read nowhere else or a builtin (`from math import max`)."""

import ast
import builtins
import json


def bound_names(stmt):
    for alias in stmt.names:
        if alias.name == "*":
            yield "*"
        else:
            yield alias.asname or alias.name.split(".")[0]


def main():
    try:
        with open("solution.py", encoding="utf-8") as f:
            tree = ast.parse(f.read(), "solution.py")
    except (OSError, SyntaxError, ValueError):
        tree = ast.Module(body=[], type_ignores=[])
    imports = [s for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom))]
    read = set()
    for stmt in tree.body:
        if stmt in imports:
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name):
                read.add(node.id)
    spare = set(dir(builtins))
    out = []
    for stmt in imports:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            continue
        module = ast.Module(body=[stmt], type_ignores=[])
        try:
            exec(compile(module, "solution.py", "exec"), {})
        except ImportError:
            if all(n != "*" and (n not in read or n in spare) for n in bound_names(stmt)):
                out.append([stmt.lineno, stmt.end_lineno])
    print("FLOTILLA_IMPORTS " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()

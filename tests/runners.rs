//! Each language's test runner on a known-good and a known-bad program, in the real sandbox.

use flotilla::language::Language;
use flotilla::sandbox::Limits;
use flotilla::sandbox::runner::{self, TestReport, Toolchain};
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

fn tools(cache: &std::path::Path) -> Toolchain {
    Toolchain::new(cache)
}

async fn run(tools: &Toolchain, language: Language, code: &str, tests: &str) -> TestReport {
    let mut streamed = String::new();
    let report = runner::run(
        language,
        code,
        tests,
        tools,
        &Limits::default(),
        &CancellationToken::new(),
        &mut |t| streamed.push_str(t),
    )
    .await
    .unwrap_or_else(|e| panic!("runner failed to start: {e}"));
    assert_eq!(streamed, report.finished.output);
    report
}

const PY_CODE: &str = "def add(a, b):\n    return a + b\n";
const PY_GOOD: &str = "from solution import *\n\ndef test_add():\n    assert add(2, 3) == 5\n\ndef test_zero():\n    assert add(0, 0) == 0\n";
const PY_BAD: &str = "from solution import *\n\ndef test_add():\n    assert add(2, 3) == 5\n\ndef test_wrong():\n    assert add(2, 2) == 5\n";

#[tokio::test]
async fn python_builtin_runner() {
    let cache = tempfile::tempdir().expect("cache");
    let mut tools = tools(cache.path());
    tools.prefer_pytest = false;
    let good = run(&tools, Language::Python, PY_CODE, PY_GOOD).await;
    assert_eq!(
        (good.passed, good.failed, good.runner),
        (2, 0, "flotilla's python runner")
    );
    assert!(good.all_passed());
    let bad = run(&tools, Language::Python, PY_CODE, PY_BAD).await;
    assert_eq!((bad.passed, bad.failed), (1, 1));
    assert!(!bad.all_passed());
    assert!(
        bad.finished
            .output
            .contains("FAILED test_solution.py::test_wrong"),
        "{}",
        bad.finished.output
    );
    let broken = run(&tools, Language::Python, "def add(a, b) return\n", PY_GOOD).await;
    assert_eq!(
        (broken.passed, broken.failed),
        (0, 1),
        "{}",
        broken.finished.output
    );
}

#[tokio::test]
async fn python_pytest_runner() {
    let cache = tempfile::tempdir().expect("cache");
    let mut tools = tools(cache.path());
    let venv = std::env::var_os("FLOTILLA_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/flotilla")
        })
        .join("llama-venv/bin/python");
    assert!(
        venv.exists(),
        "run scripts/setup-model-server first: it installs pytest into {}",
        venv.display()
    );
    tools.python = venv.display().to_string();
    assert!(tools.has_pytest());
    let good = run(&tools, Language::Python, PY_CODE, PY_GOOD).await;
    assert_eq!((good.passed, good.failed, good.runner), (2, 0, "pytest"));
    let bad = run(&tools, Language::Python, PY_CODE, PY_BAD).await;
    assert_eq!((bad.passed, bad.failed), (1, 1), "{}", bad.finished.output);
}

#[tokio::test]
async fn javascript_node_test_runner() {
    let cache = tempfile::tempdir().expect("cache");
    let tools = tools(cache.path());
    let code = "function add(a, b) { return a + b; }\nmodule.exports = { add };\n";
    let good = "const test = require('node:test');\nconst assert = require('node:assert');\nconst { add } = require('./solution.js');\n\
                test('adds', () => { assert.strictEqual(add(2, 3), 5); });\n";
    let bad = format!("{good}test('wrong', () => {{ assert.strictEqual(add(2, 2), 5); }});\n");
    let r = run(&tools, Language::Javascript, code, good).await;
    assert_eq!((r.passed, r.failed), (1, 0), "{}", r.finished.output);
    assert!(r.all_passed());
    let r = run(&tools, Language::Javascript, code, &bad).await;
    assert_eq!((r.passed, r.failed), (1, 1), "{}", r.finished.output);
}

#[tokio::test]
async fn rust_candidates_built_at_once_each_run_their_own_code() {
    // Two crates of the same name, written before either is built: cargo must not take the
    // second for built because the first's artifacts are newer than its source.
    let cache = tempfile::tempdir().expect("cache");
    let tools = tools(cache.path());
    let tests = "use solution::*;\n\n#[test]\nfn adds() {\n    assert_eq!(add(2, 3), 5);\n}\n";
    let sum = "pub fn add(a: i64, b: i64) -> i64 {\n    a + b\n}\n";
    let product = "pub fn add(a: i64, b: i64) -> i64 {\n    a * b\n}\n";
    for _ in 0..3 {
        let (s, p) = tokio::join!(
            run(&tools, Language::Rust, sum, tests),
            run(&tools, Language::Rust, product, tests)
        );
        assert_eq!((s.passed, s.failed), (1, 0), "{}", s.finished.output);
        assert_eq!((p.passed, p.failed), (0, 1), "{}", p.finished.output);
    }
}

#[tokio::test]
async fn rust_cargo_test_runner() {
    let cache = tempfile::tempdir().expect("cache");
    let tools = tools(cache.path());
    let code = "pub fn add(a: i64, b: i64) -> i64 {\n    a + b\n}\n";
    let good = "use solution::*;\n\n#[test]\nfn adds() {\n    assert_eq!(add(2, 3), 5);\n}\n";
    let bad = format!("{good}\n#[test]\nfn wrong() {{\n    assert_eq!(add(2, 2), 5);\n}}\n");
    let r = run(&tools, Language::Rust, code, good).await;
    assert_eq!((r.passed, r.failed), (1, 0), "{}", r.finished.output);
    assert!(r.all_passed());
    let r = run(&tools, Language::Rust, code, &bad).await;
    assert_eq!((r.passed, r.failed), (1, 1), "{}", r.finished.output);
    let r = run(
        &tools,
        Language::Rust,
        "pub fn add(a: i64) -> i64 { a }\n",
        good,
    )
    .await;
    assert_eq!(r.total(), 0, "a compile error runs no test");
    assert!(!r.all_passed());
    assert!(
        r.finished.output.contains("error[E"),
        "{}",
        r.finished.output
    );
}

#[tokio::test]
async fn probes_return_what_each_call_gives_in_python_and_javascript() {
    let cache = tempfile::tempdir().expect("cache");
    let tools = tools(cache.path());
    let (limits, cancel) = (Limits::default(), CancellationToken::new());
    let calls: Vec<String> = ["add(1, 2)", "add('a', 'b')", "add(1)", "add([1], [2])"]
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    let py = runner::probe(Language::Python, PY_CODE, &calls, &tools, &limits, &cancel)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .values;
    assert_eq!(
        py,
        Some(vec![
            "3".into(),
            "'ab'".into(),
            "!TypeError".into(),
            "[1, 2]".into()
        ])
    );
    let js_code = "function add(a, b) { return a + b; }\nmodule.exports = { add };\n";
    let js = runner::probe(
        Language::Javascript,
        js_code,
        &calls,
        &tools,
        &limits,
        &cancel,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"))
    .values;
    assert_eq!(
        js,
        Some(vec![
            "3".into(),
            "\"ab\"".into(),
            "null".into(),
            "\"12\"".into()
        ])
    );
    // Code that cannot load answers with the error for every call; one that hangs, not at all.
    let broken = runner::probe(
        Language::Python,
        "import no_such_module\n",
        &calls,
        &tools,
        &limits,
        &cancel,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"))
    .values;
    assert_eq!(broken, Some(vec!["!ModuleNotFoundError".to_owned(); 4]));
    let mut short = limits;
    short.timeout = std::time::Duration::from_secs(2);
    let hang = "import time\ntime.sleep(60)\n";
    let started = std::time::Instant::now();
    let hung = runner::probe(Language::Python, hang, &calls, &tools, &short, &cancel)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(hung.values, None);
    // It ran, and it was the hang that ended it: the whole timeout went by.
    assert!(!hung.protections.is_empty(), "the probe never ran");
    assert!(
        started.elapsed() >= short.timeout,
        "the probe ended after {:?}, before its timeout: not the hang",
        started.elapsed()
    );
}

#[tokio::test]
async fn rust_probes_answer_call_by_call_through_type_errors_panics_and_loops() {
    let cache = tempfile::tempdir().expect("cache");
    let tools = tools(cache.path());
    let (limits, cancel) = (Limits::default(), CancellationToken::new());
    let probe = |code: &'static str, calls: &'static [&'static str]| {
        let (tools, cancel) = (&tools, &cancel);
        async move {
            let calls: Vec<String> = calls.iter().map(|c| (*c).to_owned()).collect();
            runner::probe(Language::Rust, code, &calls, tools, &limits, cancel)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .values
        }
    };
    let code = "pub fn add(a: i32, b: i32) -> i32 { a + b }\n\
                pub fn spin(n: u32) -> u32 { let mut i = n; while i >= n { i = i.wrapping_add(2); } i }\n\
                pub fn words(s: &str) -> Vec<String> { s.split(' ').map(String::from).collect() }\n";
    // A call of the wrong type is left out of the build, an overflow panics (a debug build),
    // an endless loop times out: each answers for itself, and the rest still answer.
    let values = probe(
        code,
        &[
            "add(1, 2)",
            "add(\"a\", 2)",
            "add(i32::MAX, 1)",
            "spin(1)",
            "words(\"a \\\"b\\\"\")",
            "add(-3, 3)",
        ],
    )
    .await;
    assert_eq!(
        values,
        Some(vec![
            "3".into(),
            "!TypeError".into(),
            "!panic".into(),
            "!Timeout".into(),
            r#"["a", "\"b\""]"#.into(),
            "0".into(),
        ])
    );
    // Code that does not compile answers so for every call.
    assert_eq!(
        probe("pub fn add(a: i32) -> i32 { b }\n", &["add(1)", "add(2)"]).await,
        Some(vec!["!CompileError".to_owned(); 2])
    );
}

#[test]
fn scratch_folders_of_dead_processes_are_swept_and_live_ones_kept() {
    let cache = tempfile::tempdir().expect("cache");
    let tools = tools(cache.path());
    let scratch = cache.path().join("scratch");
    // A pid that cannot be alive (above the kernel's pid_max), this process's, and PID 1's.
    let dead = scratch.join("run-4194999-abc");
    let mine = scratch.join(format!("run-{}-def", std::process::id()));
    let init = scratch.join("probe-1-ghi");
    for dir in [&dead, &mine, &init] {
        std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    }
    assert_eq!(tools.sweep_scratch(), 1);
    assert!(!dead.exists() && mine.exists() && init.exists());
}

#[tokio::test]
async fn python_imports_that_fail_and_that_nothing_needs_are_found_in_the_sandbox() {
    let cache = tempfile::tempdir().expect("cache");
    let tools = tools(cache.path());
    let (limits, cancel) = (Limits::default(), CancellationToken::new());
    // Seen in eval runs: a module the sandbox lacks, names a module does not have, a builtin
    // imported from `math`. The first three lines and the multi-line one can go; `pandas` is
    // read by the code, `os` and `math.floor` import fine.
    let code = "import no_such_module_here as np\n\
                from itertools import intersperse\n\
                from math import max, no_such_name\n\
                import os\n\
                from math import floor as fl\n\
                import no_such_pandas as pd\n\
                from functools import (\n    reduce_coroutine,\n)\n\n\
                def f(x):\n    return max(x) + pd.thing + fl(2)\n";
    let lines = runner::failing_imports(Language::Python, code, &tools, &limits, &cancel)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(lines, [(1, 1), (2, 2), (3, 3), (7, 9)]);
    let fine = "import os\nfrom math import sqrt\n\ndef f(x):\n    return sqrt(x)\n";
    let none = runner::failing_imports(Language::Python, fine, &tools, &limits, &cancel)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(none.is_empty());
    let js = "const x = require('no-such-module');\n";
    let other = runner::failing_imports(Language::Javascript, js, &tools, &limits, &cancel)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(other.is_empty());
}

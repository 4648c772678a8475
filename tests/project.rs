//! Workflows on a real git repository made in a temporary folder, against the scripted server:
//! a worktree and branch each, the project's own tests as judge, a commit to apply or discard,
//! and the user's checkout untouched by anything but an explicit apply.

mod support;

use flotilla::workflow::WorkflowStatus;
use flotilla::workflow::change::Landed;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::harness::{TestApp, config};
use support::mock::{MockServer, Reply, Request, Role, Wire, name_for};

const DEADLINE: Duration = Duration::from_secs(90);

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("git: {e}"));
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A small Python package with a pytest suite and a commit, as a user's project is.
fn python_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let files = [
        ("textkit/__init__.py", "\"\"\"Small text helpers.\"\"\"\n"),
        (
            "textkit/core.py",
            "def words(text):\n    \"\"\"The words of text.\"\"\"\n    return text.split()\n\n\ndef shout(text):\n    return text.upper() + \"!\"\n",
        ),
        (
            "tests/test_core.py",
            "from textkit.core import shout, words\n\n\ndef test_words():\n    assert words(\"a b  c\") == [\"a\", \"b\", \"c\"]\n\n\ndef test_shout():\n    assert shout(\"hi\") == \"HI!\"\n",
        ),
        ("README.md", "# textkit\n"),
    ];
    committed(dir, &files, "textkit: words and shout")
}

/// What the user's checkout holds: HEAD, the branches, the index's tree, `git status`, and the
/// tree of every file in it (untracked ones too), hashed through a temporary index so the
/// user's own is never written.
fn checkout(root: &Path) -> (String, String, String, String, String) {
    let index = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
    let with_index = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .env("GIT_INDEX_FILE", index.path())
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    with_index(&["add", "-A"]);
    let files = with_index(&["write-tree"]);
    (
        git(root, &["rev-parse", "HEAD"]),
        git(root, &["branch", "--list", "main"]),
        git(root, &["write-tree"]),
        git(root, &["status", "--porcelain"]),
        files,
    )
}

/// One scripted task: the words that pick it out of a prompt, the plan, the code candidates
/// (by seed: none for the first), and the tests.
#[derive(Clone, Copy)]
struct Task {
    key: &'static str,
    plan: &'static str,
    code: &'static [&'static str],
    tests: &'static str,
}

fn script(tasks: &'static [Task]) -> impl Fn(&Request, usize) -> Reply + Send + Sync + 'static {
    move |req: &Request, _| {
        if req.role() == Role::Naming {
            return name_for(req);
        }
        let prompt = req.last_user();
        let Some(task) = tasks.iter().find(|t| prompt.contains(t.key)) else {
            return Reply::text("?");
        };
        match req.role() {
            Role::Plan => Reply::text(task.plan),
            Role::Code | Role::Fix => {
                let i = match req.body["seed"].as_u64() {
                    None => 0,
                    Some(k) if k < 100 => k as usize,
                    Some(_) => usize::MAX,
                };
                Reply::text(task.code[i.min(task.code.len() - 1)])
            }
            Role::Tests => Reply::text(task.tests),
            _ => Reply::text("CODE"),
        }
    }
}

const SLUG: Task = Task {
    key: "slugify",
    plan: "Language: python\nFunctions:\n- slugify(text)\nEdge cases:\n- spaces\nFile: textkit/slug.py\n",
    code: &[
        "```python\nfrom textkit.core import words\n\n\ndef slugify(text):\n    return \"-\".join(w.lower() for w in words(text))\n```",
    ],
    tests: "```python\nfrom textkit.slug import slugify\n\n\ndef test_slugify():\n    assert slugify(\"Hello World\") == \"hello-world\"\n```",
};

const COUNT: Task = Task {
    key: "count_words",
    plan: "Language: python\nFunctions:\n- count_words(text)\nEdge cases:\n- empty\nFile: textkit/core.py\n",
    code: &[
        // Passes its own test, but breaks `words`, which the project's tests check.
        "```python\ndef words(text):\n    return [text]\n\n\ndef count_words(text):\n    return len(text.split())\n```",
        "```python\ndef count_words(text):\n    return len(words(text))\n```",
    ],
    tests: "```python\nfrom textkit.core import count_words\n\n\ndef test_count_words():\n    assert count_words(\"a b\") == 2\n```",
};

const UPPER: Task = Task {
    key: "initials in upper case",
    plan: "Language: python\nFunctions:\n- initials(text)\nEdge cases:\n- empty\nFile: textkit/core.py\n",
    code: &[
        "```python\ndef initials(text):\n    return \"\".join(w[0].upper() for w in words(text))\n```",
    ],
    tests: "```python\nfrom textkit.core import initials\n\n\ndef test_initials():\n    assert initials(\"ada lovelace\") == \"AL\"\n```",
};

const LOWER: Task = Task {
    key: "initials in lower case",
    plan: "Language: python\nFunctions:\n- initials(text)\nEdge cases:\n- empty\nFile: textkit/core.py\n",
    code: &[
        "```python\ndef initials(text):\n    return \"\".join(w[0].lower() for w in words(text))\n```",
    ],
    tests: "```python\nfrom textkit.core import initials\n\n\ndef test_initials():\n    assert initials(\"Ada Lovelace\") == \"al\"\n```",
};

const ONE_ROUND: &str = "candidates = 2\ntest_suites = 1\nmax_attempts = 1";

async fn dashboard(tasks: &'static [Task], repo: &Path) -> (MockServer, TestApp) {
    let server = MockServer::start(Wire::OpenAi, script(tasks)).await;
    let t = TestApp::on_repo(&config("openai", &server.base_url(), ONE_ROUND), repo);
    (server, t)
}

fn change_of(t: &TestApp, row: usize) -> flotilla::workflow::change::Change {
    t.workflow(row)
        .change
        .unwrap_or_else(|| panic!("no change: {:?}", t.workflow(row)))
}

/// The workflow's `log.txt`, as it is on disk.
fn log_file(t: &TestApp, wf: &flotilla::workflow::Workflow) -> String {
    let path = t
        .home
        .path()
        .join("workflows")
        .join(wf.id.as_str())
        .join("log.txt");
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Why applying this workflow's change was refused; empty when it was not.
fn refusal(t: &TestApp, id: &flotilla::workflow::WorkflowId) -> String {
    t.app.engine().apply(id, false).err().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_module_with_its_tests_lands_as_one_commit() {
    let repo = python_project();
    let before = checkout(repo.path());
    let (_server, mut t) = dashboard(&[SLUG], repo.path()).await;
    t.submit("add a function slugify(text) that turns text into a lowercase slug joined by -");
    t.wait_all_finished(DEADLINE).await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Completed, "{:?}", wf.error());
    // Nothing of the user's changed while it ran.
    assert_eq!(checkout(repo.path()), before);
    let change = change_of(&t, 0);
    assert!(
        change.branch.starts_with("flotilla/1-"),
        "{}",
        change.branch
    );
    assert_eq!(change.files, ["tests/test_slug.py", "textkit/slug.py"]);
    let commit = change.commit.clone().unwrap_or_default();
    // The project's layout: the module in the package, its tests beside the project's, importing it.
    let test_file = git(
        repo.path(),
        &["show", &format!("{commit}:tests/test_slug.py")],
    );
    assert!(
        test_file.starts_with("from textkit.slug import slugify"),
        "{test_file}"
    );
    let log = log_file(&t, &wf);
    assert!(
        log.contains("the project's tests at the base (python -m pytest): 2 of 2 pass"),
        "{log}"
    );
    assert!(
        log.contains("candidate 1 × the project's tests: 2 of 2 pass, none broken"),
        "{log}"
    );
    // The plan saw the repository's map.
    let plan_prompt = _server
        .chat_requests()
        .into_iter()
        .find(|r| r.role() == Role::Plan)
        .map(|r| r.last_user())
        .unwrap_or_default();
    assert!(
        plan_prompt.contains("textkit/core.py:\n  def words(text)"),
        "{plan_prompt}"
    );

    let applied = t
        .app
        .engine()
        .apply(&wf.id, false)
        .unwrap_or_else(|e| panic!("{e}"));
    let Some(Landed::Applied {
        commit: landed,
        onto,
    }) = &applied.landed
    else {
        panic!("{applied:?}");
    };
    assert_eq!(onto, "main");
    assert_eq!(git(repo.path(), &["rev-parse", "HEAD"]).trim(), landed);
    assert_eq!(git(repo.path(), &["rev-parse", "HEAD~1"]), before.0);
    assert_eq!(git(repo.path(), &["status", "--porcelain"]), "");
    assert!(
        git(repo.path(), &["log", "-1", "--format=%B"]).contains("add a function slugify"),
        "the message names the task"
    );
    // After an apply the worktree goes; the branch stays until discarded.
    assert!(
        !t.home
            .path()
            .join("worktrees")
            .join(wf.id.as_str())
            .exists()
    );
    assert!(!git(repo.path(), &["branch", "--list", &change.branch]).is_empty());
    t.app
        .engine()
        .discard(&wf.id)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(git(repo.path(), &["branch", "--list", &change.branch]).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_that_breaks_a_project_test_is_not_chosen_though_it_passes_its_own() {
    let repo = python_project();
    let (_server, mut t) = dashboard(&[COUNT], repo.path()).await;
    t.submit("add count_words(text) to textkit/core.py: how many words text has");
    t.wait_all_finished(DEADLINE).await;
    let wf = t.workflow(0);
    let change = change_of(&t, 0);
    let commit = change.commit.clone().unwrap_or_default();
    let core = git(repo.path(), &["show", &format!("{commit}:textkit/core.py")]);
    assert!(
        core.contains("return len(words(text))"),
        "the candidate that breaks nothing: {core}"
    );
    assert!(
        core.contains("return text.split()"),
        "words is the project's own: {core}"
    );
    assert!(
        core.contains("def shout(text):"),
        "the rest of the file stays: {core}"
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            t.home
                .path()
                .join("workflows")
                .join(wf.id.as_str())
                .join("result.json"),
        )
        .unwrap_or_default(),
    )
    .unwrap_or_default();
    let breaks: Vec<u64> = json["candidates"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| c["breaks"].as_u64().unwrap_or(0))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(breaks, [1, 0], "{json}");
    assert_eq!(json["project"]["branch"], change.branch.as_str());
}

/// Two workflows at once on different files: both apply, in `order`.
async fn both_apply(first_then_second: bool) {
    let repo = python_project();
    let (_server, mut t) = dashboard(&[SLUG, UPPER], repo.path()).await;
    t.submit("add a function slugify(text) that turns text into a lowercase slug joined by -");
    t.submit("add initials(text) to textkit/core.py: initials in upper case");
    t.wait_all_finished(DEADLINE).await;
    assert_eq!(t.app.model().store.len(), 2);
    let ids = [t.workflow(0).id, t.workflow(1).id];
    assert_ne!(change_of(&t, 0).branch, change_of(&t, 1).branch);
    let order = if first_then_second { [0, 1] } else { [1, 0] };
    for i in order {
        t.app
            .engine()
            .apply(&ids[i], false)
            .unwrap_or_else(|e| panic!("{i}: {e}"));
    }
    let log = git(repo.path(), &["log", "--format=%s"]);
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(
        std::fs::read_to_string(repo.path().join("textkit/core.py"))
            .unwrap_or_default()
            .contains("def initials")
    );
    assert!(repo.path().join("textkit/slug.py").exists());
    assert_eq!(git(repo.path(), &["status", "--porcelain"]), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workflows_on_different_files_both_apply_in_either_order() {
    both_apply(true).await;
    both_apply(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_on_the_same_lines_the_second_apply_is_refused_and_nothing_changes() {
    let repo = python_project();
    let (_server, mut t) = dashboard(&[UPPER, LOWER], repo.path()).await;
    t.submit("add initials(text) to textkit/core.py: initials in upper case");
    t.submit("add initials(text) to textkit/core.py: initials in lower case");
    t.wait_all_finished(DEADLINE).await;
    // Both touch the same file: the table says so.
    let screen = t.screen();
    assert!(
        screen.contains("overlaps wf_2") && screen.contains("overlaps wf_1"),
        "{screen}"
    );
    let ids = [t.workflow(0).id, t.workflow(1).id];
    t.app
        .engine()
        .apply(&ids[0], false)
        .unwrap_or_else(|e| panic!("{e}"));
    let before = checkout(repo.path());
    let refused = refusal(&t, &ids[1]);
    assert!(
        refused.contains("conflicts with your checkout in") && refused.contains("textkit/core.py"),
        "{refused}"
    );
    assert_eq!(checkout(repo.path()), before, "byte for byte as it was");
    // Both completed: no project test broke.
    assert_eq!(
        t.workflow(1).status(),
        WorkflowStatus::Completed,
        "{:?}",
        t.workflow(1).error()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dirty_file_blocks_the_apply_that_touches_it_and_not_one_that_does_not() {
    let repo = python_project();
    let (_server, mut t) = dashboard(&[SLUG, UPPER], repo.path()).await;
    t.submit("add a function slugify(text) that turns text into a lowercase slug joined by -");
    t.submit("add initials(text) to textkit/core.py: initials in upper case");
    t.wait_all_finished(DEADLINE).await;
    // The user edits core.py meanwhile, and leaves it uncommitted.
    let mine = "def words(text):\n    return text.split()  # mine\n";
    std::fs::write(repo.path().join("textkit/core.py"), mine).unwrap_or_else(|e| panic!("{e}"));
    let before = checkout(repo.path());
    let ids = [t.workflow(0).id, t.workflow(1).id];
    let refused = refusal(&t, &ids[1]);
    assert!(
        refused.contains("textkit/core.py has uncommitted changes"),
        "{refused}"
    );
    assert_eq!(checkout(repo.path()), before);
    t.app
        .engine()
        .apply(&ids[0], false)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        std::fs::read_to_string(repo.path().join("textkit/core.py")).unwrap_or_default(),
        mine,
        "the user's edit is still there"
    );
    assert_eq!(
        git(repo.path(), &["status", "--porcelain"]),
        " M textkit/core.py\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staged_leaves_the_change_staged_and_uncommitted() {
    let repo = python_project();
    let head = git(repo.path(), &["rev-parse", "HEAD"]);
    let (_server, mut t) = dashboard(&[SLUG], repo.path()).await;
    t.submit("add a function slugify(text) that turns text into a lowercase slug joined by -");
    t.wait_all_finished(DEADLINE).await;
    let id = t.workflow(0).id;
    let staged = t
        .app
        .engine()
        .apply(&id, true)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(staged.landed, Some(Landed::Staged));
    assert_eq!(git(repo.path(), &["rev-parse", "HEAD"]), head);
    assert_eq!(
        git(repo.path(), &["status", "--porcelain"]),
        "A  tests/test_slug.py\nA  textkit/slug.py\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_workflow_the_next_start_leaves_no_stale_worktree() {
    let repo = python_project();
    let before = checkout(repo.path());
    // The code request never ends: the workflow is mid-run when it is killed.
    let server = MockServer::start(Wire::OpenAi, |req: &Request, _| match req.role() {
        Role::Naming => name_for(req),
        Role::Plan => Reply::text(SLUG.plan),
        _ => Reply::Stall,
    })
    .await;
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        home.path().join("config.toml"),
        config("openai", &server.base_url(), ONE_ROUND),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .current_dir(repo.path())
        .arg("--home")
        .arg(home.path())
        .args(["run", "add a function slugify(text)"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    // Its progress line saying it is on its branch is the event to wait for.
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + DEADLINE;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("no branch line: {e}"));
        if line.contains("Generating code") {
            break;
        }
    }
    let worktrees = home.path().join("worktrees");
    assert_eq!(
        std::fs::read_dir(&worktrees)
            .map(|d| d.count())
            .unwrap_or(0),
        1
    );
    child.kill().unwrap_or_else(|e| panic!("{e}"));
    let _ = child.wait();
    assert!(git(repo.path(), &["branch", "--list", "flotilla/*"]).contains("flotilla/1-"));

    // The next start prunes it: worktree, git's record of it and its empty branch.
    let answering = MockServer::start(Wire::OpenAi, script(&[SLUG])).await;
    std::fs::write(
        home.path().join("config.toml"),
        config("openai", &answering.base_url(), ONE_ROUND),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .current_dir(repo.path())
        .arg("--home")
        .arg(home.path())
        .args(["doctor", "--json"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let doctor: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert!(doctor["project"]["root"].is_string(), "{doctor}");
    let left: Vec<String> = std::fs::read_dir(&worktrees)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(
        git(repo.path(), &["worktree", "list", "--porcelain"])
            .matches("worktree ")
            .count(),
        1
    );
    assert_eq!(git(repo.path(), &["branch", "--list", "flotilla/*"]), "");
    assert_eq!(checkout(repo.path()), before);
    let list = Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .arg("--home")
        .arg(home.path())
        .args(["list", "--json"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap_or_default();
    assert_eq!(list[0]["status"], "failed");
    assert_eq!(list[0]["error"], "interrupted");
    assert!(list[0]["project"]["worktree"].is_null(), "{list}");
}

/// The dashboard in a real terminal, started inside the repository: the Diff tab shows what a
/// workflow wrote, `a` applies it, `x` (and yes) discards another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_dashboard_the_diff_tab_shows_a_applies_and_x_discards() {
    let repo = python_project();
    let server = MockServer::start(Wire::OpenAi, script(&[SLUG, UPPER])).await;
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        home.path().join("config.toml"),
        config("openai", &server.base_url(), ONE_ROUND),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (home_path, repo_path) = (home.path().to_owned(), repo.path().to_owned());
    tokio::task::spawn_blocking(move || {
        let mut pty = support::pty::Pty::flotilla_in(&home_path, &repo_path, 36, 120);
        let wait = Duration::from_secs(60);
        pty.wait_for("the dashboard", wait, |s| s.contains("New task"));
        pty.type_bytes(
            b"add a function slugify(text) that turns text into a lowercase slug joined by -\r",
        );
        pty.wait_for("the first to complete", wait, |s| s.contains("1 completed"));
        pty.type_bytes(b"add initials(text) to textkit/core.py: initials in upper case\r");
        pty.wait_for("both to complete", wait, |s| s.contains("2 completed"));
        // The table, then the diff of the selected (the second) workflow.
        pty.type_bytes(b"\t5");
        let screen = pty.wait_for("the diff", wait, |s| {
            s.contains("5 Diff") && s.contains("+from textkit.core import initials")
        });
        assert!(
            screen.contains("a apply") && screen.contains("x discard"),
            "{screen}"
        );
        pty.type_bytes(b"a");
        pty.wait_for("the apply", wait, |s| s.contains("Applied wf_2_"));
        // The first: discarded after its question.
        pty.type_bytes(b"kx");
        pty.wait_for("the question", wait, |s| s.contains("Discard the change?"));
        pty.type_bytes(b"y");
        pty.wait_for("the discard", wait, |s| s.contains("Discarded wf_1_"));
        let status = pty.quit(false, Duration::from_secs(30));
        assert!(status.success(), "{status:?}");
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let log = git(repo.path(), &["log", "--format=%s"]);
    assert_eq!(log.lines().count(), 2, "{log}");
    let message = git(repo.path(), &["log", "-1", "--format=%B"]);
    assert!(message.contains("initials in upper case"), "{message}");
    assert!(!repo.path().join("textkit/slug.py").exists());
    let branches = git(repo.path(), &["branch", "--list", "flotilla/*"]);
    assert!(
        branches.contains("flotilla/2-") && !branches.contains("flotilla/1-"),
        "{branches}"
    );
    assert_eq!(git(repo.path(), &["status", "--porcelain"]), "");
}

/// A repository of another kind, with one commit of `files`.
fn project_of(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    committed(dir, files, "start")
}

/// `files` written in `dir` and committed there, on `main`, as one first commit.
fn committed(dir: tempfile::TempDir, files: &[(&str, &str)], message: &str) -> tempfile::TempDir {
    let root = dir.path();
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap_or(root)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(p, text).unwrap_or_else(|e| panic!("{e}"));
    }
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["config", "user.name", "Dev"]);
    git(root, &["config", "user.email", "dev@example.com"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", message]);
    dir
}

const JS_DOUBLE: Task = Task {
    key: "double(n)",
    plan: "Language: javascript\nFunctions:\n- double(n)\nEdge cases:\n- zero\n",
    code: &[
        "```javascript\nfunction double(n) {\n  return n * 2;\n}\nmodule.exports = { double };\n```",
    ],
    tests: "```javascript\nconst test = require('node:test');\nconst assert = require('node:assert');\nconst { double } = require('./solution.js');\n\ntest('doubles', () => {\n  assert.strictEqual(double(4), 8);\n});\n```",
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_package_gets_its_module_in_src_and_node_tests_in_test() {
    let repo = project_of(&[
        (
            "package.json",
            "{\"name\": \"nums\", \"version\": \"1.0.0\"}\n",
        ),
        (
            "src/half.js",
            "function half(n) { return n / 2; }\nmodule.exports = { half };\n",
        ),
        (
            "test/half.test.js",
            "const test = require('node:test');\nconst assert = require('node:assert');\nconst { half } = require('../src/half.js');\ntest('halves', () => { assert.strictEqual(half(4), 2); });\n",
        ),
    ]);
    let (_server, mut t) = dashboard(&[JS_DOUBLE], repo.path()).await;
    t.submit("write a javascript function double(n) that returns twice n");
    t.wait_all_finished(DEADLINE).await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Completed, "{:?}", wf.error());
    let change = change_of(&t, 0);
    assert_eq!(change.files, ["src/double.js", "test/double.test.js"]);
    let commit = change.commit.clone().unwrap_or_default();
    let tests = git(
        repo.path(),
        &["show", &format!("{commit}:test/double.test.js")],
    );
    assert!(tests.contains("require(\"../src/double.js\")"), "{tests}");
    let log = log_file(&t, &wf);
    assert!(
        log.contains("the project's tests at the base (node --test): 1 of 1 pass"),
        "{log}"
    );
}

const RS_DOUBLE: Task = Task {
    key: "double(n: i64)",
    plan: "Language: rust\nFunctions:\n- pub fn double(n: i64) -> i64\nEdge cases:\n- zero\n",
    code: &["```rust\npub fn double(n: i64) -> i64 {\n    n * 2\n}\n```"],
    tests: "```rust\nuse solution::*;\n\n#[test]\nfn doubles() {\n    assert_eq!(double(4), 8);\n}\n```",
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rust_crate_gets_a_module_declared_in_its_library_and_an_integration_test() {
    let repo = project_of(&[
        (
            "Cargo.toml",
            "[package]\nname = \"num-kit\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        (
            "src/lib.rs",
            "pub fn half(n: i64) -> i64 {\n    n / 2\n}\n\n#[test]\nfn halves() {\n    assert_eq!(half(4), 2);\n}\n",
        ),
        (".gitignore", "target/\n"),
    ]);
    let (_server, mut t) = dashboard(&[RS_DOUBLE], repo.path()).await;
    t.submit("write a rust function `double(n: i64) -> i64` that returns twice n");
    t.wait_all_finished(Duration::from_secs(300)).await;
    let wf = t.workflow(0);
    assert_eq!(wf.status(), WorkflowStatus::Completed, "{:?}", wf.error());
    let change = change_of(&t, 0);
    assert_eq!(
        change.files,
        ["src/double.rs", "src/lib.rs", "tests/double_flotilla.rs"]
    );
    let commit = change.commit.clone().unwrap_or_default();
    let lib = git(repo.path(), &["show", &format!("{commit}:src/lib.rs")]);
    assert!(lib.ends_with("pub mod double;\n"), "{lib}");
    let tests = git(
        repo.path(),
        &["show", &format!("{commit}:tests/double_flotilla.rs")],
    );
    assert!(tests.contains("use num_kit::double::*;"), "{tests}");
    let log = log_file(&t, &wf);
    assert!(
        log.contains("the project's tests at the base (cargo test): 1 of 1 pass"),
        "{log}"
    );
    assert!(
        log.contains("candidate 1 × suite 1: all 1 passed"),
        "the suite alone, not the crate's own tests: {log}"
    );
}

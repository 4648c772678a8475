//! Shell completions and the manual page: generated from the command line's definition, and
//! read by the programs that use them (bash, groff).

use std::process::Command;

/// Commands the completions and the manual must both name.
const COMMANDS: [&str; 8] = [
    "run",
    "list",
    "show",
    "logs",
    "doctor",
    "eval",
    "completions",
    "man",
];

fn flotilla(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_flotilla"))
        // Outside any repository: flotilla would work on the one it starts in.
        .current_dir(std::env::temp_dir())
        .args(args)
        .output()
        .expect("run flotilla");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// What bash's completion offers for `words` (the last one being completed).
fn bash_completes(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let program = format!(
        "source {script}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{line}'; \
         COMP_POINT={point}; _flotilla flotilla '{current}' '{previous}'; \
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script = script.display(),
        words = words.join(" "),
        cword = words.len() - 1,
        point = line.len(),
        current = words[words.len() - 1],
        previous = words[words.len() - 2],
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_reads_the_completions_and_completes_commands_and_options() {
    let dir = tempfile::tempdir().expect("dir");
    let script = dir.path().join("flotilla.bash");
    std::fs::write(&script, flotilla(&["completions", "bash"])).expect("write");
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("bash -n");
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );

    assert_eq!(bash_completes(&script, &["flotilla", "sh"]), ["show"]);
    let all = bash_completes(&script, &["flotilla", ""]);
    for command in COMMANDS {
        assert!(all.iter().any(|w| w == command), "{command} not in {all:?}");
    }
    assert_eq!(
        bash_completes(&script, &["flotilla", "list", "--st"]),
        ["--status"]
    );
    assert_eq!(
        bash_completes(&script, &["flotilla", "completions", "fi"]),
        ["fish"]
    );

    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(
            flotilla(&["completions", shell]).contains("flotilla"),
            "{shell}"
        );
    }
}

#[test]
fn the_manual_page_is_valid_roff_naming_every_command() {
    let page = flotilla(&["man"]);
    assert!(page.contains(".TH flotilla 1"), "{page}");
    for command in COMMANDS {
        assert!(
            page.contains(&format!("flotilla\\-{command}(1)")),
            "{command}:\n{page}"
        );
    }
    // groff reads it without a warning (-ww: all of them).
    let mut groff = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("groff (Debian: groff-base)");
    use std::io::Write;
    groff
        .stdin
        .take()
        .expect("stdin")
        .write_all(page.as_bytes())
        .expect("write");
    let out = groff.wait_with_output().expect("groff");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let dir = tempfile::tempdir().expect("dir");
    let dir_arg = dir.path().join("man1");
    flotilla(&["man", "--dir", dir_arg.to_str().expect("path")]);
    let run = std::fs::read_to_string(dir_arg.join("flotilla-run.1")).expect("flotilla-run.1");
    assert!(run.contains("What to build"), "{run}");
}

/// The README and the pages under docs/.
fn pages() -> Vec<(std::path::PathBuf, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a page");
            (p, text)
        })
        .collect()
}

/// The targets of a page's Markdown links `[text](target)` and images.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        if let Some(end) = rest.find(')') {
            found.push(rest[..end].to_owned());
        }
    }
    found
}

#[test]
fn every_link_of_the_readme_and_the_docs_points_to_a_file_that_exists() {
    let mut checked = 0;
    for (page, text) in pages() {
        let dir = page.parent().expect("a folder");
        for target in links(&text) {
            let path = target.split('#').next().unwrap_or_default();
            if path.is_empty() || target.starts_with("http://") || target.starts_with("https://") {
                continue;
            }
            assert!(
                dir.join(path).exists(),
                "{} links to {target}, which does not exist",
                page.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} links found");
    // Every page of docs/ is linked from the README.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    for (page, _) in pages().into_iter().skip(1) {
        let name = format!(
            "docs/{}",
            page.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
        );
        assert!(
            readme.contains(&format!("]({name})")),
            "{name} is not linked from the README"
        );
    }
}

#[test]
fn the_readme_is_a_front_door() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let lines: Vec<&str> = readme.lines().collect();
    assert!(lines.len() <= 300, "README.md has {} lines", lines.len());
    let at = |needle: &str| lines.iter().position(|l| l.contains(needle));
    assert!(
        at("scripts/run").is_some_and(|i| i < 20),
        "scripts/run in the first 20 lines"
    );
    assert!(
        at("scripts/test").is_some_and(|i| i < 20),
        "scripts/test in the first 20 lines"
    );
    assert!(
        at("](docs/dashboard.svg)").is_some_and(|i| i < 40),
        "the picture in the first 40 lines"
    );
}

/// The subcommands `flotilla --help` lists.
fn subcommands() -> Vec<String> {
    let help = flotilla(&["--help"]);
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn every_command_the_readme_shows_is_a_real_subcommand_with_an_example_in_its_help() {
    let known = subcommands();
    assert!(known.contains(&"run".to_owned()), "{known:?}");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let mut shown = std::collections::BTreeSet::new();
    // `flotilla <word>` anywhere: in code blocks and inline code, each `·`-separated part.
    for part in readme.split(['\n', '·', '`']) {
        let part = part.trim();
        let Some(rest) = part.strip_prefix("flotilla ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let mut word = words.next().unwrap_or_default();
        // Global options before the command.
        while word.starts_with("--") {
            if matches!(word, "--home" | "--config" | "--project") {
                words.next();
            }
            word = words.next().unwrap_or_default();
        }
        if word.is_empty() || word.starts_with('<') || word == "is" || word == "serves" {
            continue;
        }
        shown.insert(word.to_owned());
    }
    assert!(shown.len() >= 10, "{shown:?}");
    for command in &shown {
        assert!(
            known.contains(command),
            "the README shows `flotilla {command}`, which is not a subcommand ({known:?})"
        );
    }
    for command in known.iter().filter(|c| *c != "help") {
        let help = flotilla(&[command, "--help"]);
        assert!(
            help.contains("Examples:\n  flotilla "),
            "`flotilla {command} --help` has no example:\n{help}"
        );
    }
}

#[test]
fn the_screenshot_script_makes_a_picture_of_the_dashboard() {
    let out = tempfile::tempdir().expect("dir");
    let svg = out.path().join("dashboard.svg");
    let run = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/screenshot"))
        .arg(&svg)
        .env("FLOTILLA_BIN", env!("CARGO_BIN_EXE_flotilla"))
        .output()
        .expect("scripts/screenshot runs");
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let picture = std::fs::read_to_string(&svg).expect("an SVG");
    assert!(
        picture.starts_with("<svg"),
        "{}",
        &picture[..picture.len().min(200)]
    );
    // rich writes each run of text in its own element, spaces as &#160;.
    for word in [
        "Background",
        "Workflows",
        "completed",
        "failed",
        "running",
        "queued",
        "New",
        "task",
    ] {
        assert!(
            picture.contains(&format!(">{word}")) || picture.contains(word),
            "{word} in the picture"
        );
    }
}

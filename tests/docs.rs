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

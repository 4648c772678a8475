//! The binary's handling of bad input: a bad config or keybindings file names the file, the line
//! and what was expected, and exits with code 2 before touching the terminal.

use std::process::Command;

fn flotilla(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flotilla"))
        // Outside any repository: flotilla would work on the one it starts in.
        .current_dir(std::env::temp_dir())
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("FLOTILLA_HOME")
        .output()
        .expect("run flotilla")
}

#[test]
fn bad_keybindings_name_the_file_line_and_value_and_exit_2() {
    let home = tempfile::tempdir().expect("home");
    let file = home.path().join("keybindings.toml");
    std::fs::write(&file, "[table]\ncancel = \"x\"\nlaunch_rockets = \"r\"\n").expect("write");
    let out = flotilla(home.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}, line 3: unknown action \"launch_rockets\"",
            file.display()
        )),
        "{err}"
    );

    std::fs::write(&file, "[global]\nquit = \"ctrl-\u{1F680}x\"\n").expect("write");
    let out = flotilla(home.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(", line 2: \"ctrl-\u{1F680}x\" is not a key"),
        "{err}"
    );
}

#[test]
fn bad_config_names_the_file_line_and_what_was_expected_and_exits_2() {
    let home = tempfile::tempdir().expect("home");
    let file = home.path().join("config.toml");
    std::fs::write(
        &file,
        "max_parallel = 4\n\n[providers.local]\nkind = \"grpc\"\nbase_url = \"http://h/v1\"\n",
    )
    .expect("write");
    for args in [&[][..], &["run", "x"], &["doctor"], &["name", "x"]] {
        let out = flotilla(home.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("{}, line 4:", file.display())),
            "{err}"
        );
        assert!(
            err.contains("openai") && err.contains("ollama"),
            "says what was expected: {err}"
        );
    }
}

#[test]
fn a_colour_that_does_not_exist_stops_the_dashboard_with_its_line() {
    let home = tempfile::tempdir().expect("home");
    let file = home.path().join("config.toml");
    std::fs::write(
        &file,
        "theme = \"light\"\n[providers.local]\nkind = \"ollama\"\nbase_url = \"http://127.0.0.1:9\"\n\n[colors]\nrunning = \"ultraviolet\"\n",
    )
    .expect("write");
    let out = flotilla(home.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}, line 7: \"ultraviolet\" is not a colour",
            file.display()
        )),
        "{err}"
    );
    std::fs::write(&file, "theme = \"sepia\"\n").expect("write");
    let out = flotilla(home.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}, line 1: theme must be", file.display())),
        "{err}"
    );
}

#[test]
fn run_against_a_dead_server_fails_with_a_reason_and_exit_1() {
    let home = tempfile::tempdir().expect("home");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9);
    std::fs::write(
        home.path().join("config.toml"),
        format!("[providers.local]\nkind = \"ollama\"\nbase_url = \"http://127.0.0.1:{port}\"\nmax_retries = 0\n"),
    )
    .expect("write");
    let out = flotilla(
        home.path(),
        &["run", "write a function to validate email addresses"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("✗ [validate-email-addresses] failed: planning failed: cannot connect"),
        "{stdout}"
    );
    assert!(
        home.path()
            .join("workflows")
            .read_dir()
            .map(|d| d.count())
            .unwrap_or(0)
            == 1,
        "its folder and log are kept"
    );

    let out = flotilla(home.path(), &["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("does not answer") && stdout.contains("ollama serve"),
        "{stdout}"
    );
}

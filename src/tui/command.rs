//! What the input box understands: a plain description, or a slash command.

/// One parsed line of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Start a workflow; `background` keeps the selection where it is.
    Generate {
        description: String,
        background: bool,
    },
    /// `/workflows`, `/wf`: focus the table.
    ListWorkflows,
    /// `/workflow <id>`, `/wf <id>`: select it and show its details.
    ShowWorkflow(String),
    /// `/cancel <id>`.
    Cancel(String),
    /// `/retry <id>`: a new workflow with the same description, linked to the old one.
    Retry(String),
    /// `/delete <id>`: delete a finished workflow and its folder (asks first).
    Delete(String),
    /// `/apply <id> [--staged]`: land a workflow's change on the current branch.
    Apply { query: String, staged: bool },
    /// `/discard <id>`: remove a workflow's worktree and branch (asks first).
    Discard(String),
    /// `/clear`: delete every finished workflow.
    Clear,
    /// `/parallel N`: change the number of run slots.
    Parallel(usize),
    /// `/help`.
    Help,
    /// `/quit`.
    Quit,
}

/// A line the parser could not use, with a one-line hint for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint(pub String);

/// The commands, for `/help` and hints.
pub const USAGE: &[(&str, &str)] = &[
    (
        "/generate [--background|-b] <description>",
        "start a workflow",
    ),
    ("/workflows, /wf", "focus the workflow table"),
    (
        "/workflow <id>, /wf <id>",
        "select a workflow, show its details",
    ),
    ("/cancel <id>", "cancel a workflow"),
    ("/retry <id>", "run a workflow's task again"),
    ("/delete <id>", "delete a finished workflow"),
    (
        "/apply <id> [--staged]",
        "apply a workflow's change to your branch",
    ),
    ("/discard <id>", "remove a workflow's worktree and branch"),
    ("/clear", "delete every finished workflow"),
    ("/parallel N", "change the number of run slots"),
    ("/help", "show keys and commands"),
    ("/quit", "quit flotilla"),
];

/// Parses one submitted line. Text without a leading `/` is a description.
pub fn parse(line: &str) -> Result<Command, Hint> {
    let line = line.trim();
    if line.is_empty() {
        return Err(Hint("type a task description, or /help".into()));
    }
    let Some(rest) = line.strip_prefix('/') else {
        return Ok(Command::Generate {
            description: line.to_owned(),
            background: false,
        });
    };
    let (verb, args) = match rest.split_once(char::is_whitespace) {
        Some((v, a)) => (v, a.trim()),
        None => (rest, ""),
    };
    match verb {
        "generate" | "gen" => parse_generate(args),
        "workflows" => no_args(verb, args, Command::ListWorkflows),
        "wf" if args.is_empty() => Ok(Command::ListWorkflows),
        "wf" | "workflow" => one_arg(verb, args).map(Command::ShowWorkflow),
        "cancel" => one_arg(verb, args).map(Command::Cancel),
        "retry" => one_arg(verb, args).map(Command::Retry),
        "delete" => one_arg(verb, args).map(Command::Delete),
        "discard" => one_arg(verb, args).map(Command::Discard),
        "apply" => {
            let staged = args.split_whitespace().any(|w| w == "--staged");
            let rest: Vec<&str> = args
                .split_whitespace()
                .filter(|w| *w != "--staged")
                .collect();
            match rest.as_slice() {
                [query] if !query.starts_with('-') => Ok(Command::Apply {
                    query: (*query).to_owned(),
                    staged,
                }),
                _ => Err(Hint("usage /apply <id> [--staged]".into())),
            }
        }
        "clear" => no_args(verb, args, Command::Clear),
        "parallel" => match args.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Command::Parallel(n)),
            _ => Err(Hint("usage /parallel N, with N at least 1".into())),
        },
        "help" | "?" => Ok(Command::Help),
        "quit" | "q" | "exit" => Ok(Command::Quit),
        _ => Err(Hint(format!(
            "unknown command /{verb}: /help lists the commands (/generate, /wf, /cancel, /retry, /delete…)"
        ))),
    }
}

fn parse_generate(args: &str) -> Result<Command, Hint> {
    let mut background = false;
    let mut rest = args;
    loop {
        let (word, tail) = match rest.split_once(char::is_whitespace) {
            Some((w, t)) => (w, t.trim_start()),
            None => (rest, ""),
        };
        match word {
            "--background" | "-b" => {
                background = true;
                rest = tail;
            }
            "--" => {
                rest = tail;
                break;
            }
            w if w.starts_with('-') && w.len() > 1 => {
                return Err(Hint(format!(
                    "unknown option {w}: usage /generate [--background|-b] <description>"
                )));
            }
            _ => break,
        }
    }
    if rest.is_empty() {
        return Err(Hint(
            "missing description: usage /generate [--background|-b] <description>".into(),
        ));
    }
    Ok(Command::Generate {
        description: rest.to_owned(),
        background,
    })
}

fn no_args(verb: &str, args: &str, cmd: Command) -> Result<Command, Hint> {
    if args.is_empty() {
        Ok(cmd)
    } else {
        Err(Hint(format!("/{verb} takes no arguments")))
    }
}

fn one_arg(verb: &str, args: &str) -> Result<String, Hint> {
    match args.split_whitespace().collect::<Vec<_>>().as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Err(Hint(format!(
            "missing workflow id: usage /{verb} <id> (an id, wf_N, N or a name)"
        ))),
        _ => Err(Hint(format!(
            "/{verb} takes one workflow id, an id, wf_N, N or a name"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate(description: &str, background: bool) -> Result<Command, Hint> {
        Ok(Command::Generate {
            description: description.into(),
            background,
        })
    }

    #[test]
    fn plain_text_is_a_foreground_generate() {
        assert_eq!(
            parse("  write a parser "),
            generate("write a parser", false)
        );
    }

    #[test]
    fn generate_flags() {
        assert_eq!(parse("/generate write x"), generate("write x", false));
        assert_eq!(
            parse("/generate --background write x"),
            generate("write x", true)
        );
        assert_eq!(
            parse("/generate -b  write   x"),
            generate("write   x", true)
        );
        assert_eq!(
            parse("/generate -- -b is text"),
            generate("-b is text", false)
        );
        assert!(parse("/generate --bg x").is_err());
        assert!(parse("/generate").is_err());
        assert!(parse("/generate -b").is_err());
    }

    #[test]
    fn workflow_commands() {
        assert_eq!(parse("/workflows"), Ok(Command::ListWorkflows));
        assert_eq!(parse("/wf"), Ok(Command::ListWorkflows));
        assert_eq!(
            parse("/wf wf_1_17"),
            Ok(Command::ShowWorkflow("wf_1_17".into()))
        );
        assert_eq!(parse("/workflow 3"), Ok(Command::ShowWorkflow("3".into())));
        assert_eq!(
            parse("/cancel csv-sum"),
            Ok(Command::Cancel("csv-sum".into()))
        );
        assert_eq!(parse("/help"), Ok(Command::Help));
        assert_eq!(parse("/retry 3"), Ok(Command::Retry("3".into())));
        assert_eq!(
            parse("/delete csv-sum"),
            Ok(Command::Delete("csv-sum".into()))
        );
        assert_eq!(parse("/clear"), Ok(Command::Clear));
        assert_eq!(parse("/parallel 8"), Ok(Command::Parallel(8)));
        assert!(parse("/parallel 0").is_err());
        assert!(parse("/parallel lots").is_err());
        assert_eq!(parse("/quit"), Ok(Command::Quit));
    }

    #[test]
    fn bad_commands_get_hints() {
        let Err(Hint(h)) = parse("/frobnicate now") else {
            panic!("expected a hint")
        };
        assert!(h.contains("unknown command /frobnicate"), "{h}");
        let Err(Hint(h)) = parse("/cancel") else {
            panic!("expected a hint")
        };
        assert!(h.contains("missing workflow id"), "{h}");
        assert!(parse("/workflow").is_err());
        assert!(parse("/workflows extra").is_err());
        assert!(parse("").is_err());
    }
}

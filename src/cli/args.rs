//! The command line: every subcommand and option, in one place for `main`, the shell completions
//! and the manual page.

use crate::workflow::WorkflowStatus;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Run many LLM code-generation workflows in parallel, from a full-screen dashboard.
#[derive(Parser)]
#[command(
    name = "flotilla",
    version,
    about,
    after_help = "Examples:\n  flotilla                       the dashboard (inside a git repository, it works on it)\n  flotilla run add two numbers   one workflow, no dashboard\n  flotilla doctor                what is set up and what is wrong\n\nMore: README.md and docs/ in the source, or `flotilla man`."
)]
pub struct Cli {
    /// Keep config, workflows and logs under DIR (default: $FLOTILLA_HOME, else the XDG dirs).
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Read this configuration file instead of config.toml in the home.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Work on the git repository DIR is in: a worktree and branch per workflow (default: the
    /// repository the current folder is in, if any, or `project` in config.toml).
    #[arg(long, global = true, value_name = "DIR", conflicts_with = "no_project")]
    pub project: Option<PathBuf>,
    /// Work outside any repository, as if started outside one: standalone files per workflow.
    #[arg(long, global = true)]
    pub no_project: bool,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Run one workflow without the dashboard, printing its progress; exit 0 when it completed.
    #[command(
        after_help = "Examples:\n  flotilla run write a python function is_even(n)\n  flotilla run --json add two numbers | jq .result.files"
    )]
    Run {
        /// What to build, e.g. "write a function to validate email addresses".
        #[arg(required = true, num_args = 1..)]
        description: Vec<String>,
        /// Progress on standard error, and at the end the workflow as JSON on standard output
        /// (the fields of `show --json`).
        #[arg(long)]
        json: bool,
    },
    /// Print the name the veryfast model gives a description.
    #[command(after_help = "Examples:\n  flotilla name create a REST API client for GitHub")]
    Name {
        /// The task as you would give it to `run`; how the name was made goes to stderr.
        #[arg(required = true, num_args = 1..)]
        description: Vec<String>,
    },
    /// Check each tier's model server and model, and say what is wrong.
    #[command(
        after_help = "Examples:\n  flotilla doctor\n  flotilla --home ~/scratch/flotilla doctor --json"
    )]
    Doctor {
        /// Print what was checked as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the configuration in effect: every setting, and where its value came from (a line
    /// of config.toml, the environment, or the built-in default).
    #[command(
        after_help = "Examples:\n  flotilla config\n  flotilla --config other.toml config --json"
    )]
    Config {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the models each configured server offers, and which tier uses which.
    #[command(after_help = "Examples:\n  flotilla models")]
    Models {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List workflows, oldest first.
    #[command(
        after_help = "Examples:\n  flotilla list --status failed\n  flotilla list --json | jq '.[].name'"
    )]
    List {
        /// Only those in this status: queued, naming, running, completed or failed.
        #[arg(long, value_parser = parse_status)]
        status: Option<WorkflowStatus>,
        /// Print JSON (fields documented in docs/headless.md).
        #[arg(long)]
        json: bool,
    },
    /// Show one workflow's details.
    #[command(after_help = "Examples:\n  flotilla show 3\n  flotilla show csv-column-sum --json")]
    Show {
        /// The workflow: its id (wf_3_1732123457), wf_3, 3, or its name.
        id: String,
        /// Print JSON (the fields of `list --json`).
        #[arg(long)]
        json: bool,
    },
    /// Start a workflow's task again, as a new workflow linked to it, and run it here.
    #[command(after_help = "Examples:\n  flotilla retry 3")]
    Retry {
        /// The workflow: its id, wf_N, N, or its name.
        id: String,
    },
    /// Show the change a workflow made to the repository (its branch against its base).
    #[command(after_help = "Examples:\n  flotilla diff 3\n  flotilla diff wf_3 --json | jq .files")]
    Diff {
        /// The workflow: its id, wf_N, N, or its name.
        id: String,
        /// Print JSON: files, lines added and removed, and the patch.
        #[arg(long)]
        json: bool,
    },
    /// Land a workflow's change on your current branch as one commit; refused, with nothing
    /// changed, when a file it touches has uncommitted changes or it does not apply cleanly.
    #[command(after_help = "Examples:\n  flotilla apply 3\n  flotilla apply 3 --staged")]
    Apply {
        /// The workflow: its id, wf_N, N, or its name.
        id: String,
        /// Leave the change staged and uncommitted instead.
        #[arg(long)]
        staged: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a workflow's worktree and branch.
    #[command(after_help = "Examples:\n  flotilla discard 3")]
    Discard {
        /// The workflow: its id, wf_N, N, or its name.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a finished workflow and its folder (and its worktree and branch).
    #[command(after_help = "Examples:\n  flotilla delete 3")]
    Delete {
        /// The workflow: its id, wf_N, N, or its name.
        id: String,
    },
    /// Run one program in the sandbox (flotilla runs tests this way).
    #[command(hide = true)]
    SandboxExec { spec: String },
    /// Measure the pipeline against one plain request per task: pass@1 on reference tests.
    #[command(
        after_help = "Examples:\n  flotilla eval --limit 5\n  flotilla eval --set held-back --mode pipeline --json"
    )]
    Eval {
        /// `flotilla` (the built-in set the pipeline is tuned on), `held-back` (a second
        /// built-in set it is never tuned on), `humaneval` (fetched by
        /// scripts/setup-model-server), or a JSONL file of tasks.
        #[arg(long, default_value = "flotilla")]
        set: String,
        /// Only tasks whose id contains this text, e.g. "py/".
        #[arg(long)]
        only: Option<String>,
        /// Only the first N tasks (after --only).
        #[arg(long)]
        limit: Option<usize>,
        /// Code candidates per workflow (overrides config.toml's `candidates`).
        #[arg(long)]
        candidates: Option<usize>,
        /// Test suites per workflow (overrides config.toml's `test_suites`).
        #[arg(long)]
        test_suites: Option<usize>,
        /// Run one mode only.
        #[arg(long, value_parser = ["one-shot", "pipeline"])]
        mode: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve a GGUF model over an OpenAI-compatible API, batching concurrent requests
    /// (llama.cpp in process).
    #[command(
        after_help = "Examples:\n  flotilla serve --model ~/models/SmolLM2-135M-Instruct.Q4_1.gguf --port 8080 --parallel 4"
    )]
    Serve {
        /// The model file.
        #[arg(long, value_name = "FILE.gguf")]
        model: PathBuf,
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// 0 picks a free port (printed on the first line).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Requests decoded together, each with its own context.
        #[arg(long, default_value_t = 4)]
        parallel: usize,
        /// Context of one request (prompt and reply), in tokens.
        #[arg(long, default_value_t = 4096)]
        ctx: u32,
        /// Requests that may wait for a free sequence; more are answered 503.
        #[arg(long, default_value_t = 64)]
        queue: usize,
        /// Most tokens one decode step feeds; long prompts are fed in chunks of this.
        #[arg(long, default_value_t = 256)]
        batch: usize,
        /// CPU threads (default: all).
        #[arg(long)]
        threads: Option<usize>,
        /// Exit when standard input closes (how flotilla ties the server it starts to itself).
        #[arg(long, hide = true)]
        exit_with_stdin: bool,
        /// Write the address and process id here once listening (a home's shared engine).
        #[arg(long, hide = true, value_name = "FILE")]
        address_file: Option<PathBuf>,
        /// Exit once no process has held a shared lock on this file for --linger seconds (the
        /// flotilla processes of a home that use this engine hold one each).
        #[arg(long, hide = true, value_name = "FILE")]
        users_lock: Option<PathBuf>,
        #[arg(long, hide = true, default_value_t = 15.0)]
        linger: f64,
    },
    /// Print a workflow's log.
    #[command(after_help = "Examples:\n  flotilla logs 3 --follow")]
    Logs {
        /// The workflow: its id, wf_N, N, or its name.
        id: String,
        /// Keep printing until the workflow ends.
        #[arg(long, short)]
        follow: bool,
    },
    /// Print a completion script for a shell, e.g. `flotilla completions bash >
    /// ~/.local/share/bash-completion/completions/flotilla`.
    #[command(
        after_help = "Examples:\n  flotilla completions bash > ~/.local/share/bash-completion/completions/flotilla"
    )]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `flotilla man | man -l -`.
    #[command(
        after_help = "Examples:\n  flotilla man | man -l -\n  flotilla man --dir ~/.local/share/man/man1"
    )]
    Man {
        /// Write flotilla.1 and a page for each command (flotilla-run.1, …) into DIR instead,
        /// e.g. ~/.local/share/man/man1.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

impl Cli {
    /// The completion script for `shell`.
    pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
        let mut command = <Self as clap::CommandFactory>::command();
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut command, "flotilla", &mut out);
        out
    }

    /// The manual page of flotilla (its commands listed with what each does).
    pub fn manual() -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        clap_mangen::Man::new(<Self as clap::CommandFactory>::command()).render(&mut out)?;
        Ok(out)
    }

    /// Writes flotilla.1 and a page for each command into `dir`.
    pub fn manuals_to(dir: &std::path::Path) -> std::io::Result<()> {
        clap_mangen::generate_to(<Self as clap::CommandFactory>::command(), dir)
    }
}

fn parse_status(text: &str) -> Result<WorkflowStatus, String> {
    text.parse()
}

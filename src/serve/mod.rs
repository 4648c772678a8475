//! `flotilla serve`: an OpenAI-compatible server that runs a GGUF model in process through
//! llama.cpp (the `llama-cpp-2` binding), decoding every active request in one batch per step.

pub mod batch;
#[cfg(feature = "embedded")]
pub mod engine;
#[cfg(feature = "embedded")]
pub mod http;
pub mod text;

use std::path::PathBuf;

/// How long llama.cpp's OpenMP threads spin before they sleep (`GOMP_SPINCOUNT`, in
/// iterations: a few milliseconds).
pub const GOMP_SPINCOUNT: &str = "3000000";

/// The setting of the engine flotilla starts for its workflows, unless `GOMP_SPINCOUNT` is set:
/// none. That engine shares the machine with the workflows' own test runs, and beside a busy
/// process spinning threads wait for a partner the scheduler has put off the core: measured
/// here (`cargo bench --bench serve`, 4 requests), spinning decodes 155-185 tokens/s alone but
/// 46-51 beside a CPU-bound process, not spinning 108-119 alone and 88-92 beside it.
pub const SHARED_GOMP_SPINCOUNT: &str = "0";

/// The line `flotilla serve` prints on standard output once it accepts requests; flotilla
/// reads the address from it when it starts the server itself.
pub const LISTENING: &str = "flotilla serve: listening on http://";

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub model: PathBuf,
    pub host: String,
    /// 0 picks a free port.
    pub port: u16,
    pub parallel: usize,
    pub ctx: u32,
    pub queue: usize,
    pub batch: usize,
    pub threads: Option<usize>,
    /// Exit when standard input reaches its end (the parent that started it is gone).
    pub exit_with_stdin: bool,
    /// Where to write [`Address`] once listening.
    pub address_file: Option<PathBuf>,
    /// Exit once nobody has held a shared lock on this file for `linger`.
    pub users_lock: Option<PathBuf>,
    pub linger: std::time::Duration,
}

/// What a home's shared engine writes of itself once it listens.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Address {
    pub url: String,
    pub pid: u32,
    pub model: PathBuf,
    pub parallel: usize,
    pub ctx: u32,
}

/// Writes `address` to `path` whole (a temporary file renamed), so a reader never sees half.
pub fn write_address(path: &std::path::Path, address: &Address) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| std::path::Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(&mut file, address)?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(feature = "embedded")]
/// Ends the process once no user has held a shared lock on `users` for `linger`. Each check
/// takes the lock exclusively for a moment; the last one keeps it while the address file goes
/// and the process exits, so a user arriving then waits for the exit and starts a new engine.
fn exit_when_unused(users: PathBuf, address: Option<PathBuf>, linger: std::time::Duration) {
    std::thread::spawn(move || {
        let file = match std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&users)
        {
            Ok(f) => f,
            Err(e) => {
                eprintln!("flotilla serve: cannot open {}: {e}", users.display());
                std::process::exit(1);
            }
        };
        let mut unused_since: Option<std::time::Instant> = None;
        loop {
            std::thread::sleep(std::time::Duration::from_millis(250));
            match file.try_lock() {
                Ok(()) => {
                    let since = *unused_since.get_or_insert_with(std::time::Instant::now);
                    if since.elapsed() >= linger {
                        if let Some(a) = &address {
                            let _ = std::fs::remove_file(a);
                        }
                        eprintln!(
                            "flotilla serve: no flotilla has used this engine for {}s; exiting",
                            linger.as_secs_f64()
                        );
                        std::process::exit(0);
                    }
                    let _ = file.unlock();
                }
                Err(_) => unused_since = None,
            }
        }
    });
}

/// The name a model file is served under: its file name without `.gguf`.
pub fn model_id(path: &std::path::Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    name.strip_suffix(".gguf").unwrap_or(&name).to_owned()
}

/// Checks the model file before llama.cpp sees it, so a missing or foreign file is named with
/// the reason rather than llama.cpp's "null result".
pub fn check_model_file(path: &std::path::Path) -> Result<(), String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)
        .map_err(|e| format!("cannot open the model {}: {e}", path.display()))?;
    let mut magic = [0u8; 4];
    match file.read_exact(&mut magic) {
        Ok(()) if &magic == b"GGUF" => Ok(()),
        Ok(()) => Err(format!(
            "{} is not a GGUF model file (it starts with {:?}, not \"GGUF\")",
            path.display(),
            String::from_utf8_lossy(&magic)
        )),
        Err(e) => Err(format!(
            "{} is not a GGUF model file (too short: {e})",
            path.display()
        )),
    }
}

/// Loads the model, binds the address and serves until the process is stopped.
#[cfg(feature = "embedded")]
pub async fn run(options: ServeOptions) -> anyhow::Result<()> {
    if options.exit_with_stdin {
        std::thread::spawn(|| {
            let mut sink = [0u8; 256];
            let mut stdin = std::io::stdin();
            while matches!(std::io::Read::read(&mut stdin, &mut sink), Ok(n) if n > 0) {}
            std::process::exit(0);
        });
    }
    let threads = options.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(4, std::num::NonZeroUsize::get)
    });
    let engine_options = engine::EngineOptions {
        model: options.model.clone(),
        parallel: options.parallel.max(1),
        ctx: options.ctx,
        queue: options.queue,
        batch: options.batch,
        threads,
    };
    let engine = tokio::task::spawn_blocking(move || engine::spawn(engine_options))
        .await?
        .map_err(anyhow::Error::msg)?;
    let served = std::sync::Arc::new(http::Served {
        engine,
        model_id: model_id(&options.model),
        slots: options.parallel.max(1),
        ctx: options.ctx,
        next_id: std::sync::atomic::AtomicU64::new(1),
    });
    let addr: std::net::SocketAddr = format!("{}:{}", options.host, options.port)
        .parse()
        .map_err(|e| anyhow::anyhow!("--host {} is not an IP address: {e}", options.host))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    if let Some(path) = &options.address_file {
        let address = Address {
            url: format!("http://{local}/v1"),
            pid: std::process::id(),
            model: options.model.clone(),
            parallel: options.parallel.max(1),
            ctx: options.ctx,
        };
        write_address(path, &address)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    if let Some(users) = &options.users_lock {
        exit_when_unused(users.clone(), options.address_file.clone(), options.linger);
    }
    println!(
        "{LISTENING}{local}/v1 ({}, {} sequences of {} tokens, {threads} threads)",
        served.model_id,
        options.parallel.max(1),
        options.ctx
    );
    axum::serve(listener, http::router(served)).await?;
    Ok(())
}

/// Built without llama.cpp (`--no-default-features`): `flotilla serve` says so.
#[cfg(not(feature = "embedded"))]
pub async fn run(_options: ServeOptions) -> anyhow::Result<()> {
    anyhow::bail!(
        "this flotilla was built without its embedded engine (the cargo feature `embedded`): use a model server, or build it with default features"
    )
}

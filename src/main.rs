use clap::Parser;
use mailcatch::config::{Cli, Command};

/// mimalloc instead of glibc's malloc: with 2 worker threads glibc spent
/// ~13% of ingest CPU waiting on its arena locks, and per-message user CPU
/// drops by about a third (docs/benchmark.md). `no_thp` keeps it off
/// transparent huge pages, which cost ~10 MB RSS per 20,000 messages.
#[cfg(feature = "allocator")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Installed or symlinked as `sendmail`, the binary behaves as sendmail.
    let mut args = std::env::args();
    let program = args.next().unwrap_or_default();
    if program
        .rsplit('/')
        .next()
        .is_some_and(|name| name.contains("sendmail"))
    {
        return mailcatch::sendmail(&args.collect::<Vec<_>>()).await;
    }
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Readyz {
            listen,
            wait,
            timeout,
        }) => {
            let patience = wait.then(|| std::time::Duration::from_secs(timeout));
            return mailcatch::probe_readyz(&listen, patience).await;
        }
        Some(Command::Sendmail { args }) => return mailcatch::sendmail(&args).await,
        Some(Command::Dump {
            dir,
            http,
            database,
        }) => {
            let source = match (http, database) {
                (Some(url), _) => mailcatch::DumpSource::Http(url),
                (None, Some(path)) => mailcatch::DumpSource::Database(path),
                (None, None) => {
                    eprintln!("mailcatch dump: give --http URL or --database PATH");
                    return std::process::ExitCode::from(2);
                }
            };
            return mailcatch::dump(source, &dir).await;
        }
        Some(Command::Load { paths, smtp }) => return mailcatch::load(&paths, &smtp).await,
        None => {}
    }
    init_logging(&cli.config.log);
    let mut config = cli.config;
    config.relay.env = std::env::vars()
        .filter(|(key, _)| key.starts_with("MP_SMTP_RELAY_"))
        .collect();
    match mailcatch::start(config).await {
        Ok(running) => {
            running.run_until_signal().await;
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("mailcatch: {error}");
            // 1: the database cannot be used; 2: the options are wrong.
            match error {
                mailcatch::StartError::Database(_) => std::process::ExitCode::from(1),
                _ => std::process::ExitCode::from(2),
            }
        }
    }
}

fn init_logging(log: &mailcatch::config::LogConfig) {
    let default = match (log.quiet, log.verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MAILCATCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

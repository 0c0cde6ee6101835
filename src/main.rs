use clap::Parser;
use mailcatch::config::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Readyz { listen }) = cli.command {
        return mailcatch::http::probe_readyz(&listen).await;
    }
    init_logging(&cli.config.log);
    match mailcatch::start(cli.config).await {
        Ok(running) => {
            running.run_until_signal().await;
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("mailcatch: {error}");
            std::process::ExitCode::from(2)
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

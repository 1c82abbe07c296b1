//! `wabot`: the session daemon's binary.
//!
//! `wabot daemon` runs the daemon; `wabot contact send|read` acts as a
//! simulated WhatsApp contact. This is the only place that uses `anyhow`.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use session_daemon::config::{
    default_instance_id, CommandLine, ContactCommand, DaemonConfig, LogFormat, TopLevelCommand,
};
use session_daemon::{contact_client, daemon};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let command_line = CommandLine::parse();
    let outcome = match command_line.command {
        TopLevelCommand::Daemon(arguments) => run_daemon(*arguments),
        TopLevelCommand::Contact(arguments) => run_contact(arguments.command),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wabot: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_daemon(arguments: session_daemon::config::DaemonArguments) -> anyhow::Result<()> {
    let config = DaemonConfig::resolve(arguments, default_instance_id)?;
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init(),
        // One JSON object per line; a session's lines carry its span's
        // fields (number_id, number, transport).
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    runtime.block_on(daemon::run_daemon(config))?;
    Ok(())
}

fn run_contact(command: ContactCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let mut output = std::io::stdout().lock();
    match command {
        ContactCommand::Send(arguments) => {
            runtime.block_on(contact_client::run_send(&arguments, &mut output))?
        }
        ContactCommand::Read(arguments) => {
            runtime.block_on(contact_client::run_read(&arguments, &mut output))?
        }
    }
    Ok(())
}

use crm_gateway::config::{Config, HELP};
use crm_gateway::{Application, StartupError};
use std::process::ExitCode;

// This runtime only starts the workers and runs background work (signals, health probes,
// exporters): requests are served on the worker threads, see `Application`.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    crm_common::config::load_dotenv();
    if std::env::args().skip(1).any(|a| matches!(a.as_str(), "-h" | "--help" | "help")) {
        crm_common::config::print_help(&[HELP]);
        return ExitCode::SUCCESS;
    }
    crm_common::telemetry::init("gateway");
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "gateway failed");
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), StartupError> {
    let config = Config::from_env()?;
    let app = Application::build(config).await?;
    tracing::info!(port = app.port(), tls_port = ?app.tls_port(), "gateway listening");
    app.run_until_stopped().await?;
    Ok(())
}

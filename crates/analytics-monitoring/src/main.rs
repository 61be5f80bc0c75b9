use crm_analytics_monitoring::config::{Config, DEFAULT_PORT, HELP};
use crm_analytics_monitoring::{Application, StartupError};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    crm_common::config::load_dotenv();
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    if command == "healthcheck" {
        // The container's health check: this process's own /health on its configured port.
        let port =
            std::env::var("CRM_BIND_ADDR").ok().and_then(|a| a.rsplit_once(':').and_then(|(_, p)| p.parse().ok()));
        let healthy = crm_common::http::probe_local(port.unwrap_or(DEFAULT_PORT));
        return if healthy { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }
    if matches!(command.as_str(), "-h" | "--help" | "help") {
        use crm_common::config::{COMMON_ENV_HELP, PEER_ENV_HELP};
        use crm_common::http::audit::AUDIT_ENV_HELP;
        crm_common::config::print_help(&[HELP, COMMON_ENV_HELP, PEER_ENV_HELP, AUDIT_ENV_HELP]);
        return ExitCode::SUCCESS;
    }
    crm_common::telemetry::init(crm_analytics_monitoring::config::SERVICE);
    let result = match command.as_str() {
        "serve" => serve().await,
        "migrate" => migrate().await,
        other => {
            eprintln!("unknown command {other:?}; see --help");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "analytics-monitoring failed");
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), StartupError> {
    let app = Application::build(Config::from_env()?).await?;
    tracing::info!(port = app.port(), "analytics-monitoring listening");
    app.run_until_stopped().await?;
    Ok(())
}

async fn migrate() -> Result<(), StartupError> {
    let config = Config::from_env()?;
    let db = crm_common::db::connect(&config.common.database_url).await?;
    crm_common::db::migrate::<analytics_monitoring_migration::Migrator>(&db).await?;
    tracing::info!("migrations applied");
    Ok(())
}

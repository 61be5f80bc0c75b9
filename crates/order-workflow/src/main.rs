use crm_order_workflow::config::{Config, DEFAULT_PORT, HELP};
use crm_order_workflow::{Application, StartupError};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    crm_common::config::load_dotenv();
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    use crm_common::config::{COMMON_ENV_HELP, PEER_ENV_HELP};
    use crm_common::http::audit::AUDIT_ENV_HELP;
    if let Some(code) = crm_common::config::answer_common_command(
        &command,
        DEFAULT_PORT,
        &[HELP, COMMON_ENV_HELP, PEER_ENV_HELP, AUDIT_ENV_HELP],
    ) {
        return code;
    }
    crm_common::telemetry::init(crm_order_workflow::config::SERVICE);
    let result = match command.as_str() {
        "serve" => serve().await,
        "migrate" => migrate().await,
        other => return crm_common::config::unknown_command(other),
    };
    crm_common::config::exit_code("order-workflow", result)
}

async fn serve() -> Result<(), StartupError> {
    let app = Application::build(Config::from_env()?).await?;
    tracing::info!(port = app.port(), "order-workflow listening");
    app.run_until_stopped().await?;
    Ok(())
}

async fn migrate() -> Result<(), StartupError> {
    let config = Config::from_env()?;
    let db = crm_common::db::connect(&config.common.database_url).await?;
    crm_common::db::migrate::<order_workflow_migration::Migrator>(&db).await?;
    tracing::info!("migrations applied");
    Ok(())
}

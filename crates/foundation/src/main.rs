use crm_foundation::config::{Config, ENV_HELP, HELP};

/// Where foundation listens unless `CRM_BIND_ADDR` says otherwise.
const DEFAULT_PORT: u16 = 8081;
use crm_foundation::{Application, StartupError, prepare, seed};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    crm_common::config::load_dotenv();
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    use crm_common::{config::COMMON_ENV_HELP, http::audit::AUDIT_ENV_HELP};
    if let Some(code) = crm_common::config::answer_common_command(
        &command,
        DEFAULT_PORT,
        &[HELP, COMMON_ENV_HELP, ENV_HELP, AUDIT_ENV_HELP],
    ) {
        return code;
    }
    crm_common::telemetry::init("foundation");
    let result = match command.as_str() {
        "serve" => serve().await,
        "migrate" => migrate().await,
        "create-admin" => create_admin().await,
        other => return crm_common::config::unknown_command(other),
    };
    crm_common::config::exit_code("foundation", result)
}

async fn serve() -> Result<(), StartupError> {
    let config = Config::from_env()?;
    let (app, first_admin) = Application::build(config).await?;
    if let Some(admin) = first_admin {
        show_once(&admin);
    }
    tracing::info!(port = app.port(), "foundation listening");
    app.run_until_stopped().await?;
    Ok(())
}

/// The generated password goes to the terminal once, never into the structured log.
fn show_once(admin: &seed::FirstAdmin) {
    eprintln!(
        "\n  First administrator created — this password is shown only once:\n    email:    {}\n    username: {}\n    password: {}\n",
        admin.email, admin.username, admin.password
    );
}

async fn migrate() -> Result<(), StartupError> {
    let config = Config::from_env()?;
    let db = crm_common::db::connect(&config.common.database_url).await?;
    crm_common::db::migrate::<foundation_migration::Migrator>(&db).await?;
    tracing::info!("migrations applied");
    Ok(())
}

async fn create_admin() -> Result<(), StartupError> {
    let mut config = Config::from_env()?;
    let generated = config.admin_password.is_none();
    let password = config.admin_password.take().unwrap_or_else(crm_foundation::auth::password::generate);
    let db = crm_common::db::connect(&config.common.database_url).await?;
    crm_common::db::migrate::<foundation_migration::Migrator>(&db).await?;
    if account_exists(&db, &config.admin_email).await? {
        return Err(StartupError::Seed(crm_common::ApiError::conflict(format!(
            "an account with e-mail {} already exists",
            config.admin_email
        ))));
    }
    // Seeding creates the very first administrator itself when the database has no user yet.
    config.admin_password = Some(password.clone());
    let (state, _) = prepare(config).await?;
    let c = &state.config;
    if !account_exists(&state.db, &c.admin_email).await? {
        seed::create_admin(&state.db, &state.passwords, &c.admin_email, &c.admin_username, &password)
            .await
            .map_err(StartupError::Seed)?;
    }
    if generated {
        show_once(&seed::FirstAdmin { email: c.admin_email.clone(), username: c.admin_username.clone(), password });
    } else {
        eprintln!("administrator {} is ready", c.admin_email);
    }
    Ok(())
}

async fn account_exists(db: &sea_orm::DatabaseConnection, email: &str) -> Result<bool, StartupError> {
    use crm_foundation::users::model::user;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let n = user::Entity::find().filter(user::Column::Email.eq(email.to_lowercase())).count(db).await?;
    Ok(n > 0)
}

//! Real processes for the tests that stop and restart services: foundation's own binary and the
//! `audit-demo` service.

use crate::helpers::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running child process, killed when dropped.
pub struct Proc {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Ends the process abruptly (SIGKILL): no graceful shutdown, nothing flushed.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for `/health` to answer.
    pub async fn healthy(self) -> Self {
        let client = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(r) = client.get(format!("{}/health", self.url())).send().await
                && r.status().is_success()
            {
                return self;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("process on port {} never became healthy:\n{}", self.port, self.log());
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn spawn(mut cmd: Command, port: u16, dir: &Path, name: &str) -> Proc {
    std::fs::create_dir_all(dir).unwrap();
    let log = dir.join(format!("{name}-{}.log", uuid::Uuid::now_v7().simple()));
    let file = std::fs::File::create(&log).unwrap();
    let child = cmd
        .env("CRM_BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("CRM_DATA_DIR", dir)
        .env("CRM_AUDIT_INGEST_TOKEN", INGEST_TOKEN)
        .env("CRM_AUDIT_RETRY_MAX_MS", "300")
        .env("RUST_LOG", "warn")
        .env_remove("REDIS_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap();
    Proc { child, port, log }
}

/// `crm-foundation serve` on `database_url`, keeping its files (key, outbox) in `dir`.
pub fn foundation(database_url: &str, dir: &Path, port: u16) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crm-foundation"));
    cmd.arg("serve")
        .env("DATABASE_URL", database_url)
        .env("CRM_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("CRM_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("CRM_CACHE_PREFIX", format!("proc-{}:", uuid::Uuid::now_v7().simple()));
    spawn(cmd, port, dir, "foundation")
}

/// The demo service delivering its audit events to the foundation at `foundation_port`.
pub fn demo(dir: &Path, port: u16, foundation_port: u16) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_audit-demo"));
    cmd.env("CRM_AUDIT_INGEST_URL", format!("http://127.0.0.1:{foundation_port}/api/foundation/audit-logs/ingest"));
    spawn(cmd, port, dir, "demo")
}

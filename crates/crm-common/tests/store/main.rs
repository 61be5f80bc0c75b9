//! Log store and log shipping (feature `logstore`) against real stores: SQLite files, and a
//! MongoDB-wire server (SecantusDB from `./.venv`, installed by `scripts/ensure-services.sh`) that
//! each MongoDB test starts on a free port and stops at its end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod layer;
mod mongo;
mod sqlite;
mod support;

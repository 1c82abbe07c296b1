//! The connection pool, the `set role` hook and the reachability probe.
//!
//! Both pools connect through [`DatabaseConnector`], the one factory of the
//! daemon's connections, so they honour the URL's `sslmode`.
//!
//! Connections are made lazily: building the pool never touches the network,
//! so the daemon starts (and answers `GET /status` with 503) while Postgres is
//! still unreachable. Every new connection runs `set role <WABOT_DB_ROLE>`
//! before it is handed out, and connections are recycled without
//! `DISCARD ALL`, which would reset the role.

use std::time::Duration;

use crate::database_tls::DatabaseConnector;
use deadpool_postgres::{
    HookError, Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime,
};

/// The pooled connections the daemon's workers and handlers share.
pub type DatabasePool = Pool;

/// The most connections the workers' pool opens at once.
pub const MAXIMUM_POOL_SIZE: usize = 8;

/// The connections of the control pool: lease renewal, heartbeats, the
/// watchdog and `GET /status`. Kept apart so that a flood of inbound
/// messages or sends, which can hold every connection of the workers' pool,
/// never delays a lease renewal past its expiry (which would drop every
/// session) nor makes `/status` report a healthy database as unreachable.
pub const CONTROL_POOL_SIZE: usize = 2;

/// How long `GET /status` waits for `select 1`.
pub const REACHABILITY_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a worker waits for a free or new connection.
const CONNECTION_WAIT_TIMEOUT: Duration = Duration::from_secs(5);

/// A failure talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// No connection could be had from the pool.
    #[error("no database connection: {0}")]
    Pool(#[from] PoolError),

    /// A statement failed.
    #[error("database statement failed: {0}")]
    Statement(#[from] tokio_postgres::Error),

    /// The database did not answer in time.
    #[error("the database did not answer within {} ms", .0.as_millis())]
    Timeout(Duration),

    /// The pool could not be built.
    #[error("could not build the database pool: {0}")]
    Build(String),
}

/// Returns the statement that switches a connection to `role`, with the role
/// quoted as an identifier.
pub fn set_role_statement(role: &str) -> String {
    format!("set role \"{}\"", role.replace('"', "\"\""))
}

/// Builds the workers' pool ([`MAXIMUM_POOL_SIZE`] connections). No
/// connection is opened until one is needed.
pub fn build_pool(
    database: &DatabaseConnector,
    database_role: Option<&str>,
) -> Result<DatabasePool, DatabaseError> {
    build_pool_of_size(database, database_role, MAXIMUM_POOL_SIZE)
}

/// Builds a pool of at most `max_size` connections, lazily like
/// [`build_pool`].
pub fn build_pool_of_size(
    database: &DatabaseConnector,
    database_role: Option<&str>,
    max_size: usize,
) -> Result<DatabasePool, DatabaseError> {
    let manager = Manager::from_config(
        database.config().clone(),
        database.tls(),
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let mut builder = Pool::builder(manager)
        .max_size(max_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(CONNECTION_WAIT_TIMEOUT))
        .create_timeout(Some(CONNECTION_WAIT_TIMEOUT))
        .recycle_timeout(Some(CONNECTION_WAIT_TIMEOUT));
    if let Some(role) = database_role {
        let statement = set_role_statement(role);
        builder = builder.post_create(deadpool_postgres::Hook::async_fn(move |client, _| {
            let statement = statement.clone();
            Box::pin(async move {
                client
                    .batch_execute(&statement)
                    .await
                    .map_err(HookError::Backend)
            })
        }));
    }
    builder
        .build()
        .map_err(|error| DatabaseError::Build(error.to_string()))
}

/// Runs `select 1` within [`REACHABILITY_TIMEOUT`] (including getting the
/// connection).
pub async fn check_reachable(pool: &DatabasePool) -> Result<(), DatabaseError> {
    let probe = async {
        let client = pool.get().await?;
        client.simple_query("select 1").await?;
        Ok::<(), DatabaseError>(())
    };
    match tokio::time::timeout(REACHABILITY_TIMEOUT, probe).await {
        Ok(result) => result,
        Err(_) => Err(DatabaseError::Timeout(REACHABILITY_TIMEOUT)),
    }
}

/// Formats an error with its chain of causes, `outer: inner: innermost`,
/// skipping causes whose text the outer message already contains.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_quoted_as_identifiers() {
        assert_eq!(
            set_role_statement("service_role"),
            "set role \"service_role\""
        );
        assert_eq!(set_role_statement("a\"b"), "set role \"a\"\"b\"");
    }

    #[test]
    fn error_chains_skip_repeated_causes() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let error = Outer(std::io::Error::other("inner"));
        assert_eq!(error_chain(&error), "outer: inner");
    }
}

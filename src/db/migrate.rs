//! Forward-only migrations embedded from `migrations/*.sql`, tracked by `PRAGMA user_version`.
//! Each file runs in its own transaction together with the version bump.

use super::DbError;
use rusqlite::Connection;

/// (version, sql) in order; version N is `migrations/000N_*.sql`.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_init.sql")),
    (2, include_str!("../../migrations/0002_model_metadata.sql")),
    (3, include_str!("../../migrations/0003_proxy.sql")),
    (4, include_str!("../../migrations/0004_pins.sql")),
];

pub fn schema_version(conn: &Connection) -> Result<i64, DbError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Applies every migration newer than the database; refuses a database from a newer binary.
pub fn run(conn: &mut Connection) -> Result<(), DbError> {
    let current = schema_version(conn)?;
    let known = MIGRATIONS.last().map(|(v, _)| *v).unwrap_or(0);
    if current > known {
        return Err(DbError::TooNew { found: current, known });
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_database_gets_every_table_and_latest_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), MIGRATIONS.last().unwrap().0);
        for table in ["models", "model_events", "requests", "metrics", "logs", "settings", "metadata"] {
            let n: i64 = conn
                .query_row("SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1", [table], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 1, "table {table} missing");
        }
    }

    #[test]
    fn rerun_on_existing_database_keeps_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        conn.execute("INSERT INTO metadata (key, value, updated_at) VALUES ('k', 'v', 1)", []).unwrap();
        run(&mut conn).unwrap();
        let v: String = conn.query_row("SELECT value FROM metadata WHERE key='k'", [], |r| r.get(0)).unwrap();
        assert_eq!(v, "v");
    }

    #[test]
    fn a_version_1_database_is_upgraded_in_place() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0].1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO models (id, source, path, created_at, updated_at) VALUES ('m', 'router', '/m.gguf', 1, 1)",
            [],
        )
        .unwrap();
        run(&mut conn).unwrap();
        let (path, projector): (String, Option<String>) = conn
            .query_row("SELECT path, projector FROM models WHERE id = 'm'", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!((path.as_str(), projector), ("/m.gguf", None));
        assert_eq!(schema_version(&conn).unwrap(), MIGRATIONS.last().unwrap().0);
    }

    #[test]
    fn database_from_a_newer_binary_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        assert!(matches!(run(&mut conn), Err(DbError::TooNew { found: 999, .. })));
    }
}

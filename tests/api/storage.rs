//! What each backend's connections are set up with.

use diesel::{QueryableByName, RunQueryDsl};
use latchkey::db::{Db, DbConn};

use crate::helpers::{TestDb, folder_with_fixture_key};

#[derive(QueryableByName)]
struct Int {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    v: i64,
}

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    v: String,
}

#[tokio::test]
async fn connections_are_configured_for_their_backend() {
    let dir = folder_with_fixture_key();
    let test_db = TestDb::new(dir.path());
    if test_db.is_postgres() {
        // Managed PostgreSQL needs TLS: `sslmode=require` must give an encrypted connection.
        let sep = if test_db.url.contains('?') { '&' } else { '?' };
        let db = Db::connect(&format!("{}{sep}sslmode=require", test_db.url)).unwrap();
        let ssl: Vec<Text> = db
            .run(|conn| {
                Ok(
                    diesel::sql_query("SELECT ssl::text AS v FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                        .load(conn)?,
                )
            })
            .await
            .unwrap();
        assert_eq!(ssl[0].v, "true", "the connection is encrypted");
    } else {
        // Every pooled SQLite connection carries the pragmas, not just the first.
        let db = Db::connect(&test_db.url).unwrap();
        let pragmas = db
            .run(|conn| {
                assert!(matches!(conn, DbConn::Sqlite(_)));
                let one = |conn: &mut DbConn, q: &str| -> Result<i64, latchkey::db::DbError> {
                    Ok(diesel::sql_query(q).load::<Int>(conn)?[0].v)
                };
                let mode: Vec<Text> =
                    diesel::sql_query("SELECT journal_mode AS v FROM pragma_journal_mode").load(conn)?;
                Ok((
                    mode[0].v.clone(),
                    one(conn, "SELECT foreign_keys AS v FROM pragma_foreign_keys")?,
                    one(conn, "SELECT synchronous AS v FROM pragma_synchronous")?,
                    one(conn, "SELECT timeout AS v FROM pragma_busy_timeout")?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(pragmas, ("wal".to_owned(), 1, 1, 5000));
    }
}

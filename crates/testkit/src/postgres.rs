//! The test PostgreSQL server (`scripts/postgres.sh` starts one and exports
//! `LIVEGATE_TEST_DATABASE_URL`): fresh databases for tests and a look at what they hold.

use sqlx::{AssertSqlSafe, Connection, Row};

/// The server's URL, when the tests run against PostgreSQL.
pub fn server_url() -> Option<String> {
    std::env::var("LIVEGATE_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// For tests that only make sense on PostgreSQL: the server's URL, or `None` after a loud
/// message; a panic under `CI=true`, where `scripts/test.sh` always starts one.
pub fn required_server_url() -> Option<String> {
    if let Some(url) = server_url() {
        return Some(url);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "LIVEGATE_TEST_DATABASE_URL is not set (CI=true): scripts/test.sh starts PostgreSQL"
        );
    }
    eprintln!(
        "\n!!!!!!!! SKIPPED: no test PostgreSQL (source scripts/postgres.sh; start_test_postgres) !!!!!!!!\n"
    );
    None
}

/// Runs `work` to completion on a runtime of its own, on a thread of its own, so a test may
/// call this from inside its own runtime.
fn on_own_runtime<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a test runtime")
            .block_on(work)
    })
    .join()
    .expect("the database helper panicked")
}

async fn connect(url: &str) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connecting to the test PostgreSQL: {e}"))
}

/// A new, empty database on the server at `server_url`; returns its URL.
pub fn fresh_database(server_url: &str) -> String {
    let name = format!("lg_{}", uuid::Uuid::new_v4().simple());
    let admin = server_url.to_owned();
    let created = name.clone();
    on_own_runtime(async move {
        let mut conn = connect(&admin).await;
        // The name is ours (hex), not input: safe to put into the statement.
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {created}")))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
    });
    let (base, _) = server_url
        .rsplit_once('/')
        .expect("a URL ending in /<database>");
    format!("{base}/{name}")
}

/// Every row of every table of the database at `url`, as text: what an erasure must leave
/// without a trace of the erased job.
pub fn every_row(url: &str) -> String {
    let url = url.to_owned();
    on_own_runtime(async move {
        let mut conn = connect(&url).await;
        let tables = sqlx::query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        )
        .fetch_all(&mut conn)
        .await
        .expect("listing tables");
        let mut all = String::new();
        for t in tables {
            let table: String = t.get(0);
            // Table names come from the catalogue, not from input.
            let rows = sqlx::query(AssertSqlSafe(format!("SELECT t::text FROM \"{table}\" t")))
                .fetch_all(&mut conn)
                .await
                .expect("reading a table");
            for r in rows {
                all.push_str(&table);
                all.push(' ');
                all.push_str(&r.get::<String, _>(0));
                all.push('\n');
            }
        }
        all
    })
}

/// Runs statements (separated by `;`) on the database at `url`: a test sets up what an older
/// release would have left behind.
pub fn execute(url: &str, sql: String) {
    let url = url.to_owned();
    on_own_runtime(async move {
        let mut conn = connect(&url).await;
        // The test's own statements.
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .expect("a test statement");
    })
}

/// Drops the database at `url` with everyone still connected to it: to a replica, its
/// database is gone.
pub fn drop_database(server_url: &str, url: &str) {
    let name = url.rsplit_once('/').expect("a database URL").1.to_owned();
    assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    let admin = server_url.to_owned();
    on_own_runtime(async move {
        let mut conn = connect(&admin).await;
        // The name was checked above and comes from `fresh_database`.
        sqlx::query(AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
            .execute(&mut conn)
            .await
            .expect("DROP DATABASE");
    })
}

/// One SQL query's first column, as text per row (tests inspect the store).
pub fn query_texts(url: &str, sql: &'static str) -> Vec<String> {
    let url = url.to_owned();
    on_own_runtime(async move {
        let mut conn = connect(&url).await;
        sqlx::query(sql)
            .fetch_all(&mut conn)
            .await
            .expect("a test query")
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect()
    })
}

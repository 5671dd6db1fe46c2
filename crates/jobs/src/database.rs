//! Which job store a process uses, chosen once at start: the embedded SQLite file (the
//! default, zero set-up) or a PostgreSQL database shared by every replica.

use crate::postgres::PostgresStore;
use crate::sqlite::SqliteStore;
use crate::store::{Store, StoreError};
use std::path::Path;

#[derive(Clone, Default, PartialEq, Eq)]
pub enum Database {
    /// `jobs.sqlite3` in the data directory.
    #[default]
    Sqlite,
    /// `postgres://user:password@host:port/dbname?…`
    Postgres { url: String },
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "--database-url must start with postgres:// or postgresql:// (leave it out for the embedded SQLite store)"
)]
pub struct DatabaseUrlError;

impl Database {
    /// `None` or an empty text keeps the embedded store.
    pub fn from_url(url: Option<&str>) -> Result<Self, DatabaseUrlError> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(Database::Sqlite),
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Ok(Database::Postgres { url: u.to_owned() })
            }
            Some(_) => Err(DatabaseUrlError),
        }
    }

    pub(crate) fn open(&self, data_dir: &Path) -> Result<Box<dyn Store>, StoreError> {
        Ok(match self {
            Database::Sqlite => Box::new(SqliteStore::open(&data_dir.join("jobs.sqlite3"))?),
            Database::Postgres { url } => Box::new(PostgresStore::open(url)?),
        })
    }

    /// What logs may say about it: the host and database, never the password.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite => "sqlite (data directory)".into(),
            Database::Postgres { url } => {
                let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
                let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
                let host = host.split_once('?').map_or(host, |(h, _)| h);
                format!("postgres://{host}")
            }
        }
    }
}

/// Never prints a password, wherever the configuration is logged.
impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend_and_never_show_the_password() {
        assert_eq!(Database::from_url(None), Ok(Database::Sqlite));
        assert_eq!(Database::from_url(Some(" ")), Ok(Database::Sqlite));
        assert_eq!(Database::from_url(Some("mysql://x")), Err(DatabaseUrlError));
        let db = Database::from_url(Some(
            "postgres://app:s3cret@db.local:5432/lg?sslmode=require",
        ))
        .unwrap();
        assert_eq!(format!("{db:?}"), "postgres://db.local:5432/lg");
        assert!(!db.describe().contains("s3cret"));
    }
}

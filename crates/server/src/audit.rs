//! The audit trail of stored biometric data: one structured line per access, on the `audit`
//! tracing target, saying who (`sub`, tenant, admin or not), which job, what was done and how
//! it ended. Never a token, never an image byte: only identifiers.

use crate::auth::Caller;

/// What a caller did to stored data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Submit,
    List,
    Read,
    Download,
    Cancel,
    Erase,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::List => "list",
            Action::Read => "read",
            Action::Download => "download",
            Action::Cancel => "cancel",
            Action::Erase => "erase",
        }
    }
}

/// How the access ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// No such job for this caller (whether it exists for someone else is not recorded
    /// differently: the caller's view is what matters).
    NotFound,
    /// Refused before anything was stored or read (quota, bad archive, timeout).
    Refused,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotFound => "not_found",
            Outcome::Refused => "refused",
        }
    }
}

pub fn record(caller: &Caller, job: &str, action: Action, outcome: Outcome) {
    tracing::info!(
        target: "audit",
        sub = %caller.owner.sub,
        tenant = %caller.owner.tenant,
        admin = caller.admin,
        job = %job,
        action = action.as_str(),
        outcome = outcome.as_str(),
        "stored data access"
    );
}

//! The audit trail of stored biometric data: one structured line per access, on the `audit`
//! tracing target, saying who (`sub`, tenant, issuer, admin or not), which job and whose it is
//! when not the caller's, what was done and how it ended. Never a token, never an image byte:
//! only identifiers.

use crate::auth::Caller;
use jobs::Owner;

/// Stands in the log for a path id that is not of a batch id's form.
const MALFORMED_ID: &str = "(malformed id)";

/// What a caller did to stored data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Submit,
    List,
    Read,
    Download,
    /// A `HEAD` on an archive: whether it is ready, not its bytes.
    Inspect,
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
            Action::Inspect => "inspect",
            Action::Cancel => "cancel",
            Action::Erase => "erase",
        }
    }
}

/// How the access ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// No such job at all.
    NotFound,
    /// Another client's job: the caller was answered 404 exactly as for a missing one (no
    /// existence oracle), but the operator's trail tells a reach for someone else's data,
    /// and whose, from a mistyped id.
    Foreign,
    /// Refused before anything was stored or read (quota, bad archive, timeout).
    Refused,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotFound => "not_found",
            Outcome::Foreign => "foreign",
            Outcome::Refused => "refused",
        }
    }
}

/// `job` is a batch id, "*" for a listing, or "" before one exists. Whatever else a client put
/// in the URL is logged as `MALFORMED_ID`: as sent, it could forge lines of a text log or fill
/// it with 60 KB ids.
pub fn record(caller: &Caller, job: &str, action: Action, outcome: Outcome) {
    record_owned(caller, job, None, action, outcome);
}

/// As [`record`], naming the job's owner (`owner_sub`, `owner_tenant`, `owner_iss`) when it is
/// not the caller: an admin's reads and erasures, and reaches for another client's batch.
pub fn record_owned(
    caller: &Caller,
    job: &str,
    owner: Option<&Owner>,
    action: Action,
    outcome: Outcome,
) {
    let job = if job.is_empty() || job == "*" || jobs::is_job_id(job) {
        job
    } else {
        MALFORMED_ID
    };
    let other = owner.filter(|o| **o != caller.owner);
    let field = |f: fn(&Owner) -> &str| other.map(f).unwrap_or("");
    tracing::info!(
        target: "audit",
        sub = %caller.owner.sub,
        tenant = %caller.owner.tenant,
        iss = %caller.owner.issuer,
        admin = caller.admin.is_some(),
        job = %job,
        owner_sub = field(|o| &o.sub),
        owner_tenant = field(|o| &o.tenant),
        owner_iss = field(|o| &o.issuer),
        action = action.as_str(),
        outcome = outcome.as_str(),
        "stored data access"
    );
}

//! `livegate serve`: the HTTP API.
//!
//! The configuration (keys, limits) is checked before the models load, so a typo fails in
//! milliseconds rather than after the slow start-up.

use crate::token::read_secret;
use anyhow::Context;
use clap::builder::TypedValueParser;
use liveness::Analyse;
use server::{Auth, Config, MinRate, RateLimit, Verifier};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

// Upper bounds of the numeric settings: far past any real deployment of this 2-core-per-worker
// service, and low enough that no value overflows a deadline or a semaphore (a typo of
// 18446744073709551615 seconds used to panic inside the server instead of being refused here).
const DAY_SECS: u64 = 86_400;
const HOUR_SECS: u64 = 3_600;
/// How long a body may take to start before --upload-min-rate counts.
const UPLOAD_GRACE: Duration = Duration::from_secs(10);
const MAX_WORKERS: u64 = 1_024;
const MAX_QUEUE: u64 = 1_000_000;
const MAX_CONNECTIONS: u64 = 1_000_000;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, with the request span (request_id, unique_id, sub).
    Json,
    /// Human-readable lines.
    Text,
}

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LIVEGATE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Largest request body in MiB; larger gets 413.
    #[arg(long, env = "LIVEGATE_BODY_LIMIT_MB", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=4096).map(|n| n as usize))]
    pub body_limit_mb: usize,
    /// Analyses running at once (default: CPU cores).
    #[arg(long, env = "LIVEGATE_WORKERS", value_parser = clap::value_parser!(u64).range(1..=MAX_WORKERS).map(|n| n as usize))]
    pub workers: Option<usize>,
    /// Requests that may wait for a worker before 503 (default: 4 × workers).
    #[arg(long, env = "LIVEGATE_QUEUE_DEPTH", value_parser = clap::value_parser!(u64).range(0..=MAX_QUEUE).map(|n| n as usize))]
    pub queue_depth: Option<usize>,
    /// Budget of one analysis, queueing included, in seconds.
    #[arg(long, env = "LIVEGATE_DEADLINE_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=DAY_SECS))]
    pub deadline_secs: u64,
    /// Seconds a client gets to upload its whole body; slower gets 408.
    #[arg(long, env = "LIVEGATE_UPLOAD_TIMEOUT_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=DAY_SECS))]
    pub upload_timeout_secs: u64,
    /// Log format on stderr (ignored when logging was already set up by the caller).
    #[arg(long, value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
    /// HS256 shared secret (≥ 32 bytes).
    #[arg(long, env = "LIVEGATE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// File holding the HS256 secret.
    #[arg(long, env = "LIVEGATE_JWT_SECRET_FILE")]
    pub jwt_secret_file: Option<PathBuf>,
    /// RS256 or ES256 public key (PEM); repeat for several.
    #[arg(long = "jwt-public-key")]
    pub jwt_public_keys: Vec<PathBuf>,
    /// A JWKS file with RS256/ES256 public keys, matched by `kid`.
    #[arg(long, env = "LIVEGATE_JWKS")]
    pub jwks: Option<PathBuf>,
    /// Accepted `iss`; when given, tokens must carry one of them.
    #[arg(long = "jwt-issuer")]
    pub jwt_issuers: Vec<String>,
    /// An identity provider's issuer and its JWKS file, whose keys sign for that issuer only
    /// (the issuer is accepted as with --jwt-issuer); repeat for several providers.
    #[arg(long = "jwt-issuer-jwks", num_args = 2, value_names = ["ISSUER", "FILE"])]
    pub jwt_issuer_jwks: Vec<String>,
    /// Accepted `aud`; when given, tokens must carry one of them.
    #[arg(long = "jwt-audience")]
    pub jwt_audiences: Vec<String>,
    /// Clock skew tolerated on `exp`/`nbf`/`iat`, seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=HOUR_SECS))]
    pub jwt_leeway_secs: u64,
    /// Longest token lifetime accepted (`exp` − `iat`): seconds or 30m, 24h, 7d.
    #[arg(long, env = "LIVEGATE_JWT_MAX_LIFETIME", default_value = "24h", value_parser = crate::duration::parse)]
    pub jwt_max_lifetime: Duration,
    /// Claim holding the client's tenant; stored batches are then separated per tenant too.
    #[arg(long, env = "LIVEGATE_JWT_TENANT_CLAIM")]
    pub jwt_tenant_claim: Option<String>,
    /// Scope (in `scope` or `scp`) that may list, read and erase every client's batches of
    /// the token's own tenant and issuer. Off unless given.
    #[arg(long, env = "LIVEGATE_ADMIN_SCOPE")]
    pub admin_scope: Option<String>,
    /// Let the admin scope reach every tenant's and issuer's batches, not only its own.
    #[arg(long, env = "LIVEGATE_ADMIN_ACROSS_TENANTS")]
    pub admin_across_tenants: bool,
    /// Failed authentications per minute per peer address before 429; 0 = unlimited.
    #[arg(long, env = "LIVEGATE_AUTH_FAILURES_PER_MINUTE", default_value_t = 30)]
    pub auth_failures_per_minute: u32,
    /// Accept every request without a token. Local development only.
    #[arg(long)]
    pub no_auth: bool,
    /// Requests per minute per client (`sub`); off when absent.
    #[arg(long, env = "LIVEGATE_RATE_LIMIT_PER_MINUTE")]
    pub rate_limit_per_minute: Option<u32>,
    /// Requests a client may burst above the rate (default: the per-minute rate).
    #[arg(long, requires = "rate_limit_per_minute")]
    pub rate_limit_burst: Option<u32>,
    /// Analyses one client may have waiting or running at once (default: half of workers +
    /// queue depth).
    #[arg(long, env = "LIVEGATE_CLIENT_SHARE")]
    pub client_share: Option<usize>,
    /// Analysis request bodies received at once, each held in memory up to --body-limit-mb;
    /// one more gets 503. Uploads hold these places, never a place in the analysis queue.
    #[arg(long, env = "LIVEGATE_MAX_UPLOADS", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=MAX_CONNECTIONS).map(|n| n as usize))]
    pub max_uploads: usize,
    /// Uploads one client may have in progress at once (default: its --client-share, since it
    /// cannot have more analyses queued than that).
    #[arg(long, env = "LIVEGATE_UPLOAD_SHARE", value_parser = clap::value_parser!(u64).range(1..=MAX_CONNECTIONS).map(|n| n as usize))]
    pub upload_share: Option<usize>,
    /// Slowest accepted upload: t seconds after its headers, a body must have delivered this
    /// many bytes for every second past the first 10; one that falls behind is cut with 408.
    /// 0: no floor (the upload timeouts still apply).
    #[arg(long, env = "LIVEGATE_UPLOAD_MIN_RATE", default_value_t = 4096)]
    pub upload_min_rate: u64,
    /// Seconds a connection gets to send its request headers, and to sit idle between
    /// requests, before it is closed.
    #[arg(long, env = "LIVEGATE_HEADER_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=HOUR_SECS))]
    pub header_timeout_secs: u64,
    /// Connections served at once; more wait in the accept backlog.
    #[arg(long, env = "LIVEGATE_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=MAX_CONNECTIONS).map(|n| n as usize))]
    pub max_connections: usize,
    /// Connections one remote address (an IPv6 /64) may hold open (default: a sixteenth of
    /// --max-connections); more are answered 503 and closed. 0: no cap, for a server that
    /// sees every client through one proxy address.
    #[arg(long, env = "LIVEGATE_MAX_CONNECTIONS_PER_ADDRESS", value_parser = clap::value_parser!(u64).range(0..=MAX_CONNECTIONS).map(|n| n as usize))]
    pub max_connections_per_address: Option<usize>,
    /// Seconds a response may wait for the client to read it before the connection is closed
    /// (a client that stops reading would otherwise hold its connection forever).
    #[arg(long, env = "LIVEGATE_WRITE_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=HOUR_SECS))]
    pub write_timeout_secs: u64,
    /// MiB that still and video decoding may hold across all workers; a large still (or a
    /// video's decoder pictures) waits for memory instead of multiplying the resident set.
    #[arg(long, env = "LIVEGATE_DECODE_MEMORY_MB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub decode_memory_mb: u64,
    /// Serve `/metrics` only on this address (e.g. 127.0.0.1:9090), not on --bind.
    #[arg(long, env = "LIVEGATE_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
    /// Where batch jobs, their uploads and results are kept (SQLite); jobs survive restarts.
    /// With --database-url only uploads in progress pass through it. Default:
    /// $XDG_DATA_HOME/livegate (~/.local/share/livegate).
    #[arg(long, env = "LIVEGATE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Keep batch jobs and challenge ids in PostgreSQL (postgres://user:pass@host/db) instead
    /// of the embedded SQLite file: every replica given the same URL shares the work.
    #[arg(long, env = "LIVEGATE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Seconds a batch item stays with the replica working on it without a heartbeat; a
    /// replica that dies loses its items to the others after this long.
    #[arg(long, env = "LIVEGATE_BATCH_LEASE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=DAY_SECS))]
    pub batch_lease_secs: u64,
    /// A batch is judged by replicas with the PAD weights and threshold of the one that
    /// admitted it; after this long (s/m/h) with none of them taking an item, any replica
    /// finishes it (0: no pinning).
    #[arg(long, env = "LIVEGATE_BATCH_JUDGING_GRACE", default_value = "5m", value_parser = crate::duration::parse_or_zero)]
    pub batch_judging_grace: Duration,
    /// Batch items analysed at once, beside the API's own workers.
    #[arg(long, env = "LIVEGATE_BATCH_WORKERS", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=MAX_WORKERS).map(|n| n as usize))]
    pub batch_workers: usize,
    /// How long batch results are kept after the batch ends (s/m/h/d); 0 erases a batch as
    /// soon as its archive has been downloaded (or after --retention-unclaimed).
    #[arg(long, env = "LIVEGATE_RETENTION", default_value = "7d", value_parser = crate::duration::parse_or_zero)]
    pub retention: Duration,
    /// With --retention 0: how long a batch its owner never downloads is kept after it ends.
    #[arg(long, env = "LIVEGATE_RETENTION_UNCLAIMED", default_value = "24h", value_parser = crate::duration::parse)]
    pub retention_unclaimed: Duration,
    /// Seconds a client gets to upload a batch archive; slower gets 408.
    #[arg(
        long,
        env = "LIVEGATE_BATCH_UPLOAD_TIMEOUT_SECS",
        default_value_t = 600,
        value_parser = clap::value_parser!(u64).range(1..=DAY_SECS)
    )]
    pub batch_upload_timeout_secs: u64,
    /// Batches one client may have queued or running at once.
    #[arg(long, env = "LIVEGATE_BATCH_QUOTA_JOBS", default_value_t = 4)]
    pub batch_quota_jobs: u64,
    /// MiB of uploaded archives one client's unfinished batches may hold.
    #[arg(long, env = "LIVEGATE_BATCH_QUOTA_MB", default_value_t = 2048)]
    pub batch_quota_mb: u64,
    /// Batch uploads one client may have in progress at once.
    #[arg(long, env = "LIVEGATE_BATCH_QUOTA_UPLOADS", default_value_t = 2)]
    pub batch_quota_uploads: usize,
    /// Batch uploads all clients together may have in progress at once; one more gets 503.
    #[arg(long, env = "LIVEGATE_BATCH_MAX_UPLOADS", default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=MAX_CONNECTIONS).map(|n| n as usize))]
    pub batch_max_uploads: usize,
    /// Seconds in-flight requests get to finish after SIGTERM/ctrl-c.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=DAY_SECS))]
    pub shutdown_grace_secs: u64,
}

/// The server configuration the arguments describe, keys loaded and checked.
pub fn config(args: &ServeArgs) -> anyhow::Result<Config> {
    let auth = auth(args)?;
    let mut cfg = Config::new(auth);
    cfg.bind = args.bind;
    cfg.body_limit = args
        .body_limit_mb
        .checked_mul(1024 * 1024)
        .context("--body-limit-mb too large")?;
    if let Some(w) = args.workers {
        cfg.workers = w;
    }
    cfg.queue_depth = args.queue_depth.unwrap_or(cfg.workers * 4);
    cfg.deadline = Duration::from_secs(args.deadline_secs);
    cfg.upload_timeout = Duration::from_secs(args.upload_timeout_secs);
    cfg.shutdown_grace = Duration::from_secs(args.shutdown_grace_secs);
    if let Some(share) = args.client_share {
        anyhow::ensure!(share > 0, "--client-share must be at least 1");
        cfg.client_share = share;
    }
    cfg.header_timeout = Duration::from_secs(args.header_timeout_secs);
    cfg.max_connections = args.max_connections;
    cfg.max_connections_per_address = match args.max_connections_per_address {
        Some(0) => None,
        Some(n) => Some(n),
        None => Some(args.max_connections.div_ceil(16)),
    };
    cfg.write_timeout = Duration::from_secs(args.write_timeout_secs);
    cfg.max_uploads = args.max_uploads;
    if let Some(share) = args.upload_share {
        cfg.upload_share = share;
    }
    cfg.upload_min_rate = (args.upload_min_rate > 0).then_some(MinRate {
        bytes_per_sec: args.upload_min_rate,
        grace: UPLOAD_GRACE,
    });
    cfg.batch_upload_timeout = Duration::from_secs(args.batch_upload_timeout_secs);
    cfg.metrics_bind = args.metrics_bind;
    cfg.auth_failures = (args.auth_failures_per_minute > 0).then_some(RateLimit {
        per_minute: args.auth_failures_per_minute,
        burst: args.auth_failures_per_minute,
    });
    if let Some(per_minute) = args.rate_limit_per_minute {
        anyhow::ensure!(per_minute > 0, "--rate-limit-per-minute must be at least 1");
        cfg.rate_limit = Some(RateLimit {
            per_minute,
            burst: args.rate_limit_burst.unwrap_or(per_minute).max(1),
        });
    }
    Ok(cfg)
}

fn auth(args: &ServeArgs) -> anyhow::Result<Auth> {
    let mut v = Verifier::new(Duration::from_secs(args.jwt_leeway_secs));
    if let Some(secret) = read_secret(args.jwt_secret.as_deref(), args.jwt_secret_file.as_ref())? {
        v.add_hs256_secret(&secret)?;
    }
    for path in &args.jwt_public_keys {
        let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        v.add_public_key_pem(&pem)
            .with_context(|| format!("loading {}", path.display()))?;
    }
    if let Some(path) = &args.jwks {
        let json =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        v.add_jwks(&json)
            .with_context(|| format!("loading {}", path.display()))?;
    }
    for iss in &args.jwt_issuers {
        v.require_issuer(iss.clone());
    }
    for pair in args.jwt_issuer_jwks.chunks(2) {
        let [iss, path] = pair else {
            anyhow::bail!("--jwt-issuer-jwks takes an issuer and a file");
        };
        let json = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
        v.add_issuer_jwks(iss, &json)
            .with_context(|| format!("loading {path} for {iss}"))?;
    }
    let issuers = args.jwt_issuers.len() + args.jwt_issuer_jwks.len() / 2;
    if issuers > 1 && v.unbound_keys() > 0 {
        // Owners are (issuer, tenant, sub), so the providers' clients stay apart; but a key
        // given without its issuer may sign a token naming any accepted issuer.
        tracing::warn!(
            issuers,
            unbound_keys = v.unbound_keys(),
            "keys given without an issuer can sign for any accepted issuer's clients; give each \
             provider's keys with --jwt-issuer-jwks ISSUER FILE"
        );
    }
    for aud in &args.jwt_audiences {
        v.require_audience(aud.clone());
    }
    v.max_lifetime(args.jwt_max_lifetime);
    if let Some(claim) = &args.jwt_tenant_claim {
        v.tenant_claim(claim.clone());
    }
    if let Some(scope) = &args.admin_scope {
        v.admin_scope(scope.clone())?;
    }
    if args.admin_across_tenants {
        anyhow::ensure!(
            args.admin_scope.is_some(),
            "--admin-across-tenants needs --admin-scope"
        );
        v.admin_across_tenants();
    }
    match (v.has_keys(), args.no_auth) {
        (true, true) => anyhow::bail!("--no-auth conflicts with the JWT keys given"),
        (true, false) => Ok(Auth::Jwt(Arc::new(v))),
        (false, true) => Ok(Auth::Disabled),
        (false, false) => anyhow::bail!(
            "no JWT key configured: give --jwt-secret(-file), --jwt-public-key or --jwks, or set \
             LIVEGATE_JWT_SECRET / LIVEGATE_JWT_SECRET_FILE (or --no-auth for local development; \
             scripts/serve.sh makes and keeps a secret for you)"
        ),
    }
}

/// Checks the configuration, loads the analyser with `load`, then serves until SIGTERM/ctrl-c.
pub fn run(
    args: ServeArgs,
    load: impl FnOnce() -> anyhow::Result<Arc<dyn Analyse>>,
) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let cfg = config(&args)?;
    anyhow::ensure!(
        args.decode_memory_mb > 0,
        "--decode-memory-mb must be at least 1"
    );
    media::set_decode_budget(args.decode_memory_mb.saturating_mul(1024 * 1024));
    let analyzer = load().context("loading the analysis models")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // The reactor only parses and routes; analyses run on the blocking pool, capped by
        // `workers`, so two reactor threads are plenty.
        .worker_threads(2)
        .max_blocking_threads(cfg.workers + 4)
        .build()?;
    let data_dir = args.data_dir.clone().unwrap_or_else(default_data_dir);
    let mut jobs_cfg = jobs::JobsConfig::new(&data_dir);
    jobs_cfg.database = jobs::Database::from_url(args.database_url.as_deref())?;
    anyhow::ensure!(
        args.batch_lease_secs > 0,
        "--batch-lease-secs must be at least 1"
    );
    jobs_cfg.lease = Duration::from_secs(args.batch_lease_secs);
    jobs_cfg.judging_grace = args.batch_judging_grace;
    jobs_cfg.workers = args.batch_workers.max(1);
    jobs_cfg.retention = args.retention;
    jobs_cfg.unclaimed = args.retention_unclaimed;
    jobs_cfg.quota = jobs::Quota {
        active_jobs: args.batch_quota_jobs.max(1),
        bytes: args.batch_quota_mb.max(1).saturating_mul(1024 * 1024),
        uploads: args.batch_quota_uploads.max(1),
        uploads_in_all: args.batch_max_uploads,
    };
    let analyzer_for_jobs = analyzer.clone();
    runtime.block_on(async move {
        let store = format!("{:?}", jobs_cfg.database);
        // Opening PostgreSQL connects and migrates: blocking work, off the reactor.
        let service = tokio::task::spawn_blocking(move || {
            jobs::JobService::open(jobs_cfg, analyzer_for_jobs)
        })
        .await?
        .with_context(|| {
            format!(
                "opening the batch store ({store}) in {}",
                data_dir.display()
            )
        })?;
        tracing::info!(store = %store, "batch store open");
        // Unfinished jobs from before a restart are picked up here.
        service.spawn_runners();
        service.spawn_sweeper();
        let ext = server::Extensions {
            public: playground::router(),
            jobs: Some(service),
        };
        let listener = tokio::net::TcpListener::bind(cfg.bind)
            .await
            .with_context(|| format!("cannot listen on {}", cfg.bind))?;
        server::serve(listener, cfg, analyzer, ext, server::shutdown_signal()).await
    })
}

/// `$XDG_DATA_HOME/livegate` (default `~/.local/share/livegate`), else `./livegate-data`.
fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .map(|d| d.join("livegate"))
        .unwrap_or_else(|| PathBuf::from("livegate-data"))
}

/// JSON (or text) logs on stderr filtered by `RUST_LOG` (default `info`); a no-op when the caller
/// already installed a subscriber.
fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        // Colour only on a terminal: escape codes in a pipe or a log file are noise.
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
}

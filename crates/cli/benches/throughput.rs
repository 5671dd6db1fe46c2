//! Throughput of `POST /liveness` over loopback HTTP (issue #15): a real `livegate serve`
//! process (real models, default workers = cores, default queue), closed-loop clients each
//! with a token of its own, a warm-up, then a fixed measuring window. Per case it prints
//! requests/s, requests/s per core, p50/p99 latency of the 200 answers, every non-200 answer
//! by kind, the server's CPU time per request and the server process's peak RSS.
//!
//! `cargo bench -p livegate --bench throughput [-- FILTER]` (needs `../shared/testdata`, the
//! models and `ffmpeg`). FILTER picks cases by substring, e.g. `webcam` or `12mp/16`.
//!
//! Environment: `LIVEGATE_BENCH_SECS` (measuring window, default 12), `LIVEGATE_BENCH_WARMUP_SECS`
//! (default 3), `LIVEGATE_BENCH_CLIENTS` (comma-separated client counts, default `8,16`). The
//! server reads its own variables as usual, e.g. `LIVEGATE_WORKERS`, `LIVEGATE_QUEUE_DEPTH`.
//!
//! Under `cargo test --all-targets` (no `--bench` argument) it is a smoke test instead: the same
//! server, one client, a few requests per still, every answer must be 200.

use server::{MintOptions, SigningKey};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::http::{Reply, percentile_ms};
use testkit::multipart::Form;
use testkit::{procfs, stills};

const SECRET: &str = "throughput-bench-secret-0123456789abcdef";

/// What a client waits after a refusal before it asks again: the server advises 2 s in
/// `Retry-After`; a well-behaved client waits, and 200 ms keeps the pressure on (the load
/// test's reliability run does the same).
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// One `livegate serve` child on a free loopback port; killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    _data: tempfile::TempDir,
}

impl Server {
    fn start(rt: &tokio::runtime::Runtime) -> Self {
        // Reserving a port by binding and releasing it races with other processes only in
        // theory: nothing else here binds ephemeral ports in that instant.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port");
        let data = tempfile::tempdir().expect("tempdir");
        let child = Command::new(env!("CARGO_BIN_EXE_livegate"))
            .args(["serve", "--bind", &addr.to_string(), "--jwt-secret", SECRET])
            .args(["--log-format", "text"])
            // Batch jobs are not measured; their store must not land in the user's data dir.
            .arg("--data-dir")
            .arg(data.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting livegate serve");
        let mut server = Self {
            child,
            addr,
            _data: data,
        };
        let t0 = Instant::now();
        // The models load before the port opens: until then connecting is refused.
        while !rt
            .block_on(testkit::http::get(addr, "/readyz"))
            .is_ok_and(|r| r.status == 200)
        {
            if let Some(status) = server.child.try_wait().expect("child status") {
                panic!("livegate serve exited: {status}");
            }
            assert!(
                t0.elapsed() < Duration::from_secs(120),
                "livegate serve not ready after 120 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn token(sub: &str) -> String {
    server::mint(
        &SigningKey::Hs256(SECRET.as_bytes().to_vec()),
        &MintOptions {
            sub: sub.into(),
            ttl: Duration::from_secs(3600),
            issuer: None,
            audience: None,
            kid: None,
        },
    )
    .expect("minting a token")
}

/// One answer (or a failed exchange), when it ended and how long it took.
struct Sample {
    done: Instant,
    took: Duration,
    outcome: Result<u16, String>,
}

/// `clients` closed-loop clients sending `body` until `end`; every request that ended is kept.
async fn drive(addr: SocketAddr, body: Arc<Vec<u8>>, clients: usize, end: Instant) -> Vec<Sample> {
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            // A token per client: the server holds each client to a share of its queue.
            let (body, token) = (body.clone(), token(&format!("bench-{i}")));
            tokio::spawn(async move {
                let mut out = Vec::new();
                while Instant::now() < end {
                    let t = Instant::now();
                    let reply = testkit::http::post_form(addr, "/liveness", &token, &body).await;
                    let ok = matches!(reply, Ok(Reply { status: 200, .. }));
                    out.push(Sample {
                        done: Instant::now(),
                        took: t.elapsed(),
                        outcome: reply.map(|r| r.status).map_err(|e| e.to_string()),
                    });
                    if !ok {
                        tokio::time::sleep(RETRY_PAUSE).await;
                    }
                }
                out
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("client task"));
    }
    all
}

struct Still {
    name: &'static str,
    what: String,
    body: Arc<Vec<u8>>,
}

fn still(name: &'static str, what: &str, bytes: &[u8]) -> Still {
    Still {
        name,
        what: format!("{what}, {} KiB", bytes.len() / 1024),
        body: Arc::new(Form::new().file("image", "still.jpg", bytes).body()),
    }
}

fn env_secs(name: &str, default: f64) -> Duration {
    let v = std::env::var(name).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v}: seconds expected"))
    });
    Duration::from_secs_f64(v)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench = args.iter().any(|a| a == "--bench");
    let filter: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    // Loud skip without data, a failure under CI (`testkit::testdata`).
    let Some(td) = testkit::testdata() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let webcam = std::fs::read(td.join(stills::WEBCAM_640X480)).expect("the webcam still");
    let portrait = std::fs::read(stills::portrait_12mp(&td, dir.path())).expect("12 MP still");
    let stills = [
        still("webcam_640x480", "640×480 NUAA webcam JPEG", &webcam),
        still("12mp", "3000×4000 portrait JPEG", &portrait),
    ];

    // The clients' reactor: one thread is plenty for 16 sockets, and leaves the cores to the
    // server it measures.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let t_start = Instant::now();
    let server = Server::start(&rt);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    if !bench {
        for s in &stills {
            let samples = rt.block_on(async {
                let mut out = Vec::new();
                for _ in 0..3 {
                    let r = testkit::http::post_form(
                        server.addr,
                        "/liveness",
                        &token("smoke"),
                        &s.body,
                    )
                    .await
                    .expect("a reply");
                    out.push(r);
                }
                out
            });
            for r in samples {
                assert_eq!(r.status, 200, "{}: {}", s.name, r.text);
            }
        }
        println!(
            "throughput smoke test: 3 × 2 stills answered 200 by livegate serve (run with `cargo bench` to measure)"
        );
        return;
    }

    let warmup = env_secs("LIVEGATE_BENCH_WARMUP_SECS", 3.0);
    let window = env_secs("LIVEGATE_BENCH_SECS", 12.0);
    let clients: Vec<usize> = std::env::var("LIVEGATE_BENCH_CLIENTS")
        .unwrap_or_else(|_| "8,16".into())
        .split(',')
        .map(|c| c.trim().parse().expect("LIVEGATE_BENCH_CLIENTS: numbers"))
        .collect();
    println!(
        "livegate serve (pid {}) on {}, ready {:.1} s after start; {cores} cores; workers {}, queue {}; \
         warm-up {:.0} s, window {:.0} s; load average before: {}",
        server.pid(),
        server.addr,
        t_start.elapsed().as_secs_f64(),
        std::env::var("LIVEGATE_WORKERS").unwrap_or_else(|_| "= cores (default)".into()),
        std::env::var("LIVEGATE_QUEUE_DEPTH").unwrap_or_else(|_| "= 4 × workers (default)".into()),
        warmup.as_secs_f64(),
        window.as_secs_f64(),
        load_average()
    );
    println!(
        "| case | still | req/s | req/s per core | p50 ms | p99 ms | p99/p50 | non-200 | server CPU ms/req · cores busy | server peak RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut failures = 0;
    for s in &stills {
        for &n in &clients {
            let name = format!("{}/{n}", s.name);
            if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
                continue;
            }
            // Peak RSS of this case alone (warm-up included: the same load).
            let rss_reset = procfs::reset_peak_rss(&server.pid());
            let begin = Instant::now() + warmup;
            let end = begin + window;
            let pid = server.pid();
            let (samples, cpu) = rt.block_on(async {
                let clients = tokio::spawn(drive(server.addr, s.body.clone(), n, end));
                tokio::time::sleep_until(begin.into()).await;
                let cpu0 = procfs::cpu_time(&pid);
                tokio::time::sleep_until(end.into()).await;
                let cpu1 = procfs::cpu_time(&pid);
                let samples = clients.await.expect("clients");
                (samples, cpu0.zip(cpu1).map(|(a, b)| b - a))
            });
            let peak_mib = procfs::status_kb(&pid, "VmHWM:").map(|kb| kb / 1024);
            // Only what ended inside the window counts: no ramp-up, no drain.
            let counted: Vec<&Sample> = samples
                .iter()
                .filter(|x| x.done >= begin && x.done <= end)
                .collect();
            let mut ok: Vec<Duration> = counted
                .iter()
                .filter(|x| x.outcome == Ok(200))
                .map(|x| x.took)
                .collect();
            let mut refused: BTreeMap<String, usize> = BTreeMap::new();
            for x in counted.iter().filter(|x| x.outcome != Ok(200)) {
                let kind = match &x.outcome {
                    Ok(code) => code.to_string(),
                    Err(e) => format!("io error ({e})"),
                };
                *refused.entry(kind).or_default() += 1;
            }
            // Back-pressure (503) and rate limiting (429) are answers the API promises under
            // overload; anything else is a failure of the server.
            failures += refused
                .iter()
                .filter(|(k, _)| k.as_str() != "503" && k.as_str() != "429")
                .map(|(_, c)| c)
                .sum::<usize>();
            let secs = window.as_secs_f64();
            let rate = ok.len() as f64 / secs;
            let (p50, p99) = (percentile_ms(&mut ok, 0.5), percentile_ms(&mut ok, 0.99));
            let non_200 = if refused.is_empty() {
                "0".to_owned()
            } else {
                refused
                    .iter()
                    .map(|(k, c)| format!("{c} × {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            // Cores busy tells how much of the machine the server got: on a shared machine
            // far less than `cores`, and req/s falls with it while CPU per request does not.
            let server_cpu = cpu.filter(|_| !ok.is_empty()).map_or("?".into(), |c| {
                format!(
                    "{:.1} · {:.2}",
                    c.as_secs_f64() * 1e3 / ok.len() as f64,
                    c.as_secs_f64() / secs
                )
            });
            println!(
                "| {n} clients | {} | {rate:.1} | {:.1} | {p50:.0} | {p99:.0} | {:.2} | {non_200} of {} | {} | {}{} |",
                s.what,
                rate / cores as f64,
                p99 / p50,
                counted.len(),
                server_cpu,
                peak_mib.map_or("?".into(), |m| m.to_string()),
                if rss_reset { "" } else { " (since start)" },
            );
        }
    }
    println!(
        "RSS is the `livegate serve` process's VmHWM over the case (warm-up included); the clients \
         run in this bench process. Load average after: {}",
        load_average()
    );
    drop(server);
    assert_eq!(
        failures, 0,
        "answers other than 200, 429 and 503 (see the table)"
    );
}

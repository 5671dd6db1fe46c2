//! The accept loop: a cap on open connections, a header-read (and keep-alive idle) timeout,
//! the peer address for every request, and a graceful drain bounded by the grace period.
//!
//! `axum::serve` sets no header timeout and no connection cap, so 300 connections that send
//! half a header (or nothing) stayed open forever and, with a small descriptor limit, took the
//! health check down with them. Here every connection must deliver its headers within
//! `header_timeout` (hyper runs the same timer while a keep-alive connection waits for its next
//! request), and at most `max_connections` are served at once; more wait in the kernel backlog.
//!
//! One remote address may hold at most `per_address` of those connections: without it one
//! machine opening half-sent requests as fast as the header timeout closes them could take
//! every slot. IPv6 addresses count per /64, the block one host is usually given. A connection
//! over the cap gets a 503 in the contract's envelope and is closed at once, without taking a
//! slot. A response the client does not read within `write_timeout` closes the connection.

use crate::error::ApiError;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use jobs::owner::Holdings;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt;

#[derive(Debug, Clone)]
pub struct ConnLimits {
    pub max_connections: usize,
    /// Connections one remote address may hold; `None`: no cap.
    pub per_address: Option<usize>,
    pub header_timeout: Duration,
    /// Longest a write to the client may wait for it to read; then the connection is closed.
    pub write_timeout: Duration,
    /// How long in-flight requests may run once `shutdown` resolved.
    pub grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let per_address = Holdings::<IpAddr>::default();
    let cap = limits.per_address.unwrap_or(usize::MAX).max(1);
    let refusals = Arc::new(Semaphore::new(MAX_REFUSING));
    let over_cap = Arc::new(refusal_bytes());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(s) => s,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: not fatal.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let address = match per_address.take(&address_group(peer.ip()), cap) {
            Some(held) => held,
            None => {
                drop(slot);
                refuse(stream, &refusals, &over_cap);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app
            .clone()
            .map_request(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        // A client that stops reading its answers (pipelined requests, a full receive window)
        // would otherwise hold the connection forever: the header timeout does not run while
        // a response is being written.
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(limits.write_timeout));
        let io = TokioIo::new(Box::pin(stream));
        let conn = http.serve_connection(io, TowerToHyperService::new(app));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _slot = (slot, address);
            if let Err(e) = conn.await {
                tracing::debug!(peer = %peer, error = %e, "connection closed with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.grace) => {
            tracing::warn!(grace_s = limits.grace.as_secs(), "grace period over; dropping remaining connections");
        }
    }
    Ok(())
}

/// Refusals being written at once; past it an over-cap connection is closed without a word, so
/// a flood of them costs no more than its accept.
const MAX_REFUSING: usize = 64;
/// Time one refusal may take to write and to let the client read it before the close.
const REFUSAL_TIME: Duration = Duration::from_secs(1);

/// The whole HTTP/1.1 answer to a connection over its address's cap, written by hand once at
/// start-up. Handing such a connection to hyper would cost a task that waits for its request
/// head (up to the header timeout) — the very hold on the server the cap is there to stop —
/// whereas these bytes go out at once, whatever the client sends or fails to send.
fn refusal_bytes() -> Vec<u8> {
    let err = ApiError::too_many_connections();
    let body = serde_json::to_vec(&err.body()).unwrap_or_default();
    let resp = err.into_response();
    let status = resp.status();
    let retry = resp
        .headers()
        .get(axum::http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("1")
        .to_owned();
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nretry-after: {retry}\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

/// Answers `stream` with `answer` and closes it, within [`REFUSAL_TIME`]. What the client sent is
/// read and dropped until then, so that the close does not reset the connection before the
/// client has read the answer.
fn refuse(mut stream: TcpStream, refusals: &Arc<Semaphore>, answer: &Arc<Vec<u8>>) {
    let Ok(permit) = Arc::clone(refusals).try_acquire_owned() else {
        return;
    };
    let answer = Arc::clone(answer);
    tokio::spawn(async move {
        let _permit = permit;
        let _ = tokio::time::timeout(REFUSAL_TIME, async {
            stream.write_all(&answer).await?;
            stream.shutdown().await?;
            let mut sink = [0u8; 4096];
            while stream.read(&mut sink).await? > 0 {}
            Ok::<_, std::io::Error>(())
        })
        .await;
    });
}

/// The key a remote address is counted under: IPv4 as it is (an IPv4-mapped IPv6 address as
/// its IPv4), IPv6 by its /64, since one host usually holds a whole /64.
fn address_group(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_hosts_count_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_group(a), address_group(b));
        assert_ne!(address_group(a), address_group(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(
            address_group(mapped),
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
    }
}

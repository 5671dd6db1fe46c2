//! A raw HTTP/1.1 client over a real socket, for tests and benchmarks that measure the server
//! on a real listener (an in-process `oneshot` skips the accept loop, hyper and the kernel).
//! One connection per request (`Connection: close`), so the answer ends where the stream does.

use crate::multipart;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What came back: the status, the whole answer as text (status line, headers, body) and the
/// time from connecting to the end of the answer.
pub struct Reply {
    pub status: u16,
    pub text: String,
    pub took: Duration,
}

/// POSTs a [`multipart::Form`] body to `path` with a Bearer `token`.
pub async fn post_form(
    addr: SocketAddr,
    path: &str,
    token: &str,
    body: &[u8],
) -> std::io::Result<Reply> {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        multipart::content_type(),
        body.len()
    );
    exchange(addr, &head, body).await
}

/// GETs `path` without credentials (health and readiness probes).
pub async fn get(addr: SocketAddr, path: &str) -> std::io::Result<Reply> {
    let head = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    exchange(addr, &head, &[]).await
}

async fn exchange(addr: SocketAddr, head: &str, body: &[u8]) -> std::io::Result<Reply> {
    let t = Instant::now();
    let mut s = TcpStream::connect(addr).await?;
    let sent = async {
        s.write_all(head.as_bytes()).await?;
        s.write_all(body).await
    }
    .await;
    let mut out = Vec::new();
    let read = s.read_to_end(&mut out).await;
    // The server may answer before it has read the whole body (503 when the queue is full,
    // 413, 401) and close: the write then fails, but the answer is what the client gets.
    if out.is_empty() {
        sent?;
        read?;
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    // "HTTP/1.1 200 OK": the second word.
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("no HTTP status line in {:?}", &text[..text.len().min(80)]),
            )
        })?;
    Ok(Reply {
        status,
        text,
        took: t.elapsed(),
    })
}

/// The `p`-quantile (0..=1, nearest rank) of `v` in milliseconds; sorts `v`. `NaN` when empty.
pub fn percentile_ms(v: &mut [Duration], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1e3
}

//! The public listener, with the limits an unauthenticated client must not be able to exhaust:
//! at most `server.maxConnections` connections at once (the rest wait in the kernel's backlog), a
//! request's headers within `server.headerTimeoutMs` (slowloris; also the keep-alive idle limit), and a
//! write that makes no progress for `server.sendTimeoutMs` closes the connection, so a client that
//! stops reading a stream releases its model slot. HTTP/1.1 with upgrades (Socket.IO's WebSocket).
//! Shutdown: stop accepting, let open connections finish (bounded by the caller).

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Sleep;
use tower::ServiceExt;

pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub send_timeout: Duration,
}

impl Limits {
    pub fn of(config: &crate::config::Config) -> Self {
        let ms = |v: i64| Duration::from_millis(u64::try_from(v).unwrap_or(0));
        Self {
            max_connections: usize::try_from(config.server.max_connections).unwrap_or(1).max(1),
            header_timeout: ms(config.server.header_timeout_ms),
            send_timeout: ms(config.server.send_timeout_ms),
        }
    }
}

/// Accepts until `stop` resolves, then asks every open connection to finish its current request and
/// returns a future that resolves once all of them have closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) -> impl Future<Output = ()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (closing_tx, closing_rx) = watch::channel(false);
    let (open_tx, open_rx) = watch::channel(());
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit { Ok(p) => p, Err(_) => break },
            () = &mut stop => break,
        };
        let (tcp, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, or a connection reset before we took it: keep serving.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "TCP_NODELAY not set");
        }
        let connection = Connection { app: app.clone(), addr, closing: closing_rx.clone(), open: open_rx.clone() };
        tokio::spawn(connection.run(tcp, limits.header_timeout, limits.send_timeout, permit));
    }
    drop(listener);
    let _ = closing_tx.send(true);
    drop(open_rx);
    async move { open_tx.closed().await }
}

struct Connection {
    app: Router,
    addr: SocketAddr,
    closing: watch::Receiver<bool>,
    /// Held until the connection ends: the server's drain waits for every one to be dropped.
    open: watch::Receiver<()>,
}

impl Connection {
    async fn run(
        mut self,
        tcp: TcpStream,
        header_timeout: Duration,
        send_timeout: Duration,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) {
        let (app, addr) = (self.app.clone(), self.addr);
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(addr));
            app.clone().oneshot(request.map(axum::body::Body::new))
        });
        let io = TokioIo::new(SendTimeout::new(tcp, send_timeout));
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(header_timeout);
        let connection = builder.serve_connection(io, service).with_upgrades();
        tokio::pin!(connection);
        let mut asked_to_close = false;
        loop {
            if !asked_to_close && *self.closing.borrow() {
                connection.as_mut().graceful_shutdown();
                asked_to_close = true;
            }
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(client = %addr, error = %err, "connection ended");
                    }
                    break;
                }
                changed = self.closing.changed(), if !asked_to_close => {
                    if changed.is_err() {
                        connection.as_mut().graceful_shutdown();
                        asked_to_close = true;
                    }
                }
            }
        }
        drop(permit);
        drop(self.open);
    }
}

/// A stream whose writes fail with `TimedOut` once one has waited `limit` without progress.
struct SendTimeout<T> {
    inner: T,
    limit: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> SendTimeout<T> {
    fn new(inner: T, limit: Duration) -> Self {
        Self { inner, limit, stalled: None }
    }

    /// Called when a write could not progress: pending until the limit, then the error.
    fn stall<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let limit = self.limit;
        let timer = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the client read nothing for {} ms (server.sendTimeoutMs)", limit.as_millis()),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn progressed<R>(&mut self, result: Poll<io::Result<R>>, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        match result {
            Poll::Ready(result) => {
                self.stalled = None;
                Poll::Ready(result)
            }
            Poll::Pending => self.stall(cx),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for SendTimeout<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for SendTimeout<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.progressed(result, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.progressed(result, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    /// A flush that completes says nothing about the peer reading (a TCP flush is a no-op), so it does
    /// not reset the stall timer; one that cannot complete counts as a stall.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.stall(cx),
            ready => ready,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Raises the soft limit on open files to the hard limit, so `server.maxConnections` (plus the
/// database, children's pipes and upstream connections) fits; a failure is logged, never fatal.
pub fn raise_open_files_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => tracing::debug!(from = soft, to = hard, "raised the open files limit"),
            Err(err) => tracing::warn!(error = %err, soft, "could not raise the open files limit"),
        },
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, "could not read the open files limit"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn a_write_the_peer_never_reads_fails_after_the_limit_even_when_flushed_between() {
        let (ours, theirs) = tokio::io::duplex(64);
        let mut stream = SendTimeout::new(ours, Duration::from_millis(200));
        stream.write_all(&[0u8; 64]).await.unwrap();
        stream.flush().await.unwrap();
        let started = std::time::Instant::now();
        let err = loop {
            if let Err(err) = stream.write_all(&[0u8; 8]).await {
                break err;
            }
            if let Err(err) = stream.flush().await {
                break err;
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(200), "{:?}", started.elapsed());
        drop(theirs);
    }

    #[tokio::test]
    async fn a_peer_that_keeps_reading_is_never_timed_out() {
        let (ours, mut theirs) = tokio::io::duplex(16);
        let reader = tokio::spawn(async move {
            let mut sink = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut theirs, &mut sink).await.map(|_| sink.len())
        });
        let mut stream = SendTimeout::new(ours, Duration::from_millis(50));
        for _ in 0..20 {
            stream.write_all(&[1u8; 64]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(stream);
        assert_eq!(reader.await.unwrap().unwrap(), 20 * 64);
    }
}

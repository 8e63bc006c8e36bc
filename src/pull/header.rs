//! The GGUF header of a file on the hub, read with HTTP `Range` requests: the first 2 MiB, then more
//! while the parser says the prefix ends too early (vocabularies of large models run to several MiB),
//! never past 32 MiB and never the whole file: a hub that ignores `Range` and sends everything is read
//! only up to what was asked, then the connection is dropped.

use super::hub::Hub;
use crate::gguf::{GgufError, ModelSummary};
use serde::Serialize;

const FIRST: u64 = 2 * 1024 * 1024;
const CAP: u64 = 32 * 1024 * 1024;
/// Asked beyond what the parser said it needs, so that the next section does not cost one more request.
const SLACK: u64 = 1024 * 1024;

/// What the dashboard shows of a file it has not downloaded.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    pub architecture: Option<String>,
    pub name: Option<String>,
    pub context_length: Option<u64>,
    pub block_count: Option<u64>,
    /// `None` when the file lists no tensors (the sum over them is the count).
    pub parameters: Option<u64>,
    #[serde(skip)]
    pub summary: ModelSummary,
}

impl Header {
    fn of(summary: ModelSummary) -> Self {
        Self {
            architecture: summary.architecture.clone(),
            name: summary.name.clone(),
            context_length: summary.context_length,
            block_count: summary.block_count,
            parameters: (summary.parameters > 0).then_some(summary.parameters),
            summary,
        }
    }
}

/// Reads the header of the file at `url` (`size`: its length when known). The error is a message for
/// people: why the header could not be read.
pub async fn read(hub: &Hub, url: &str, size: Option<u64>) -> Result<Header, String> {
    let mut bytes: Vec<u8> = Vec::new();
    let mut want = size.map_or(FIRST, |s| s.min(FIRST));
    loop {
        let from = bytes.len() as u64;
        fetch_range(hub, url, from, want, &mut bytes).await?;
        let got = bytes.len() as u64;
        let prefix = std::mem::take(&mut bytes);
        let (parsed, prefix) = tokio::task::spawn_blocking(move || {
            let parsed = crate::gguf::read_from(std::io::Cursor::new(&prefix));
            (parsed, prefix)
        })
        .await
        .map_err(|e| e.to_string())?;
        bytes = prefix;
        let short = got < want || size.is_some_and(|s| got >= s);
        match parsed {
            Ok(info) => return Ok(Header::of(info.summary)),
            Err(GgufError::Truncated { offset, needed, .. }) if !short && want < CAP => {
                let needed = offset.saturating_add(needed).saturating_add(SLACK);
                want = needed.max(want.saturating_mul(2)).min(CAP);
                if let Some(size) = size {
                    want = want.min(size);
                }
            }
            Err(GgufError::Truncated { .. }) if !short => {
                return Err(format!("the GGUF header is larger than {} MiB", CAP / (1024 * 1024)));
            }
            Err(err) => return Err(err.to_string()),
        }
    }
}

/// Appends bytes `from..want` of the file to `bytes`; stops at `want` whatever the server sends.
async fn fetch_range(hub: &Hub, url: &str, from: u64, want: u64, bytes: &mut Vec<u8>) -> Result<(), String> {
    let range = format!("bytes={from}-{}", want.saturating_sub(1));
    let mut response = hub
        .get(url)
        .header(reqwest::header::RANGE, range)
        .send()
        .await
        .map_err(|e| format!("the hub could not be reached: {e}"))?;
    match response.status().as_u16() {
        206 => {}
        // The whole file from its start: skip what we have (only happens when `from` is 0 in practice).
        200 if from == 0 => {}
        200 => return Err("the hub ignores Range requests".into()),
        401 | 403 => return Err("the file needs access: set HF_TOKEN to a token that has it".into()),
        status => return Err(format!("the hub answered {status}")),
    }
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("reading the header failed: {e}"))? {
        let room = want.saturating_sub(bytes.len() as u64) as usize;
        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if bytes.len() as u64 >= want {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A version 3 GGUF with no tensors: `general.architecture = llama` and filler strings of `len` bytes in
    /// all (each at most 8 MiB: a string over 16 MiB is refused by the parser).
    fn gguf(len: usize) -> Vec<u8> {
        let mut kvs = vec![("general.architecture".to_string(), "llama".to_string())];
        let piece = 8 * 1024 * 1024;
        for (i, at) in (0..len).step_by(piece).enumerate() {
            kvs.push((format!("filler.{i}"), "x".repeat(piece.min(len - at))));
        }
        let mut b = b"GGUF".to_vec();
        b.extend(3u32.to_le_bytes());
        b.extend(0u64.to_le_bytes());
        b.extend((kvs.len() as u64).to_le_bytes());
        for (key, value) in &kvs {
            b.extend((key.len() as u64).to_le_bytes());
            b.extend(key.as_bytes());
            b.extend(8u32.to_le_bytes());
            b.extend((value.len() as u64).to_le_bytes());
            b.extend(value.as_bytes());
        }
        b
    }

    /// Serves `body` over HTTP/1.1, honouring `Range: bytes=a-b` (206) unless `ranges` is false (200, all
    /// of it); records each request's Range header.
    async fn serve(body: Vec<u8>, ranges: bool) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/f.gguf", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut head = Vec::new();
                while !head.ends_with(b"\r\n\r\n") {
                    let mut byte = [0u8; 1];
                    if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                        break;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let range = head.lines().find_map(|l| l.strip_prefix("range: bytes=")).unwrap_or("").to_string();
                log.lock().unwrap().push(range.clone());
                let (from, to) = range.split_once('-').unwrap_or(("0", ""));
                let from: usize = from.parse().unwrap_or(0);
                let to = to.parse::<usize>().map_or(body.len() - 1, |t| t.min(body.len() - 1));
                let (status, slice) =
                    if ranges { ("206 Partial Content", &body[from..=to]) } else { ("200 OK", &body[..]) };
                let reply =
                    format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", slice.len());
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.write_all(slice).await;
            }
        });
        (url, seen)
    }

    fn hub() -> Hub {
        Hub::from_env(super::super::hub::Clients::new().unwrap())
    }

    #[tokio::test]
    async fn a_header_past_the_first_read_is_read_on_with_a_second_range() {
        let body = gguf(5 * 1024 * 1024);
        let (url, seen) = serve(body.clone(), true).await;
        let header = read(&hub(), &url, Some(body.len() as u64)).await.unwrap();
        assert_eq!(header.architecture.as_deref(), Some("llama"));
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0], "0-2097151");
        assert!(seen[1].starts_with("2097152-"), "{seen:?}");
    }

    #[tokio::test]
    async fn a_header_over_the_cap_is_an_error_after_reading_at_most_the_cap() {
        let body = gguf(40 * 1024 * 1024);
        let (url, seen) = serve(body, true).await;
        let err = read(&hub(), &url, None).await.unwrap_err();
        assert!(err.contains("larger than 32 MiB"), "{err}");
        let asked: u64 = seen
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.split_once('-').map(|(a, b)| b.parse::<u64>().unwrap() - a.parse::<u64>().unwrap() + 1).unwrap())
            .sum();
        assert!(asked <= CAP, "{asked}");
    }

    #[tokio::test]
    async fn a_server_that_ignores_range_is_read_only_as_far_as_asked() {
        let body = gguf(64);
        let (url, _) = serve(body.clone(), false).await;
        assert_eq!(read(&hub(), &url, None).await.unwrap().architecture.as_deref(), Some("llama"));
        let big = gguf(5 * 1024 * 1024);
        let (url, _) = serve(big, false).await;
        assert_eq!(read(&hub(), &url, None).await.unwrap_err(), "the hub ignores Range requests");
    }
}

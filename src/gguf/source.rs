//! A little-endian reader over a seekable stream that knows the stream's length, so every declared size
//! is checked against the bytes that actually remain before a byte is read or a buffer allocated.

use super::{GgufError, MAX_RETAINED_BYTES};
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};

pub(super) struct Source<R> {
    inner: BufReader<R>,
    pos: u64,
    len: u64,
    /// Bytes of metadata kept in memory so far, charged against `retained_limit`.
    retained: u64,
    pub(super) retained_limit: u64,
    /// Which part of the file is being read; named in [`GgufError::Truncated`].
    pub(super) section: &'static str,
}

impl<R: Read + Seek> Source<R> {
    /// Reads from the stream's start; its end (found by seeking there) bounds every declared size.
    pub(super) fn new(mut inner: R) -> Result<Self, GgufError> {
        let len = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(0))?;
        let inner = BufReader::new(inner);
        Ok(Self { inner, pos: 0, len, retained: 0, retained_limit: MAX_RETAINED_BYTES, section: "header" })
    }

    /// Fails with `Truncated` unless `n` more bytes exist: a 2^60-byte string fails here, without reading.
    pub(super) fn need(&self, n: u64) -> Result<(), GgufError> {
        let available = self.len.saturating_sub(self.pos);
        if n > available {
            return Err(GgufError::Truncated { section: self.section, offset: self.pos, needed: n, available });
        }
        Ok(())
    }

    pub(super) fn bytes<const N: usize>(&mut self) -> Result<[u8; N], GgufError> {
        let mut buf = [0; N];
        self.fill(&mut buf)?;
        Ok(buf)
    }

    pub(super) fn u32(&mut self) -> Result<u32, GgufError> {
        self.bytes().map(u32::from_le_bytes)
    }

    pub(super) fn u64(&mut self) -> Result<u64, GgufError> {
        self.bytes().map(u64::from_le_bytes)
    }

    /// A `u64` count or length, refused when over `limit`.
    pub(super) fn count(&mut self, what: &'static str, limit: u64) -> Result<u64, GgufError> {
        let offset = self.pos;
        let value = self.u64()?;
        check_limit(what, value, limit, offset)?;
        Ok(value)
    }

    /// A GGUF string (`u64` length, bytes). Invalid UTF-8 becomes U+FFFD rather than an error: one odd
    /// token in a vocabulary should not hide a model that llama.cpp loads.
    pub(super) fn string(&mut self, what: &'static str, limit: u64) -> Result<String, GgufError> {
        let len = self.count(what, limit)?;
        self.need(len)?;
        self.charge(len)?;
        let size = usize::try_from(len).map_err(|_| too_large(what, len, limit, self.pos))?;
        let mut buf = vec![0; size];
        self.fill(&mut buf)?;
        Ok(String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// Passes over a GGUF string without keeping it.
    pub(super) fn skip_string(&mut self, what: &'static str, limit: u64) -> Result<(), GgufError> {
        let len = self.count(what, limit)?;
        self.skip(len)
    }

    /// Moves `n` bytes forward; a seek within the buffer costs nothing, a longer one one system call.
    pub(super) fn skip(&mut self, n: u64) -> Result<(), GgufError> {
        self.need(n)?;
        let step = i64::try_from(n).map_err(|_| too_large("skip", n, i64::MAX as u64, self.pos))?;
        self.inner.seek_relative(step)?;
        self.pos += n;
        Ok(())
    }

    /// Counts `n` bytes against the in-memory budget before they are allocated.
    pub(super) fn charge(&mut self, n: u64) -> Result<(), GgufError> {
        self.retained = self.retained.saturating_add(n);
        check_limit("metadata kept in memory (bytes)", self.retained, self.retained_limit, self.pos)
    }

    pub(super) fn pos(&self) -> u64 {
        self.pos
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<(), GgufError> {
        let n = buf.len() as u64;
        self.need(n)?;
        match self.inner.read_exact(buf) {
            Ok(()) => {
                self.pos += n;
                Ok(())
            }
            // The file shrank after its length was taken.
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                Err(GgufError::Truncated { section: self.section, offset: self.pos, needed: n, available: 0 })
            }
            Err(e) => Err(e.into()),
        }
    }
}

pub(super) fn check_limit(what: &'static str, value: u64, limit: u64, offset: u64) -> Result<(), GgufError> {
    if value > limit {
        return Err(too_large(what, value, limit, offset));
    }
    Ok(())
}

fn too_large(what: &'static str, value: u64, limit: u64, offset: u64) -> GgufError {
    GgufError::TooLarge { what, value, limit, offset }
}

//! Chrome's native-messaging framing: a 4-byte length in native byte order, then that many
//! bytes of UTF-8 JSON. Generic over `Read`/`Write` so every edge case is tested on byte slices.
//!
//! * A clean EOF before a frame starts is the browser closing the port: [`read_frame`] returns
//!   `Ok(None)` and the host exits 0.
//! * A length over the cap is refused *before* allocating: the frame's bytes are skipped (read
//!   into a sink), so the stream stays in step and the host can answer with an error.
//! * EOF inside a length or a body is [`FrameError::Truncated`].
//! * [`write_frame`] refuses payloads over Chrome's 1 MiB host→browser limit; larger replies
//!   are cut into chunks before they get here (`datalink_core::protocol::encode_reply`).

use std::io::{self, Read, Write};

use datalink_core::protocol::MAX_REPLY_FRAME;

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The length prefix exceeds the cap; the body was skipped.
    #[error("frame of {len} bytes exceeds the {cap}-byte cap")]
    TooLarge { len: usize, cap: usize },
    /// The stream ended inside a frame.
    #[error("stream ended after {got} of {expected} bytes")]
    Truncated { expected: usize, got: usize },
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Reads one frame. `Ok(None)` is a clean end of input.
pub fn read_frame<R: Read>(input: &mut R, cap: usize) -> Result<Option<Vec<u8>>, FrameError> {
    let mut prefix = [0u8; 4];
    let got = read_full(input, &mut prefix)?;
    if got == 0 {
        return Ok(None);
    }
    if got < prefix.len() {
        return Err(FrameError::Truncated { expected: prefix.len(), got });
    }
    let len = u32::from_ne_bytes(prefix) as usize;
    if len > cap {
        let skipped = io::copy(&mut input.take(len as u64), &mut io::sink())? as usize;
        if skipped < len {
            return Err(FrameError::Truncated { expected: len, got: skipped });
        }
        return Err(FrameError::TooLarge { len, cap });
    }
    let mut body = vec![0u8; len];
    let got = read_full(input, &mut body)?;
    if got < len {
        return Err(FrameError::Truncated { expected: len, got });
    }
    Ok(Some(body))
}

/// Writes one frame and flushes it.
pub fn write_frame<W: Write>(output: &mut W, payload: &[u8]) -> io::Result<()> {
    if payload.len() > MAX_REPLY_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a {}-byte frame exceeds the browser's {MAX_REPLY_FRAME}-byte limit", payload.len()),
        ));
    }
    output.write_all(&(payload.len() as u32).to_ne_bytes())?;
    output.write_all(payload)?;
    output.flush()
}

/// Like `read_exact`, but reports how much it read before EOF instead of failing.
fn read_full<R: Read>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut out = (payload.len() as u32).to_ne_bytes().to_vec();
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn reads_consecutive_frames_then_clean_eof() {
        let mut bytes = frame(br#"{"id":1}"#);
        bytes.extend(frame("报关单".as_bytes()));
        bytes.extend(frame(b""));
        let mut input = Cursor::new(bytes);
        assert_eq!(read_frame(&mut input, 64).unwrap().unwrap(), br#"{"id":1}"#);
        assert_eq!(read_frame(&mut input, 64).unwrap().unwrap(), "报关单".as_bytes());
        assert_eq!(read_frame(&mut input, 64).unwrap().unwrap(), b"");
        assert!(read_frame(&mut input, 64).unwrap().is_none());
    }

    #[test]
    fn truncated_length_and_body() {
        let mut input = Cursor::new(vec![5u8, 0]);
        assert!(matches!(read_frame(&mut input, 64), Err(FrameError::Truncated { expected: 4, got: 2 })));
        let mut bytes = frame(b"abcdef");
        bytes.truncate(7);
        assert!(matches!(read_frame(&mut Cursor::new(bytes), 64), Err(FrameError::Truncated { expected: 6, got: 3 })));
    }

    #[test]
    fn oversized_frame_is_skipped_without_allocating_and_the_stream_stays_in_step() {
        let mut bytes = frame(&[b'x'; 100]);
        bytes.extend(frame(b"{}"));
        let mut input = Cursor::new(bytes);
        assert!(matches!(read_frame(&mut input, 10), Err(FrameError::TooLarge { len: 100, cap: 10 })));
        assert_eq!(read_frame(&mut input, 10).unwrap().unwrap(), b"{}");
    }

    #[test]
    fn a_4_gib_prefix_on_a_short_stream_is_truncation_not_an_allocation() {
        let mut bytes = u32::MAX.to_ne_bytes().to_vec();
        bytes.extend_from_slice(b"tiny");
        assert!(matches!(read_frame(&mut Cursor::new(bytes), 1024), Err(FrameError::Truncated { got: 4, .. })));
    }

    #[test]
    fn writes_native_endian_and_refuses_over_one_mib() {
        let mut out = Vec::new();
        write_frame(&mut out, b"{}").unwrap();
        assert_eq!(out, frame(b"{}"));
        let big = vec![b' '; MAX_REPLY_FRAME + 1];
        assert_eq!(write_frame(&mut Vec::new(), &big).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        assert!(write_frame(&mut Vec::new(), &big[1..]).is_ok());
    }
}

//! The framing invariant, checked by the `framing` fuzz target and replayed by `cargo test`
//! (see `datalink_core::fuzzing` for the other targets and how the three places share one check).
//!
//! [`check_framing`] reads its bytes as a few settings (a size cap, how short the pipe's reads
//! are, whether reads get interrupted) and a stream, then checks:
//!
//! * **any stream** → frames, `TooLarge` (the body skipped, the stream still in step) or
//!   `Truncated` at the very end — never a panic, an I/O error or a body over the cap; every frame
//!   read is exactly the bytes its prefix announced, and each gets exactly one reply, as the
//!   server loop gives it (`datalink_core::fuzzing::check_request_frame`);
//! * **round trip** → payloads written with [`write_frame`] read back identical, then a clean EOF;
//! * **the real cap** → a 4 GiB prefix on a short stream is `Truncated`, not a 4 GiB allocation
//!   (libFuzzer's `-malloc_limit_mb` would also turn any such allocation into a crash).

use std::io::{self, Read};

use datalink_core::fuzzing::{check_request_frame, frame_too_large_reply, Bytes};
use datalink_core::protocol::{encode_reply, MAX_REPLY_FRAME, MAX_REQUEST_FRAME};

use crate::framing::{read_frame, write_frame, FrameError};

/// A pipe that hands out at most `step` bytes per read and, when `interrupt`, fails every other
/// read with `Interrupted` (as a signal would).
struct Trickle<'a> {
    data: &'a [u8],
    pos: usize,
    step: usize,
    interrupt: bool,
    flip: bool,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.flip = !self.flip;
        if self.interrupt && self.flip {
            return Err(io::Error::from(io::ErrorKind::Interrupted));
        }
        let n = buf.len().min(self.step).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn prefix_at(stream: &[u8], at: usize) -> usize {
    let mut prefix = [0u8; 4];
    prefix.copy_from_slice(&stream[at..at + 4]);
    u32::from_ne_bytes(prefix) as usize
}

/// Any bytes → the framing's promises (see the module docs). Returns the replies the host sends.
pub fn check_framing(data: &[u8]) -> usize {
    let mut bytes = Bytes::new(data);
    let cap = usize::from(bytes.u16() % 2048);
    let step = 1 + usize::from(bytes.u8() % 16);
    let interrupt = bytes.bool();
    let cuts = bytes.u8();
    let stream = bytes.rest();

    // Any stream.
    let mut pipe = Trickle { data: stream, pos: 0, step, interrupt, flip: false };
    let mut replies = 0;
    loop {
        let at = pipe.pos;
        match read_frame(&mut pipe, cap) {
            Ok(None) => {
                assert_eq!(at, stream.len(), "a clean EOF only at the end");
                break;
            }
            Ok(Some(body)) => {
                let len = prefix_at(stream, at);
                assert!(len <= cap && body.len() == len, "a {}-byte body for a {len}-byte prefix, cap {cap}", body.len());
                assert_eq!(body, &stream[at + 4..at + 4 + len]);
                assert_eq!(pipe.pos, at + 4 + len, "the stream stays in step");
                check_request_frame(&body);
                replies += 1;
            }
            Err(FrameError::TooLarge { len, cap: said }) => {
                assert_eq!((len, said), (prefix_at(stream, at), cap));
                assert!(len > cap);
                assert_eq!(pipe.pos, at + 4 + len, "the refused body is skipped, the stream stays in step");
                let frames = encode_reply(&frame_too_large_reply(len, cap), MAX_REPLY_FRAME).expect("the refusal serializes");
                assert_eq!(frames.len(), 1, "a refusal is one frame");
                replies += 1;
            }
            Err(FrameError::Truncated { expected, got }) => {
                assert!(got < expected, "truncated after {got} of {expected}");
                assert_eq!(pipe.pos, stream.len(), "truncation only at the end");
                break;
            }
            Err(FrameError::Io(e)) => panic!("a byte stream gave an I/O error: {e}"),
        }
    }

    // Round trip: the stream cut into payloads of at most `cap` bytes.
    let mut payloads = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() && payloads.len() < 64 {
        let len = (usize::from(cuts) * (payloads.len() + 1) % (cap + 1)).min(rest.len());
        let (payload, after) = rest.split_at(len);
        payloads.push(payload);
        rest = after;
        if len == 0 && rest.len() == stream.len() && payloads.len() > 2 {
            break;
        }
    }
    let mut wire = Vec::new();
    for payload in &payloads {
        write_frame(&mut wire, payload).expect("a payload under the limit is written");
    }
    assert_eq!(wire.len(), payloads.iter().map(|p| 4 + p.len()).sum::<usize>());
    let mut pipe = Trickle { data: &wire, pos: 0, step, interrupt, flip: false };
    for payload in &payloads {
        let read = read_frame(&mut pipe, cap).expect("a written frame reads back");
        assert_eq!(read.as_deref(), Some(*payload), "write → read is the identity");
    }
    assert!(matches!(read_frame(&mut pipe, cap), Ok(None)), "then a clean EOF");

    // The real cap: a huge prefix on a short stream is truncation, not an allocation.
    let mut huge = u32::MAX.to_ne_bytes().to_vec();
    huge.extend_from_slice(&stream[..stream.len().min(64)]);
    let mut pipe = Trickle { data: &huge, pos: 0, step, interrupt, flip: false };
    assert!(matches!(read_frame(&mut pipe, MAX_REQUEST_FRAME), Err(FrameError::Truncated { .. })));
    replies
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Random settings and streams, and streams of well-formed frames over random caps.
        #[test]
        fn random_streams(data in prop::collection::vec(any::<u8>(), 0..400)) {
            check_framing(&data);
        }

        #[test]
        fn random_frame_sequences(cap in 0u16..300, step in any::<u8>(), payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..6)) {
            let mut data = cap.to_le_bytes().to_vec();
            data.extend_from_slice(&[step, step >> 4, 7]);
            for payload in &payloads {
                data.extend_from_slice(&(payload.len() as u32).to_ne_bytes());
                data.extend_from_slice(payload);
            }
            // Every frame is read or refused: one reply each.
            prop_assert_eq!(check_framing(&data), payloads.len());
        }
    }

    /// Replays `fuzz/corpus/framing/` (seeds) and `fuzz/regressions/framing/` (found cases).
    #[test]
    fn replays_the_framing_corpus_and_regressions() {
        let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
        let mut replayed = 0;
        let mut replies = 0;
        for folder in ["corpus", "regressions"] {
            let dir = fuzz.join(folder).join("framing");
            if folder == "regressions" && !dir.exists() {
                continue; // no failing input found yet
            }
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display())) {
                let path = entry.expect("a directory entry").path();
                if path.file_name().is_some_and(|n| n == "README.md") {
                    continue;
                }
                let data = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
                let outcome = std::panic::catch_unwind(|| check_framing(&data));
                replies += outcome.unwrap_or_else(|_| panic!("{} breaks the framing invariant", path.display()));
                replayed += 1;
            }
        }
        assert!(replayed >= 3, "only {replayed} framing cases");
        assert!(replies >= 3, "the seeds carry real requests ({replies} replies)");
    }

    #[test]
    fn settings_and_stream_are_read_as_documented() {
        // cap 64, 3-byte reads, interrupted, cut 5; then one ping frame.
        let ping = br#"{"id":1,"type":"ping","protocol":1}"#;
        let mut data = vec![64, 0, 2, 1, 5];
        data.extend_from_slice(&(ping.len() as u32).to_ne_bytes());
        data.extend_from_slice(ping);
        assert_eq!(check_framing(&data), 1);
        // The same frame over a cap of 8 is refused (one reply), the stream stays in step.
        data[0] = 8;
        data.extend_from_slice(&2u32.to_ne_bytes());
        data.extend_from_slice(b"{}");
        assert_eq!(check_framing(&data), 2);
    }
}

//! The card side of vsmartcard's `vpcd` socket protocol.
//!
//! `vpcd` is a PC/SC reader driver loaded by `pcscd` (Debian package `vsmartcard-vpcd`). For each
//! reader slot it **listens** on a TCP port (35963 for "Virtual PCD 00 00", 35964 for
//! "Virtual PCD 00 01", from `/etc/reader.conf.d/vpcd`); a card emulator **connects** to it, and
//! as long as that connection is open, pcscd sees a card in the slot. Closing it is pulling the
//! card out.
//!
//! Every message, both ways, is a 2-byte big-endian length and that many bytes:
//!
//! | from vpcd | meaning | the card answers |
//! |---|---|---|
//! | 1 byte `00` | power off | nothing |
//! | 1 byte `01` | power on | nothing |
//! | 1 byte `02` | reset | nothing |
//! | 1 byte `04` | "what is your ATR?" (asked on every presence poll) | the ATR |
//! | anything longer | a command APDU | the response APDU (data + SW1 SW2) |
//!
//! Checked against vsmartcard's `vpcd.c` and `VirtualSmartcard.py`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// What a card emulator implements; [`serve`] does the socket part.
pub trait Icc {
    /// The Answer To Reset.
    fn atr(&self) -> Vec<u8>;
    /// Power on (`true`) or off (`false`).
    fn power(&mut self, on: bool);
    /// A warm reset: security state is lost.
    fn reset(&mut self);
    /// Answers one command APDU; `None` pulls the card out instead of answering.
    fn apdu(&mut self, command: &[u8]) -> Option<Vec<u8>>;
}

/// Connects to vpcd on `127.0.0.1:port`, retrying for up to `patience` (pcscd may still be
/// starting). The returned stream is the inserted card.
pub fn connect(port: u16, patience: Duration) -> io::Result<TcpStream> {
    let deadline = Instant::now() + patience;
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Serves `icc` on `stream` until vpcd closes the socket, the stream is shut down from another
/// thread (card pulled), or the card itself asks to be pulled.
pub fn serve(mut stream: TcpStream, icc: &mut dyn Icc) -> io::Result<()> {
    loop {
        let mut len = [0u8; 2];
        match stream.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let mut message = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut message)?;
        let reply = match message.as_slice() {
            [0] => {
                icc.power(false);
                None
            }
            [1] => {
                icc.power(true);
                None
            }
            [2] => {
                icc.reset();
                None
            }
            [4] => Some(icc.atr()),
            [_] => None,
            command => match icc.apdu(command) {
                Some(response) => Some(response),
                None => {
                    let _ = stream.shutdown(Shutdown::Both);
                    return Ok(());
                }
            },
        };
        if let Some(reply) = reply {
            let len = u16::try_from(reply.len()).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "reply too long"))?;
            let mut out = len.to_be_bytes().to_vec();
            out.extend_from_slice(&reply);
            stream.write_all(&out)?;
        }
    }
}

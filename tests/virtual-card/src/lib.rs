//! Test helpers for DataLink's IC card layer: everything the card tests need to run against a
//! **real pcscd** without hardware, and against a **fake E-Port client control**.
//!
//! * [`card`]: an E-Port-like card (PIN with a retry counter, card number, certificate,
//!   signing) speaking the DataLink test profile — or, with an unknown ATR, a card the host must
//!   never send a PIN to.
//! * [`vpcd`]: the socket protocol of vsmartcard's `vpcd` reader driver, which lets that card
//!   plug into the machine's pcscd; [`InsertedCard`] is one plugged-in card on a thread.
//! * [`pcscd`]: reaching pcscd from a test (waiting for reader states with
//!   `SCardGetStatusChange`, never sleeping), its APDU log, a cross-process lock per slot, and a
//!   private pcscd in a mount namespace (for "no reader", "no service" and "service restarted").
//! * [`eport`]: a scripted WebSocket server speaking the E-Port client control's
//!   `_method`/`_id`/`args` protocol, on a random 127.0.0.1 port.
//! * [`host`]: drives `datalink-host` over its stdin/stdout exactly as the browser does.
//! * [`cert`]: a DER writer for an E-Port-shaped test certificate.
//!
//! The binary (`cargo run -p virtual-card -- --help`) plugs a test card into a slot by hand, for
//! the demo and for poking at the host with `datalink-host card status`.

pub mod card;
pub mod cert;
pub mod eport;
pub mod host;
pub mod hygiene;
pub mod pcscd;
pub mod vpcd;

use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

pub use card::{Card, CardSpec, Profile};

/// One vpcd slot: the TCP port the card connects to and the reader name pcscd shows for it
/// (from Debian's `/etc/reader.conf.d/vpcd`: `DEVICENAME /dev/null:0x8C7B`, two slots).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub port: u16,
    pub reader: &'static str,
}

/// The first virtual reader ("Virtual PCD 00 00", port 35963): the card tests use it.
pub const SLOT_0: Slot = Slot { port: 35963, reader: "Virtual PCD 00 00" };
/// The second virtual reader ("Virtual PCD 00 01", port 35964): left to the demo.
pub const SLOT_1: Slot = Slot { port: 35964, reader: "Virtual PCD 00 01" };

/// How long a card waits for pcscd to notice it coming or going (pcscd polls vpcd; < 1 s here).
pub const SEEN_WITHIN: Duration = Duration::from_secs(10);

/// A card plugged into vpcd, served on its own thread until [`InsertedCard::remove`] (or drop).
pub struct InsertedCard {
    card: Arc<Mutex<Card>>,
    stream: TcpStream,
    thread: Option<JoinHandle<()>>,
    atr: &'static [u8],
}

impl InsertedCard {
    /// Plugs a card into `slot` of the machine's pcscd and waits until pcscd reports it present
    /// with its ATR (after waiting for the slot to be empty, in case an earlier card is still
    /// being noticed as gone).
    pub fn insert(slot: Slot, spec: CardSpec) -> Result<InsertedCard, String> {
        let context = pcscd::context()?;
        // A card pulled by an earlier test may not be noticed yet: start from an empty slot.
        pcscd::wait_for(&context, slot.reader, pcscd::Presence::Empty, SEEN_WITHIN)?;
        let inserted = InsertedCard::plug(slot.port, spec)?;
        pcscd::wait_for(&context, slot.reader, pcscd::Presence::Present(inserted.atr), SEEN_WITHIN)?;
        Ok(inserted)
    }

    /// Plugs a card into whatever vpcd listens on `port` without waiting (for a pcscd this
    /// process cannot reach, such as a private one in a namespace).
    pub fn plug(port: u16, spec: CardSpec) -> Result<InsertedCard, String> {
        let card = Card::new(spec);
        let atr = card.atr();
        let stream = vpcd::connect(port, SEEN_WITHIN).map_err(|e| format!("cannot reach vpcd on port {port}: {e} (is pcscd running with vsmartcard-vpcd?)"))?;
        let served = stream.try_clone().map_err(|e| e.to_string())?;
        let card = Arc::new(Mutex::new(card));
        let shared = SharedCard(card.clone());
        let thread = std::thread::spawn(move || {
            let mut shared = shared;
            let _ = vpcd::serve(served, &mut shared);
        });
        Ok(InsertedCard { card, stream, thread: Some(thread), atr })
    }

    /// The card's state and its record of APDUs, now.
    pub fn card(&self) -> MutexGuard<'_, Card> {
        self.card.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Pulls the card out of `slot` and waits until pcscd reports the slot empty.
    pub fn remove(mut self, slot: Slot) -> Result<Card, String> {
        let context = pcscd::context()?;
        self.pull();
        pcscd::wait_for(&context, slot.reader, pcscd::Presence::Empty, SEEN_WITHIN)?;
        Ok(self.card().clone())
    }

    /// Pulls the card out without waiting for anyone to notice.
    pub fn unplug(mut self) -> Card {
        self.pull();
        self.card().clone()
    }

    /// Whether the card's thread ended (the card was pulled, or vpcd went away).
    pub fn is_out(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    fn pull(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for InsertedCard {
    fn drop(&mut self) {
        self.pull();
    }
}

struct SharedCard(Arc<Mutex<Card>>);

impl SharedCard {
    fn lock(&self) -> MutexGuard<'_, Card> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl vpcd::Icc for SharedCard {
    fn atr(&self) -> Vec<u8> {
        self.lock().atr().to_vec()
    }
    fn power(&mut self, on: bool) {
        vpcd::Icc::power(&mut *self.lock(), on);
    }
    fn reset(&mut self) {
        vpcd::Icc::reset(&mut *self.lock());
    }
    fn apdu(&mut self, command: &[u8]) -> Option<Vec<u8>> {
        self.lock().process(command)
    }
}

/// Bytes as spaced upper-case hex, the way pcscd logs APDUs (`00 A4 04 00`).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

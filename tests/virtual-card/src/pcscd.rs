//! Reaching pcscd from tests.
//!
//! * [`context`] / [`wait_for`]: a PC/SC context in the test process and a wait for a reader
//!   state with `SCardGetStatusChange` (pcscd wakes us on the change; no sleeping loop).
//! * [`SlotLock`]: one test at a time per vpcd slot, **across processes** (two `cargo test`
//!   runs on one machine share the one pcscd and its slots).
//! * [`ApduLog`]: pcscd's own APDU log (`pcscd --foreground --apdu`, path in
//!   `DATALINK_PCSCD_LOG`, set by `cargo xtask test`), to check what really went to a card.
//! * [`Namespace`] / [`PrivatePcscd`]: a process in a private mount namespace whose
//!   `/run/pcscd` is an empty tmpfs, so it sees *its own* pcscd (with no reader, with a vpcd on
//!   another port, or none at all) while the machine's pcscd keeps serving everyone else.
//!   pcscd 1.9.9 always uses `/run/pcscd/pcscd.comm`, so this is the only way to have a second
//!   one (`eport-card.md`, pitfall 1). Needs root (CI and `cargo xtask test` run as root).

use std::ffi::CString;
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pcsc::{Context, ReaderState, Scope, State};

/// Set (to `1`) by `cargo xtask test` once it has pcscd with vpcd running.
pub const ENV_PCSCD: &str = "DATALINK_PCSCD";
/// Set by `cargo xtask test` to the file pcscd writes its APDU log to.
pub const ENV_PCSCD_LOG: &str = "DATALINK_PCSCD_LOG";

const HOW_TO_START: &str = "start it the way `cargo xtask test` does: \
    `apt-get install pcscd vsmartcard-vpcd libpcsclite-dev`, then \
    `pcscd --foreground --apdu > /tmp/datalink-pcscd.log 2>&1 &` and \
    `export DATALINK_PCSCD_LOG=/tmp/datalink-pcscd.log` (or just run `cargo xtask test`)";

/// A PC/SC context on the machine's pcscd, or a message saying how to get one.
pub fn context() -> Result<Context, String> {
    Context::establish(Scope::User).map_err(|e| {
        let by_xtask = std::env::var_os(ENV_PCSCD).is_some();
        format!(
            "pcscd is not reachable ({e}){}; {HOW_TO_START}",
            if by_xtask { ", although `cargo xtask test` started it" } else { "" }
        )
    })
}

/// A context, or a test failure that says how to start pcscd. Card tests never skip.
pub fn require() -> Context {
    match context() {
        Ok(context) => context,
        Err(message) => panic!("{message}"),
    }
}

/// A reader state to wait for.
#[derive(Debug, Clone, Copy)]
pub enum Presence {
    /// A card with this ATR.
    Present(&'static [u8]),
    Empty,
}

/// Waits until `reader` is in the state `want`, sleeping in `SCardGetStatusChange` (pcscd wakes
/// us on each change).
pub fn wait_for(context: &Context, reader: &str, want: Presence, timeout: Duration) -> Result<(), String> {
    let name = CString::new(reader).map_err(|e| e.to_string())?;
    let mut states = [ReaderState::new(name, State::UNAWARE)];
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match context.get_status_change(left, &mut states) {
            Ok(()) => {}
            Err(pcsc::Error::Timeout) => {
                return Err(format!("{reader:?} did not become {want:?} within {timeout:?} (now {:?})", states[0].event_state()))
            }
            Err(e) => return Err(format!("waiting for {reader:?}: {e}")),
        }
        let state = states[0].event_state();
        if state.contains(State::UNKNOWN) {
            return Err(format!("pcscd has no reader {reader:?}: is vsmartcard-vpcd installed, and was pcscd started after it?"));
        }
        let reached = match want {
            Presence::Present(atr) => state.contains(State::PRESENT) && !state.contains(State::MUTE) && states[0].atr() == atr,
            Presence::Empty => state.contains(State::EMPTY),
        };
        if reached {
            return Ok(());
        }
        states[0].sync_current_state();
    }
}

/// Held while a test uses a slot; other tests, in this process or another, wait for it.
///
/// The lock is a listening socket on `127.0.0.1:(slot port + 10000)`: the kernel lets one process
/// bind it, and frees it when that process ends however it ends.
pub struct SlotLock {
    _socket: TcpListener,
}

impl SlotLock {
    /// Waits (up to 10 minutes) until the slot is free.
    pub fn acquire(slot: crate::Slot) -> SlotLock {
        let port = slot.port.wrapping_add(10_000);
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(socket) => return SlotLock { _socket: socket },
                Err(e) if Instant::now() >= deadline => panic!("slot {} stayed busy for 10 minutes: {e}", slot.reader),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
}

/// pcscd's APDU log, read from a mark on.
///
/// With `--apdu`, pcscd writes each exchange as two lines:
///
/// ```text
/// 00000034 APDU: 00 A4 04 00 08 F0 44 4C 54 45 53 54 01
/// 00044187 SW: 90 00
/// ```
pub struct ApduLog {
    path: PathBuf,
    mark: u64,
}

impl ApduLog {
    /// The log `cargo xtask test` told us about (or, without it, the file the running pcscd
    /// writes when it was started with `--foreground --apdu`), marked at its current end.
    pub fn open() -> Result<ApduLog, String> {
        let path = std::env::var_os(ENV_PCSCD_LOG).map(PathBuf::from).or_else(running_apdu_log).ok_or_else(|| {
            format!("{ENV_PCSCD_LOG} is not set and the running pcscd writes no APDU log to a file, so it cannot be checked; {HOW_TO_START}")
        })?;
        let mut log = ApduLog { path, mark: 0 };
        log.mark()?;
        Ok(log)
    }

    /// Forgets what the log holds so far.
    pub fn mark(&mut self) -> Result<(), String> {
        self.mark = std::fs::metadata(&self.path).map_err(|e| format!("pcscd log {}: {e}", self.path.display()))?.len();
        Ok(())
    }

    /// The log written since the mark.
    pub fn since_mark(&self) -> Result<String, String> {
        let mut file = std::fs::File::open(&self.path).map_err(|e| format!("pcscd log {}: {e}", self.path.display()))?;
        file.seek(SeekFrom::Start(self.mark)).map_err(|e| e.to_string())?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The command APDUs logged since the mark.
    pub fn apdus_since_mark(&self) -> Result<Vec<Vec<u8>>, String> {
        Ok(parse_apdus(&self.since_mark()?))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The file the running pcscd writes its output to, when it runs with `--foreground --apdu`.
fn running_apdu_log() -> Option<PathBuf> {
    // pcscd writes "<pid>\n\0".
    let pid: u32 = std::fs::read_to_string("/run/pcscd/pcscd.pid").ok()?.trim_matches(|c: char| c.is_whitespace() || c == '\0').parse().ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let has = |flags: &[&[u8]]| args.iter().any(|a| flags.contains(a));
    if !has(&[b"-a", b"--apdu"]) || !has(&[b"-f", b"--foreground"]) {
        return None;
    }
    let out = std::fs::read_link(format!("/proc/{pid}/fd/1")).ok()?;
    out.is_file().then_some(out)
}

/// The command APDUs in pcscd `--apdu` output (lines with `APDU: ` followed by hex bytes).
pub fn parse_apdus(log: &str) -> Vec<Vec<u8>> {
    log.lines()
        .filter_map(|line| line.split_once("APDU: ").map(|(_, hex)| hex))
        .map(|hex| hex.split_whitespace().map_while(|byte| u8::from_str_radix(byte, 16).ok()).collect())
        .collect()
}

/// A process in a private mount namespace with an empty `/run/pcscd`: it reaches no pcscd until
/// a [`PrivatePcscd`] is started inside the same namespace.
pub struct Namespace;

impl Namespace {
    /// `command`, run in a new mount namespace (`unshare`) after a tmpfs is mounted over
    /// `/run/pcscd`. The returned command keeps `command`'s program, arguments and environment;
    /// its pid is the namespace to enter.
    pub fn wrap(program: &Path, args: &[&str]) -> Command {
        let mut command = Command::new("unshare");
        command
            .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg("mkdir -p /run/pcscd && mount -t tmpfs -o mode=0755 datalink-test /run/pcscd && exec \"$0\" \"$@\"")
            .arg(program)
            .args(args);
        command
    }
}

/// A pcscd of the test's own, inside the mount namespace of process `namespace_pid`.
pub struct PrivatePcscd {
    child: Child,
    config: PathBuf,
    namespace_pid: u32,
}

/// The readers a [`PrivatePcscd`] has.
#[derive(Debug, Clone, Copy)]
pub enum PrivateReaders {
    /// No reader configured at all.
    None,
    /// One vpcd entry (two slots) listening on `port` and `port + 1`.
    Vpcd { port: u16 },
}

impl PrivatePcscd {
    /// Starts pcscd in the namespace of `namespace_pid` and waits until its socket exists.
    pub fn start(namespace_pid: u32, readers: PrivateReaders, log: &Path) -> Result<PrivatePcscd, String> {
        let config = std::env::temp_dir().join(format!("datalink-private-pcscd-{}-{}", std::process::id(), namespace_pid));
        let _ = std::fs::remove_dir_all(&config);
        std::fs::create_dir_all(&config).map_err(|e| e.to_string())?;
        if let PrivateReaders::Vpcd { port } = readers {
            let entry = format!(
                "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME /dev/null:0x{port:04X}\nLIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID 0x{port:04X}\n"
            );
            std::fs::write(config.join("vpcd"), entry).map_err(|e| e.to_string())?;
        }
        let out = std::fs::File::create(log).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new("nsenter")
            .args(["--target", &namespace_pid.to_string(), "--mount", "--", "pcscd", "--foreground", "--apdu", "--config"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot run nsenter/pcscd: {e}"))?;
        let pcscd = PrivatePcscd { child, config, namespace_pid };
        pcscd.wait_until_serving()?;
        Ok(pcscd)
    }

    /// The socket as the namespace sees it, through `/proc/<pid>/root`.
    fn socket(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root/run/pcscd/pcscd.comm", self.namespace_pid))
    }

    fn wait_until_serving(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::os::unix::net::UnixStream::connect(self.socket()).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("the private pcscd did not open its socket within 10 s".into())
    }

    /// Stops it (SIGTERM, like a service stop) and waits until it has exited.
    pub fn stop(mut self) -> Result<(), String> {
        self.terminate()
    }

    fn terminate(&mut self) -> Result<(), String> {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                let _ = std::fs::remove_dir_all(&self.config);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Err("the private pcscd ignored SIGTERM for 5 s and was killed".into())
    }
}

impl Drop for PrivatePcscd {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.terminate();
        }
    }
}

/// A free pair of TCP ports `(p, p + 1)` on 127.0.0.1 for a private vpcd (it listens on both).
pub fn free_port_pair() -> u16 {
    for _ in 0..50 {
        let Ok(first) = TcpListener::bind(("127.0.0.1", 0)) else { continue };
        let Ok(port) = first.local_addr().map(|a| a.port()) else { continue };
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no free pair of TCP ports on 127.0.0.1");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apdu_lines_are_read_from_pcscd_output() {
        let log = "00000012 ifdhandler.c:1234:IFDHTransmit() ...\n\
                   00000034 APDU: 00 A4 04 00 08 F0 44 4C 54 45 53 54 01\n\
                   00044187 SW: 90 00\n\
                   00000010 APDU: 00 20 00 81\n";
        assert_eq!(parse_apdus(log), vec![vec![0x00, 0xA4, 0x04, 0x00, 0x08, 0xF0, 0x44, 0x4C, 0x54, 0x45, 0x53, 0x54, 0x01], vec![0x00, 0x20, 0x00, 0x81]]);
        assert!(parse_apdus("SW: 90 00\n").is_empty());
    }
}

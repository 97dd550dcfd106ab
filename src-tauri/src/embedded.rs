//! "Host on this computer": the relay library running inside the app, its SQLite in the
//! profile folder (`<profile>/relay/`), so a new user can chat with zero setup and others on
//! the LAN can join by address. Stopped with the app (`AppState::shutdown`). Once the user
//! signs in to it, its address is remembered (`<profile>/relay/hosting`) so the next start hosts
//! again on the same one while that sign-in lasts, until the user stops hosting.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

use natter_relay::{Config, Relay};
use serde::Serialize;
use tokio::net::TcpListener;

use crate::error::{Error, Result};

/// Loopback only unless the user chooses to share on the LAN.
pub const DEFAULT_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// The port tried first; a taken port falls back to one the system picks.
pub const DEFAULT_PORT: u16 = 7447;
/// The folder under the profile that holds the hosted relay's database.
pub const RELAY_DIR: &str = "relay";
/// The file in [`RELAY_DIR`] remembering where this profile hosts (`ADDRESS:PORT`).
const HOSTING_FILE: &str = "hosting";

/// Where the hosted relay listens, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hosted {
    /// The address it is bound to (what others on the LAN use, when not loopback).
    pub address: SocketAddr,
    /// The URL this app connects to: the bound address, or loopback when bound to all interfaces.
    pub url: String,
    /// Whether other computers can reach it (bound beyond loopback): the checkbox's state.
    pub others_can_connect: bool,
}

impl Hosted {
    pub fn of(address: SocketAddr) -> Self {
        let mut local = address;
        if local.ip().is_unspecified() {
            local.set_ip(match local.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
        }
        Self {
            address,
            url: format!("http://{local}"),
            others_can_connect: !address.ip().is_loopback(),
        }
    }
}

/// The address to host on. Beyond loopback only when the user ticked "Let other computers on
/// this network connect" (`let_others_connect`, a separate argument so that no typed or
/// remembered address can open the relay to the network by itself). Blank: loopback, or every
/// interface when others may connect.
pub fn bind_address(address: Option<&str>, let_others_connect: bool) -> Result<IpAddr> {
    let ip = match address.map(str::trim) {
        None | Some("") if let_others_connect => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        None | Some("") => DEFAULT_ADDRESS,
        Some(text) => text
            .parse()
            .map_err(|_| Error::Invalid(format!("`{text}` is not an IP address")))?,
    };
    if ip.is_loopback() || let_others_connect {
        Ok(ip)
    } else {
        Err(Error::Invalid(format!(
            "hosting on {ip} lets other computers connect: that needs \"{LET_OTHERS_CONNECT}\" ticked"
        )))
    }
}

/// The sign-in screen's choice that [`bind_address`] requires beyond loopback (its label).
pub const LET_OTHERS_CONNECT: &str = "Let other computers on this network connect";

/// Starts the relay on `address:port`, or on a port the system picks when that one is taken.
pub async fn start(profile_dir: &Path, address: IpAddr, port: u16) -> Result<Relay> {
    let listener = match TcpListener::bind((address, port)).await {
        Ok(listener) => listener,
        Err(error) if error.kind() == ErrorKind::AddrInUse && port != 0 => {
            tracing::info!(%address, port, "port taken, hosting on a free one instead");
            TcpListener::bind((address, 0)).await.map_err(host_error)?
        }
        Err(error) => return Err(host_error(error)),
    };
    let mut config = Config::with_data_dir(profile_dir.join(RELAY_DIR));
    // Others on the LAN join freely (until the app has an admin panel to invite them), and
    // the owner's first account becomes the relay's admin with no code to copy.
    config.registration = natter_relay::config::Registration::Open;
    config.first_account_admin = true;
    let relay = Relay::spawn(listener, config).map_err(host_error)?;
    tracing::info!(addr = %relay.addr(), "hosting the relay on this computer");
    Ok(relay)
}

/// Remembers that this profile hosts on `addr`.
pub fn remember(profile_dir: &Path, addr: SocketAddr) -> Result<()> {
    let dir = profile_dir.join(RELAY_DIR);
    std::fs::create_dir_all(&dir).map_err(host_error)?;
    std::fs::write(dir.join(HOSTING_FILE), addr.to_string()).map_err(host_error)
}

/// Where this profile hosted last, if it still does.
pub fn remembered(profile_dir: &Path) -> Option<SocketAddr> {
    let text = std::fs::read_to_string(profile_dir.join(RELAY_DIR).join(HOSTING_FILE)).ok()?;
    text.trim().parse().ok()
}

/// Forgets that this profile hosts (the relay's data stays).
pub fn forget(profile_dir: &Path) -> Result<()> {
    match std::fs::remove_file(profile_dir.join(RELAY_DIR).join(HOSTING_FILE)) {
        Err(error) if error.kind() != ErrorKind::NotFound => Err(host_error(error)),
        _ => Ok(()),
    }
}

fn host_error(error: std::io::Error) -> Error {
    Error::Host(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_default_to_loopback() -> Result<()> {
        assert_eq!(bind_address(None, false)?, DEFAULT_ADDRESS);
        assert_eq!(bind_address(Some("  "), false)?, DEFAULT_ADDRESS);
        assert_eq!(
            bind_address(Some("::1"), false)?,
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        );
        assert!(matches!(
            bind_address(Some("example.org"), true),
            Err(Error::Invalid(_))
        ));
        Ok(())
    }

    #[test]
    fn beyond_loopback_only_when_the_user_lets_others_connect() -> Result<()> {
        for refused in ["0.0.0.0", "192.168.1.20", "::"] {
            let answer = bind_address(Some(refused), false);
            assert!(
                matches!(&answer, Err(Error::Invalid(message)) if message.contains(LET_OTHERS_CONNECT)),
                "{refused} without the choice: {answer:?}"
            );
        }
        assert_eq!(
            bind_address(Some("0.0.0.0"), true)?,
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        );
        assert_eq!(
            bind_address(Some("192.168.1.20"), true)?,
            IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20))
        );
        assert_eq!(
            bind_address(None, true)?,
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            "ticked and blank: every interface"
        );
        Ok(())
    }

    #[test]
    fn the_refusal_names_the_checkbox_the_sign_in_screen_shows() {
        let page = include_str!("../../ui/app/index.html");
        assert!(page.contains(LET_OTHERS_CONNECT));
    }

    #[test]
    fn all_interfaces_connect_through_loopback() {
        let hosted = Hosted::of(SocketAddr::from(([0, 0, 0, 0], 7447)));
        assert_eq!(hosted.url, "http://127.0.0.1:7447");
        assert_eq!(hosted.address.to_string(), "0.0.0.0:7447");
        assert!(hosted.others_can_connect);
        assert!(!Hosted::of(SocketAddr::from(([127, 0, 0, 1], 7447))).others_can_connect);
    }

    #[test]
    fn the_hosting_address_is_remembered_until_forgotten() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        assert_eq!(remembered(dir.path()), None);
        let addr = SocketAddr::from(([0, 0, 0, 0], 7447));
        remember(dir.path(), addr)?;
        assert_eq!(remembered(dir.path()), Some(addr));
        forget(dir.path())?;
        assert_eq!(remembered(dir.path()), None);
        forget(dir.path())?;
        Ok(())
    }

    #[tokio::test]
    async fn a_taken_port_falls_back_to_a_free_one() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let taken = std::net::TcpListener::bind((DEFAULT_ADDRESS, 0))?;
        let port = taken.local_addr()?.port();
        let relay = start(dir.path(), DEFAULT_ADDRESS, port).await?;
        assert_ne!(relay.addr().port(), port);
        assert_ne!(relay.addr().port(), 0);
        tokio::time::timeout(std::time::Duration::from_secs(20), relay.stop()).await??;
        assert!(dir.path().join(RELAY_DIR).is_dir());
        Ok(())
    }
}

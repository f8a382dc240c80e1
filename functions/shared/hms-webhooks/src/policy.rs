//! Where webhooks may go. An endpoint URL is a caller's input that makes our functions open
//! connections: left unchecked, it reaches our VPC, the instance metadata service, or
//! loopback services (server-side request forgery). Deployed stages send only to `https://`
//! URLs whose addresses are public, checked when a subscription is made (an address written
//! in the URL) and again as each connection is made (what its name resolves to then, against
//! DNS rebinding: the endpoint client asks [`UrlPolicy::may_connect`]). The local stage may
//! also send to `http://127.0.0.1`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The longest endpoint URL taken.
pub const MAX_URL_LENGTH: usize = 2048;

/// Where webhooks may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Whether `http://` to a loopback address is allowed (the local stage only).
    pub allow_loopback_http: bool,
}

/// Why an endpoint URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    /// Not a URL.
    #[error("the endpoint is not a URL")]
    NotAUrl,
    /// Longer than [`MAX_URL_LENGTH`].
    #[error("the endpoint URL is longer than {MAX_URL_LENGTH} characters")]
    TooLong,
    /// Not `https://` (or, locally, `http://` to loopback).
    #[error("the endpoint must be an https:// URL")]
    NotHttps,
    /// User name or password in the URL.
    #[error("the endpoint URL may not hold a user name or password")]
    Credentials,
    /// A private, loopback, link-local, metadata or reserved address.
    #[error("the endpoint's address {0} is not a public address")]
    NotPublic(IpAddr),
    /// A name only this network knows (`localhost`, `*.internal`, `*.local`).
    #[error("the endpoint's host {0:?} is not a public name")]
    LocalName(String),
}

impl UrlPolicy {
    /// Deployed stages: HTTPS to public addresses only.
    pub const DEPLOYED: Self = Self {
        allow_loopback_http: false,
    };

    /// The local stage: also `http://` to loopback (a receiver on the same machine).
    pub const LOCAL: Self = Self {
        allow_loopback_http: true,
    };

    /// Checks an endpoint URL as a subscription gives it; the URL, normalised.
    pub fn check(&self, text: &str) -> Result<url::Url, UrlRefusal> {
        if text.len() > MAX_URL_LENGTH {
            return Err(UrlRefusal::TooLong);
        }
        let url = url::Url::parse(text.trim()).map_err(|_| UrlRefusal::NotAUrl)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlRefusal::Credentials);
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                let local = name == "localhost"
                    || ["localhost", "internal", "local", "localdomain"]
                        .iter()
                        .any(|suffix| name.ends_with(&format!(".{suffix}")));
                if local {
                    return Err(UrlRefusal::LocalName(name));
                }
                None
            }
            None => return Err(UrlRefusal::NotAUrl),
        };
        match (url.scheme(), literal) {
            ("https", Some(ip)) => self.may_connect(ip).map(|()| url.clone()),
            ("https", None) => Ok(url.clone()),
            ("http", Some(ip)) if self.allow_loopback_http && ip.is_loopback() => Ok(url.clone()),
            _ => Err(UrlRefusal::NotHttps),
        }
    }

    /// Whether a connection to `ip` may be made (every address a name resolves to is
    /// checked, as the connection is made).
    pub fn may_connect(&self, ip: IpAddr) -> Result<(), UrlRefusal> {
        if is_public(ip) || (self.allow_loopback_http && ip.is_loopback()) {
            Ok(())
        } else {
            Err(UrlRefusal::NotPublic(ip))
        }
    }
}

/// Whether `ip` is a public unicast address: not private, loopback, link-local (the
/// metadata service's 169.254.169.254 and fd00:ec2::254 among them), shared (CGNAT),
/// documentation, benchmarking, multicast, reserved or unspecified; an IPv4 address mapped
/// or translated into IPv6 is judged as itself.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., hi, lo] = segments;
        return is_public_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local (fd00:ec2::254 among them)
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || segments[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible and other deprecated forms
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn deployed_stages_send_only_to_https_at_public_addresses() {
        let policy = UrlPolicy::DEPLOYED;
        for ok in [
            "https://hooks.example.com/ach/callback",
            "https://93.184.216.34:8443/x",
            "https://[2606:4700:4700::1111]/hook",
        ] {
            assert!(policy.check(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("http://hooks.example.com/x", UrlRefusal::NotHttps),
            ("ftp://hooks.example.com/x", UrlRefusal::NotHttps),
            (
                "https://user:pw@hooks.example.com/",
                UrlRefusal::Credentials,
            ),
            ("not a url", UrlRefusal::NotAUrl),
            (
                "https://localhost/x",
                UrlRefusal::LocalName("localhost".into()),
            ),
            (
                "https://db.internal/x",
                UrlRefusal::LocalName("db.internal".into()),
            ),
            ("http://127.0.0.1:9000/x", UrlRefusal::NotHttps),
        ] {
            assert_eq!(policy.check(bad), Err(why), "{bad}");
        }
        for address in [
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fd00:ec2::254]/",
            "https://[fe80::1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[64:ff9b::a9fe:a9fe]/",
            // Decimal and hexadecimal forms of loopback and the metadata service.
            "https://2130706433/",
            "https://0xa9fea9fe/",
        ] {
            assert!(
                matches!(policy.check(address), Err(UrlRefusal::NotPublic(_))),
                "{address}: {:?}",
                policy.check(address)
            );
        }
        assert!(
            policy.check(&format!("https://a.example/{}", "x".repeat(2100)))
                == Err(UrlRefusal::TooLong)
        );
    }

    #[test]
    fn the_local_stage_also_sends_to_loopback_over_http() {
        let policy = UrlPolicy::LOCAL;
        assert!(
            policy
                .check("http://127.0.0.1:9600/records/ach/callback")
                .is_ok()
        );
        assert!(policy.may_connect("127.0.0.1".parse().unwrap()).is_ok());
        assert!(policy.check("http://10.0.0.1/x").is_err());
        assert!(
            policy
                .may_connect("169.254.169.254".parse().unwrap())
                .is_err()
        );
    }
}

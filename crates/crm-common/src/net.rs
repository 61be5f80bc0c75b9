//! Which peers are trusted proxies: addresses and networks (`10.0.0.0/8`, `fd00::/8`), since an
//! ingress or a gateway in a cluster has no fixed address, only a known range.

use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;

/// Why an entry of a proxy list is not an address or network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkError(String);

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not an IP address or network (a.b.c.d, a.b.c.d/n, x::y/n)", self.0)
    }
}

impl std::error::Error for NetworkError {}

/// The peers whose forwarding headers are believed: addresses and networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proxies(Vec<IpNet>);

impl Proxies {
    /// A comma-separated list of addresses and networks; blank entries are skipped.
    pub fn parse(list: &str) -> Result<Self, NetworkError> {
        list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(network).collect::<Result<_, _>>().map(Self)
    }

    /// Whether `ip` (an IPv4 address seen as IPv6 included) is in one of the networks.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|network| network.contains(&ip))
    }
}

/// `a.b.c.d/n` or `x::y/n` (host bits ignored), or a single address.
fn network(text: &str) -> Result<IpNet, NetworkError> {
    let parsed = if text.contains('/') {
        text.parse::<IpNet>().map(|network| network.trunc()).ok()
    } else {
        text.parse::<IpAddr>().map(single).ok()
    };
    parsed.ok_or_else(|| NetworkError(text.to_owned()))
}

/// The network of one address, an IPv4 address seen as IPv6 taken as IPv4.
fn single(ip: IpAddr) -> IpNet {
    IpNet::from(ip.to_canonical())
}

impl FromIterator<IpAddr> for Proxies {
    fn from_iter<I: IntoIterator<Item = IpAddr>>(addresses: I) -> Self {
        Self(addresses.into_iter().map(single).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn addresses_and_networks() {
        let proxies = Proxies::parse(" 127.0.0.1, ::1 ,10.42.0.0/16,fd00::/8,192.168.1.77/24,").unwrap();
        for trusted in ["127.0.0.1", "::1", "10.42.0.1", "10.42.255.255", "fd12::1", "192.168.1.1", "::ffff:10.42.3.4"]
        {
            assert!(proxies.contains(&ip(trusted)), "{trusted}");
        }
        for other in ["127.0.0.2", "10.43.0.1", "fe80::1", "192.168.2.1", "::2"] {
            assert!(!proxies.contains(&ip(other)), "{other}");
        }
        let everything = Proxies::parse("0.0.0.0/0").unwrap();
        assert!(everything.contains(&ip("8.8.8.8")) && !everything.contains(&ip("2001:db8::1")));
    }

    #[test]
    fn malformed_entries_are_refused() {
        for bad in ["10.0.0.0/33", "::/129", "10.0.0.0/", "/8", "example.com", "10.0.0.0/8/8", "10.0.0.0/-1"] {
            let err = Proxies::parse(bad).unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
        assert_eq!(Proxies::parse("").unwrap(), Proxies::default());
    }
}

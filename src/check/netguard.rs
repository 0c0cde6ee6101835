//! Which addresses the link check may connect to, and a resolver that
//! enforces it at connect time.
//!
//! A link in a caught message is untrusted input: without a guard, checking
//! it would let anyone who can send mail probe the host's loopback services,
//! its private network or a cloud metadata endpoint. Only globally routable
//! unicast addresses pass; everything special-purpose is refused, including
//! IPv6 forms that embed a refused IPv4 address (mapped, compatible, NAT64,
//! 6to4, Teredo, ISATAP).
//!
//! The check sits in the resolver reqwest connects with ([`GuardedResolver`]),
//! so the address tested is the address used: a name that resolves
//! differently the second time (DNS rebinding) or a redirect to another
//! name cannot slip past. URLs with an IP literal never reach a resolver, so
//! callers also test those with [`check_url`], on the first request and on
//! every redirect hop.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A refused destination; found again in reqwest's error chain to report
/// the link as blocked rather than as a network failure.
#[derive(Debug)]
pub(crate) struct Blocked {
    pub host: String,
    pub ip: IpAddr,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "blocked request to {} ({}): private/reserved address",
            self.host, self.ip
        )
    }
}

impl std::error::Error for Blocked {}

/// Whether an address is one the link check must not reach.
pub(crate) fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

/// Special-purpose IPv4 ranges (the IANA registry), plus addresses that are
/// public but serve cloud instance metadata.
fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0                                     // "this network", 0.0.0.0/8
        || a == 10                             // private
        || (a == 100 && (64..128).contains(&b)) // CGNAT, 100.64.0.0/10
        || a == 127                            // loopback
        || (a == 169 && b == 254)              // link-local, metadata 169.254.169.254
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)      // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)      // TEST-NET-1
        || (a == 192 && b == 88 && c == 99)    // 6to4 relay anycast
        || (a == 192 && b == 168)              // private
        || (a == 198 && (b == 18 || b == 19))  // benchmarking, 198.18.0.0/15
        || (a == 198 && b == 51 && c == 100)   // TEST-NET-2
        || (a == 203 && b == 0 && c == 113)    // TEST-NET-3
        || a >= 224                            // multicast, reserved, broadcast
        || ip == Ipv4Addr::new(168, 63, 129, 16) // Azure's wire server (metadata)
}

/// IPv6: only global unicast (2000::/3) outside its special blocks passes,
/// and forms that carry an IPv4 address are judged by that address.
fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ipv4_form(ip) {
        return is_forbidden_v4(v4);
    }
    let s = ip.segments();
    let global_unicast = (s[0] & 0xe000) == 0x2000;
    // 2001::/23 holds IETF assignments (Teredo, benchmarking, ORCHID);
    // 2001:db8::/32 and 3fff::/20 are for documentation.
    let special =
        (s[0] == 0x2001 && (s[1] < 0x0200 || s[1] == 0x0db8)) || (s[0] & 0xfff0) == 0x3ff0;
    if !global_unicast || special {
        return true;
    }
    tunnel_v4(ip).is_some_and(is_forbidden_v4)
}

/// The IPv4 address an IPv6 address merely spells: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, which includes `::`
/// and `::1`) and NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`).
fn ipv4_form(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    let last32 = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    let mapped_or_compatible = s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0);
    let nat64 = s[0] == 0x0064 && s[1] == 0xff9b && (s[2..6] == [0; 4] || s[2] == 1);
    (mapped_or_compatible || nat64).then_some(last32)
}

/// The IPv4 endpoint of a global IPv6 address that tunnels to one: 6to4
/// (`2002:AABB:CCDD::`) and ISATAP (an interface identifier of
/// `0:5efe:a.b.c.d` or `200:5efe:a.b.c.d`). Teredo needs no decoding: all
/// of 2001::/23 is refused.
fn tunnel_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    ((s[4] == 0 || s[4] == 0x0200) && s[5] == 0x5efe)
        .then(|| Ipv4Addr::new(o[12], o[13], o[14], o[15]))
}

/// Refuses a URL whose host is an IP literal in a forbidden range (a name
/// is left to [`GuardedResolver`], at connect time).
pub(crate) fn check_url(url: &Url) -> Result<(), Blocked> {
    let host = url.host_str().unwrap_or_default();
    // The parser has already normalised IPv4 literals (`127.1`, `0x7f.0.0.1`)
    // to dotted quads and wrapped IPv6 ones in brackets.
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let Ok(ip) = literal.parse::<IpAddr>() else {
        return Ok(());
    };
    if is_forbidden(ip) {
        return Err(Blocked {
            host: host.to_string(),
            ip,
        });
    }
    Ok(())
}

/// The system resolver, refusing any name with a forbidden address among
/// its answers (one bad answer refuses the name: connecting might pick it).
pub(crate) struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .take(32)
                .collect();
            if let Some(bad) = found.iter().find(|addr| is_forbidden(addr.ip())) {
                return Err(Box::new(Blocked { host, ip: bad.ip() })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(text: &str) -> bool {
        is_forbidden(text.parse().unwrap())
    }

    #[test]
    fn refuses_special_ipv4_ranges() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "100.100.100.200", // Alibaba metadata (CGNAT)
            "127.0.0.1",
            "127.8.9.10",
            "169.254.0.1",
            "169.254.169.254", // AWS, GCP, Azure, Oracle metadata
            "168.63.129.16",   // Azure wire server
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.0.192",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(forbidden(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn allows_public_ipv4() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.254",
            "168.63.129.17",
        ] {
            assert!(!forbidden(ip), "{ip} is public");
        }
    }

    #[test]
    fn refuses_special_ipv6_ranges() {
        for ip in [
            "::",
            "::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "fc00::1",
            "fd00:ec2::254", // AWS metadata over IPv6
            "fd12:3456::1",
            "ff02::1",
            "ff05::2",
            "100::1",
            "2001:db8::1",
            "2001:2::1",
            "2001:10::1",
            "3fff::1",
            "5f00::1",
            "1::1",
            "fe80::5efe:808:808",    // ISATAP, but link-local
            "2001:0:1:2::f7f7:f7f7", // Teredo, even of a public IPv4
        ] {
            assert!(forbidden(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn judges_ipv6_that_carries_ipv4_by_the_ipv4() {
        for ip in [
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::10.1.2.3",
            "64:ff9b::a9fe:a9fe",        // NAT64 of 169.254.169.254
            "64:ff9b::7f00:1",           // NAT64 of 127.0.0.1
            "64:ff9b:1::c0a8:101",       // local-use NAT64 of 192.168.1.1
            "2002:7f00:1::",             // 6to4 of 127.0.0.1
            "2002:a9fe:a9fe::1",         // 6to4 of 169.254.169.254
            "2002:c0a8:101::1",          // 6to4 of 192.168.1.1
            "2001:0:1:2::80ff:fffe",     // Teredo of 127.0.0.1 (inverted)
            "2001:0:1:2::3f57:fefe",     // Teredo of 192.168.1.1 (inverted)
            "2a00:1450::5efe:7f00:1",    // ISATAP of 127.0.0.1
            "2a00:1450::200:5efe:a00:1", // ISATAP of 10.0.0.1
        ] {
            assert!(forbidden(ip), "{ip} must be refused");
        }
        for ip in [
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2a00:1450::5efe:808:808",
        ] {
            assert!(!forbidden(ip), "{ip} carries a public IPv4");
        }
    }

    #[test]
    fn allows_global_ipv6() {
        for ip in [
            "2606:4700:4700::1111",
            "2a00:1450:4001:82b::200e",
            "2001:4860:4860::8888",
            "2c0f:fb50::1",
        ] {
            assert!(!forbidden(ip), "{ip} is global");
        }
    }

    #[test]
    fn urls_with_forbidden_literals_are_refused() {
        let refused = |url: &str| check_url(&Url::parse(url).unwrap()).is_err();
        assert!(refused("http://127.0.0.1:8080/"));
        assert!(refused("http://[::1]/"));
        assert!(refused("http://169.254.169.254/latest/meta-data/"));
        assert!(refused("http://[::ffff:7f00:1]/"));
        // The URL parser normalises the shorthand IPv4 forms browsers accept.
        assert!(refused("http://127.1/"));
        assert!(refused("http://2130706433/"));
        assert!(refused("http://0x7f.0.0.1/"));
        assert!(!refused("http://93.184.216.34/"));
        assert!(
            !refused("http://localhost/"),
            "names are left to the resolver"
        );
        let blocked = check_url(&Url::parse("http://10.0.0.1/").unwrap()).unwrap_err();
        assert_eq!(
            blocked.to_string(),
            "blocked request to 10.0.0.1 (10.0.0.1): private/reserved address"
        );
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_of_loopback() {
        let error = match GuardedResolver.resolve("localhost".parse().unwrap()).await {
            Ok(addrs) => panic!("resolved: {:?}", addrs.collect::<Vec<_>>()),
            Err(error) => error,
        };
        assert!(error.is::<Blocked>(), "{error}");
    }
}

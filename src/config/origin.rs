//! Host names and browser origins as the security settings name them: `security.allowedHosts` patterns,
//! `security.corsOrigins` entries, and the `host[:port]` of a `Host` header. Strict parsers, so that a
//! value either means one exact thing or is refused.

/// A host name for `security.allowedHosts`: labels of letters, digits and `-`, optionally `*.` first.
pub fn is_host_pattern(pattern: &str) -> bool {
    let name = pattern.strip_prefix("*.").unwrap_or(pattern).trim_end_matches('.');
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty() && label.len() <= 63 && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

pub fn split_host_port(text: &str) -> Option<(String, Option<u16>)> {
    let (name, port) = match text.strip_prefix('[') {
        Some(rest) => {
            let (inside, after) = rest.split_once(']')?;
            (inside, after.strip_prefix(':'))
        }
        None => match text.rsplit_once(':') {
            Some((name, port)) if !name.contains(':') => (name, Some(port)),
            Some(_) => return None,
            None => (text, None),
        },
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    (!name.is_empty() && !name.contains(['/', '@', ' '])).then_some((name, port))
}

/// A browser origin, `scheme://host[:port]`, the port defaulted from the scheme.
#[derive(Debug, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

impl Origin {
    pub fn parse(text: &str) -> Option<Self> {
        let (scheme, rest) = text.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let (host, port) = split_host_port(rest)?;
        Some(Self { scheme, host, port: port.unwrap_or(default_port) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_host_patterns_are_parsed_strictly() {
        assert_eq!(Origin::parse("http://LOCALHOST:3000"), Origin::parse("http://localhost:3000"));
        assert_eq!(Origin::parse("https://a.b"), Origin::parse("https://a.b:443"));
        for bad in ["ftp://a", "https://", "https://a.b/path", "a.b", "http://[::1", "http://a:99999"] {
            assert!(Origin::parse(bad).is_none(), "{bad}");
        }
        assert!(is_host_pattern("dash.lan") && is_host_pattern("*.example.com"));
        for bad in ["", "http://a", "a:80", "a/b", "*.", "a..b"] {
            assert!(!is_host_pattern(bad), "{bad}");
        }
    }

    #[test]
    fn host_headers_split_into_a_lowercase_name_and_an_optional_port() {
        let split = |t: &str| split_host_port(t);
        assert_eq!(split("Dash.LAN.:8080"), Some(("dash.lan".into(), Some(8080))));
        assert_eq!(split("localhost"), Some(("localhost".into(), None)));
        assert_eq!(split("[::1]:3000"), Some(("::1".into(), Some(3000))));
        assert_eq!(split("[::1]"), Some(("::1".into(), None)));
        for bad in ["::1", "fe80::1:8080", "a:port", "a:70000", "", ":80", "a/b:80", "user@a", "[::1"] {
            assert_eq!(split(bad), None, "{bad}");
        }
    }
}

"""Go's NO_PROXY semantics.

The tables are transcribed from Go's own tests: golang.org/x/net v0.56.0,
http/httpproxy/proxy_test.go (``proxyForURLTests``, ``UseProxyTests`` with its
``noProxy`` value, ``TestInvalidNoProxy``, ``TestAllNoProxy``). The CGI case is left
out on purpose (we ignore REQUEST_METHOD).
"""

from __future__ import annotations

import pytest

from kubectl_certdoctor.noproxy import matches_no_proxy, proxy_env, proxy_for

# (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, request URL ('' = http://example.com), want)
PROXY_FOR_URL = [
    ("127.0.0.1:8080", "", "", "", "http://127.0.0.1:8080"),
    ("cache.corp.example.com:1234", "", "", "", "http://cache.corp.example.com:1234"),
    ("cache.corp.example.com", "", "", "", "http://cache.corp.example.com"),
    ("localhost", "", "", "", "http://localhost"),
    ("https://cache.corp.example.com", "", "", "", "https://cache.corp.example.com"),
    ("http://127.0.0.1:8080", "", "", "", "http://127.0.0.1:8080"),
    ("https://127.0.0.1:8080", "", "", "", "https://127.0.0.1:8080"),
    ("socks5://127.0.0.1", "", "", "", "socks5://127.0.0.1"),
    ("foo://host", "", "", "", "foo://host"),
    ("http.proxy.tld", "secure.proxy.tld", "", "http://insecure.tld/", "http://http.proxy.tld"),
    ("http.proxy.tld", "secure.proxy.tld", "", "https://secure.tld/", "http://secure.proxy.tld"),
    ("http.proxy.tld", "https://secure.proxy.tld", "", "https://secure.tld/",
     "https://secure.proxy.tld"),
    ("http.proxy.tld", "", "", "https://secure.tld/", None),
    ("http.proxy.tld", "", "", "ftp://insecure.tld/", None),
    ("", "https://secure.proxy.tld", "", "https://secure.tld/", "https://secure.proxy.tld"),
    ("", "", "", "", None),
    ("proxy", "", "example.com", "http://example.com/", None),
    ("proxy", "", ".example.com", "http://example.com/", "http://proxy"),
    ("proxy", "", "ample.com", "http://example.com/", "http://proxy"),
    ("proxy", "", "example.com", "http://foo.example.com/", None),
    ("proxy", "", ".foo.com", "http://example.com/", "http://proxy"),
    ("proxy", "", ".示例.com", "http://www.示例.com", None),
    ("proxy", "", "xn--fsq092h.com", "http://www.示例.com", None),
    ("proxy", "", "示例.com", "http://www.xn--fsq092h.com", None),
    ("proxy", "", "example.com", "http://[1000::%25.example.com]:123", "http://proxy"),
]


@pytest.mark.parametrize(("http", "https", "no", "req", "want"), PROXY_FOR_URL)
def test_proxy_for_url_go_table(http: str, https: str, no: str, req: str,
                                want: str | None) -> None:
    env = {"HTTP_PROXY": http, "HTTPS_PROXY": https, "NO_PROXY": no}
    assert proxy_for(req or "http://example.com", env) == want


GO_NO_PROXY = (
    "foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, "
    "10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, "
    "2002:db8:a::45/64"
)
# (host, useProxy) — every request is to port 80
USE_PROXY = [
    ("localhost", False), ("127.0.0.1", False), ("127.0.0.2", False),
    ("[::1]", False), ("[::2]", True),
    ("192.168.1.1", False), ("192.168.1.2", True), ("192.168.1.3", False),
    ("192.168.1.4", True), ("10.0.0.2", False), ("[2001:db8::52:0:1]", False),
    ("[2001:db8::52:0:2]", True), ("[2001:db8::52:0:3]", False),
    ("[2002:db8:a::123]", False), ("[fe80::424b:c8be:1643:a1b6]", True),
    ("barbaz.net", True), ("www.barbaz.net", False), ("foobar.com", False),
    ("www.foobar.com", False), ("foofoobar.com", True), ("baz.com", True),
    ("localhost.net", True), ("local.localhost", True), ("barbarbaz.net", True),
    ("wildcard.io", True), ("nested.wildcard.io", False), ("awildcard.io", True),
]


@pytest.mark.parametrize(("host", "use_proxy"), USE_PROXY)
def test_use_proxy_go_table(host: str, use_proxy: bool) -> None:
    assert matches_no_proxy(host, 80, GO_NO_PROXY) is (not use_proxy)


@pytest.mark.parametrize(("host", "_"), USE_PROXY)
def test_star_matches_everything(host: str, _: bool) -> None:
    assert matches_no_proxy(host, 80, "*")


def test_invalid_entry_is_ignored() -> None:
    assert not matches_no_proxy("example.com", 80, ":1")


# Cases that matter for cert-manager in a cluster (not in Go's table, derived from its rules)
def test_cluster_names_and_cidrs() -> None:
    np = ".svc,.cluster.local,10.96.0.0/12"
    assert matches_no_proxy("vault.vault.svc", 8200, np)
    assert matches_no_proxy("kubernetes.default.svc.cluster.local", 443, np)
    assert not matches_no_proxy("kubernetes.default", 443, np)  # search-domain short name
    assert matches_no_proxy("10.96.0.1", 443, np)
    assert not matches_no_proxy("svc", 443, np)  # '.svc' never matches the bare name
    assert matches_no_proxy("svc", 443, "svc")
    # a CIDR does not cover a *name*, even one that resolves into it
    assert not matches_no_proxy("vault.internal.test", 8200, "10.0.0.0/8")
    assert matches_no_proxy("VAULT.SVC", 1, ".svc")
    assert not matches_no_proxy("a.test", 443, "a.test:80")
    assert matches_no_proxy("a.test", 80, "a.test:80")


def test_https_uses_only_https_proxy_and_uppercase_wins() -> None:
    env = {"http_proxy": "http://low:1", "HTTP_PROXY": "http://up:1", "NO_PROXY": ""}
    assert proxy_for("http://acme.test/dir", env) == "http://up:1"
    assert proxy_for("https://acme.test/dir", env) is None
    env2 = {"https_proxy": "proxy.test:3128", "no_proxy": "acme.test"}
    assert proxy_for("https://acme.test/dir", env2) is None
    assert proxy_for("https://other.test/dir", env2) == "http://proxy.test:3128"
    assert proxy_for("https://127.0.0.1/dir", env2) is None
    assert proxy_env(env2)["NO_PROXY"] == "acme.test"


def test_bypass_entry_covers_the_url_under_go_rules() -> None:
    """The suggested NO_PROXY entry must really make Go go direct for that URL."""
    from kubectl_certdoctor.noproxy import bypass_entry

    env = {"HTTPS_PROXY": "http://proxy.corp.test:3128"}
    for url, want in [
        ("https://kubernetes.default.svc", ".svc"),
        ("https://vault.vault.svc.cluster.local:8200", ".cluster.local"),
        ("https://10.96.0.1", "10.96.0.1"),
        ("https://acme.example.test/dir", "acme.example.test"),
    ]:
        entry = bypass_entry(url)
        assert entry == want
        assert proxy_for(url, {**env, "NO_PROXY": entry}) is None


@pytest.mark.parametrize(("url", "entry"), [
    ("https://10.96.0.1:443", "10.96.0.1"),
    ("https://vault.vault.svc:8200", ".svc"),
    ("https://kubernetes.default.svc.cluster.local", ".cluster.local"),
    ("https://step-ca.internal.test/acme", "step-ca.internal.test"),
])
def test_bypass_entry_really_bypasses(url: str, entry: str) -> None:
    from kubectl_certdoctor.noproxy import bypass_entry

    assert bypass_entry(url) == entry
    env = {"HTTPS_PROXY": "http://proxy.test:3128", "NO_PROXY": f"localhost,{entry}"}
    assert proxy_for(url, env) is None
    assert proxy_for(url, {**env, "NO_PROXY": "localhost"}) == "http://proxy.test:3128"

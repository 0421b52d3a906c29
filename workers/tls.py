"""A self-signed certificate for the demo's HTTPS port: browsers give GPS only to secure pages.

Made with Debian's `openssl` (the venv has no `cryptography`), once, under HOME/tls/, and reused while it
is valid, matches its key and names this machine as it is now (host name, 127.0.0.1, LAN addresses).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import socket
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

CERT_NAME = "cert.pem"
KEY_NAME = "key.pem"
DAYS = 825  # the longest validity Apple devices accept for a TLS server certificate
RENEW_BEFORE_S = 7 * 24 * 3600


@dataclass(frozen=True)
class TlsFiles:
    """Where the certificate and key are, and what the certificate names."""

    cert: Path
    key: Path
    hostname: str
    addresses: tuple[str, ...]
    created: bool  # False when an existing certificate was reused

    def fingerprint(self) -> str:
        """SHA-256 of the certificate, to compare with what a tablet's browser shows."""
        der = ssl.PEM_cert_to_DER_cert(self.cert.read_text())
        digest = hashlib.sha256(der).hexdigest().upper()
        return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (what tablets on the local network dial)."""
    found: list[str] = []
    try:
        # A UDP "connect" sends nothing; it only asks the kernel which source address it would route from.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: never a real peer
            found.append(s.getsockname()[0])
    except OSError:
        pass
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        found.extend(info[4][0] for info in infos)
    except OSError:
        pass
    out = []
    for a in found:
        if not ipaddress.ip_address(a).is_loopback and a not in out:
            out.append(a)
    return out


def _openssl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True, check=False)


def cert_names(cert: Path) -> tuple[set[str], set[str]]:
    """(DNS names, IP addresses) in a certificate's subjectAltName."""
    res = _openssl("x509", "-in", str(cert), "-noout", "-ext", "subjectAltName")
    if res.returncode != 0:
        return set(), set()
    dns = set(re.findall(r"DNS:([^,\s]+)", res.stdout))
    ips = {str(ipaddress.ip_address(a)) for a in re.findall(r"IP Address:([0-9A-Fa-f:.]+)", res.stdout)}
    return dns, ips


def key_matches(cert: Path, key: Path) -> bool:
    """True when the key is the certificate's own (what the TLS server needs to load them)."""
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(str(cert), str(key))
        return True
    except (ssl.SSLError, OSError):
        return False


def _usable(cert: Path, key: Path, dns: set[str], ips: set[str]) -> bool:
    if not (cert.exists() and key.exists() and key_matches(cert, key)):
        return False
    if _openssl("x509", "-in", str(cert), "-noout", "-checkend", str(RENEW_BEFORE_S)).returncode != 0:
        return False
    have_dns, have_ips = cert_names(cert)
    # A new LAN address (another Wi-Fi, DHCP) needs a new certificate, or tablets see a name mismatch.
    return dns <= have_dns and ips <= have_ips


def ensure_self_signed(directory: Path, *, hostname: str | None = None,
                       addresses: list[str] | None = None) -> TlsFiles:
    """The certificate and key under `directory`, made now unless a usable pair is already there."""
    hostname = hostname or socket.gethostname()
    addresses = lan_addresses() if addresses is None else addresses
    ips = ["127.0.0.1", *(a for a in addresses if a != "127.0.0.1")]
    dns = [hostname, "localhost"] if hostname != "localhost" else ["localhost"]
    cert, key = directory / CERT_NAME, directory / KEY_NAME
    names = (hostname, tuple(ips))
    if _usable(cert, key, set(dns), {str(ipaddress.ip_address(a)) for a in ips}):
        return TlsFiles(cert, key, *names, created=False)
    directory.mkdir(parents=True, exist_ok=True)
    san = ",".join([*(f"DNS:{d}" for d in dns), *(f"IP:{a}" for a in ips)])
    tmp_cert, tmp_key = directory / f".{CERT_NAME}.tmp", directory / f".{KEY_NAME}.tmp"
    # The key is created 0600 from the start: it never exists readable by others, not even briefly.
    fd = os.open(tmp_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    res = _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                   "-keyout", str(tmp_key), "-out", str(tmp_cert), "-days", str(DAYS), "-sha256",
                   "-subj", f"/O=gridwatch demo/CN={hostname}", "-addext", f"subjectAltName={san}",
                   "-addext", "basicConstraints=critical,CA:FALSE",
                   "-addext", "keyUsage=critical,digitalSignature",
                   "-addext", "extendedKeyUsage=serverAuth")
    if res.returncode != 0:
        tmp_key.unlink(missing_ok=True)
        tmp_cert.unlink(missing_ok=True)
        raise RuntimeError(f"openssl could not make the certificate: {res.stderr.strip()}")
    os.chmod(tmp_key, 0o600)
    # Key first, then certificate: a crash in between leaves a pair that fails key_matches and is remade.
    os.replace(tmp_key, key)
    os.replace(tmp_cert, cert)
    return TlsFiles(cert, key, *names, created=True)

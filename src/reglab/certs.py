"""Certificates for a registry: a lab's own certificate authority (CA) and the server
certificates it signs, made with ``cryptography`` — what ``openssl req``/``openssl x509``
do in the usual recipes, without a config file.

- :func:`make_ca`: a CA certificate (``BasicConstraints(ca=True)``, ``KeyUsage`` to sign
  certificates and CRLs) and its key;
- :func:`make_server` : a server certificate signed by that CA, naming the registry in its
  **subject alternative names** (``DNS:…``, ``IP:…``) and allowed for ``serverAuth`` only;
  ``sans=False`` makes the legacy kind that names its host only in the Common Name, which Go
  (so the registry's clients, Docker included) refuses since Go 1.15.

Keys are written unencrypted (the registry reads them at start, without a passphrase) with
mode 0600: only their owner can read them. Nothing here touches the network.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path



class _Lazy:
    """A module of cryptography imported at first use: only notebook 05 and lab 11 make or read
    certificates, and every kernel of a class imports reglab (docs/classroom-profile.md)."""

    def __init__(self, module: str, name: str | None = None):
        self._module, self._name = module, name

    def __getattr__(self, attribute):
        import importlib

        found = importlib.import_module(self._module)
        value = getattr(found, self._name) if self._name else found
        return getattr(value, attribute)


x509 = _Lazy("cryptography.x509")
hashes = _Lazy("cryptography.hazmat.primitives.hashes")
serialization = _Lazy("cryptography.hazmat.primitives.serialization")
ec = _Lazy("cryptography.hazmat.primitives.asymmetric.ec")
ExtendedKeyUsageOID = _Lazy("cryptography.x509.oid", "ExtendedKeyUsageOID")
NameOID = _Lazy("cryptography.x509.oid", "NameOID")

VALID_DAYS = 30  # a lab's certificates need not outlive the lab
KEY_MODE = 0o600


@dataclass(frozen=True)
class CertFiles:
    """A certificate and its key, as PEM files."""

    cert: Path
    key: Path

    def load(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert.read_bytes())


def _new_key() -> ec.EllipticCurvePrivateKey:
    """An ECDSA P-256 key: made in milliseconds, accepted by Go, OpenSSL and Docker alike."""
    return ec.generate_private_key(ec.SECP256R1())


def write_key(path: Path, key) -> None:
    """Write a private key as unencrypted PEM that only its owner can read (0600, from the start)."""
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, KEY_MODE)  # whatever the umask said


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Registry Lab"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return builder.not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(
        now + datetime.timedelta(days=VALID_DAYS))


def make_ca(folder: Path, common_name: str, stem: str = "ca") -> CertFiles:
    """A self-signed CA: ``<stem>.crt`` (give it to clients) and ``<stem>.key`` (keep it)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = _new_key()
    name = _name(common_name)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (_validity(x509.CertificateBuilder())
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256()))
    files = CertFiles(folder / f"{stem}.crt", folder / f"{stem}.key")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    write_key(files.key, key)
    return files


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name.strip("[]")))
    except ValueError:
        return x509.DNSName(name)


def make_server(folder: Path, ca: CertFiles, names: list[str], stem: str = "server", sans: bool = True) -> CertFiles:
    """A server certificate signed by ``ca`` for ``names`` (host names and IP addresses).

    With ``sans`` (the default) every name is a subject alternative name and the first is
    also the Common Name; without, the first name is *only* the Common Name: the legacy kind.
    """
    folder.mkdir(parents=True, exist_ok=True)
    ca_cert = ca.load()
    ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    key = _new_key()
    builder = (_validity(x509.CertificateBuilder())
               .subject_name(_name(names[0].strip("[]")))
               .issuer_name(ca_cert.subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),
                              critical=False))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([_san(n) for n in names]), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    files = CertFiles(folder / f"{stem}.crt", folder / f"{stem}.key")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    write_key(files.key, key)
    return files


# ----------------------------------------------------------------------------- reading one


def subject_alt_names(cert: x509.Certificate) -> list[str]:
    """``DNS:name`` and ``IP:address`` entries, as ``openssl x509 -text`` lists them."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [f"DNS:{n}" for n in ext.get_values_for_type(x509.DNSName)] + \
        [f"IP:{a}" for a in ext.get_values_for_type(x509.IPAddress)]


def describe_name(name: x509.Name) -> str:
    """``O = Registry Lab, CN = …``, in the order (and words) ``openssl x509 -subject`` uses."""
    return ", ".join(f"{a.rfc4514_attribute_name} = {a.value}" for a in name)


def common_name(cert: x509.Certificate) -> str:
    found = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(found[0].value) if found else ""


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def go_hostname_error(cert: x509.Certificate, host: str) -> str | None:
    """What Go's ``crypto/x509`` (so the registry's clients and Docker) says when ``cert`` does
    not name ``host``, word for word; None when it does. (Go's ``VerifyHostname`` and
    ``HostnameError.Error``: IP addresses match IP SANs only, names match DNS SANs, and the
    Common Name is never used — a certificate without SANs is "legacy".)"""
    host = host.strip("[]")
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns, ips = list(sans.get_values_for_type(x509.DNSName)), list(sans.get_values_for_type(x509.IPAddress))
        has_san = True
    except x509.ExtensionNotFound:
        dns, ips, has_san = [], [], False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None and any(ip == candidate for candidate in ips):
        return None
    if ip is None and any(_match_hostname(pattern, host) for pattern in dns):
        return None
    if not has_san and _match_hostname(common_name(cert), host):
        return "x509: certificate relies on legacy Common Name field, use SANs instead"
    if ip is not None:
        if not ips:
            return f"x509: cannot validate certificate for {host} because it doesn't contain any IP SANs"
        valid = ", ".join(str(a) for a in ips)
    else:
        valid = ", ".join(dns)
    if not valid:
        return f"x509: certificate is not valid for any names, but wanted to match {host}"
    return f"x509: certificate is valid for {valid}, not {host}"


def _match_hostname(pattern: str, host: str) -> bool:
    """Go's ``matchHostnames``: label by label, a leading ``*`` matches one label."""
    pattern, host = pattern.lower(), host.lower().rstrip(".")
    if not pattern or not host:
        return False
    p, h = pattern.split("."), host.split(".")
    if len(p) != len(h):
        return False
    return all((i == 0 and part == "*") or part == h[i] for i, part in enumerate(p))
